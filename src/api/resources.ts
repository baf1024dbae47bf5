// The registry of every resource flatnet serves: group, version, kind, plural, scope, short
// names, categories and subresources. Discovery, routing, OpenAPI, Tables, validation and the
// client all read it; nothing else lists the kinds.

export interface SubresourceInfo {
  name: string; // status, scale, binding, log, exec, attach, portforward, proxy
  /** The kind the subresource speaks when it is not the parent's kind (scale -> autoscaling/v1 Scale). */
  group?: string;
  version?: string;
  kind?: string;
  verbs: string[];
}

export interface ResourceInfo {
  group: string; // '' for core
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  subresources: SubresourceInfo[];
  /** Other versions served over the same stored objects (identical schemas: conversion only rewrites apiVersion). */
  alsoServedAt?: readonly string[];
  /** Set on the ResourceInfo of such another served version: the version its objects are stored at. */
  storageVersion?: string;
}

const standardVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const status: SubresourceInfo = { name: 'status', verbs: ['get', 'patch', 'update'] };

function resource(
  group: string,
  version: string,
  kind: string,
  plural: string,
  opts: Partial<Pick<ResourceInfo, 'namespaced' | 'shortNames' | 'categories' | 'verbs' | 'subresources' | 'alsoServedAt'>> = {},
): ResourceInfo {
  return {
    ...(opts.alsoServedAt ? { alsoServedAt: opts.alsoServedAt } : {}),
    group,
    version,
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    namespaced: opts.namespaced ?? true,
    shortNames: opts.shortNames ?? [],
    categories: opts.categories ?? [],
    verbs: opts.verbs ?? standardVerbs,
    subresources: opts.subresources ?? [],
  };
}

/**
 * The Gateway API release whose versions we serve: v1.6.1 serves every standard-channel kind at v1
 * (ReferenceGrant and TLSRoute since v1.5.0, TCPRoute and UDPRoute since v1.6.0).
 */
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
export const RBAC_GROUP = 'rbac.authorization.k8s.io';
const gatewayCategories = ['gateway-api'];
/** What v1.6.1's standard bundle serves besides v1 (ReferenceGrant's bundle stores v1beta1; the schemas are identical). */
const gatewayV1beta1 = ['v1beta1'];

