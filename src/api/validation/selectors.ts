// metav1.LabelSelector validation and matching (what Deployment/ReplicaSet/NetworkPolicy need).
import { type FieldPath, forbidden, invalid, required } from './errors.js';
import type { FieldError } from './index.js';
import { validateLabels } from './meta.js';
import { isQualifiedName, isValidLabelValue } from './names.js';
import type { LabelSelector } from '../label-selector.js';

export type { LabelSelector, LabelSelectorRequirement } from '../label-selector.js';

export function validateLabelSelector(selector: LabelSelector | undefined | null, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!selector) return errs;
  errs.push(...validateLabels(selector.matchLabels, fld.child('matchLabels')));
  (selector.matchExpressions ?? []).forEach((req, i) => {
    const rf = fld.child('matchExpressions').index(i);
    switch (req.operator) {
      case 'In':
      case 'NotIn':
        if (!req.values || req.values.length === 0) errs.push(required(rf.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (req.values && req.values.length > 0) errs.push(forbidden(rf.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(rf.child('operator'), req.operator ?? '', 'not a valid selector operator'));
    }
    for (const msg of isQualifiedName(req.key ?? '')) errs.push(invalid(rf.child('key'), req.key ?? '', msg));
    (req.values ?? []).forEach((v, j) => {
      for (const msg of isValidLabelValue(v)) errs.push(invalid(rf.child('values').index(j), v, msg));
    });
  });
  return errs;
}

export { labelSelectorMatches as selectorMatches, labelSelectorIsEmpty as isEmptySelector } from '../label-selector.js';

/** Go's %#v of a *metav1.LabelSelector, as upstream prints it in "field is immutable" errors. */
export function goLabelSelector(selector: LabelSelector | undefined): string {
  if (!selector) return '(*v1.LabelSelector)(nil)';
  const ml = selector.matchLabels ? goMap(selector.matchLabels) : 'map[string]string(nil)';
  const exprs = selector.matchExpressions
    ? `[]v1.LabelSelectorRequirement{${selector.matchExpressions
        .map((e) => `v1.LabelSelectorRequirement{Key:${JSON.stringify(e.key)}, Operator:${JSON.stringify(e.operator)}, Values:${e.values ? `[]string{${e.values.map((v) => JSON.stringify(v)).join(', ')}}` : '[]string(nil)'}}`)
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `&v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${exprs}}`;
}

function goMap(m: Record<string, string>): string {
  const entries = Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[string]string{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(', ')}}`;
}
