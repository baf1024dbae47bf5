// Which LoadBalancer addresses a node announces over BGP, as MetalLB's BGP mode decides: a
// Service's ingress IPs are announced once it has a ready endpoint; with externalTrafficPolicy
// Cluster by every node (any node forwards), with Local only by the nodes that hold a ready
// endpoint of it (traffic must land where a pod is). Pure.
import type { KubeObject } from '../../api/types.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

interface ServiceLike {
  spec?: { type?: string; externalTrafficPolicy?: string };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

interface SliceLike {
  addressType?: string;
  endpoints?: { conditions?: { ready?: boolean }; nodeName?: string }[];
}

/** The /32 prefixes node `nodeName` announces, sorted. */
export function lbAnnouncements(services: readonly KubeObject[], slices: readonly KubeObject[], nodeName: string): string[] {
  const readyNodes = new Map<string, Set<string | undefined>>(); // namespace/service -> nodes with a ready endpoint
  for (const slice of slices) {
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    const s = slice as SliceLike;
    if (!service || s.addressType !== 'IPv4') continue;
    const key = `${slice.metadata.namespace}/${service}`;
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false) continue; // ready unset means ready (EndpointConditions)
      let nodes = readyNodes.get(key);
      if (!nodes) readyNodes.set(key, (nodes = new Set()));
      nodes.add(e.nodeName);
    }
  }
  const prefixes = new Set<string>();
  for (const svc of services) {
    const s = svc as ServiceLike;
    if (s.spec?.type !== 'LoadBalancer') continue;
    const nodes = readyNodes.get(`${svc.metadata.namespace}/${svc.metadata.name}`);
    if (!nodes || nodes.size === 0) continue;
    if (s.spec.externalTrafficPolicy === 'Local' && !nodes.has(nodeName)) continue;
    for (const ingress of s.status?.loadBalancer?.ingress ?? []) if (ingress.ip && !ingress.ip.includes(':')) prefixes.add(`${ingress.ip}/32`);
  }
  return [...prefixes].sort();
}
