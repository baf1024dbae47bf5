// Defaults of core/v1 kinds other than Pod (upstream's pkg/apis/core/v1/defaults.go plus the
// registry's create-time preparation that a kubectl user sees in `get -o yaml`).
import { type Obj, ensureObj, isObj, objItems, setDefault } from './util.js';

export const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10800;

export function defaultService(svc: Obj): void {
  const spec = ensureObj(svc, 'spec');
  setDefault(spec, 'sessionAffinity', 'None');
  setDefault(spec, 'type', 'ClusterIP');
  const type = spec.type;
  for (const p of objItems(spec, 'ports')) {
    setDefault(p, 'protocol', 'TCP');
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if ((type === 'NodePort' || type === 'LoadBalancer') && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (type !== 'ExternalName') setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  if (type === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = ensureObj(spec, 'sessionAffinityConfig');
    const clientIP = ensureObj(cfg, 'clientIP');
    setDefault(clientIP, 'timeoutSeconds', DEFAULT_CLIENT_IP_TIMEOUT_SECONDS);
  }
  // The registry's IP-family defaulting on a single-stack IPv4 cluster.
  if (type !== 'ExternalName') {
    const headlessWithoutSelector = spec.clusterIP === 'None' && Object.keys(isObj(spec.selector) ? spec.selector : {}).length === 0;
    setDefault(spec, 'ipFamilyPolicy', headlessWithoutSelector ? 'RequireDualStack' : 'SingleStack');
    setDefault(spec, 'ipFamilies', ['IPv4']);
    if (spec.clusterIP === 'None') setDefault(spec, 'clusterIPs', ['None']);
  }
  const status = ensureObj(svc, 'status');
  setDefault(status, 'loadBalancer', {});
}

export function defaultNamespace(ns: Obj): void {
  const meta = ensureObj(ns, 'metadata');
  if (typeof meta.name === 'string' && meta.name !== '') {
    const labels = ensureObj(meta, 'labels');
    labels['kubernetes.io/metadata.name'] = meta.name;
  }
  const spec = ensureObj(ns, 'spec');
  setDefault(spec, 'finalizers', ['kubernetes']);
  const status = ensureObj(ns, 'status');
  setDefault(status, 'phase', 'Active');
}

export function defaultSecret(secret: Obj): void {
  if (!secret.type) secret.type = 'Opaque';
  // upstream's conversion: write-only stringData lands in data, base64-encoded, over same-named keys
  if (isObj(secret.stringData)) {
    const data = ensureObj(secret, 'data');
    for (const [k, v] of Object.entries(secret.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    delete secret.stringData;
  }
}

export function defaultEndpoints(ep: Obj): void {
  for (const subset of objItems(ep, 'subsets')) for (const p of objItems(subset, 'ports')) setDefault(p, 'protocol', 'TCP');
}

export function defaultNode(node: Obj): void {
  const status = node.status;
  if (isObj(status) && isObj(status.capacity) && !isObj(status.allocatable)) status.allocatable = { ...status.capacity };
}

export function defaultEndpointSlice(slice: Obj): void {
  for (const p of objItems(slice, 'ports')) {
    setDefault(p, 'name', '');
    setDefault(p, 'protocol', 'TCP');
  }
}

export function defaultNetworkPolicy(np: Obj): void {
  const spec = ensureObj(np, 'spec');
  setDefault(spec, 'podSelector', {});
  for (const rule of [...objItems(spec, 'ingress'), ...objItems(spec, 'egress')]) {
    for (const p of objItems(rule, 'ports')) setDefault(p, 'protocol', 'TCP');
  }
  if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) {
    const types = ['Ingress'];
    if (Array.isArray(spec.egress) && spec.egress.length > 0) types.push('Egress');
    spec.policyTypes = types;
  }
}

export function defaultIngressClass(ic: Obj): void {
  const params = ic.spec?.parameters;
  if (isObj(params)) setDefault(params, 'scope', 'Cluster');
}