export const RESOURCES: readonly ResourceInfo[] = [
  // core/v1
  resource('', 'v1', 'Namespace', 'namespaces', { namespaced: false, shortNames: ['ns'], subresources: [status, { name: 'finalize', verbs: ['update'] }] }),
  resource('', 'v1', 'Node', 'nodes', { namespaced: false, shortNames: ['no'], subresources: [status, { name: 'proxy', kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }] }),
  resource('', 'v1', 'Pod', 'pods', {
    shortNames: ['po'],
    categories: ['all'],
    subresources: [
      status,
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'log', verbs: ['get'] },
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
      { name: 'proxy', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
      { name: 'eviction', group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
    ],
  }),
  resource('', 'v1', 'Service', 'services', { shortNames: ['svc'], categories: ['all'], subresources: [status, { name: 'proxy', kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }] }),
  resource('', 'v1', 'Endpoints', 'endpoints', { shortNames: ['ep'] }),
  resource('', 'v1', 'ConfigMap', 'configmaps', { shortNames: ['cm'] }),
  resource('', 'v1', 'Secret', 'secrets'),
  resource('', 'v1', 'Event', 'events', { shortNames: ['ev'] }),
  resource('', 'v1', 'ServiceAccount', 'serviceaccounts', {
    shortNames: ['sa'],
    subresources: [{ name: 'token', group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] }],
  }),
  // apps/v1
  resource('apps', 'v1', 'Deployment', 'deployments', {
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: [status, { name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }],
  }),
  resource('apps', 'v1', 'ReplicaSet', 'replicasets', {
    shortNames: ['rs'],
    categories: ['all'],
    subresources: [status, { name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }],
  }),
  resource('apps', 'v1', 'StatefulSet', 'statefulsets', {
    shortNames: ['sts'],
    categories: ['all'],
    subresources: [status, { name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }],
  }),
  resource('apps', 'v1', 'DaemonSet', 'daemonsets', { shortNames: ['ds'], categories: ['all'], subresources: [status] }),
  resource('apps', 'v1', 'ControllerRevision', 'controllerrevisions'),
  // batch/v1
  resource('batch', 'v1', 'Job', 'jobs', { categories: ['all'], subresources: [status] }),
  resource('batch', 'v1', 'CronJob', 'cronjobs', { shortNames: ['cj'], categories: ['all'], subresources: [status] }),
  // discovery.k8s.io/v1
  resource('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices'),
  // networking.k8s.io/v1
  resource('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', { shortNames: ['netpol'] }),
  resource('networking.k8s.io', 'v1', 'Ingress', 'ingresses', { shortNames: ['ing'], subresources: [status] }),
  resource('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', { namespaced: false }),
  // policy/v1 and events.k8s.io/v1 (the same stored Events as core/v1, converted)
  resource('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', { shortNames: ['pdb'], subresources: [status] }),
  resource('events.k8s.io', 'v1', 'Event', 'events', { shortNames: ['ev'] }),
  // coordination.k8s.io/v1
  resource('coordination.k8s.io', 'v1', 'Lease', 'leases'),
  // certificates.k8s.io/v1 (node client and serving certificates: src/apiserver/node-identity/)
  resource('certificates.k8s.io', 'v1', 'CertificateSigningRequest', 'certificatesigningrequests', { namespaced: false, shortNames: ['csr'], subresources: [status, { name: 'approval', verbs: ['get', 'patch', 'update'] }] }),
  // admissionregistration.k8s.io/v1 (ValidatingAdmissionPolicy: src/apiserver/admission/validating-policy.ts)
  resource('admissionregistration.k8s.io', 'v1', 'ValidatingAdmissionPolicy', 'validatingadmissionpolicies', { namespaced: false, categories: ['api-extensions'], subresources: [status] }),
  resource('admissionregistration.k8s.io', 'v1', 'ValidatingAdmissionPolicyBinding', 'validatingadmissionpolicybindings', { namespaced: false, categories: ['api-extensions'] }),
  // rbac.authorization.k8s.io/v1
  resource(RBAC_GROUP, 'v1', 'ClusterRole', 'clusterroles', { namespaced: false }),
  resource(RBAC_GROUP, 'v1', 'ClusterRoleBinding', 'clusterrolebindings', { namespaced: false }),
  resource(RBAC_GROUP, 'v1', 'Role', 'roles'),
  resource(RBAC_GROUP, 'v1', 'RoleBinding', 'rolebindings'),
  // authentication.k8s.io/v1 and authorization.k8s.io/v1: create-only reviews, never stored
  resource('authentication.k8s.io', 'v1', 'SelfSubjectReview', 'selfsubjectreviews', { namespaced: false, verbs: ['create'] }),
  resource('authentication.k8s.io', 'v1', 'TokenReview', 'tokenreviews', { namespaced: false, verbs: ['create'] }),
  resource('authorization.k8s.io', 'v1', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', { verbs: ['create'] }),
  resource('authorization.k8s.io', 'v1', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', { namespaced: false, verbs: ['create'] }),
  resource('authorization.k8s.io', 'v1', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', { namespaced: false, verbs: ['create'] }),
  resource('authorization.k8s.io', 'v1', 'SubjectAccessReview', 'subjectaccessreviews', { namespaced: false, verbs: ['create'] }),
  // apiextensions.k8s.io/v1 (the custom resources themselves: src/apiserver/crd/)
  resource('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', { namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'], subresources: [status] }),
  // gateway.networking.k8s.io (served as its CRDs define it)
  resource(GATEWAY_API_GROUP, 'v1', 'GatewayClass', 'gatewayclasses', { namespaced: false, shortNames: ['gc'], categories: gatewayCategories, alsoServedAt: gatewayV1beta1, subresources: [status] }),
  resource(GATEWAY_API_GROUP, 'v1', 'Gateway', 'gateways', { shortNames: ['gtw'], categories: gatewayCategories, alsoServedAt: gatewayV1beta1, subresources: [status] }),
  resource(GATEWAY_API_GROUP, 'v1', 'HTTPRoute', 'httproutes', { categories: gatewayCategories, alsoServedAt: gatewayV1beta1, subresources: [status] }),
  resource(GATEWAY_API_GROUP, 'v1', 'GRPCRoute', 'grpcroutes', { categories: gatewayCategories, subresources: [status] }),
  resource(GATEWAY_API_GROUP, 'v1', 'ReferenceGrant', 'referencegrants', { shortNames: ['refgrant'], categories: gatewayCategories, alsoServedAt: gatewayV1beta1 }),
  resource(GATEWAY_API_GROUP, 'v1', 'TCPRoute', 'tcproutes', { categories: gatewayCategories, subresources: [status] }),
  resource(GATEWAY_API_GROUP, 'v1', 'UDPRoute', 'udproutes', { categories: gatewayCategories, subresources: [status] }),
  resource(GATEWAY_API_GROUP, 'v1', 'TLSRoute', 'tlsroutes', { categories: gatewayCategories, subresources: [status] }),
];

export function apiVersionOf(r: Pick<ResourceInfo, 'group' | 'version'>): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** The URL prefix of a resource's group-version: /api/v1 or /apis/<group>/<version>. */
export function groupVersionPath(r: Pick<ResourceInfo, 'group' | 'version'>): string {
  return r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
}

/** The path of a collection or an object: /api/v1/namespaces/ns/pods[/name[/sub]]. */
export function resourcePath(r: ResourceInfo, namespace?: string, name?: string, subresource?: string): string {
  let path = groupVersionPath(r);
  if (r.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${r.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}

/** The apiVersion a resource's objects are stored at (its own unless it is another served version). */
export function storageApiVersionOf(r: Pick<ResourceInfo, 'group' | 'version' | 'storageVersion'>): string {
  return apiVersionOf({ group: r.group, version: r.storageVersion ?? r.version });
}

/** The ResourceInfo of each version a resource also serves: the same stored objects under another version. */
function otherServedVersions(r: ResourceInfo): ResourceInfo[] {
  const { alsoServedAt, ...rest } = r;
  return (alsoServedAt ?? []).map((version) => ({ ...rest, version, storageVersion: r.version }));
}

/** Every resource at every version it is served at: RESOURCES first, then the other served versions. */
export const SERVED_RESOURCES: readonly ResourceInfo[] = [...RESOURCES, ...RESOURCES.flatMap(otherServedVersions)];

const byGroupPlural = new Map<string, ResourceInfo>();
const byGroupVersionPlural = new Map<string, ResourceInfo>();
const byApiVersionKind = new Map<string, ResourceInfo>();
for (const r of RESOURCES) byGroupPlural.set(`${r.group}/${r.plural}`, r);
for (const r of SERVED_RESOURCES) {
  byGroupVersionPlural.set(`${r.group}/${r.version}/${r.plural}`, r);
  byApiVersionKind.set(`${apiVersionOf(r)}/${r.kind}`, r);
}

/** Group-versions in the order discovery lists them (a group's storage version before its others). */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Set<string>();
  const out: { group: string; version: string }[] = [];
  for (const r of SERVED_RESOURCES) {
    const key = apiVersionOf(r);
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ group: r.group, version: r.version });
    }
  }
  return out;
}

export function findResource(group: string, version: string, plural: string): ResourceInfo | undefined {
  return byGroupVersionPlural.get(`${group}/${version}/${plural}`);
}

export function findByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return byApiVersionKind.get(`${apiVersion}/${kind}`);
}

/** Look a resource up by group and plural, whatever its version. Throws for a name we do not serve. */
export function mustFindResource(group: string, plural: string): ResourceInfo {
  const r = byGroupPlural.get(`${group}/${plural}`);
  if (!r) throw new Error(`flatnet does not serve resource ${plural}${group ? '.' + group : ''}`);
  return r;
}

/** Shorthands for the resources components use most. */
export const R = {
  namespaces: mustFindResource('', 'namespaces'),
  nodes: mustFindResource('', 'nodes'),
  pods: mustFindResource('', 'pods'),
  services: mustFindResource('', 'services'),
  endpoints: mustFindResource('', 'endpoints'),
  configmaps: mustFindResource('', 'configmaps'),
  secrets: mustFindResource('', 'secrets'),
  events: mustFindResource('', 'events'),
  serviceaccounts: mustFindResource('', 'serviceaccounts'),
  deployments: mustFindResource('apps', 'deployments'),
  replicasets: mustFindResource('apps', 'replicasets'),
  statefulsets: mustFindResource('apps', 'statefulsets'),
  daemonsets: mustFindResource('apps', 'daemonsets'),
  controllerrevisions: mustFindResource('apps', 'controllerrevisions'),
  jobs: mustFindResource('batch', 'jobs'),
  cronjobs: mustFindResource('batch', 'cronjobs'),
  endpointslices: mustFindResource('discovery.k8s.io', 'endpointslices'),
  networkpolicies: mustFindResource('networking.k8s.io', 'networkpolicies'),
  ingresses: mustFindResource('networking.k8s.io', 'ingresses'),
  ingressclasses: mustFindResource('networking.k8s.io', 'ingressclasses'),
  leases: mustFindResource('coordination.k8s.io', 'leases'),
  certificatesigningrequests: mustFindResource('certificates.k8s.io', 'certificatesigningrequests'),
  poddisruptionbudgets: mustFindResource('policy', 'poddisruptionbudgets'),
  validatingadmissionpolicies: mustFindResource('admissionregistration.k8s.io', 'validatingadmissionpolicies'),
  validatingadmissionpolicybindings: mustFindResource('admissionregistration.k8s.io', 'validatingadmissionpolicybindings'),
  clusterroles: mustFindResource(RBAC_GROUP, 'clusterroles'),
  clusterrolebindings: mustFindResource(RBAC_GROUP, 'clusterrolebindings'),
  roles: mustFindResource(RBAC_GROUP, 'roles'),
  rolebindings: mustFindResource(RBAC_GROUP, 'rolebindings'),
  gatewayclasses: mustFindResource(GATEWAY_API_GROUP, 'gatewayclasses'),
  gateways: mustFindResource(GATEWAY_API_GROUP, 'gateways'),
  httproutes: mustFindResource(GATEWAY_API_GROUP, 'httproutes'),
  grpcroutes: mustFindResource(GATEWAY_API_GROUP, 'grpcroutes'),
  referencegrants: mustFindResource(GATEWAY_API_GROUP, 'referencegrants'),
  tcproutes: mustFindResource(GATEWAY_API_GROUP, 'tcproutes'),
  udproutes: mustFindResource(GATEWAY_API_GROUP, 'udproutes'),
  tlsroutes: mustFindResource(GATEWAY_API_GROUP, 'tlsroutes'),
} as const;
