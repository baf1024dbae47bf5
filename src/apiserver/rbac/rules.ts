// The RBAC rule evaluator, pure: which bindings apply to a user, which rules they grant in a
// namespace, and whether one rule covers a request. Semantics as upstream's RBAC authorizer:
// a resource rule names API groups, resources (`*`, `pods`, `pods/log`, `*/scale`), optional
// resourceNames and verbs (`*`); a non-resource rule names URL paths (`/healthz`, `/apis/*`).
import type { RequestAttributes } from '../authorize.js';
import type { BindingObject, PolicyRule, RbacWorld, RoleRef, Subject, UserInfo } from './types.js';
import { bindingPositions, indexOf } from './subject-index.js';

const RBAC_API_GROUP = 'rbac.authorization.k8s.io';

function hasOrStar(list: readonly string[] | undefined, value: string): boolean {
  return !!list && (list.includes('*') || list.includes(value));
}

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return hasOrStar(rule.verbs, verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return hasOrStar(rule.apiGroups, group);
}

// `resource` or `resource/subresource` against the rule's resources: `*`, an exact name, or `*` slash subresource.
export function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const url of rule.nonResourceURLs ?? []) {
    if (url === '*' || url === path) return true;
    if (url.endsWith('*') && path.startsWith(url.slice(0, -1))) return true;
  }
  return false;
}

/** Whether one rule covers the request. */
export function ruleAllows(attrs: RequestAttributes, rule: PolicyRule): boolean {
  if (!verbMatches(rule, attrs.verb)) return false;
  if (!attrs.resourceRequest) return nonResourceURLMatches(rule, attrs.path);
  return apiGroupMatches(rule, attrs.apiGroup) && resourceMatches(rule, attrs.resource, attrs.subresource) && resourceNameMatches(rule, attrs.name);
}

/** Whether a binding's subject is this user; `bindingNamespace` is the RoleBinding's ('' for a ClusterRoleBinding). */
export function subjectMatches(subject: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.username === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      if (!ns) return false;
      return user.username === `system:serviceaccount:${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}

function bindingApplies(binding: BindingObject, user: UserInfo, ns: string): boolean {
  return (binding.subjects ?? []).some((s) => subjectMatches(s, user, ns));
}

/** The rules a role reference grants, or undefined (with why) when the role does not exist. */
export function rulesOfRoleRef(world: RbacWorld, ref: RoleRef, bindingNamespace: string): PolicyRule[] | undefined {
  if (ref.apiGroup !== RBAC_API_GROUP) return undefined;
  if (ref.kind === 'ClusterRole') return world.clusterRoles.get(ref.name)?.rules ?? undefined;
  if (ref.kind === 'Role' && bindingNamespace) return world.roles.get(`${bindingNamespace}/${ref.name}`)?.rules ?? undefined;
  return undefined;
}

export interface GrantedRules {
  /** From ClusterRoleBindings: in force in every namespace and at the cluster scope. */
  cluster: PolicyRule[];
  /** From the RoleBindings of the namespace asked about. */
  namespaced: PolicyRule[];
}

/** Every rule granted to `user` at the cluster scope and in `namespace` ('' for cluster-scoped requests). */
export function rulesFor(world: RbacWorld, user: UserInfo, namespace: string): GrantedRules {
  const cluster: PolicyRule[] = [];
  for (const b of world.clusterRoleBindings) {
    if (b.roleRef.kind !== 'ClusterRole' || !bindingApplies(b, user, '')) continue;
    cluster.push(...(rulesOfRoleRef(world, b.roleRef, '') ?? []));
  }
  const namespaced: PolicyRule[] = [];
  if (namespace) {
    for (const b of world.roleBindings.get(namespace) ?? []) {
      if (!bindingApplies(b, user, namespace)) continue;
      namespaced.push(...(rulesOfRoleRef(world, b.roleRef, namespace) ?? []));
    }
  }
  return { cluster, namespaced };
}

/** Whether RBAC allows the request, and the binding that did (upstream's reason text). */
export function rbacAllows(world: RbacWorld, user: UserInfo, attrs: RequestAttributes): { allowed: boolean; reason: string } {
  // Only the bindings that name the user (subject-index.ts), in list order, so the reason is the same binding a full walk finds first.
  const index = indexOf(world);
  for (const at of bindingPositions(index.cluster, user)) {
    const b = index.cluster.bindings[at];
    if (b.roleRef.kind !== 'ClusterRole') continue;
    for (const rule of rulesOfRoleRef(world, b.roleRef, '') ?? []) {
      if (ruleAllows(attrs, rule)) return { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "${b.metadata.name}" of ClusterRole "${b.roleRef.name}" to ${describeSubjects(b, user, '')}` };
    }
  }
  const ns = attrs.resourceRequest ? attrs.namespace : '';
  const inNamespace = ns ? index.namespaced.get(ns) : undefined;
  if (inNamespace) {
    for (const at of bindingPositions(inNamespace, user)) {
      const b = inNamespace.bindings[at];
      for (const rule of rulesOfRoleRef(world, b.roleRef, ns) ?? []) {
        if (ruleAllows(attrs, rule)) {
          return { allowed: true, reason: `RBAC: allowed by RoleBinding "${b.metadata.name}/${ns}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describeSubjects(b, user, ns)}` };
        }
      }
    }
  }
  return { allowed: false, reason: '' };
}

function describeSubjects(b: BindingObject, user: UserInfo, ns: string): string {
  const s = (b.subjects ?? []).find((x) => subjectMatches(x, user, ns));
  if (!s) return '';
  return s.kind === 'ServiceAccount' ? `ServiceAccount "${s.name}/${s.namespace || ns}"` : `${s.kind} "${s.name}"`;
}
