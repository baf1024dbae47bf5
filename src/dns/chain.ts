// One Corefile server block, running: its plugins in CoreDNS's order (any, rewrite, hosts,
// kubernetes, loop, forward with its cache) turn a question into an answer. The handler picks the
// block, encodes the answer, applies loadbalance and log, and keeps the precomputed-answer cache.
import { randomBytes } from 'node:crypto';
import { ForwardCache, type UpstreamAnswer } from './cache.js';
import type { ServerBlock, Zone } from './corefile/config.js';
import { inZone, matchZone, zoneText } from './corefile/config.js';
import { ForwardBusyError, Forwarder, type ForwardSockets } from './forward.js';
import type { DnsMetrics } from './metrics.js';
import type { ClusterDnsModel } from './model.js';
import { HostsIndex } from './plugins/hosts.js';
import { answerOwner, compileRewrites, fqdn, rewriteName, type CompiledRewrite } from './plugins/rewrite.js';
import { typeName } from './plugins/log.js';
import { classifyClusterName, reverseAddress } from './query.js';
import { ClusterResolver, type Resolution } from './records.js';
import type { Question, ResourceRecord } from './wire.js';
import { RCode, RRType, labelsToName, splitName } from './wire.js';

export interface Answer {
  rcode: number;
  authoritative: boolean;
  answers: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
}

/** `cacheable`: the answer depends only on the model and the configuration (not on an upstream). */
export type Done = (answer: Answer, cacheable: boolean) => void;

export interface ChainDeps {
  model: ClusterDnsModel;
  ready: () => boolean;
  metrics: DnsMetrics;
  /** Lines for the pod's log (errors, log and loop plugins). */
  podLog: (line: string) => void;
  /** A forwarder made elsewhere (tests, the legacy flags); else the block's forward plugin makes one. */
  forwarder?: Forwarder;
  forwardCacheSize?: number;
  /** Where sockets to upstreams are opened (the pod's namespace). */
  forwardSockets?: ForwardSockets;
}

const EMPTY = { answers: [], authority: [], additional: [] };
const REVERSE_ZONES: Zone[] = [['in-addr', 'arpa'], ['ip6', 'arpa']];
const LOOP_THRESHOLD = 2;

interface KubernetesZone {
  zone: Zone;
  reverse: boolean;
  resolver: ClusterResolver;
}

export class ServerBlockChain {
  private readonly kubeZones: KubernetesZone[] = [];
  private readonly rewrites: CompiledRewrite[];
  private readonly hosts?: HostsIndex;
  readonly forwarder?: Forwarder;
  private readonly ownsForwarder: boolean;
  private readonly forwardCache?: ForwardCache;
  private readonly loopProbe?: string;
  private loopHits = 0;
  private loopDetected = false;

  constructor(
    readonly block: ServerBlock,
    private readonly deps: ChainDeps,
  ) {
    const k = block.kubernetes;
    if (k) {
      for (const zone of k.zones) {
        const reverse = REVERSE_ZONES.some((r) => inZone(zone, r));
        this.kubeZones.push({ zone, reverse, resolver: new ClusterResolver(deps.model, { zone: reverse ? clusterZoneOf(k.zones) : zone.join('.'), ttl: k.ttl, pods: k.pods }) });
      }
    }
    this.rewrites = compileRewrites(block.rewrite);
    this.hosts = block.hosts ? new HostsIndex(block.hosts) : undefined;
    if (block.forward) {
      this.ownsForwarder = !deps.forwarder;
      this.forwarder =
        deps.forwarder ??
        new Forwarder({ upstreams: block.forward.to, policy: block.forward.policy, maxConcurrent: block.forward.maxConcurrent || 1000, forceTcp: block.forward.forceTcp, timeoutMs: block.forward.timeoutMs, sockets: deps.forwardSockets });
      if (block.cache) {
        const c = block.cache;
        this.forwardCache = new ForwardCache({ maxEntries: deps.forwardCacheSize ?? c.successCapacity + c.denialCapacity, maxTtl: c.successTtl, maxNegativeTtl: c.denialTtl });
      }
      if (block.loop) this.loopProbe = `${randomBytes(8).readBigUInt64BE()}.${randomBytes(8).readBigUInt64BE()}${block.zones[0].length ? `.${block.zones[0].join('.')}` : ''}`;
    } else this.ownsForwarder = false;
  }

