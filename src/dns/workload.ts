// The cluster DNS server as a workload: the agent runs it for pods of image `flatnet/dns`, with
// sockets it already bound inside the pod's network namespace (53/udp, 53/tcp, 8080 http).
import type dgram from 'node:dgram';
import type net from 'node:net';
import type { KubeClient } from '../client/client.js';
import { DnsHandler, type QueryHandler, type Reply, type Transport } from './handler.js';
import { loadCorefile, type CorefileConfig } from './corefile/config.js';
import { watchCorefile, type CorefileSource, type CorefileWatch } from './corefile/watch.js';
import { EventRecorder } from '../controllers/events.js';
import { readFileSync } from 'node:fs';
import { serveHttp } from './http.js';
import { DnsMetrics } from './metrics.js';
import { ClusterDnsModel } from './model.js';
import { Forwarder, parseUpstream, type ForwardSockets } from './forward.js';
import type { PodsMode } from './records.js';
import { serveTcp, serveUdp } from './transport.js';
import { watchCluster } from './watch.js';
import { createLogger } from '../util/log.js';

const log = createLogger('dns');

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
/** kubeadm's Corefile sets `ttl 30` (the CoreDNS plugin default is 5); we follow kubeadm. */
export const DEFAULT_TTL = 30;

export interface DnsServerOptions {
  client: KubeClient;
  udp: dgram.Socket;
  tcp: net.Server;
  http?: net.Server;
  clusterDomain?: string;
  /** Upstream resolvers for names outside the cluster domain (IP or IP:port). None: REFUSED. */
  upstreams?: string[];
  ttl?: number;
  /** `insecure` (default, as kubeadm's Corefile) answers any a-b-c-d.<ns>.pod.<zone>; `verified` only
   * addresses of pods in that namespace (watches all pods); `disabled` none. */
  pods?: PodsMode;
  /** Serve the Corefile of this ConfigMap (data key Corefile), following its edits. Until it is
   * read, the flags above make the one server block; /ready waits for it. */
  corefileConfigMap?: CorefileSource;
  /** Serve this Corefile text (instead of the flags). */
  corefile?: string;
  /** Lines for the pod's log (Corefile errors, the log/errors/loop plugins). */
  podLog?: (line: string) => void;
  /** Where sockets to upstreams are opened (inside the pod's namespace); default: this process's. */
  forwardSockets?: ForwardSockets;
}

export interface RunningDnsServer {
  stop(): Promise<void>;
  /** For tests and the bench: the model and whether the informers synced. */
  model: ClusterDnsModel;
  ready(): boolean;
  metrics: DnsMetrics;
  /** The Corefile configuration serving now (undefined while the flags' block serves). */
  corefile(): CorefileConfig | undefined;
}

/** The transports' handler, swapped in one step when a new Corefile is applied. */
class HandlerSlot implements QueryHandler {
  constructor(public current: DnsHandler) {}
  handle(msg: Buffer, transport: Transport, reply: Reply): void {
    this.current.handle(msg, transport, reply);
  }
}

/** How long a replaced handler keeps its forwarders for the questions it still has in flight. */
const RETIRE_AFTER_MS = 5000;

export function validateTtl(ttl: number): number {
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 3600) throw new Error(`ttl ${ttl} is out of range: use a whole number of seconds from 0 to 3600`);
  return ttl;
}

export function validateClusterDomain(domain: string): string {
  const d = domain.replace(/\.$/, '').toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(d)) {
    throw new Error(`cluster domain "${domain}" is not a DNS name (for example cluster.local)`);
  }
  return d;
}

