import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { requestAttributes, AuthorizerChain, privilegedGroupAuthorizer, gatewayProxyAuthorizer, rbacAuthorizer, forbiddenStatus } from '../../../../src/apiserver/authorize.js';
import { ruleAllows, rbacAllows } from '../../../../src/apiserver/rbac/rules.js';
import { aggregatedRules } from '../../../../src/apiserver/rbac/aggregation.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from '../../../../src/apiserver/rbac/bootstrap-policy.js';
import { ServiceAccountTokenIssuer } from '../../../../src/apiserver/rbac/serviceaccount-token.js';
import { serviceAccountTokenUser } from '../../../../src/apiserver/auth.js';
import type { BindingObject, PolicyRule, RbacWorld, RoleObject } from '../../../../src/apiserver/rbac/types.js';
import { serviceAccountUser } from '../../../../src/apiserver/rbac/types.js';
import { validateBinding, validatePolicyRules } from '../../../../src/apiserver/rbac/validation.js';
import { missingDefaultServiceAccount } from '../../../../src/controllers/serviceaccount-plan.js';
import { rootCAWrite } from '../../../../src/controllers/root-ca-plan.js';
import { uncoveredRules } from '../../../../src/apiserver/rbac/escalation.js';

const q = (s = '') => new URLSearchParams(s);

