// Raw kernel events -> flow events with identities and verdicts.
//   conntrack NEW      forwarded, or translated (DNAT) with the endpoint the kernel chose
//   conntrack UPDATE   replied, once per connection: the first update that is no longer UNREPLIED
//   conntrack DESTROY  closed (its summary says whether the connection was ever replied)
//   NFLOG flatnet:pol:<class>          dropped by the NetworkPolicies isolating the pod in that direction
//   NFLOG flatnet:pol:not-admitted     dropped: the pod's policy state was not in place yet
//   NFLOG flatnet:svc:no-endpoints     rejected: the Service has no endpoints
import { isDnat, type ConntrackEvent } from './conntrack-events.js';
import type { IdentityIndex } from './identity.js';
import { parsePrefix } from './log-prefix.js';
import type { NflogRecord } from './nflog-pcap.js';
import type { FlowEvent, FlowPeer } from './types.js';

export type UnsequencedFlow = Omit<FlowEvent, 'seq'>;

/** Connections whose reply was already reported, bounded: the oldest are forgotten first. */
const MAX_TRACKED = 65_536;

let cachedSecond = -1;
let cachedPrefix = '';

/** RFC 3339 with microseconds (the date part is formatted once per second). */
export function timeText(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19);
  }
  const micros = Math.min(999_999, Math.round((ms - second * 1000) * 1000));
  return `${cachedPrefix}.${String(micros).padStart(6, '0')}Z`;
}

function peer(index: IdentityIndex, ip: string, port: number | undefined): FlowPeer {
  return port === undefined ? { ip, identity: index.identity(ip) } : { ip, port, identity: index.identity(ip) };
}

export class FlowAssembler {
  private readonly replied = new Set<string>();

  constructor(
    private readonly node: string,
    private index: IdentityIndex,
  ) {}

  setIndex(index: IdentityIndex): void {
    this.index = index;
  }

  fromConntrack(e: ConntrackEvent): UnsequencedFlow | undefined {
    const o = e.original;
    const ix = this.index;
    const base = {
      time: timeText(e.timeMs),
      node: this.node,
      protocol: e.protocol,
      source: peer(ix, o.src, o.sport),
      destination: peer(ix, o.dst, o.dport),
      origin: e.id === undefined ? 'conntrack' : `conntrack:${e.id}`,
    };
    const service = ix.service(o.dst, e.protocol, o.dport);
    const dnat = isDnat(e);
    const endpoint = dnat ? peer(ix, e.reply.src, e.reply.sport) : undefined;
    const extra = { ...(service ? { service } : {}), ...(endpoint ? { endpoint } : {}) };
    const key = e.id ?? `${e.protocol} ${o.src}:${o.sport} ${o.dst}:${o.dport}`;
    const state = e.state ? ` ${e.state}` : '';
    if (e.type === 'NEW') {
      this.replied.delete(key);
      return { ...base, ...extra, verdict: dnat ? 'translated' : 'forwarded', summary: dnat ? `new${state}, DNAT to ${e.reply.src}:${e.reply.sport ?? ''}` : `new${state}` };
    }
    if (e.type === 'DESTROY') {
      this.replied.delete(key);
      return { ...base, ...extra, verdict: 'closed', summary: e.unreplied ? 'closed, never replied' : 'closed, replied' };
    }
    if (e.unreplied || this.replied.has(key)) return undefined;
    if (this.replied.size >= MAX_TRACKED) this.replied.delete(this.replied.values().next().value as string);
    this.replied.add(key);
    return { ...base, ...extra, verdict: 'replied', summary: `replied${state}` };
  }

  fromNflog(r: NflogRecord): UnsequencedFlow | undefined {
    const point = parsePrefix(r.prefix);
    const p = r.packet;
    if (!point || !p) return undefined;
    const ix = this.index;
    const base = {
      time: timeText(r.timeMs),
      node: this.node,
      protocol: p.protocol,
      source: peer(ix, p.src, p.sport),
      destination: peer(ix, p.dst, p.dport),
      origin: 'nflog',
    };
    switch (point.kind) {
      case 'policy': {
        const subject = point.direction === 'ingress' ? p.dst : p.src;
        const policy = ix.isolatingPolicies(subject, point.direction, point.allowClass);
        const who = policy.policies.length ? policy.policies.join(', ') : 'no NetworkPolicy (the policy state may be changing)';
        const summary = policy.defaultDeny ? `${point.direction} default deny (${who})` : `${point.direction} not allowed by ${who}`;
        return { ...base, verdict: 'dropped', policy, summary };
      }
      case 'not-admitted':
        return { ...base, verdict: 'dropped', summary: 'pod not admitted yet: its NetworkPolicy state was not in place' };
      case 'ipv6':
        return { ...base, verdict: 'dropped', summary: 'pods talk IPv4 only: NetworkPolicy is enforced for IPv4' };
      case 'no-endpoints': {
        const service = ix.service(p.dst, p.protocol, p.dport);
        return { ...base, ...(service ? { service } : {}), verdict: 'rejected', summary: 'rejected: the Service has no endpoints' };
      }
    }
  }
}
