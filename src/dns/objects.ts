// Slim copies of the API objects cluster DNS reads: only the fields that decide a record, so
// 10k Services and their EndpointSlices cost little memory and comparisons are cheap.
import type { KubeObject } from '../api/types.js';

export interface SlimPort {
  /** Port name, '' when unnamed (unnamed ports never get a `_port._proto` SRV name). */
  name: string;
  /** Lower-case protocol: tcp, udp or sctp. */
  protocol: string;
  port: number;
}

export interface SlimService {
  namespace: string;
  name: string;
  /** ClusterIP, NodePort, LoadBalancer or ExternalName. */
  type: string;
  /** The service's cluster IPs; empty for headless (clusterIP None) and ExternalName. */
  clusterIPs: string[];
  headless: boolean;
  externalName?: string;
  ports: SlimPort[];
  /** publishNotReadyAddresses, or the legacy tolerate-unready-endpoints annotation. */
  publishNotReady: boolean;
}

export interface SlimEndpoint {
  addresses: string[];
  hostname?: string;
  /** conditions.ready; an unset condition counts as ready (API guidance, CoreDNS does the same). */
  ready: boolean;
}

export interface SlimEndpointSlice {
  namespace: string;
  name: string;
  /** The owning Service (label kubernetes.io/service-name); undefined slices are ignored. */
  serviceName: string | undefined;
  addressType: string;
  ports: SlimPort[];
  endpoints: SlimEndpoint[];
}

/** A pod as `pods verified` needs it: which addresses exist in which namespace. */
export interface SlimPod {
  namespace: string;
  name: string;
  ips: string[];
}

export function slimPod(obj: KubeObject): SlimPod | undefined {
  const { namespace, name } = obj.metadata;
  if (!namespace || !name) return undefined;
  const status = (obj.status ?? {}) as Record<string, unknown>;
  const ips = new Set<string>();
  if (Array.isArray(status.podIPs)) for (const p of status.podIPs as { ip?: unknown }[]) if (typeof p?.ip === 'string' && p.ip) ips.add(p.ip);
  if (typeof status.podIP === 'string' && status.podIP) ips.add(status.podIP);
  return { namespace, name, ips: [...ips] };
}

const TOLERATE_UNREADY = 'service.alpha.kubernetes.io/tolerate-unready-endpoints';

function slimPorts(raw: unknown): SlimPort[] {
  if (!Array.isArray(raw)) return [];
  const out: SlimPort[] = [];
  for (const p of raw as Record<string, unknown>[]) {
    const port = typeof p?.port === 'number' ? p.port : undefined;
    if (port === undefined) continue;
    out.push({ name: typeof p.name === 'string' ? p.name : '', protocol: (typeof p.protocol === 'string' ? p.protocol : 'TCP').toLowerCase(), port });
  }
  return out;
}

export function slimService(obj: KubeObject): SlimService | undefined {
  const { namespace, name } = obj.metadata;
  if (!namespace || !name) return undefined;
  const spec = (obj.spec ?? {}) as Record<string, unknown>;
  const type = typeof spec.type === 'string' ? spec.type : 'ClusterIP';
  const clusterIP = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
  const rawIPs = Array.isArray(spec.clusterIPs) ? (spec.clusterIPs as unknown[]).filter((ip): ip is string => typeof ip === 'string') : [];
  const ips = rawIPs.length > 0 ? rawIPs : clusterIP ? [clusterIP] : [];
  const headless = type !== 'ExternalName' && (clusterIP === 'None' || ips.includes('None'));
  return {
    namespace,
    name,
    type,
    clusterIPs: type === 'ExternalName' || headless ? [] : ips.filter((ip) => ip !== '' && ip !== 'None'),
    headless,
    externalName: type === 'ExternalName' && typeof spec.externalName === 'string' ? spec.externalName.replace(/\.$/, '').toLowerCase() : undefined,
    ports: slimPorts(spec.ports),
    publishNotReady: spec.publishNotReadyAddresses === true || obj.metadata.annotations?.[TOLERATE_UNREADY] === 'true',
  };
}

export function slimEndpointSlice(obj: KubeObject): SlimEndpointSlice | undefined {
  const { namespace, name } = obj.metadata;
  if (!namespace || !name) return undefined;
  const endpoints: SlimEndpoint[] = [];
  for (const ep of Array.isArray(obj.endpoints) ? (obj.endpoints as Record<string, unknown>[]) : []) {
    const addresses = Array.isArray(ep?.addresses) ? (ep.addresses as unknown[]).filter((a): a is string => typeof a === 'string') : [];
    if (addresses.length === 0) continue;
    const conditions = (ep.conditions ?? {}) as Record<string, unknown>;
    endpoints.push({
      addresses,
      hostname: typeof ep.hostname === 'string' && ep.hostname !== '' ? ep.hostname.toLowerCase() : undefined,
      ready: conditions.ready !== false,
    });
  }
  return {
    namespace,
    name,
    serviceName: obj.metadata.labels?.['kubernetes.io/service-name'],
    addressType: typeof obj.addressType === 'string' ? obj.addressType : 'IPv4',
    ports: slimPorts(obj.ports),
    endpoints,
  };
}

export function sameService(a: SlimService, b: SlimService): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function sameEndpointSlice(a: SlimEndpointSlice, b: SlimEndpointSlice): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
