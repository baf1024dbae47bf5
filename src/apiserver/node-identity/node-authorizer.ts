// The Node authorizer, with the NodeRestriction checks that need the request's object, for node
// identities (user system:node:<name> in group system:nodes) and bootstrap tokens, as upstream's
// node authorizer and NodeRestriction admission plugin decide:
// - its own Node (create, get, update, patch, delete; status), any Node (get, list, watch);
// - its own Lease in kube-node-lease;
// - pods: read all (the policy enforcer selects peers on every node), delete and update the
//   status of pods bound to it only, never create;
// - Secrets, ConfigMaps, PersistentVolumeClaims and ServiceAccounts (and their tokens) only when a
//   pod bound to it refers to them, and then only get; a referenced Secret or ConfigMap may also be
//   listed and watched by name (fieldSelector metadata.name=<name>, which names the request);
// - a Secret in kube-system that a BGPPeer selecting it names as its password (get only;
//   src/overlay/bgp/password.ts);
// - what its service proxy, overlay and policy enforcer read: Services, Endpoints, EndpointSlices,
//   Namespaces, NetworkPolicies, BGPPeers (get, list, watch); Events (create, update, patch);
// - its certificates: CertificateSigningRequests (create, get, list, watch), token and access reviews.
// Anything else gets no opinion here, so the chain ends in RBAC, which grants nodes nothing: 403.
// A bootstrap token may only create and read CertificateSigningRequests.
import type { KubeObject } from '../../api/types.js';
import type { Authorizer, Decision, RequestAttributes, RequestUser } from '../authorize.js';
import { isBootstrapUser } from './bootstrap-token.js';
import { GROUP_NODES, NODE_USER_PREFIX } from './csr-decision.js';

/** What the authorizer needs to know about stored objects. */
export interface NodeGraph {
  /** The pod, if it exists. */
  pod(namespace: string, name: string): KubeObject | undefined;
  /** The pods of `namespace` whose spec.nodeName is `node`. */
  podsOn(node: string, namespace: string): KubeObject[];
  /** Whether a BGPPeer that selects `node` names Secret `namespace/name` as its password. */
  bgpPasswordSecret?(node: string, namespace: string, name: string): boolean;
}

/** The node a user is, when it is a node identity. */
export function nodeNameOf(user: Pick<RequestUser, 'username' | 'groups'>): string | undefined {
  if (!user.username.startsWith(NODE_USER_PREFIX) || !(user.groups ?? []).includes(GROUP_NODES)) return undefined;
  const name = user.username.slice(NODE_USER_PREFIX.length);
  return name === '' ? undefined : name;
}

const READ = new Set(['get', 'list', 'watch']);
const ALLOW = { decision: 'allow' as Decision, reason: '' };
const NO_OPINION = { decision: 'no-opinion' as Decision, reason: '' };

/** Read-only kinds a node's agent watches, by API group. */
const NODE_READABLE: Readonly<Record<string, readonly string[]>> = {
  '': ['services', 'endpoints', 'namespaces', 'nodes', 'pods'],
  'discovery.k8s.io': ['endpointslices'],
  'networking.k8s.io': ['networkpolicies'],
  'flatnet.dev': ['bgppeers'], // the BGP overlay's peers (a CRD, overlay/bgp/crd.ts)
};

type Refs = { secrets: Set<string>; configmaps: Set<string>; persistentvolumeclaims: Set<string>; serviceaccounts: Set<string> };

interface PodSpecLike {
  serviceAccountName?: string;
  imagePullSecrets?: { name?: string }[];
  volumes?: {
    secret?: { secretName?: string };
    configMap?: { name?: string };
    persistentVolumeClaim?: { claimName?: string };
    projected?: { sources?: { secret?: { name?: string }; configMap?: { name?: string } }[] };
  }[];
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
  ephemeralContainers?: ContainerLike[];
}
interface ContainerLike {
  env?: { valueFrom?: { secretKeyRef?: { name?: string }; configMapKeyRef?: { name?: string } } }[];
  envFrom?: { secretRef?: { name?: string }; configMapRef?: { name?: string } }[];
}

/** The Secrets, ConfigMaps, claims and ServiceAccount a pod refers to (upstream's node graph edges). */
export function podReferences(pod: KubeObject): Refs {
  const spec = (pod.spec ?? {}) as PodSpecLike;
  const refs: Refs = { secrets: new Set(), configmaps: new Set(), persistentvolumeclaims: new Set(), serviceaccounts: new Set() };
  const add = (set: Set<string>, name: string | undefined) => {
    if (name) set.add(name);
  };
  add(refs.serviceaccounts, spec.serviceAccountName);
  for (const s of spec.imagePullSecrets ?? []) add(refs.secrets, s.name);
  for (const v of spec.volumes ?? []) {
    add(refs.secrets, v.secret?.secretName);
    add(refs.configmaps, v.configMap?.name);
    add(refs.persistentvolumeclaims, v.persistentVolumeClaim?.claimName);
    for (const src of v.projected?.sources ?? []) {
      add(refs.secrets, src.secret?.name);
      add(refs.configmaps, src.configMap?.name);
    }
  }
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])]) {
    for (const e of c.env ?? []) {
      add(refs.secrets, e.valueFrom?.secretKeyRef?.name);
      add(refs.configmaps, e.valueFrom?.configMapKeyRef?.name);
    }
    for (const f of c.envFrom ?? []) {
      add(refs.secrets, f.secretRef?.name);
      add(refs.configmaps, f.configMapRef?.name);
    }
  }
  return refs;
}

