// Access control for the API server in one place: the authenticator chain (admin token, gateway
// proxy tokens, ServiceAccount tokens), impersonation, the authorizer chain (system:masters,
// gateway proxy read rules, RBAC), the bootstrap RBAC policy, and the endpoints that are answered
// rather than stored: serviceaccounts/<name>/token (TokenRequest), the access reviews,
// SelfSubjectReview and TokenReview.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { R, RBAC_GROUP, type ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { Authenticator, adminTokenAuthenticator, bootstrapTokenAuthenticator, proxyTokenAuthenticator, serviceAccountTokenAuthenticator, type ObjectLookup } from '../auth.js';
import { nodeAuthorizer } from '../node-identity/node-authorizer.js';
import { BGP_PEERS } from '../../overlay/bgp/crd.js';
import { secretIsBgpPasswordOf } from '../../overlay/bgp/password.js';
import { IssuedCertificates, isNodeIdentity } from '../auth-node-certificates.js';
import { identityWriteAdmission } from '../node-identity/node-admission.js';
import { certificateApprovalAdmission } from '../admission/certificate-approval.js';
import {
  AuthorizerChain,
  forbiddenStatus,
  GATEWAY_PROXY_READABLE,
  gatewayProxyAuthorizer,
  privilegedGroupAuthorizer,
  rbacAuthorizer,
  requestAttributes,
  type RequestUser,
  userInfoOf,
} from '../authorize.js';
import { formatRule, uncoveredRules } from './escalation.js';
import { rulesFor, rulesOfRoleRef } from './rules.js';
import { decodeObject, readBody } from '../body.js';
import { ApiStatusError, errors } from '../errors.js';
import { send } from '../handlers.js';
import { timestamp } from '../objects.js';
import { type Registry, storeKey } from '../registry.js';
import { impersonate, wantsImpersonation } from './impersonation.js';
import { RbacPolicy } from './policy.js';
import { ReviewError, selfSubjectAccessReview, selfSubjectReview, selfSubjectRulesReview, subjectAccessReview } from './reviews.js';
import './validation.js';
import { DEFAULT_EXPIRATION_SECONDS, MIN_EXPIRATION_SECONDS, ServiceAccountTokenIssuer, ensureSigningKey } from './serviceaccount-token.js';
import type { PolicyRule, RoleRef } from './types.js';

/** A check a write runs on the object it is about to store (registry WriteContext.admit). */
export type WriteAdmission = (r: ResourceInfo, obj: KubeObject, old?: KubeObject) => void;
const writeAdmissions = new WeakMap<IncomingMessage, WriteAdmission>();

/** The admission checks of the user who sent `req` (escalation prevention for RBAC writes), if any. */
export function writeAdmissionFor(req: IncomingMessage): WriteAdmission | undefined {
  return writeAdmissions.get(req);
}

type Json = Record<string, unknown>;

export interface AccessControlOptions {
  dataDir: string;
  adminToken: string;
  proxyTokenKey: Buffer;
  registry: Registry;
}

/** The uid of a stored object that is not being deleted. */
function liveUid(registry: Registry, r: ResourceInfo, ns: string, name: string): string | undefined {
  const e = registry.store.get(storeKey(r), ns, name);
  if (!e || e.obj.metadata.deletionTimestamp) return undefined;
  return e.obj.metadata.uid;
}

export class AccessControl {
  readonly authenticator: Authenticator;
  readonly authorizer: AuthorizerChain;
  readonly policy: RbacPolicy;
  readonly issuer: ServiceAccountTokenIssuer;
  /** The node client certificates held by stored CSRs: only those authenticate (auth-node-certificates.ts). */
  private readonly issued: IssuedCertificates;

