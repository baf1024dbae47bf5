// The cluster DNS server as a workload: the agent runs it for pods of image `flatnet/dns`, with
// sockets it already bound inside the pod's network namespace (53/udp, 53/tcp, 8080 http).
import type dgram from 'node:dgram';
import type net from 'node:net';
import type { KubeClient } from '../client/client.js';
import { DnsHandler } from './handler.js';
import { serveHttp } from './http.js';
import { DnsMetrics } from './metrics.js';
import { ClusterDnsModel } from './model.js';
import { Forwarder, parseUpstream } from './forward.js';
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
}

export interface RunningDnsServer {
  stop(): Promise<void>;
  /** For tests and the bench: the model and whether the informers synced. */
  model: ClusterDnsModel;
  ready(): boolean;
  metrics: DnsMetrics;
}

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
  const watch = watchCluster(opts.client, model, pods === 'verified');
  model.onChange(() => metrics.services.set(model.serviceCount));
  const forwarder = upstreams.length > 0 ? new Forwarder({ upstreams }) : undefined;
  const handler = new DnsHandler(model, { zone, ttl, pods, ready: watch.hasSynced, forwarder }, metrics);
  const detachUdp = serveUdp(opts.udp, handler);
  const tcp = serveTcp(opts.tcp, handler);
  const detachHttp = opts.http ? serveHttp(opts.http, watch.hasSynced, metrics) : undefined;
  void watch.synced.then(() => log.info('informers synced; serving cluster names', { zone, services: model.serviceCount }));
  log.info('cluster DNS serving', { zone, ttl, upstreams: opts.upstreams ?? [] });
  let stopped = false;
  return {
    model,
    metrics,
    ready: watch.hasSynced,
    async stop() {
      if (stopped) return;
      stopped = true;
      watch.stop();
      detachUdp();
      tcp.detach();
      detachHttp?.();
      forwarder?.close();
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
