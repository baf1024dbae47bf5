// Label selectors as controllers use them: a Service's map selector, and a workload's
// metav1.LabelSelector through the shared matcher.
import { labelSelectorMatches, type LabelSelector } from '../api/label-selector.js';

export type { LabelSelector, LabelSelectorRequirement } from '../api/label-selector.js';

/** A Service selector: every pair must match. An empty or absent selector selects nothing here. */
export function matchesMap(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector)) if (l[k] !== v) return false;
  return true;
}

/** A metav1.LabelSelector; an empty selector matches everything, an absent one nothing (as upstream). */
export function matchesSelector(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  return selector !== undefined && labelSelectorMatches(selector, labels);
}