  constructor(private readonly opts: AccessControlOptions) {
    const registry = opts.registry;
    this.issuer = new ServiceAccountTokenIssuer(ensureSigningKey(opts.dataDir));
    this.issued = new IssuedCertificates(registry.store);
    const objects: ObjectLookup = {
      serviceAccountUid: (ns, name) => liveUid(registry, R.serviceaccounts, ns, name),
      podUid: (ns, name) => liveUid(registry, R.pods, ns, name),
      secretUid: (ns, name) => liveUid(registry, R.secrets, ns, name),
      nodeUid: (name) => liveUid(registry, R.nodes, '', name),
    };
    this.authenticator = new Authenticator([
      adminTokenAuthenticator(opts.adminToken),
      proxyTokenAuthenticator(opts.proxyTokenKey),
      serviceAccountTokenAuthenticator(this.issuer, objects),
      bootstrapTokenAuthenticator((name) => registry.store.get(storeKey(R.secrets), 'kube-system', name)?.obj),
    ], (serial, cn, orgs) => !isNodeIdentity(cn, orgs) || this.issued.has(serial));
    this.policy = new RbacPolicy(registry);
    const nodeGraph = {
      pod: (ns: string, name: string) => registry.store.get(storeKey(R.pods), ns, name)?.obj,
      podsOn: (node: string, ns: string) =>
        registry.store.list(storeKey(R.pods), { ns, filter: (e) => (e.obj.spec as { nodeName?: string } | undefined)?.nodeName === node }).entries.map((e) => e.obj),
      bgpPasswordSecret: (node: string, ns: string, name: string) =>
        secretIsBgpPasswordOf(registry.store.list(storeKey(BGP_PEERS)).entries.map((e) => e.obj), registry.store.get(storeKey(R.nodes), '', node)?.obj.metadata.labels, ns, name),
    };
    this.authorizer = new AuthorizerChain([privilegedGroupAuthorizer, nodeAuthorizer(nodeGraph), gatewayProxyAuthorizer, rbacAuthorizer(() => this.policy.world())]);
  }

  /** Creates the bootstrap ClusterRoles and ClusterRoleBindings that are missing. */
  start(): void {
    this.policy.ensureBootstrapPolicy();
  }

  close(): void {
    this.policy.close();
    this.issued.close();
  }

  /**
   * Who the request runs as (after impersonation), authorized for what it asks; throws 401 when
   * credentials are missing or invalid (except on the anonymous health and version paths, where
   * undefined is returned), 403 when the user may not.
   */
  admit(req: IncomingMessage, pathname: string, query: URLSearchParams): RequestUser | undefined {
    const authenticated = this.authenticator.authenticate(req);
    if (!authenticated) {
      if (this.authenticator.allowsAnonymous(pathname)) return undefined;
      // One health check by name is system:monitoring's, not public: anonymous is forbidden, as upstream.
      if (/^\/(healthz|livez|readyz)\/./.test(pathname)) throw new ApiStatusError(forbiddenStatus({ username: 'system:anonymous' }, requestAttributes(req.method ?? 'GET', pathname, query)));
      throw errors.unauthorized();
    }
    const user = wantsImpersonation(req) ? impersonate(req, authenticated, this.authorizer) : authenticated;
    // The admin token (system:masters) may do everything: the chain's first member would allow it, so the request is not described.
    if (user.kind !== 'admin') this.authorizer.check(user, requestAttributes(req.method ?? 'GET', pathname, query));
    const approval = certificateApprovalAdmission(pathname, (attrs) => this.authorizer.decide(user, attrs).allowed);
    if (pathname.startsWith(`/apis/${RBAC_GROUP}/`)) writeAdmissions.set(req, (r, obj) => this.preventEscalation(user, r, obj));
    else if (approval) writeAdmissions.set(req, approval);
    else {
      const identity = identityWriteAdmission(user, pathname);
      if (identity) writeAdmissions.set(req, identity);
    }
    return user;
  }

