// EndpointSlices mirrored from the Endpoints a user wrote for a Service without a selector, as
// upstream's mirroring controller does, so that consumers of EndpointSlices (the service proxy,
// DNS) see those endpoints too. At most 1000 addresses are mirrored; IPv4 only.
import type { Endpoints } from './endpoints-plan.js';
import { SKIP_MIRROR_LABEL } from './endpoints-plan.js';
import { endpointKey, type DesiredGroup, type SliceEndpoint } from './endpointslice-plan.js';
import { portsKey, type ResolvedPort } from './pod-endpoints.js';
import type { Service } from './types.js';
import { parseIPv4 } from '../apiserver/service-allocation.js';

export const MAX_MIRRORED_ADDRESSES = 1000;

/** Should this Service's Endpoints be mirrored? A Service without selector, not ExternalName, Endpoints not written by a controller. */
export function shouldMirror(svc: Service | undefined, ep: Endpoints | undefined): boolean {
  if (!svc || !ep || svc.spec.type === 'ExternalName') return false;
  if (svc.spec.selector && Object.keys(svc.spec.selector).length > 0) return false;
  return ep.metadata.labels?.[SKIP_MIRROR_LABEL] !== 'true';
}

export function mirroredGroups(ep: Endpoints, max = MAX_MIRRORED_ADDRESSES): Map<string, DesiredGroup> {
  const groups = new Map<string, DesiredGroup>();
  let budget = max;
  for (const subset of ep.subsets ?? []) {
    const ports: ResolvedPort[] = (subset.ports ?? []).map((p) => {
      const rp: ResolvedPort = { name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' };
      if (p.appProtocol) rp.appProtocol = p.appProtocol;
      return rp;
    });
    const key = portsKey(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, endpoints: new Map() }));
    for (const [addrs, ready] of [
      [subset.addresses ?? [], true],
      [subset.notReadyAddresses ?? [], false],
    ] as const) {
      for (const a of addrs) {
        if (budget <= 0 || parseIPv4(a.ip) === undefined) continue;
        budget--;
        const e: SliceEndpoint = { addresses: [a.ip], conditions: { ready } };
        if (a.hostname) e.hostname = a.hostname;
        if (a.nodeName) e.nodeName = a.nodeName;
        if (a.targetRef) e.targetRef = a.targetRef;
        g.endpoints.set(endpointKey(e), e);
      }
    }
  }
  for (const [key, g] of groups) if (g.endpoints.size === 0) groups.delete(key);
  return groups;
}