test('one rule against one request: a case table', () => {
  const cases: [PolicyRule, string, string, string, boolean][] = [
    [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, 'GET', '/api/v1/namespaces/d/pods/p', '', true],
    [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, 'GET', '/api/v1/namespaces/d/pods', '', false],
    [{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }, 'GET', '/api/v1/namespaces/d/pods', '', true],
    [{ verbs: ['watch'], apiGroups: [''], resources: ['pods'] }, 'GET', '/api/v1/namespaces/d/pods', 'watch=true', true],
    [{ verbs: ['watch'], apiGroups: [''], resources: ['pods'] }, 'GET', '/api/v1/watch/namespaces/d/pods', '', true],
    [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }, 'DELETE', '/api/v1/namespaces/d/pods/p', '', true],
    [{ verbs: ['get'], apiGroups: ['apps'], resources: ['pods'] }, 'GET', '/api/v1/namespaces/d/pods/p', '', false],
    [{ verbs: ['get'], apiGroups: ['*'], resources: ['*'] }, 'GET', '/apis/apps/v1/namespaces/d/deployments/x', '', true],
    // subresources: the bare resource does not cover them, `pods/log` and `*/log` do
    [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, 'GET', '/api/v1/namespaces/d/pods/p/log', '', false],
    [{ verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, 'GET', '/api/v1/namespaces/d/pods/p/log', '', true],
    [{ verbs: ['get'], apiGroups: [''], resources: ['*/log'] }, 'GET', '/api/v1/namespaces/d/pods/p/log', '', true],
    [{ verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, 'GET', '/api/v1/namespaces/d/pods/p', '', false],
    [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, 'GET', '/api/v1/namespaces/d/pods/p/log', '', true],
    [{ verbs: ['create'], apiGroups: [''], resources: ['pods/exec'] }, 'GET', '/api/v1/namespaces/d/pods/p/exec', 'command=sh', true],
    // resourceNames
    [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, 'GET', '/api/v1/namespaces/d/configmaps/a', '', true],
    [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, 'GET', '/api/v1/namespaces/d/configmaps/b', '', false],
    [{ verbs: ['list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, 'GET', '/api/v1/namespaces/d/configmaps', '', false],
    // non-resource URLs
    [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }, 'GET', '/healthz', '', true],
    [{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, 'GET', '/apis/apps/v1', '', true],
    [{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, 'GET', '/apis', '', false],
    [{ verbs: ['get'], nonResourceURLs: ['*'] }, 'GET', '/metrics', '', true],
    [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }, 'POST', '/metrics', '', false],
    [{ verbs: ['get'], apiGroups: ['*'], resources: ['*'] }, 'GET', '/metrics', '', false],
  ];
  for (const [rule, method, path, query, want] of cases) {
    assert.equal(ruleAllows(requestAttributes(method, path, q(query)), rule), want, `${JSON.stringify(rule)} ${method} ${path}?${query}`);
  }
});

function world(clusterRoles: RoleObject[], roles: RoleObject[], crbs: BindingObject[], rbs: BindingObject[]): RbacWorld {
  const roleBindings = new Map<string, BindingObject[]>();
  for (const b of rbs) roleBindings.set(b.metadata.namespace!, [...(roleBindings.get(b.metadata.namespace!) ?? []), b]);
  return {
    clusterRoles: new Map(clusterRoles.map((r) => [r.metadata.name!, r])),
    roles: new Map(roles.map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, r])),
    clusterRoleBindings: crbs,
    roleBindings,
  };
}

const RBAC = 'rbac.authorization.k8s.io';
const sa = serviceAccountUser('team', 'bot');

test('bindings: RoleBindings grant in their namespace only; subjects by user, group and ServiceAccount', () => {
  const w = world(
    [{ metadata: { name: 'reader' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }] }],
    [{ metadata: { name: 'cm', namespace: 'team' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }] }],
    [{ metadata: { name: 'all-read' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'Group', apiGroup: RBAC, name: 'readers' }] }],
    [
      { metadata: { name: 'sa-read', namespace: 'team' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'bot' }] },
      { metadata: { name: 'sa-cm', namespace: 'team' }, roleRef: { apiGroup: RBAC, kind: 'Role', name: 'cm' }, subjects: [{ kind: 'ServiceAccount', name: 'bot', namespace: 'team' }] },
      { metadata: { name: 'missing', namespace: 'team' }, roleRef: { apiGroup: RBAC, kind: 'Role', name: 'nope' }, subjects: [{ kind: 'User', apiGroup: RBAC, name: 'alice' }] },
    ],
  );
  const can = (user: { username: string; groups: string[] }, method: string, path: string) => rbacAllows(w, user, requestAttributes(method, path, q())).allowed;
  assert.ok(can(sa, 'GET', '/api/v1/namespaces/team/pods'));
  assert.ok(!can(sa, 'GET', '/api/v1/namespaces/other/pods'), 'a RoleBinding does not reach another namespace');
  assert.ok(!can(sa, 'GET', '/api/v1/pods'), 'nor the cluster scope');
  assert.ok(can(sa, 'GET', '/api/v1/namespaces/team/configmaps/x'));
  assert.ok(!can(sa, 'DELETE', '/api/v1/namespaces/team/configmaps/x'));
  assert.ok(!can(serviceAccountUser('other', 'bot'), 'GET', '/api/v1/namespaces/team/pods'), 'same name, other namespace');
  assert.ok(can({ username: 'bob', groups: ['readers'] }, 'GET', '/api/v1/pods'), 'a ClusterRoleBinding reaches every namespace');
  assert.ok(!can({ username: 'alice', groups: [] }, 'GET', '/api/v1/namespaces/team/pods'), 'a binding to a missing Role grants nothing');
  assert.match(rbacAllows(w, sa, requestAttributes('GET', '/api/v1/namespaces/team/pods', q())).reason, /RoleBinding "sa-read\/team" of ClusterRole "reader"/);
});

