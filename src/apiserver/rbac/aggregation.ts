// ClusterRole aggregation, pure: a ClusterRole with an aggregationRule holds the rules of every
// ClusterRole its selectors match (upstream's clusterrole-aggregation controller), in the order
// of the matched roles' names, without duplicates.
import { labelSelectorMatches } from '../../api/label-selector.js';
import type { PolicyRule, RoleObject } from './types.js';

function ruleKey(r: PolicyRule): string {
  return JSON.stringify([r.verbs ?? [], r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []]);
}

/** The rules an aggregated ClusterRole should hold, or undefined when it has no aggregationRule. */
export function aggregatedRules(role: RoleObject, all: Iterable<RoleObject>): PolicyRule[] | undefined {
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (!role.aggregationRule || !selectors) return undefined;
  const matched = [...all]
    .filter((other) => other.metadata.name !== role.metadata.name && selectors.some((s) => labelSelectorMatches(s, other.metadata.labels ?? {})))
    .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  const seen = new Set<string>();
  const out: PolicyRule[] = [];
  for (const other of matched) {
    for (const r of other.rules ?? []) {
      const key = ruleKey(r);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(r);
    }
  }
  return out;
}

export function sameRules(a: readonly PolicyRule[] | null | undefined, b: readonly PolicyRule[] | null | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((r, i) => ruleKey(r) === ruleKey(y[i]));
}
