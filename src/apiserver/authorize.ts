// Authorization: who may do what. Requests are first described the way kube-apiserver's
// RequestInfo does (verb, API group, resource, subresource, namespace, name, or a non-resource
// path); then a chain of authorizers decides, each allowing, denying or having no opinion, the
// first opinion winning, as kube-apiserver's union authorizer: members of system:masters may do
// everything; node identities and bootstrap tokens get what the Node authorizer
// (src/apiserver/node-identity/node-authorizer.ts) allows; a gateway proxy token
// (src/gateway/proxy-identity.ts) may read what the route model reads; RBAC (src/apiserver/rbac/)
// decides for everyone else. A denial is worded as upstream words it.
import type { Status } from '../api/types.js';
import { ApiStatusError, statusOf } from './errors.js';
import type { RbacWorld, UserInfo } from './rbac/types.js';
import { GROUP_MASTERS } from './rbac/types.js';
import { rbacAllows } from './rbac/rules.js';
import { nameFromFieldSelector } from './request-name.js';

/**
 * Who sent a request. `kind` says which credential proved it: the admin token, a gateway proxy
 * token, a ServiceAccount token, a client certificate signed by the cluster CA (nodes), a
 * bootstrap token, or none (anonymous, only on the health and version paths).
 */
export type RequestUser = {
  kind: 'admin' | 'gateway-proxy' | 'serviceaccount' | 'certificate' | 'bootstrap' | 'anonymous' | 'impersonated';
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
};

export function userInfoOf(user: RequestUser): UserInfo {
  const info: UserInfo = { username: user.username, groups: user.groups ?? [] };
  if (user.uid) info.uid = user.uid;
  if (user.extra) info.extra = user.extra;
  return info;
}

export type RequestAttributes =
  | { resourceRequest: true; verb: string; apiGroup: string; resource: string; subresource: string; namespace: string; name: string }
  | { resourceRequest: false; verb: string; path: string };

/** Subresources whose every verb is a write on the pod or node (upstream authorizes them as create). */
const STREAMING_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

/** What a request asks for, from its method, path and query (as upstream's RequestInfoFactory). */
export function requestAttributes(method: string, pathname: string, query: URLSearchParams): RequestAttributes {
  const lowerMethod = method.toLowerCase();
  const nonResource = (): RequestAttributes => ({ resourceRequest: false, verb: lowerMethod === 'head' ? 'get' : lowerMethod, path: pathname });
  const parts = pathname.split('/').filter((s) => s !== '');
  let rest: string[];
  let apiGroup: string;
  if (parts[0] === 'api' && parts.length >= 3) {
    apiGroup = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    apiGroup = parts[1];
    rest = parts.slice(3);
  } else return nonResource();
  // /api/v1/watch/namespaces/N/pods[/NAME] is a watch, as upstream's RequestInfo reads it.
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = safeDecode(rest[1]);
    // /api/v1/namespaces/NAME[/status|/finalize] addresses the namespace itself.
    if (rest.length > 2 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) rest = rest.slice(2);
  }
  const resource = safeDecode(rest[0] ?? '');
  const name = safeDecode(rest[1] ?? '');
  const subresource = rest.length > 2 ? safeDecode(rest[2]) : '';
  let verb: string;
  switch (method.toUpperCase()) {
    case 'GET':
    case 'HEAD': {
      const watch = query.get('watch');
      verb = legacyWatch ? 'watch' : name ? 'get' : watch === 'true' || watch === '1' ? 'watch' : 'list';
      break;
    }
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name ? 'delete' : 'deletecollection';
      break;
    default:
      verb = lowerMethod;
  }
  // A WebSocket exec/attach/port-forward arrives as a GET; it still runs code in the pod.
  if (STREAMING_SUBRESOURCES.has(subresource)) verb = 'create';
  // A list or watch of one object by `fieldSelector=metadata.name=<name>` names it, as upstream's RequestInfo reads it.
  const selectedName = !name && !legacyWatch && (verb === 'list' || verb === 'watch') ? nameFromFieldSelector(query.get('fieldSelector')) : '';
  return { resourceRequest: true, verb, apiGroup, resource, subresource, namespace, name: name || selectedName };
}

