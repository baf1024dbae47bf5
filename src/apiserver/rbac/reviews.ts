// The access reviews, pure over an authorizer chain and the RBAC world: SelfSubjectAccessReview,
// LocalSubjectAccessReview and SubjectAccessReview (may this user do this?),
// SelfSubjectRulesReview (what may I do in this namespace?) and SelfSubjectReview (who am I?),
// answered as authorization.k8s.io/v1 and authentication.k8s.io/v1 objects, never stored.
import type { AuthorizerChain, RequestAttributes, RequestUser } from '../authorize.js';
import { rulesFor } from './rules.js';
import { GROUP_MASTERS, type PolicyRule, type RbacWorld } from './types.js';

type Json = Record<string, unknown>;

export class ReviewError extends Error {}

function obj(v: unknown, field: string): Json {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new ReviewError(`${field}: must be an object`);
  return v as Json;
}

function str(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ReviewError(`${field}: must be a string`);
  return v;
}

function strings(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ReviewError(`${field}: must be a list of strings`);
  return v as string[];
}

/** The attributes a SubjectAccessReview spec asks about. */
export function reviewAttributes(spec: Json): RequestAttributes {
  const ra = spec.resourceAttributes;
  const nra = spec.nonResourceAttributes;
  if ((ra === undefined || ra === null) === (nra === undefined || nra === null)) {
    throw new ReviewError('spec: exactly one of resourceAttributes or nonResourceAttributes must be specified');
  }
  if (ra !== undefined && ra !== null) {
    const a = obj(ra, 'spec.resourceAttributes');
    return {
      resourceRequest: true,
      verb: str(a.verb, 'spec.resourceAttributes.verb'),
      apiGroup: str(a.group, 'spec.resourceAttributes.group'),
      resource: str(a.resource, 'spec.resourceAttributes.resource'),
      subresource: str(a.subresource, 'spec.resourceAttributes.subresource'),
      namespace: str(a.namespace, 'spec.resourceAttributes.namespace'),
      name: str(a.name, 'spec.resourceAttributes.name'),
    };
  }
  const n = obj(nra, 'spec.nonResourceAttributes');
  return { resourceRequest: false, verb: str(n.verb, 'spec.nonResourceAttributes.verb'), path: str(n.path, 'spec.nonResourceAttributes.path') };
}

function decisionStatus(chain: AuthorizerChain, user: RequestUser, attrs: RequestAttributes): Json {
  const d = chain.decide(user, attrs);
  const status: Json = { allowed: d.allowed };
  if (d.denied) status.denied = true;
  if (d.reason) status.reason = d.reason;
  return status;
}

function answer(body: Json, spec: Json, status: Json): Json {
  const metadata = obj(body.metadata, 'metadata');
  return { kind: body.kind, apiVersion: body.apiVersion, metadata: { ...metadata, creationTimestamp: null }, spec, status };
}

/** SelfSubjectAccessReview: may the requester do this? */
export function selfSubjectAccessReview(chain: AuthorizerChain, user: RequestUser, body: Json): Json {
  const spec = obj(body.spec, 'spec');
  return answer({ ...body, kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1' }, spec, decisionStatus(chain, user, reviewAttributes(spec)));
}

/** SubjectAccessReview (and LocalSubjectAccessReview in `namespace`): may the user the spec names do this? */
export function subjectAccessReview(chain: AuthorizerChain, body: Json, local?: { namespace: string }): Json {
  const spec = obj(body.spec, 'spec');
  const username = str(spec.user, 'spec.user');
  const groups = strings(spec.groups, 'spec.groups');
  if (!username && groups.length === 0) throw new ReviewError('spec.user: Invalid value: "": at least one of user or group must be specified');
  const attrs = reviewAttributes(spec);
  if (local) {
    if (!attrs.resourceRequest) throw new ReviewError('spec.nonResourceAttributes: Invalid value: disallowed on this kind of request');
    if (attrs.namespace !== local.namespace) throw new ReviewError(`spec.resourceAttributes.namespace: Invalid value: "${attrs.namespace}": must match metadata.namespace`);
  }
  const subject: RequestUser = { kind: 'impersonated', username, groups };
  const uid = str(spec.uid, 'spec.uid');
  if (uid) subject.uid = uid;
  const extra = obj(spec.extra, 'spec.extra');
  if (Object.keys(extra).length > 0) subject.extra = Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, strings(v, `spec.extra.${k}`)]));
  const kind = local ? 'LocalSubjectAccessReview' : 'SubjectAccessReview';
  return answer({ ...body, kind, apiVersion: 'authorization.k8s.io/v1' }, spec, decisionStatus(chain, subject, attrs));
}


/** SelfSubjectRulesReview: the rules the requester holds in spec.namespace. */
export function selfSubjectRulesReview(world: RbacWorld, user: RequestUser, body: Json, extraRules: PolicyRule[] = []): Json {
  const spec = obj(body.spec, 'spec');
  const namespace = str(spec.namespace, 'spec.namespace');
  const granted = rulesFor(world, { username: user.username, groups: user.groups ?? [] }, namespace);
  const rules: PolicyRule[] = [...extraRules, ...granted.cluster, ...granted.namespaced];
  if ((user.groups ?? []).includes(GROUP_MASTERS) || user.kind === 'admin') rules.unshift({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] });
  const resourceRules: Json[] = [];
  const nonResourceRules: Json[] = [];
  for (const r of rules) {
    if ((r.nonResourceURLs ?? []).length > 0) {
      nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
      continue;
    }
    const rr: Json = { verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [] };
    if ((r.resourceNames ?? []).length > 0) rr.resourceNames = r.resourceNames;
    resourceRules.push(rr);
  }
  return answer({ ...body, kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1' }, spec, { resourceRules, nonResourceRules, incomplete: false });
}

/** SelfSubjectReview: who the requester is. */
export function selfSubjectReview(user: RequestUser, body: Json): Json {
  const userInfo: Json = { username: user.username };
  if (user.uid) userInfo.uid = user.uid;
  if ((user.groups ?? []).length > 0) userInfo.groups = user.groups;
  if (user.extra) userInfo.extra = user.extra;
  const metadata = obj(body.metadata, 'metadata');
  return { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { ...metadata, creationTimestamp: null }, status: { userInfo } };
}
