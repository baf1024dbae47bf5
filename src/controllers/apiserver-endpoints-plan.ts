// Which API servers the `kubernetes` Service's endpoints list, as upstream's lease endpoint
// reconciler decides: every API server keeps a Lease of its own renewed (kube-system
// `apiserver-endpoint-<ip>-<port>`, labelled flatnet.dev/apiserver-endpoint, holderIdentity its
// advertised "ip:port", a 15 s duration renewed every 5 s), and the endpoints are the servers
// whose lease has not expired. A server that dies drops out once its lease expires; one that stops
// cleanly deletes its lease at once. Pure: the clock is an argument.
import type { KubeObject } from '../api/types.js';

export const APISERVER_LEASE_NAMESPACE = 'kube-system';
export const APISERVER_LEASE_LABEL = 'flatnet.dev/apiserver-endpoint';
/** upstream's endpoint reconciler lease TTL (--master-lease-ttl... 15 s) and its renewal */
export const APISERVER_LEASE_SECONDS = 15;
export const APISERVER_LEASE_RENEW_MS = 5_000;

export interface ApiServerAddress {
  ip: string;
  port: number;
}

export function apiServerLeaseName(a: ApiServerAddress): string {
  return `apiserver-endpoint-${a.ip.replace(/[.:]/g, '-')}-${a.port}`;
}

/** MicroTime as Lease fields carry it (RFC 3339 with microseconds). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** This server's lease as it should be after a renewal at `nowMs` (keeps acquireTime of `current`). */
export function renewedApiServerLease(a: ApiServerAddress, nowMs: number, current?: KubeObject): KubeObject {
  const spec = (current?.spec ?? {}) as { acquireTime?: string };
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      ...(current?.metadata ?? {}),
      name: apiServerLeaseName(a),
      namespace: APISERVER_LEASE_NAMESPACE,
      labels: { ...(current?.metadata.labels ?? {}), [APISERVER_LEASE_LABEL]: 'true' },
    },
    spec: {
      holderIdentity: `${a.ip}:${a.port}`,
      leaseDurationSeconds: APISERVER_LEASE_SECONDS,
      acquireTime: spec.acquireTime ?? microTime(nowMs),
      renewTime: microTime(nowMs),
    },
  };
}

function addressOf(holder: unknown): ApiServerAddress | undefined {
  if (typeof holder !== 'string') return undefined;
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(holder);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { ip: m[1], port } : undefined;
}

export interface LiveApiServers {
  /** Sorted by port, then address. */
  live: ApiServerAddress[];
  /** When the first live lease runs out (ms since the epoch): look again then. */
  nextExpiryMs?: number;
}

/** The API servers whose lease (labelled APISERVER_LEASE_LABEL) is still valid at `nowMs`. */
export function liveApiServers(leases: KubeObject[], nowMs: number): LiveApiServers {
  const live = new Map<string, ApiServerAddress>();
  let nextExpiryMs: number | undefined;
  for (const lease of leases) {
    if (lease.metadata.labels?.[APISERVER_LEASE_LABEL] !== 'true' || lease.metadata.deletionTimestamp) continue;
    const spec = (lease.spec ?? {}) as { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
    const a = addressOf(spec.holderIdentity);
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : NaN;
    if (!a || Number.isNaN(renewed)) continue;
    const expires = renewed + (spec.leaseDurationSeconds ?? APISERVER_LEASE_SECONDS) * 1000;
    if (expires <= nowMs) continue;
    live.set(`${a.ip}:${a.port}`, a);
    nextExpiryMs = nextExpiryMs === undefined ? expires : Math.min(nextExpiryMs, expires);
  }
  const sorted = [...live.values()].sort((x, y) => x.port - y.port || compareIPv4(x.ip, y.ip));
  return { live: sorted, nextExpiryMs };
}

function compareIPv4(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** Addresses grouped by port, ports ascending (one Endpoints subset and one EndpointSlice each). */
export function byPort(live: ApiServerAddress[]): { port: number; ips: string[] }[] {
  const groups = new Map<number, string[]>();
  for (const a of live) {
    const ips = groups.get(a.port) ?? [];
    if (!ips.includes(a.ip)) ips.push(a.ip);
    groups.set(a.port, ips);
  }
  return [...groups.entries()].sort((x, y) => x[0] - y[0]).map(([port, ips]) => ({ port, ips }));
}

/**
 * The Service's targetPort: the port every live API server listens on, as upstream has it; when
 * they differ (two servers on one address, as in the HA lab) the port's name, which each
 * EndpointSlice resolves to its own number.
 */
export function kubernetesTargetPort(live: ApiServerAddress[]): number | string {
  const ports = new Set(live.map((a) => a.port));
  return ports.size === 1 ? [...ports][0] : 'https';
}

export function desiredKubernetesEndpoints(live: ApiServerAddress[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: byPort(live).map((g) => ({ addresses: g.ips.map((ip) => ({ ip })), ports: [{ name: 'https', port: g.port, protocol: 'TCP' }] })),
  };
}

/** The name of the slice of the `i`th port group: `kubernetes` for the first, as upstream's only slice. */
export function kubernetesSliceName(i: number, port: number): string {
  return i === 0 ? 'kubernetes' : `kubernetes-${port}`;
}

export function desiredKubernetesSlices(live: ApiServerAddress[]): KubeObject[] {
  return byPort(live).map((g, i) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: kubernetesSliceName(i, g.port), namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: g.ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: 'https', port: g.port, protocol: 'TCP' }],
  }));
}