function safeDecode(s: string): string {
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// ---- the chain ----

export type Decision = 'allow' | 'deny' | 'no-opinion';

export interface Authorizer {
  readonly name: string;
  authorize(user: RequestUser, attrs: RequestAttributes): { decision: Decision; reason: string };
}

const NO_OPINION = { decision: 'no-opinion' as const, reason: '' };

/** Members of system:masters may do everything (upstream's privileged-group authorizer). */
export const privilegedGroupAuthorizer: Authorizer = {
  name: 'system:masters',
  authorize: (user) => ((user.groups ?? []).includes(GROUP_MASTERS) || user.kind === 'admin' ? { decision: 'allow', reason: '' } : NO_OPINION),
};

/** What a gateway proxy may read: API group -> resources (get, list, watch only, no subresources). */
export const GATEWAY_PROXY_READABLE: Readonly<Record<string, readonly string[]>> = {
  'gateway.networking.k8s.io': ['gatewayclasses', 'gateways', 'httproutes', 'grpcroutes', 'tlsroutes', 'tcproutes', 'udproutes', 'referencegrants'],
  '': ['services', 'endpoints', 'secrets', 'namespaces'],
  'discovery.k8s.io': ['endpointslices'],
  'networking.k8s.io': ['ingresses', 'ingressclasses'],
};
const READ_VERBS = new Set(['get', 'list', 'watch']);

function isDiscoveryPath(path: string): boolean {
  return (
    path === '/api' ||
    path === '/apis' ||
    /^\/api\/[^/]+\/?$/.test(path) ||
    /^\/apis\/[^/]+(\/[^/]+)?\/?$/.test(path) ||
    path === '/version' ||
    path === '/version/' ||
    path === '/openapi/v2' ||
    path === '/openapi/v3' ||
    path.startsWith('/openapi/v3/') ||
    /^\/(healthz|readyz|livez)(\/.*)?$/.test(path)
  );
}

/** The built-in rules alone: the admin may do anything, a gateway proxy may read what its route model needs. */
export function allowed(user: RequestUser, attrs: RequestAttributes): boolean {
  if (user.kind === 'admin') return true;
  if (user.kind !== 'gateway-proxy') return false;
  if (!READ_VERBS.has(attrs.verb)) return false;
  if (!attrs.resourceRequest) return attrs.verb === 'get' && isDiscoveryPath(attrs.path);
  if (attrs.subresource) return false;
  return GATEWAY_PROXY_READABLE[attrs.apiGroup]?.includes(attrs.resource) ?? false;
}

/** A gateway proxy token reads what the route model needs; anything more is up to RBAC bindings of its ServiceAccount. */
export const gatewayProxyAuthorizer: Authorizer = {
  name: 'gateway-proxy',
  authorize: (user, attrs) => (user.kind === 'gateway-proxy' && allowed(user, attrs) ? { decision: 'allow', reason: 'gateway proxy token' } : NO_OPINION),
};

/** RBAC over the policy in the store. */
export function rbacAuthorizer(world: () => RbacWorld): Authorizer {
  return {
    name: 'RBAC',
    authorize: (user, attrs) => {
      const r = rbacAllows(world(), userInfoOf(user), attrs);
      return r.allowed ? { decision: 'allow', reason: r.reason } : NO_OPINION;
    },
  };
}

/** The authorizers in order; the first that allows or denies decides, and no opinion at all is a denial. */
export class AuthorizerChain {
  constructor(readonly authorizers: readonly Authorizer[]) {}

  decide(user: RequestUser, attrs: RequestAttributes): { allowed: boolean; denied: boolean; reason: string } {
    for (const a of this.authorizers) {
      const { decision, reason } = a.authorize(user, attrs);
      if (decision === 'allow') return { allowed: true, denied: false, reason };
      if (decision === 'deny') return { allowed: false, denied: true, reason };
    }
    return { allowed: false, denied: false, reason: '' };
  }

  /** Throws the upstream 403 when `user` may not make this request. */
  authorizeRequest(user: RequestUser, method: string, pathname: string, query: URLSearchParams): void {
    const attrs = requestAttributes(method, pathname, query);
    this.check(user, attrs);
  }

  check(user: RequestUser, attrs: RequestAttributes): void {
    if (!this.decide(user, attrs).allowed) throw new ApiStatusError(forbiddenStatus(user, attrs));
  }
}

/** The 403 upstream answers for a denied request, with its message and details. */
export function forbiddenStatus(user: Pick<RequestUser, 'username'>, attrs: RequestAttributes): Status {
  if (!attrs.resourceRequest) return statusOf(403, 'Forbidden', `forbidden: User "${user.username}" cannot ${attrs.verb} path "${attrs.path}"`, {});
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const scope = attrs.namespace ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope';
  const why = `User "${user.username}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" ${scope}`;
  const qualified = attrs.apiGroup ? `${attrs.resource}.${attrs.apiGroup}` : attrs.resource;
  const message = attrs.name ? `${qualified} "${attrs.name}" is forbidden: ${why}` : `${qualified} is forbidden: ${why}`;
  const details: NonNullable<Status['details']> = { kind: attrs.resource };
  if (attrs.name) details.name = attrs.name;
  if (attrs.apiGroup) details.group = attrs.apiGroup;
  return statusOf(403, 'Forbidden', message, details);
}
