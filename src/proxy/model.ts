// The proxy's view of Services and EndpointSlices: slim copies holding only the fields the
// data plane needs, and the pure function that joins them into service ports with endpoints.
// Backends render rules from `ServicePortModel`s; nothing here touches the kernel.
import type { KubeObject } from '../api/types.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type TrafficPolicy = 'Cluster' | 'Local';

/** What the proxy keeps of a Service. */
export interface SlimService {
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** IPv4 ClusterIP; undefined for headless Services and ExternalName. */
  clusterIP?: string;
  ports: { name: string; protocol: Protocol; port: number; nodePort?: number }[];
  externalIPs: string[];
  /** status.loadBalancer.ingress[].ip whose ipMode is VIP (or unset). */
  loadBalancerIPs: string[];
  loadBalancerSourceRanges: string[];
  externalTrafficPolicy: TrafficPolicy;
  internalTrafficPolicy: TrafficPolicy;
  /** ClientIP session affinity timeout in seconds; undefined when affinity is None. */
  affinityTimeoutSeconds?: number;
  healthCheckNodePort?: number;
}

export interface SlimEndpoint {
  ip: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
}

/** What the proxy keeps of an EndpointSlice. */
export interface SlimEndpointSlice {
  namespace: string;
  name: string;
  serviceName: string;
  ports: { name: string; protocol: Protocol; port: number }[];
  endpoints: SlimEndpoint[];
}

/** One endpoint of one service port. */
export interface Endpoint {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  local: boolean;
}

/** One port of one Service with every endpoint the slices give it: what a backend renders. */
export interface ServicePortModel {
  /** `namespace/name:portName/protocol`, stable across updates. */
  key: string;
  serviceKey: string;
  service: SlimService;
  portName: string;
  protocol: Protocol;
  port: number;
  nodePort?: number;
  endpoints: Endpoint[];
}

const DEFAULT_AFFINITY_SECONDS = 10800;

function asProtocol(p: unknown): Protocol {
  return p === 'UDP' || p === 'SCTP' ? p : 'TCP';
}

function isIPv4(s: unknown): s is string {
  return typeof s === 'string' && /^\d{1,3}(\.\d{1,3}){3}$/.test(s);
}