  /** The loop plugin's probe: a HINFO question for a random name sent through our own forwarders. */
  startLoopProbe(): void {
    const probe = this.loopProbe;
    const forwarder = this.forwarder;
    if (!probe || !forwarder) return;
    let sent = 0;
    const send = () => {
      if (this.loopDetected || sent++ >= 3) return;
      forwarder.query(probe, RRType.HINFO, 1).catch(() => undefined);
      setTimeout(send, 500).unref();
    };
    send();
  }

  close(): void {
    if (this.ownsForwarder) this.forwarder?.close();
  }

  serve(q: Question, done: Done): void {
    const { block } = this;
    if (this.loopProbe && q.type === RRType.HINFO && q.name === this.loopProbe) {
      if (++this.loopHits > LOOP_THRESHOLD && !this.loopDetected) {
        this.loopDetected = true;
        this.deps.podLog(`[FATAL] plugin/loop: Loop (forward -> :${block.port}) detected for zone "${zoneText(block.zones[0])}"; forwarding in this block is off until the Corefile changes`);
      }
      return done({ rcode: RCode.SERVFAIL, authoritative: false, ...EMPTY }, false);
    }
    if (block.any && q.type === RRType.ANY) {
      // RFC 8482 section 4.2, as CoreDNS's any plugin: one synthesised HINFO record.
      return done({ rcode: RCode.NOERROR, authoritative: false, answers: [rfc8482Hinfo(q.name)], authority: [], additional: [] }, true);
    }
    if (this.rewrites.length > 0) {
      const asked = fqdn(q.name || '.');
      const r = rewriteName(this.rewrites, asked);
      if (r.applied.length > 0 && r.name !== asked) {
        const labels = splitName(r.name);
        const inner: Question = { ...q, labels, name: labelsToName(labels) };
        return this.afterRewrite(inner, (a, cacheable) => done(restoreOwners(a, asked, r.name, r.applied), cacheable));
      }
    }
    this.afterRewrite(q, done);
  }

  private afterRewrite(q: Question, done: Done): void {
    if (this.hosts && matchZone(q.labels, this.hosts.plugin.zones)) {
      const found = this.hosts.lookup(q.name, q.labels, q.type);
      if (found.kind === 'answer') return done({ rcode: RCode.NOERROR, authoritative: true, answers: found.records, authority: [], additional: [] }, true);
      if (found.kind === 'nodata') return done({ rcode: RCode.NOERROR, authoritative: true, ...EMPTY }, true);
      if (!fallsThrough(this.hosts.plugin.fallthrough, q.labels)) return done({ rcode: RCode.NXDOMAIN, authoritative: true, ...EMPTY }, true);
    }
    const k = this.kubernetes(q, done);
    if (k) return;
    this.forward(q, done);
  }

  /** The kubernetes plugin; false when the question passes on to the next plugin. */
  private kubernetes(q: Question, done: Done): boolean {
    const plugin = this.block.kubernetes;
    if (!plugin) return false;
    let best: KubernetesZone | undefined;
    for (const kz of this.kubeZones) if (inZone(q.labels, kz.zone) && (!best || kz.zone.length > best.zone.length)) best = kz;
    if (!best) return false;
    if (!this.deps.ready()) {
      done({ rcode: RCode.SERVFAIL, authoritative: false, ...EMPTY }, false);
      return true;
    }
    const resolver = best.resolver;
    if (best.reverse) {
      const ip = reverseAddress(q.labels);
      const res = ip ? resolver.resolveReverse(q.name, q.type, ip) : undefined;
      if (res) {
        done(res, true);
        return true;
      }
      if (fallsThrough(plugin.fallthrough, q.labels)) return false;
      done({ rcode: RCode.NXDOMAIN, authoritative: true, answers: [], authority: [{ ...resolver.soa(), name: best.zone.join('.') }], additional: [] }, true);
      return true;
    }
    const rel = q.labels.slice(0, q.labels.length - best.zone.length);
    const res = resolver.resolve(q.name, q.type, classifyClusterName(rel));
    if (res.rcode === RCode.NXDOMAIN && fallsThrough(plugin.fallthrough, q.labels)) return false;
    if (res.chase) this.chase(res, q, done);
    else done(res, true);
    return true;
  }