  /**
   * A user may store a Role/ClusterRole only with rules they hold (or with `escalate` on it), and
   * a binding only to a role whose rules they hold where it grants them (or with `bind` on it).
   */
  preventEscalation(user: RequestUser, r: ResourceInfo, obj: KubeObject): void {
    if (r.group !== RBAC_GROUP) return;
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    const world = this.policy.world();
    const info = userInfoOf(user);
    const held = (namespace: string) => {
      const g = rulesFor(world, info, namespace);
      return [...g.cluster, ...g.namespaced];
    };
    const may = (verb: string, resource: string, namespace: string, target: string) =>
      this.authorizer.decide(user, { resourceRequest: true, verb, apiGroup: RBAC_GROUP, resource, subresource: '', namespace, name: target }).allowed;
    const refuse = (why: string) => {
      throw errors.forbidden(r, name, why);
    };
    const notHeld = (rules: PolicyRule[]) =>
      refuse(`user "${user.username}" (groups=[${(user.groups ?? []).map((g) => JSON.stringify(g)).join(' ')}]) is attempting to grant RBAC permissions not currently held:\n${rules.map(formatRule).join('\n')}`);
    if (r === R.roles || r === R.clusterroles) {
      if (may('escalate', r.plural, ns, name)) return;
      if (r === R.clusterroles && (obj as { aggregationRule?: unknown }).aggregationRule) refuse('must have cluster-admin privileges to use the aggregationRule');
      const missing = uncoveredRules(held(r === R.roles ? ns : ''), ((obj as { rules?: PolicyRule[] }).rules ?? []) as PolicyRule[]);
      if (missing.length > 0) notHeld(missing);
      return;
    }
    if (r === R.rolebindings || r === R.clusterrolebindings) {
      const ref = (obj as { roleRef?: RoleRef }).roleRef;
      if (!ref) return;
      const scope = r === R.rolebindings ? ns : '';
      if (may('bind', ref.kind === 'Role' ? 'roles' : 'clusterroles', ref.kind === 'Role' ? scope : '', ref.name)) return;
      const granted = rulesOfRoleRef(world, ref, scope);
      if (!granted) refuse(`${ref.kind === 'Role' ? 'roles' : 'clusterroles'}.${RBAC_GROUP} "${ref.name}" not found`);
      const missing = uncoveredRules(held(scope), granted!);
      if (missing.length > 0) notHeld(missing);
    }
  }

  /** Whether this route is one of the answered endpoints (the caller then leaves the request to `serve`). */
  serves(r: ResourceInfo, subresource: string | undefined): boolean {
    return r.group === 'authorization.k8s.io' || r.group === 'authentication.k8s.io' || (r === R.serviceaccounts && subresource === 'token');
  }

  async serve(req: IncomingMessage, res: ServerResponse, user: RequestUser, route: { r: ResourceInfo; namespace?: string; name?: string; subresource?: string }): Promise<void> {
    if ((req.method ?? 'GET') !== 'POST' || (route.r !== R.serviceaccounts && route.name !== undefined)) throw errors.methodNotAllowed();
    if (route.r === R.serviceaccounts && route.name === undefined) throw errors.pathNotFound();
    const body = decodeObject(await readBody(req), req.headers['content-type']);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest(`the request body must be a ${route.r.kind} object`);
    let out: Json;
    try {
      out = this.answer(user, route, body as Json);
    } catch (err) {
      if (err instanceof ReviewError) throw errors.badRequest(`${route.r.kind} is invalid: ${err.message}`);
      throw err;
    }
    send(res, 201, JSON.stringify(out));
  }

  private answer(user: RequestUser, route: { r: ResourceInfo; namespace?: string; name?: string }, body: Json): Json {
    switch (route.r.plural) {
      case 'serviceaccounts':
        return this.tokenRequest(route.namespace ?? '', route.name!, body);
      case 'selfsubjectaccessreviews':
        return selfSubjectAccessReview(this.authorizer, user, body);
      case 'subjectaccessreviews':
        return subjectAccessReview(this.authorizer, body);
      case 'localsubjectaccessreviews':
        return subjectAccessReview(this.authorizer, body, { namespace: route.namespace ?? '' });
      case 'selfsubjectrulesreviews':
        return selfSubjectRulesReview(this.policy.world(), user, body, user.kind === 'gateway-proxy' ? gatewayProxyRules() : []);
      case 'selfsubjectreviews':
        return selfSubjectReview(user, body);
      case 'tokenreviews':
        return this.tokenReview(body);
      default:
        throw errors.pathNotFound();
    }
  }

