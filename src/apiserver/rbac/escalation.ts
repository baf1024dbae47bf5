// Privilege escalation prevention, pure: a user may create or update a Role or ClusterRole only
// with permissions they hold themselves, and bind a role only when they hold all of its
// permissions where the binding grants them (unless they have the `escalate` or `bind` verb on
// it, checked by the caller), as upstream's RBAC storage does. A rule is covered when every
// (API group, resource, verb, name) or (URL, verb) it grants is granted by one of the user's rules.
import type { PolicyRule } from './types.js';

function has(list: readonly string[] | undefined, v: string): boolean {
  return !!list && (list.includes('*') || list.includes(v));
}

function resourceCovers(owner: readonly string[] | undefined, resource: string): boolean {
  for (const o of owner ?? []) {
    if (o === '*' || o === resource) return true;
    const slash = resource.indexOf('/');
    if (slash > 0 && o === `*${resource.slice(slash)}`) return true;
  }
  return false;
}

function urlCovers(owner: string, url: string): boolean {
  if (owner === '*' || owner === url) return true;
  return owner.endsWith('*') && url.startsWith(owner.slice(0, -1));
}

/** Whether `owner` grants everything one atom of a requested rule grants. */
function atomCovered(owner: readonly PolicyRule[], atom: { verb: string; group?: string; resource?: string; name?: string; url?: string }): boolean {
  return owner.some((o) => {
    if (!has(o.verbs, atom.verb)) return false;
    if (atom.url !== undefined) return (o.nonResourceURLs ?? []).some((u) => urlCovers(u, atom.url!));
    if (!has(o.apiGroups, atom.group!) || !resourceCovers(o.resources, atom.resource!)) return false;
    const names = o.resourceNames ?? [];
    return names.length === 0 || (atom.name !== '' && names.includes(atom.name!));
  });
}

/** The requested rules `owner` does not cover (empty when the request escalates nothing). */
export function uncoveredRules(owner: readonly PolicyRule[], requested: readonly PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const r of requested) {
    const verbs = r.verbs ?? [];
    let covered: boolean;
    if ((r.nonResourceURLs ?? []).length > 0) {
      covered = r.nonResourceURLs!.every((url) => verbs.every((verb) => atomCovered(owner, { verb, url })));
    } else {
      const names = (r.resourceNames ?? []).length > 0 ? r.resourceNames! : [''];
      covered = (r.apiGroups ?? []).every((group) => (r.resources ?? []).every((resource) => verbs.every((verb) => names.every((name) => atomCovered(owner, { verb, group, resource, name })))));
    }
    if (!covered) out.push(r);
  }
  return out;
}

/** A rule as upstream prints it in the escalation message: {APIGroups:[""], Resources:["secrets"], Verbs:["get"]}. */
export function formatRule(r: PolicyRule): string {
  const q = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  const parts: string[] = [];
  if ((r.apiGroups ?? []).length > 0) parts.push(`APIGroups:${q(r.apiGroups!)}`);
  if ((r.resources ?? []).length > 0) parts.push(`Resources:${q(r.resources!)}`);
  if ((r.resourceNames ?? []).length > 0) parts.push(`ResourceNames:${q(r.resourceNames!)}`);
  if ((r.nonResourceURLs ?? []).length > 0) parts.push(`NonResourceURLs:${q(r.nonResourceURLs!)}`);
  parts.push(`Verbs:${q(r.verbs ?? [])}`);
  return `{${parts.join(', ')}}`;
}