test('the bootstrap policy: aggregation fills admin/edit/view; masters, discovery and basic-user as upstream', () => {
  let roles = bootstrapClusterRoles() as unknown as RoleObject[];
  // aggregate until stable, as the server's reconciler does
  for (let i = 0; i < 3; i++) roles = roles.map((r) => ({ ...r, rules: aggregatedRules(r, roles) ?? r.rules }));
  const w = world(roles, [], bootstrapClusterRoleBindings() as unknown as BindingObject[], [
    { metadata: { name: 'v', namespace: 'team' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'bot' }] },
    { metadata: { name: 'e', namespace: 'dev' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'ServiceAccount', name: 'bot', namespace: 'team' }] },
    { metadata: { name: 'a', namespace: 'own' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'admin' }, subjects: [{ kind: 'ServiceAccount', name: 'bot', namespace: 'team' }] },
  ]);
  const chain = new AuthorizerChain([privilegedGroupAuthorizer, gatewayProxyAuthorizer, rbacAuthorizer(() => w)]);
  const can = (method: string, path: string, query = '') => chain.decide({ kind: 'serviceaccount', ...sa }, requestAttributes(method, path, q(query))).allowed;
  assert.ok(can('GET', '/api/v1/namespaces/team/pods'), 'view: list pods');
  assert.ok(can('GET', '/api/v1/namespaces/team/pods/p/log'), 'view: pods/log');
  assert.ok(!can('GET', '/api/v1/namespaces/team/secrets'), 'view: no secrets');
  assert.ok(!can('POST', '/api/v1/namespaces/team/pods'), 'view: no writes');
  assert.ok(can('POST', '/api/v1/namespaces/dev/pods'), 'edit: create pods');
  assert.ok(can('GET', '/api/v1/namespaces/dev/secrets'), 'edit: secrets');
  assert.ok(can('GET', '/api/v1/namespaces/dev/pods'), 'edit includes view');
  assert.ok(!can('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/dev/rolebindings'), 'edit: no RBAC');
  assert.ok(can('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/own/rolebindings'), 'admin: RBAC in its namespace');
  assert.ok(can('POST', '/api/v1/namespaces/own/pods'), 'admin includes edit');
  assert.ok(can('GET', '/apis'), 'system:discovery for every authenticated user');
  assert.ok(can('GET', '/version'));
  assert.ok(can('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'), 'system:basic-user');
  assert.ok(!can('GET', '/metrics'));
  assert.ok(!can('GET', '/api/v1/nodes'));
  const admin = { kind: 'admin' as const, username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
  assert.ok(chain.decide(admin, requestAttributes('DELETE', '/api/v1/nodes/n', q())).allowed);
  const masters = { kind: 'impersonated' as const, username: 'x', groups: ['system:masters'] };
  assert.ok(chain.decide(masters, requestAttributes('GET', '/metrics', q())).allowed, 'any member of system:masters');
  assert.equal(
    forbiddenStatus(sa, requestAttributes('GET', '/api/v1/namespaces/default/pods', q())).message,
    'pods is forbidden: User "system:serviceaccount:team:bot" cannot list resource "pods" in API group "" in the namespace "default"',
  );
});

test('ServiceAccount tokens: signed ES256 JWTs with upstream claims, refused when tampered, expired, for another audience, or the account is gone', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const issuer = new ServiceAccountTokenIssuer(privateKey);
  const now = 2_000_000_000;
  const { token, claims } = issuer.mint({ namespace: 'team', name: 'bot', uid: 'u1', now, boundObject: { kind: 'Pod', name: 'p', uid: 'pu' } });
  assert.deepEqual(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()), { alg: 'ES256', kid: issuer.keyId });
  assert.equal(claims.sub, 'system:serviceaccount:team:bot');
  assert.deepEqual(claims.aud, ['https://kubernetes.default.svc.cluster.local']);
  assert.equal(claims.exp, now + 3600);
  assert.deepEqual(claims['kubernetes.io'], { namespace: 'team', serviceaccount: { name: 'bot', uid: 'u1' }, pod: { name: 'p', uid: 'pu' } });
  assert.ok(issuer.verify(token, { now: now + 10 }));
  assert.equal(issuer.verify(token, { now: now + 3600 + 120 }), undefined, 'expired');
  assert.equal(issuer.verify(token, { now, audiences: ['other'] }), undefined, 'another audience');
  const [h, p, s] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url');
  assert.equal(issuer.verify(`${h}.${forged}.${s}`, { now }), undefined, 'tampered claims');
  assert.equal(issuer.verify(`${h}.${p}.${s.slice(0, -4)}AAAA`, { now }), undefined, 'bad signature');
  const other = new ServiceAccountTokenIssuer(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  assert.equal(other.verify(token, { now }), undefined, 'another key');
  const objects = (saUid: string | undefined, podUid: string | undefined) => ({
    serviceAccountUid: () => saUid,
    podUid: () => podUid,
    secretUid: () => undefined,
    nodeUid: () => undefined,
  });
  const user = serviceAccountTokenUser(claims, objects('u1', 'pu'))!;
  assert.equal(user.username, 'system:serviceaccount:team:bot');
  assert.deepEqual(user.groups, ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated']);
  assert.deepEqual(user.extra!['authentication.kubernetes.io/pod-name'], ['p']);
  assert.equal(serviceAccountTokenUser(claims, objects('u2', 'pu')), undefined, 'ServiceAccount recreated with another uid');
  assert.equal(serviceAccountTokenUser(claims, objects(undefined, 'pu')), undefined, 'ServiceAccount deleted');
  assert.equal(serviceAccountTokenUser(claims, objects('u1', undefined)), undefined, 'bound pod deleted');
});

