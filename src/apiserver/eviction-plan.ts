// What an eviction of one pod does, as upstream's pods/eviction storage decides it: terminal,
// pending and terminating pods are deleted without asking any budget; a pod covered by more than
// one PodDisruptionBudget cannot be evicted; an unhealthy pod may go when its budget's policy
// allows it; otherwise the budget must allow a disruption, which the eviction takes (its status
// is decremented and the pod recorded in disruptedPods until the controller sees it gone).
import { isPodReady, type Pod } from '../controllers/types.js';
import { budgetCoversPod, type PodDisruptionBudget, type PodDisruptionBudgetStatus, withDisruptionAllowedCondition } from '../controllers/disruption-plan.js';

/** Upstream's MaxDisruptedPodSize: more unconfirmed evictions than this and the budget refuses more. */
export const MAX_DISRUPTED_PODS = 2000;
/** metav1.StatusCause type of a refusal by a budget (policy/v1 DisruptionBudgetCause). */
export const DISRUPTION_BUDGET_CAUSE = 'DisruptionBudget';
export const VIOLATES_BUDGET = "Cannot evict pod as it would violate the pod's disruption budget.";

export type EvictionDecision =
  /** Delete the pod; `requireResourceVersion`: only the pod version the decision was made on (it was unhealthy). */
  | { kind: 'delete'; why: string; requireResourceVersion?: string }
  /** Take one disruption from `budget` (its new status), then delete the pod. */
  | { kind: 'take'; budget: PodDisruptionBudget; status: PodDisruptionBudgetStatus }
  /** 429 TooManyRequests: the budget does not allow it now (retry later). */
  | { kind: 'tooManyRequests'; budget: string; cause: string; retryAfterSeconds: number }
  /** 403: the budget is in a state that forbids evictions. */
  | { kind: 'forbidden'; budget: string; why: string }
  /** 500 as upstream: more than one budget covers the pod. */
  | { kind: 'multipleBudgets' };

/** Pods whose deletion disrupts nothing more: finished, never started, or already going. */
export function canIgnoreBudgets(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata.deletionTimestamp;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function decideEviction(pod: Pod, budgets: PodDisruptionBudget[], opts: { now: number; dryRun: boolean }): EvictionDecision {
  if (canIgnoreBudgets(pod)) return { kind: 'delete', why: 'the pod is terminal, pending or already terminating' };
  const covering = budgets.filter((b) => budgetCoversPod(b, pod));
  if (covering.length > 1) return { kind: 'multipleBudgets' };
  if (covering.length === 0) return { kind: 'delete', why: 'no PodDisruptionBudget covers the pod' };
  const budget = covering[0];
  const name = budget.metadata.name ?? '';
  const status = budget.status ?? { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  if (!isPodReady(pod)) {
    if (budget.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') {
      return { kind: 'delete', why: 'the pod is not ready and the budget always allows evicting unhealthy pods', requireResourceVersion: pod.metadata.resourceVersion };
    }
    if (status.currentHealthy >= status.desiredHealthy && status.desiredHealthy > 0) {
      return { kind: 'delete', why: 'the pod is not ready and the budget is healthy', requireResourceVersion: pod.metadata.resourceVersion };
    }
  }
  if ((status.observedGeneration ?? 0) < (budget.metadata.generation ?? 1)) {
    return { kind: 'tooManyRequests', budget: name, cause: `The disruption budget ${name} is still being processed by the server.`, retryAfterSeconds: 10 };
  }
  if (status.disruptionsAllowed < 0) return { kind: 'forbidden', budget: name, why: 'pdb disruptions allowed is negative' };
  if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) {
    return { kind: 'forbidden', budget: name, why: 'DisruptedPods map too big - too many evictions not confirmed by PDB controller' };
  }
  if (status.disruptionsAllowed === 0) {
    return {
      kind: 'tooManyRequests',
      budget: name,
      cause: `The disruption budget ${name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`,
      retryAfterSeconds: 0,
    };
  }
  let next: PodDisruptionBudgetStatus = { ...status, disruptionsAllowed: status.disruptionsAllowed - 1 };
  if (next.disruptionsAllowed === 0) next = withDisruptionAllowedCondition(next, opts.now);
  if (!opts.dryRun) next.disruptedPods = { ...(status.disruptedPods ?? {}), [pod.metadata.name ?? '']: rfc3339(opts.now) };
  return { kind: 'take', budget, status: next };
}
