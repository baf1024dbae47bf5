// What kube-apiserver's Service strategy does before validating an update: a field that only
// made sense for the old type is dropped when the user left it as it was, so `kubectl apply`
// from type LoadBalancer to ClusterIP (say) works without clearing node ports, the health-check
// port, allocateLoadBalancerNodePorts or externalTrafficPolicy by hand. A field the user changed
// too is kept, and validation then says what is wrong with it.

interface ServicePort {
  nodePort?: number;
  [field: string]: unknown;
}

export interface ServiceLike {
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    ports?: ServicePort[];
    healthCheckNodePort?: number;
    allocateLoadBalancerNodePorts?: boolean;
    loadBalancerClass?: string;
    externalTrafficPolicy?: string;
    externalIPs?: string[];
    [field: string]: unknown;
  };
  status?: { loadBalancer?: unknown; [field: string]: unknown };
}

const typeOf = (s: ServiceLike) => s.spec?.type ?? 'ClusterIP';
const needsClusterIP = (s: ServiceLike) => typeOf(s) !== 'ExternalName';
const needsNodePorts = (s: ServiceLike) => typeOf(s) === 'NodePort' || typeOf(s) === 'LoadBalancer';
const needsHealthCheckNodePort = (s: ServiceLike) => typeOf(s) === 'LoadBalancer' && s.spec?.externalTrafficPolicy === 'Local';
const externallyAccessible = (s: ServiceLike) => needsNodePorts(s) || (typeOf(s) === 'ClusterIP' && (s.spec?.externalIPs ?? []).length > 0);
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Drops from `next` the type-dependent fields the type change made meaningless (mutates `next`). */
export function dropServiceTypeDependentFields(next: ServiceLike, old: ServiceLike): void {
  const spec = next.spec;
  const oldSpec = old.spec ?? {};
  if (!spec) return;
  if (needsClusterIP(old) && !needsClusterIP(next)) {
    if (spec.clusterIP === oldSpec.clusterIP && same(spec.clusterIPs, oldSpec.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (same(spec.ipFamilies, oldSpec.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === oldSpec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  const nodePorts = (s: ServiceLike['spec']) => (s?.ports ?? []).map((p) => p.nodePort ?? 0);
  if (needsNodePorts(old) && !needsNodePorts(next) && same(nodePorts(spec), nodePorts(oldSpec))) {
    for (const p of spec.ports ?? []) delete p.nodePort;
  }
  if (needsHealthCheckNodePort(old) && !needsHealthCheckNodePort(next) && spec.healthCheckNodePort === oldSpec.healthCheckNodePort) {
    delete spec.healthCheckNodePort;
  }
  if (typeOf(old) === 'LoadBalancer' && typeOf(next) !== 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts) {
      delete spec.allocateLoadBalancerNodePorts;
    }
    if (spec.loadBalancerClass === oldSpec.loadBalancerClass) delete spec.loadBalancerClass;
  }
  if (externallyAccessible(old) && !externallyAccessible(next) && spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) {
    delete spec.externalTrafficPolicy;
  }
  // The load balancer's address goes with the type; releasing it is not the user's business.
  if (typeOf(next) !== 'LoadBalancer' && next.status?.loadBalancer !== undefined) next.status.loadBalancer = {};
}