export async function startDnsServer(opts: DnsServerOptions): Promise<RunningDnsServer> {
  const zone = validateClusterDomain(opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN);
  const ttl = validateTtl(opts.ttl ?? DEFAULT_TTL);
  const upstreams = (opts.upstreams ?? []).map(parseUpstream);
  const model = new ClusterDnsModel();
  const metrics = new DnsMetrics();
  const pods = opts.pods ?? 'insecure';
  const podLog = opts.podLog ?? ((line: string) => log.info(line));
  const readFile = (path: string) => readFileSync(path, 'utf8');
  const staticCorefile = opts.corefile !== undefined ? loadCorefile(opts.corefile, { readFile }) : undefined;
  const needsPods = (c: CorefileConfig | undefined) => (c ? c.blocks.some((b) => b.kubernetes?.pods === 'verified') : pods === 'verified');
  const watch = watchCluster(opts.client, model, needsPods(staticCorefile));
  model.onChange(() => metrics.services.set(model.serviceCount));
  let corefileWatch: CorefileWatch | undefined;
  let running: CorefileConfig | undefined = staticCorefile;
  let corefileSynced = false;
  const ready = () => watch.hasSynced() && (corefileWatch === undefined || corefileSynced);
  const makeHandler = (corefile: CorefileConfig | undefined) => {
    const forwarder = !corefile && upstreams.length > 0 ? new Forwarder({ upstreams, sockets: opts.forwardSockets }) : undefined;
    const h = new DnsHandler(model, { zone, ttl, pods, ready: watch.hasSynced, forwarder, corefile, podLog, forwardSockets: opts.forwardSockets }, metrics);
    h.start();
    return { handler: h, forwarder };
  };
  let made = makeHandler(staticCorefile);
  const slot = new HandlerSlot(made.handler);
  const retired = new Map<NodeJS.Timeout, () => void>();
  const swap = (corefile: CorefileConfig) => {
    const old = made;
    made = makeHandler(corefile);
    slot.current = made.handler;
    running = corefile;
    if (needsPods(corefile)) watch.watchPods();
    const retire = () => {
      retired.delete(timer);
      old.handler.close();
      old.forwarder?.close();
    };
    const timer = setTimeout(retire, RETIRE_AFTER_MS);
    timer.unref();
    retired.set(timer, retire);
  };
  if (opts.corefileConfigMap) {
    const events = new EventRecorder(opts.client, 'coredns', log);
    corefileWatch = watchCorefile({ client: opts.client, source: opts.corefileConfigMap, apply: swap, podLog, events, readFile });
    void corefileWatch.synced.then(() => (corefileSynced = true));
  }
  const detachUdp = serveUdp(opts.udp, slot);
  const tcp = serveTcp(opts.tcp, slot);
  const detachHttp = opts.http ? serveHttp(opts.http, ready, metrics) : undefined;
  void watch.synced.then(() => log.info('informers synced; serving cluster names', { zone, services: model.serviceCount }));
  log.info('cluster DNS serving', { zone, ttl, upstreams: opts.upstreams ?? [], corefile: opts.corefileConfigMap ? `${opts.corefileConfigMap.namespace}/${opts.corefileConfigMap.name}` : staticCorefile ? 'static' : 'flags' });
  let stopped = false;
  return {
    model,
    metrics,
    ready,
    corefile: () => running,
    async stop() {
      if (stopped) return;
      stopped = true;
      // health's lameduck: keep answering for that long before the sockets close.
      const lameduckMs = Math.max(0, ...(running?.blocks ?? []).map((b) => b.health?.lameduckMs ?? 0));
      if (lameduckMs > 0) await new Promise((r) => setTimeout(r, lameduckMs));
      watch.stop();
      corefileWatch?.stop();
      detachUdp();
      tcp.detach();
      detachHttp?.();
      for (const [t, retire] of [...retired]) {
        clearTimeout(t);
        retire();
      }
      made.handler.close();
      made.forwarder?.close();
      const closing: Promise<void>[] = [
        new Promise((r) => {
          try {
            opts.udp.close(() => r());
          } catch {
            r();
          }
        }),
        new Promise((r) => opts.tcp.close(() => r())),
      ];
      if (opts.http) {
        const h = opts.http;
        closing.push(new Promise((r) => h.close(() => r())));
      }
      await Promise.all(closing);
    },
  };
}