  /** POST serviceaccounts/<name>/token: a bound token for the ServiceAccount, as a TokenRequest. */
  private tokenRequest(namespace: string, name: string, body: Json): Json {
    const sa = this.opts.registry.get(R.serviceaccounts, namespace, name).obj;
    const spec = (body.spec ?? {}) as Json;
    if (typeof spec !== 'object' || Array.isArray(spec)) throw new ReviewError('spec: must be an object');
    const audiences = spec.audiences ?? [];
    if (!Array.isArray(audiences) || audiences.some((a) => typeof a !== 'string')) throw new ReviewError('spec.audiences: must be a list of strings');
    const seconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
    if (typeof seconds !== 'number' || !Number.isInteger(seconds)) throw new ReviewError('spec.expirationSeconds: must be an integer');
    if (seconds < MIN_EXPIRATION_SECONDS) {
      throw errors.invalid({ group: 'authentication.k8s.io', plural: 'tokenrequests', kind: 'TokenRequest' }, name, [
        { type: 'FieldValueInvalid', field: 'spec.expirationSeconds', message: `Invalid value: ${seconds}: may not specify a duration less than 10 minutes` },
      ]);
    }
    if (seconds > 2 ** 32) throw new ReviewError('spec.expirationSeconds: may not specify a duration larger than 2^32 seconds');
    let boundObject: { kind: 'Pod' | 'Secret' | 'Node'; name: string; uid: string } | undefined;
    if (spec.boundObjectRef !== undefined && spec.boundObjectRef !== null) {
      const ref = spec.boundObjectRef as Json;
      const kinds = { Pod: R.pods, Secret: R.secrets, Node: R.nodes } as const;
      const kind = ref.kind as keyof typeof kinds;
      if (!(kind in kinds)) throw new ReviewError(`spec.boundObjectRef.kind: Unsupported value: ${JSON.stringify(ref.kind)}: supported values: "Pod", "Secret", "Node"`);
      const r = kinds[kind];
      const target = this.opts.registry.get(r, r.namespaced ? namespace : '', String(ref.name ?? '')).obj;
      if (ref.uid !== undefined && ref.uid !== '' && ref.uid !== target.metadata.uid) {
        throw new ApiStatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 409, reason: 'Conflict', message: `the UID in the bound object reference (${String(ref.uid)}) does not match the UID in record. The object might have been deleted and then recreated` });
      }
      boundObject = { kind, name: target.metadata.name!, uid: target.metadata.uid! };
    }
    const { token, claims } = this.issuer.mint({ namespace, name, uid: sa.metadata.uid!, audiences: audiences as string[], expirationSeconds: seconds, boundObject });
    const outSpec: Json = { audiences: claims.aud, expirationSeconds: seconds, boundObjectRef: spec.boundObjectRef ?? null };
    return {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace, creationTimestamp: null },
      spec: outSpec,
      status: { token, expirationTimestamp: timestamp(new Date(claims.exp * 1000)) },
    };
  }

  /** TokenReview: whom a token authenticates (for webhooks and add-ons). */
  private tokenReview(body: Json): Json {
    const spec = (body.spec ?? {}) as Json;
    const token = typeof spec.token === 'string' ? spec.token : '';
    const user = token ? this.authenticator.authenticateToken(token) : undefined;
    const status: Json = { authenticated: !!user };
    if (user) {
      const info: Json = { username: user.username, groups: user.groups ?? [] };
      if (user.uid) info.uid = user.uid;
      if (user.extra) info.extra = user.extra;
      status.user = info;
      status.audiences = this.issuer.apiAudiences;
    } else status.error = '[invalid bearer token]';
    return { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, spec, status };
  }
}

function gatewayProxyRules(): PolicyRule[] {
  return Object.entries(GATEWAY_PROXY_READABLE).map(([group, resources]) => ({ verbs: ['get', 'list', 'watch'], apiGroups: [group], resources: [...resources] }));
}
