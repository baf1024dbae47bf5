// The `kubernetes` Service in `default` (first address of the service CIDR, port 443 named https)
// and how its Endpoints and EndpointSlices are brought to what apiserver-endpoints-plan.ts decides.
import { formatIPv4, parseCIDR } from '../apiserver/service-allocation.js';
import type { KubeObject } from '../api/types.js';
import { canonicalJSON } from './names.js';

export interface ApiServerEndpoint {
  serviceCIDR: string;
  advertiseAddress: string;
  advertisePort: number;
}

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export function kubernetesServiceIP(serviceCIDR: string): string {
  return formatIPv4(parseCIDR(serviceCIDR).base + 1);
}

/** The Service; `targetPort` as apiserver-endpoints-plan.ts's kubernetesTargetPort decides (default: this server's port). */
export function desiredKubernetesService(o: ApiServerEndpoint, targetPort: number | string = o.advertisePort): KubeObject {
  const ip = kubernetesServiceIP(o.serviceCIDR);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: ip,
      clusterIPs: [ip],
      sessionAffinity: 'None',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort }],
    },
  };
}

/**
 * The object to write so `current` says what `desired` says in the fields we own (labels,
 * spec/subsets/endpoints/ports), or undefined when it already does. A Service whose cluster IP
 * differs cannot be fixed in place (the field is immutable): answers 'recreate'.
 */
export function kubernetesObjectUpdate(desired: KubeObject, current: KubeObject): KubeObject | 'recreate' | undefined {
  const next: KubeObject = structuredClone(current);
  let changed = false;
  const labels = { ...(current.metadata.labels ?? {}), ...(desired.metadata.labels ?? {}) };
  if (canonicalJSON(labels) !== canonicalJSON(current.metadata.labels ?? {})) {
    next.metadata.labels = labels;
    changed = true;
  }
  if (desired.kind === 'Service') {
    const want = desired.spec as Record<string, unknown>;
    const have = (current.spec ?? {}) as Record<string, unknown>;
    if (have.clusterIP !== want.clusterIP) return 'recreate';
    const spec = { ...have };
    for (const f of ['type', 'ports'] as const) {
      if (canonicalJSON(stripDefaults(have[f])) !== canonicalJSON(want[f])) {
        spec[f] = want[f];
        changed = true;
      }
    }
    if (have.selector && Object.keys(have.selector as object).length > 0) {
      delete spec.selector;
      changed = true;
    }
    next.spec = spec;
  } else {
    for (const f of ['subsets', 'endpoints', 'ports', 'addressType']) {
      if (desired[f] !== undefined && canonicalJSON(current[f]) !== canonicalJSON(desired[f])) {
        next[f] = desired[f];
        changed = true;
      }
    }
  }
  return changed ? next : undefined;
}

/** Service ports as stored may carry defaults we did not write (nodePort absent, appProtocol...). */
function stripDefaults(ports: unknown): unknown {
  if (!Array.isArray(ports)) return ports;
  return ports.map((p: Record<string, unknown>) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP', targetPort: p.targetPort }));
}