test('validation of roles and bindings names the field as upstream', () => {
  const fields = (errs: { field: string }[]) => errs.map((e) => e.field);
  assert.deepEqual(fields(validatePolicyRules({ apiVersion: 'x', kind: 'Role', metadata: {}, rules: [{ verbs: [], apiGroups: [''], resources: ['pods'] }] } as never, true)), ['rules[0].verbs']);
  assert.deepEqual(fields(validatePolicyRules({ metadata: {}, rules: [{ verbs: ['get'], nonResourceURLs: ['/x'] }] } as never, true)), ['rules[0].nonResourceURLs']);
  assert.deepEqual(fields(validatePolicyRules({ metadata: {}, rules: [{ verbs: ['get'], nonResourceURLs: ['/x'] }] } as never, false)), []);
  assert.deepEqual(fields(validatePolicyRules({ metadata: {}, rules: [{ verbs: ['get'] }] } as never, false)), ['rules[0].apiGroups', 'rules[0].resources']);
  assert.deepEqual(fields(validateBinding({ metadata: {}, roleRef: { apiGroup: RBAC, kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'x' }] } as never, false)), ['roleRef.kind', 'subjects[0].namespace']);
  assert.deepEqual(fields(validateBinding({ metadata: {}, roleRef: { apiGroup: 'x', kind: 'Role', name: '' }, subjects: [{ kind: 'Robot', name: 'x' }] } as never, true)), ['roleRef.apiGroup', 'roleRef.name', 'subjects[0].kind']);
});

test('controller plans: a default ServiceAccount and kube-root-ca.crt in every active namespace', () => {
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' }, status: { phase: 'Active' } };
  const gone = { ...ns, metadata: { name: 'team', deletionTimestamp: '2026-01-01T00:00:00Z' } };
  assert.deepEqual(missingDefaultServiceAccount(ns, undefined)?.metadata, { name: 'default', namespace: 'team' });
  assert.equal(missingDefaultServiceAccount(ns, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } }), undefined);
  assert.equal(missingDefaultServiceAccount(gone, undefined), undefined);
  const create = rootCAWrite(ns, undefined, 'PEM').create!;
  assert.equal(create.metadata.name, 'kube-root-ca.crt');
  assert.deepEqual(create.data, { 'ca.crt': 'PEM' });
  assert.deepEqual(rootCAWrite(ns, create, 'PEM'), {});
  assert.deepEqual(rootCAWrite(ns, { ...create, data: { 'ca.crt': 'OLD' } }, 'PEM').update?.data, { 'ca.crt': 'PEM' });
  assert.deepEqual(rootCAWrite(gone, undefined, 'PEM'), {});
});

test('escalation: the rules a user holds must cover the rules they grant', () => {
  const held: PolicyRule[] = [
    { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'] },
    { verbs: ['*'], apiGroups: ['apps'], resources: ['deployments'] },
    { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] },
    { verbs: ['get'], nonResourceURLs: ['/apis/*'] },
  ];
  const cases: [PolicyRule, boolean][] = [
    [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, true],
    [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods'] }, false],
    [{ verbs: ['get'], apiGroups: [''], resources: ['pods/exec'] }, false],
    [{ verbs: ['delete', 'patch'], apiGroups: ['apps'], resources: ['deployments'] }, true],
    [{ verbs: ['*'], apiGroups: ['apps'], resources: ['deployments'] }, true],
    [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }, false],
    [{ verbs: ['get'], apiGroups: ['*'], resources: ['pods'] }, false],
    [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }, true],
    [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }, false],
    [{ verbs: ['get'], nonResourceURLs: ['/apis/apps'] }, true],
    [{ verbs: ['get'], nonResourceURLs: ['/api'] }, false],
  ];
  for (const [rule, covered] of cases) assert.equal(uncoveredRules(held, [rule]).length === 0, covered, JSON.stringify(rule));
  assert.deepEqual(uncoveredRules([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }], cases.map(([r]) => r)), [], 'cluster-admin covers everything');
});