/** Reduces a Service to what the proxy needs; IPv6 addresses are left out (the proxy is IPv4). */
export function slimService(obj: KubeObject): SlimService {
  const spec = (obj.spec ?? {}) as Record<string, any>;
  const status = (obj.status ?? {}) as Record<string, any>;
  const type = (spec.type ?? 'ClusterIP') as SlimService['type'];
  const clusterIP = isIPv4(spec.clusterIP) && type !== 'ExternalName' ? spec.clusterIP : undefined;
  const ingress = (status.loadBalancer?.ingress ?? []) as { ip?: string; ipMode?: string }[];
  const affinity = spec.sessionAffinity === 'ClientIP';
  return {
    namespace: obj.metadata.namespace ?? 'default',
    name: obj.metadata.name ?? '',
    type,
    clusterIP,
    ports: ((spec.ports ?? []) as any[]).map((p) => ({
      name: p.name ?? '',
      protocol: asProtocol(p.protocol),
      port: Number(p.port),
      nodePort: (type === 'NodePort' || type === 'LoadBalancer') && p.nodePort ? Number(p.nodePort) : undefined,
    })),
    externalIPs: ((spec.externalIPs ?? []) as unknown[]).filter(isIPv4),
    loadBalancerIPs:
      type === 'LoadBalancer' ? ingress.filter((i) => isIPv4(i.ip) && (i.ipMode ?? 'VIP') === 'VIP').map((i) => i.ip as string) : [],
    loadBalancerSourceRanges: type === 'LoadBalancer' ? ((spec.loadBalancerSourceRanges ?? []) as string[]).map((s) => s.trim()) : [],
    externalTrafficPolicy: spec.externalTrafficPolicy === 'Local' && (type === 'NodePort' || type === 'LoadBalancer') ? 'Local' : 'Cluster',
    internalTrafficPolicy: spec.internalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    affinityTimeoutSeconds: affinity ? Number(spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : undefined,
    healthCheckNodePort: spec.healthCheckNodePort ? Number(spec.healthCheckNodePort) : undefined,
  };
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Reduces an EndpointSlice; answers undefined for slices the proxy ignores (no owner Service, not IPv4). */
export function slimEndpointSlice(obj: KubeObject): SlimEndpointSlice | undefined {
  const serviceName = obj.metadata.labels?.[SERVICE_NAME_LABEL];
  if (!serviceName || obj.addressType !== 'IPv4') return undefined;
  const endpoints: SlimEndpoint[] = [];
  for (const ep of (obj.endpoints ?? []) as any[]) {
    const ip = (ep.addresses ?? [])[0];
    if (!isIPv4(ip)) continue;
    const c = ep.conditions ?? {};
    // Unset ready means ready; unset serving follows ready (EndpointSlice API semantics).
    const ready = c.ready !== false;
    endpoints.push({
      ip,
      ready,
      serving: c.serving === undefined ? ready : c.serving !== false,
      terminating: c.terminating === true,
      nodeName: ep.nodeName,
    });
  }
  return {
    namespace: obj.metadata.namespace ?? 'default',
    name: obj.metadata.name ?? '',
    serviceName,
    ports: ((obj.ports ?? []) as any[]).filter((p) => typeof p.port === 'number').map((p) => ({ name: p.name ?? '', protocol: asProtocol(p.protocol), port: p.port })),
    endpoints,
  };
}

/** A Service the proxy programs: it has a ClusterIP (headless and ExternalName get no rules). */
export function isProxied(svc: SlimService): boolean {
  return svc.type !== 'ExternalName' && svc.clusterIP !== undefined;
}

/** Joins one Service and its slices into service ports; endpoints deduplicated by ip:port. */
export function buildServicePorts(svc: SlimService, slices: Iterable<SlimEndpointSlice>, nodeName: string): ServicePortModel[] {
  if (!isProxied(svc)) return [];
  const sliceList = [...slices];
  const serviceKey = `${svc.namespace}/${svc.name}`;
  return svc.ports.map((p) => {
    const seen = new Set<string>();
    const endpoints: Endpoint[] = [];
    for (const slice of sliceList) {
      const sp = slice.ports.find((x) => x.name === p.name && x.protocol === p.protocol);
      if (!sp) continue;
      for (const ep of slice.endpoints) {
        const id = `${ep.ip}:${sp.port}`;
        if (seen.has(id)) continue;
        seen.add(id);
        endpoints.push({ ip: ep.ip, port: sp.port, ready: ep.ready, serving: ep.serving, terminating: ep.terminating, local: ep.nodeName === nodeName });
      }
    }
    endpoints.sort((a, b) => (a.ip === b.ip ? a.port - b.port : compareIPs(a.ip, b.ip)));
    return {
      key: `${serviceKey}:${p.name}/${p.protocol}`,
      serviceKey,
      service: svc,
      portName: p.name,
      protocol: p.protocol,
      port: p.port,
      nodePort: p.nodePort,
      endpoints,
    };
  });
}

function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function compareIPs(a: string, b: string): number {
  return ipToNumber(a) - ipToNumber(b);
}

/**
 * The endpoints traffic may use, kube-proxy's rules: ready endpoints; when none is ready, the
 * serving-but-terminating ones (so connections drain during a rollout instead of failing).
 */
export function usableEndpoints(eps: Endpoint[]): Endpoint[] {
  const ready = eps.filter((e) => e.ready);
  if (ready.length > 0) return ready;
  return eps.filter((e) => e.serving && e.terminating);
}

/** Endpoints for traffic subject to a policy: Local keeps node-local ones only. */
export function endpointsForPolicy(eps: Endpoint[], policy: TrafficPolicy): Endpoint[] {
  return policy === 'Local' ? usableEndpoints(eps.filter((e) => e.local)) : usableEndpoints(eps);
}

/** Whether a CIDR (a.b.c.d/n) contains an IPv4 address. */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!isIPv4(base) || !isIPv4(ip) || !(bits >= 0 && bits <= 32)) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((ipToNumber(base) & mask) >>> 0) === ((ipToNumber(ip) & mask) >>> 0);
}

export { isIPv4 };