function boundTo(pod: KubeObject | undefined, node: string): boolean {
  return (pod?.spec as { nodeName?: string } | undefined)?.nodeName === node;
}

function referencedByPodOn(graph: NodeGraph, node: string, kind: keyof Refs, namespace: string, name: string): boolean {
  if (!name) return false;
  return graph.podsOn(node, namespace).some((p) => p.metadata.namespace === namespace && podReferences(p)[kind].has(name));
}

/** The decision for a node identity `node` (pure over `graph`). */
export function authorizeNode(node: string, attrs: RequestAttributes, graph: NodeGraph): Decision {
  if (!attrs.resourceRequest) return 'no-opinion';
  const { verb, apiGroup: group, resource, subresource: sub, namespace, name } = attrs;
  if (group === '' && resource === 'nodes') {
    if (sub === '' && READ.has(verb)) return 'allow';
    if (sub === '' && verb === 'create') return 'allow'; // the body's name is checked by nodeWriteAdmission
    if ((sub === '' || sub === 'status') && ['get', 'update', 'patch'].includes(verb)) return name === node ? 'allow' : 'no-opinion';
    if (sub === '' && verb === 'delete') return name === node ? 'allow' : 'no-opinion';
    return 'no-opinion';
  }
  if (group === 'coordination.k8s.io' && resource === 'leases' && sub === '') {
    if (namespace !== 'kube-node-lease') return 'no-opinion';
    if (verb === 'create') return 'allow'; // the body's name is checked by nodeWriteAdmission
    return ['get', 'update', 'patch', 'delete'].includes(verb) && name === node ? 'allow' : 'no-opinion';
  }
  if (group === '' && resource === 'pods') {
    if (sub === '' && READ.has(verb)) return 'allow';
    if (sub === '' && verb === 'delete') return boundTo(graph.pod(namespace, name), node) ? 'allow' : 'no-opinion';
    if (sub === 'status' && ['get', 'update', 'patch'].includes(verb)) return boundTo(graph.pod(namespace, name), node) ? 'allow' : 'no-opinion';
    return 'no-opinion';
  }
  if (group === '' && resource === 'secrets' && sub === '' && verb === 'get' && graph.bgpPasswordSecret?.(node, namespace, name)) return 'allow';
  if (group === '' && (resource === 'secrets' || resource === 'configmaps') && sub === '') {
    // get, or list/watch of that one object by fieldSelector=metadata.name=<name> (the request's name then).
    return READ.has(verb) && referencedByPodOn(graph, node, resource, namespace, name) ? 'allow' : 'no-opinion';
  }
  if (group === '' && (resource === 'persistentvolumeclaims' || resource === 'serviceaccounts') && sub === '') {
    return verb === 'get' && referencedByPodOn(graph, node, resource, namespace, name) ? 'allow' : 'no-opinion';
  }
  if (group === '' && resource === 'serviceaccounts' && sub === 'token') {
    return verb === 'create' && referencedByPodOn(graph, node, 'serviceaccounts', namespace, name) ? 'allow' : 'no-opinion';
  }
  if ((group === '' || group === 'events.k8s.io') && resource === 'events' && sub === '') return ['create', 'update', 'patch'].includes(verb) ? 'allow' : 'no-opinion';
  if (group === 'certificates.k8s.io' && resource === 'certificatesigningrequests' && sub === '') return ['create', 'get', 'list', 'watch'].includes(verb) ? 'allow' : 'no-opinion';
  if ((group === 'authentication.k8s.io' && resource === 'tokenreviews') || (group === 'authorization.k8s.io' && resource === 'subjectaccessreviews')) return verb === 'create' ? 'allow' : 'no-opinion';
  if (sub === '' && READ.has(verb) && NODE_READABLE[group]?.includes(resource)) return 'allow';
  return 'no-opinion';
}

/** A bootstrap token may ask for a node client certificate and read the answer, nothing else. */
export function authorizeBootstrap(attrs: RequestAttributes): Decision {
  if (!attrs.resourceRequest) return 'no-opinion';
  const csr = attrs.apiGroup === 'certificates.k8s.io' && attrs.resource === 'certificatesigningrequests' && attrs.subresource === '';
  return csr && ['create', 'get', 'list', 'watch'].includes(attrs.verb) ? 'allow' : 'no-opinion';
}

export function nodeAuthorizer(graph: NodeGraph): Authorizer {
  return {
    name: 'Node',
    authorize(user, attrs) {
      const node = nodeNameOf(user);
      if (node !== undefined) return authorizeNode(node, attrs, graph) === 'allow' ? { ...ALLOW, reason: `node ${node}` } : NO_OPINION;
      if (isBootstrapUser(user)) return authorizeBootstrap(attrs) === 'allow' ? { ...ALLOW, reason: 'bootstrap token' } : NO_OPINION;
      return NO_OPINION;
    },
  };
}