  /** An ExternalName CNAME out of the zone: its target through the forwarder, when there is one. */
  private chase(res: Resolution, q: Question, done: Done): void {
    const chase = res.chase as { name: string; type: number };
    if (!this.forwarder || this.loopDetected) return done(res, true);
    this.ask(chase.name, chase.type, q.class, (up) => {
      if (!up) return done(res, false);
      done({ ...res, rcode: up.rcode, answers: [...res.answers, ...up.answers], authority: up.authority, additional: [] }, false);
    });
  }

  private forward(q: Question, done: Done): void {
    const f = this.block.forward;
    if (!f || !this.forwarder || !inZone(q.labels, f.from) || f.except.some((z) => inZone(q.labels, z))) {
      // Nothing answered: refuse, so a stub resolver moves on at once to its next nameserver.
      return done({ rcode: RCode.REFUSED, authoritative: false, ...EMPTY }, true);
    }
    if (this.loopDetected) return done({ rcode: RCode.SERVFAIL, authoritative: false, ...EMPTY }, false);
    this.ask(q.name, q.type, q.class, (up) => {
      if (!up) return done({ rcode: RCode.SERVFAIL, authoritative: false, ...EMPTY }, false);
      done({ ...up, authoritative: false }, false);
    });
  }

  /** Whether the cache plugin keeps this answer (its `disable success|denial` zones). */
  private cacheable(name: string, a: UpstreamAnswer): boolean {
    const c = this.block.cache;
    if (!c) return false;
    const labels = splitName(name);
    const disabled = isDenial(a) ? c.disableDenial : c.disableSuccess;
    return !disabled.some((z) => inZone(labels, z));
  }

  private ask(name: string, type: number, klass: number, done: (a: UpstreamAnswer | undefined) => void): void {
    const forwarder = this.forwarder as Forwarder;
    const key = ForwardCache.key(name, type, klass);
    const cache = this.forwardCache && matchZone(splitName(name), this.block.cache?.zones ?? []) ? this.forwardCache : undefined;
    const cached = cache?.get(key);
    if (cached) {
      this.deps.metrics.forwardCacheHits.inc();
      return done(cached);
    }
    if (cache) this.deps.metrics.forwardCacheMisses.inc();
    forwarder.query(name, type, klass).then(
      (res) => {
        const answer: UpstreamAnswer = { rcode: res.rcode, answers: res.answers, authority: res.authority, additional: res.additional };
        if (cache && this.cacheable(name, answer)) cache.set(key, answer);
        done(answer);
      },
      (err: Error) => {
        this.deps.metrics.upstreamFailures.inc();
        if (this.block.errors && !(err instanceof ForwardBusyError)) this.deps.podLog(`[ERROR] plugin/forward: ${name}. ${typeName(type)}: ${err.message}`);
        done(undefined);
      },
    );
  }
}

function isDenial(a: UpstreamAnswer): boolean {
  return a.rcode === RCode.NXDOMAIN || (a.rcode === RCode.NOERROR && a.answers.length === 0);
}

function fallsThrough(zones: Zone[] | undefined, labels: string[]): boolean {
  return zones !== undefined && zones.some((z) => inZone(labels, z));
}

/** The cluster zone (the first non-reverse kubernetes zone) that reverse answers point into. */
function clusterZoneOf(zones: Zone[]): string {
  const z = zones.find((zone) => !REVERSE_ZONES.some((r) => inZone(zone, r)));
  return z ? z.join('.') : 'cluster.local';
}

function rfc8482Hinfo(name: string): ResourceRecord {
  const strings = ['ANY obsoleted', 'See RFC 8482'].map((s) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'latin1')]));
  return { name, type: RRType.HINFO, ttl: 8482, data: Buffer.concat(strings), raw: true };
}

function restoreOwners(a: Answer, asked: string, rewritten: string, applied: CompiledRewrite[]): Answer {
  const back = (rr: ResourceRecord): ResourceRecord => {
    const owner = answerOwner(rr.name, asked, rewritten, applied);
    const name = owner === '.' ? '' : owner.slice(0, -1);
    return name === rr.name ? rr : ({ ...rr, name } as ResourceRecord);
  };
  return { ...a, answers: a.answers.map(back), additional: a.additional.map(back) };
}
