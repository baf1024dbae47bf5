// policy/v1 PodDisruptionBudget validation, as upstream's pkg/apis/policy/validation checks it:
// minAvailable xor maxUnavailable, each a non-negative integer or a percentage of at most 100%,
// a valid label selector, a known unhealthyPodEvictionPolicy; status counts never negative.
import type { KubeObject } from '../types.js';
import type { Obj } from './defaults/util.js';
import { type FieldPath, invalid, invalidRendered, notSupported, path } from './errors.js';
import type { FieldError } from './index.js';
import { type LabelSelector, validateLabelSelector } from './selectors.js';

export const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'] as const;

/** An int-or-percent budget field: an integer >= 0, or "<n>%" with n <= 100. */
function validateIntOrPercent(value: unknown, fld: FieldPath): FieldError[] {
  if (typeof value === 'number') return value < 0 ? [invalid(fld, value, 'must be greater than or equal to 0')] : [];
  if (typeof value === 'string') {
    if (!/^[0-9]+%$/.test(value)) return [invalid(fld, value, "must be an integer or percentage (e.g '5%')")];
    if (parseInt(value, 10) > 100) return [invalid(fld, value, 'must not be greater than 100%')];
  }
  return [];
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

export function validatePodDisruptionBudget(pdb: KubeObject): FieldError[] {
  const spec = (pdb.spec ?? {}) as Obj;
  const fld = path('spec');
  const errs: FieldError[] = [];
  if (present(spec.minAvailable) && present(spec.maxUnavailable)) {
    const rendered = `{minAvailable: ${JSON.stringify(spec.minAvailable)}, maxUnavailable: ${JSON.stringify(spec.maxUnavailable)}}`;
    errs.push(invalidRendered(fld, rendered, 'minAvailable and maxUnavailable cannot be both set'));
  }
  if (present(spec.minAvailable)) errs.push(...validateIntOrPercent(spec.minAvailable, fld.child('minAvailable')));
  if (present(spec.maxUnavailable)) errs.push(...validateIntOrPercent(spec.maxUnavailable, fld.child('maxUnavailable')));
  errs.push(...validateLabelSelector(spec.selector as LabelSelector | undefined, fld.child('selector')));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (present(policy) && !(UNHEALTHY_POD_EVICTION_POLICIES as readonly unknown[]).includes(policy)) {
    errs.push(notSupported(fld.child('unhealthyPodEvictionPolicy'), policy, UNHEALTHY_POD_EVICTION_POLICIES));
  }
  return errs;
}

const STATUS_COUNTS = ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'] as const;

/** Spec rules again (policy/v1 budgets are mutable) plus the status counts upstream checks. */
export function validatePodDisruptionBudgetUpdate(pdb: KubeObject): FieldError[] {
  const errs = validatePodDisruptionBudget(pdb);
  const status = (pdb.status ?? {}) as Obj;
  for (const field of STATUS_COUNTS) {
    const v = status[field];
    if (typeof v === 'number' && v < 0) errs.push(invalid(path('status', field), v, 'must be greater than or equal to 0'));
  }
  return errs;
}

/**
 * Upstream's PodDisruptionBudgetStatus counts are not omitempty: a new budget shows them as 0
 * until the disruption controller fills them (typed clients such as the Python one require them).
 */
export function defaultPodDisruptionBudget(pdb: Obj): void {
  const status = (pdb.status ??= {}) as Obj;
  for (const field of STATUS_COUNTS) status[field] ??= 0;
}
