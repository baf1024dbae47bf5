// The subject index must give exactly the decisions (and the reason naming the first allowing
// binding) of a walk over every binding, which is how upstream's RBAC authorizer decides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rbacAllows, ruleAllows, rulesOfRoleRef, subjectMatches } from '../../../../src/apiserver/rbac/rules.js';
import { bindingsFor, indexBindings, indexOf } from '../../../../src/apiserver/rbac/subject-index.js';
import type { RequestAttributes } from '../../../../src/apiserver/authorize.js';
import type { BindingObject, PolicyRule, RbacWorld, RoleObject, Subject, UserInfo } from '../../../../src/apiserver/rbac/types.js';

const RBAC = 'rbac.authorization.k8s.io';

/** The reference: every binding, in order. */
function walkAll(world: RbacWorld, user: UserInfo, attrs: RequestAttributes): string | undefined {
  for (const b of world.clusterRoleBindings) {
    if (b.roleRef.kind !== 'ClusterRole' || !(b.subjects ?? []).some((s) => subjectMatches(s, user, ''))) continue;
    if ((rulesOfRoleRef(world, b.roleRef, '') ?? []).some((r) => ruleAllows(attrs, r))) return `crb ${b.metadata.name}`;
  }
  const ns = attrs.resourceRequest ? attrs.namespace : '';
  for (const b of ns ? (world.roleBindings.get(ns) ?? []) : []) {
    if (!(b.subjects ?? []).some((s) => subjectMatches(s, user, ns))) continue;
    if ((rulesOfRoleRef(world, b.roleRef, ns) ?? []).some((r) => ruleAllows(attrs, r))) return `rb ${b.metadata.name}`;
  }
  return undefined;
}

/** A small deterministic generator (the same worlds every run). */
function rng(seed: number) {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

test('indexed RBAC decides as a walk over every binding, first allowing binding included', () => {
  const rand = rng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const verbs = ['get', 'list', 'create', 'delete', '*'];
  const resources = ['pods', 'configmaps', 'secrets', 'pods/log', '*'];
  const names = ['alice', 'bob', 'carol'];
  const groups = ['dev', 'ops', 'system:authenticated'];
  const namespaces = ['a', 'b'];
  const rule = (): PolicyRule => ({ verbs: [pick(verbs)], apiGroups: [''], resources: [pick(resources)] });
  const subject = (): Subject => {
    const k = pick(['User', 'Group', 'ServiceAccount', 'ServiceAccountNoNs'] as const);
    if (k === 'User') return { kind: 'User', apiGroup: RBAC, name: pick(names) };
    if (k === 'Group') return { kind: 'Group', apiGroup: RBAC, name: pick(groups) };
    if (k === 'ServiceAccount') return { kind: 'ServiceAccount', name: pick(names), namespace: pick(namespaces) };
    return { kind: 'ServiceAccount', name: pick(names) } as Subject;
  };
  let compared = 0;
  let allowedSeen = 0;
  for (let w = 0; w < 40; w++) {
    const clusterRoles: RoleObject[] = Array.from({ length: 4 }, (_, i) => ({ metadata: { name: `cr${i}` }, rules: [rule(), rule()] }) as RoleObject);
    const roles: RoleObject[] = namespaces.flatMap((ns) => Array.from({ length: 2 }, (_, i) => ({ metadata: { name: `r${i}`, namespace: ns }, rules: [rule()] }) as RoleObject));
    const crbs: BindingObject[] = Array.from({ length: 6 }, (_, i) => ({ metadata: { name: `crb${i}` }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: `cr${Math.floor(rand() * 5)}` }, subjects: [subject(), subject()] }) as BindingObject);
    const roleBindings = new Map<string, BindingObject[]>();
    for (const ns of namespaces) {
      roleBindings.set(
        ns,
        Array.from({ length: 5 }, (_, i) => {
          const kind = pick(['Role', 'ClusterRole'] as const);
          return { metadata: { name: `rb${i}`, namespace: ns }, roleRef: { apiGroup: RBAC, kind, name: kind === 'Role' ? `r${i % 2}` : `cr${i % 4}` }, subjects: [subject(), subject()] } as BindingObject;
        }),
      );
    }
    const world: RbacWorld = {
      clusterRoles: new Map(clusterRoles.map((r) => [r.metadata.name!, r])),
      roles: new Map(roles.map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, r])),
      clusterRoleBindings: crbs,
      roleBindings,
    };
    for (const name of names) {
      for (const userKind of ['user', 'sa-a', 'sa-b'] as const) {
        const username = userKind === 'user' ? name : `system:serviceaccount:${userKind.slice(3)}:${name}`;
        const user: UserInfo = { username, groups: [pick(groups), pick(groups)] };
        for (const verb of ['get', 'list', 'create', 'delete']) {
          for (const res of ['pods', 'configmaps', 'secrets']) {
            for (const namespace of ['a', 'b', '']) {
              const attrs: RequestAttributes = { resourceRequest: true, verb, apiGroup: '', resource: res, subresource: '', namespace, name: '' };
              const want = walkAll(world, user, attrs);
              const got = rbacAllows(world, user, attrs);
              assert.equal(got.allowed, want !== undefined, `${username} ${verb} ${res} in ${namespace}`);
              if (want) {
                allowedSeen++;
                const [scope, bname] = want.split(' ');
                assert.ok(got.reason.includes(scope === 'crb' ? `ClusterRoleBinding "${bname}"` : `RoleBinding "${bname}/${namespace}"`), `${got.reason} vs ${want}`);
              }
              compared++;
            }
          }
        }
      }
    }
  }
  assert.ok(allowedSeen > 100 && allowedSeen < compared - 100, `both outcomes exercised (${allowedSeen} of ${compared})`);
});

test('bindingsFor: a user meets the bindings naming them, their ServiceAccount name or a group, once each and in list order', () => {
  const b = (name: string, subjects: Subject[]) => ({ metadata: { name }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'x' }, subjects }) as BindingObject;
  const list = [
    b('g-dev', [{ kind: 'Group', name: 'dev' }]),
    b('u-bob', [{ kind: 'User', name: 'bob' }]),
    b('sa', [{ kind: 'ServiceAccount', name: 'bot', namespace: 'team' }]),
    b('both', [{ kind: 'User', name: 'bob' }, { kind: 'Group', name: 'dev' }]),
    b('sa-default-ns', [{ kind: 'ServiceAccount', name: 'bot' }]),
  ];
  const cluster = indexBindings(list, '');
  assert.deepEqual(bindingsFor(cluster, { username: 'bob', groups: ['dev'] }).map((x) => x.metadata.name), ['g-dev', 'u-bob', 'both']);
  assert.deepEqual(bindingsFor(cluster, { username: 'system:serviceaccount:team:bot', groups: [] }).map((x) => x.metadata.name), ['sa'], 'a ServiceAccount subject without namespace names nobody in a ClusterRoleBinding');
  const inTeam = indexBindings(list, 'team');
  assert.deepEqual(bindingsFor(inTeam, { username: 'system:serviceaccount:team:bot', groups: [] }).map((x) => x.metadata.name), ['sa', 'sa-default-ns'], "a RoleBinding's own namespace is the default");
  const world: RbacWorld = { clusterRoles: new Map(), roles: new Map(), clusterRoleBindings: list, roleBindings: new Map() };
  assert.equal(indexOf(world), indexOf(world), 'one index per world, built once');
});
