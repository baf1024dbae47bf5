// PodDisruptionBudget status as upstream's disruption controller computes it: which pods a budget
// covers, how many of them must stay healthy (from minAvailable or maxUnavailable, percentages
// scaled by the pods' controllers), how many are healthy now, and so how many may be disrupted.
// Pods the eviction subresource has just evicted (status.disruptedPods) count as gone for two
// minutes. Pure: the controller feeds it caches and a clock.
import type { KubeObject } from '../api/types.js';
import { matchesSelector, type LabelSelector } from './selector.js';
import { type Condition, controllerOf, isPodReady, type Pod } from './types.js';

/** How long an evicted pod may take to be deleted before the budget counts it again (upstream's DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;
export const DISRUPTION_ALLOWED = 'DisruptionAllowed';

export interface PodDisruptionBudget extends KubeObject {
  spec?: {
    minAvailable?: number | string;
    maxUnavailable?: number | string;
    selector?: LabelSelector | null;
    unhealthyPodEvictionPolicy?: 'IfHealthyBudget' | 'AlwaysAllow' | string;
  };
  status?: PodDisruptionBudgetStatus;
}

export interface PodDisruptionBudgetStatus {
  observedGeneration?: number;
  disruptedPods?: Record<string, string>;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  conditions?: Condition[];
}

/**
 * Does the budget cover the pod? Same namespace and a matching selector: in policy/v1 an empty
 * selector ({}) covers every pod of the namespace, an absent one none.
 */
export function budgetCoversPod(pdb: PodDisruptionBudget, pod: Pod): boolean {
  if ((pdb.metadata.namespace ?? '') !== (pod.metadata.namespace ?? '')) return false;
  const selector = pdb.spec?.selector;
  return selector !== null && matchesSelector(selector, pod.metadata.labels);
}

/** An int-or-percent against a total, as intstr.GetScaledValueFromIntOrPercent computes it. */
export function scaledValue(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+)%$/.exec(value);
  if (!m) throw new Error(`invalid value for IntOrString: invalid value ${JSON.stringify(value)}: must be an integer or percentage`);
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** The controllers whose desired replica counts a budget's percentages scale by. */
export interface ScaleLookup {
  /** The replicas the controller of `owner` kind/name wants, its uid; undefined when it has no scale (DaemonSet, Job...). */
  scaleOf(namespace: string, owner: { kind: string; name: string; uid: string }): { uid: string; replicas: number } | undefined;
}

/** Upstream's getExpectedScale: the sum of the replicas of the distinct controllers of the pods. */
export function expectedScale(pods: Pod[], lookup: ScaleLookup): number {
  const seen = new Map<string, number>();
  for (const pod of pods) {
    const owner = controllerOf(pod);
    if (!owner) throw new Error(`found no controller ref for pod "${pod.metadata.name}"`);
    const scale = lookup.scaleOf(pod.metadata.namespace ?? '', owner);
    if (!scale) throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
    seen.set(scale.uid, scale.replicas);
  }
  let total = 0;
  for (const n of seen.values()) total += n;
  return total;
}

/** expectedPods and desiredHealthy of a budget over `pods`. */
export function expectedAndDesired(pdb: PodDisruptionBudget, pods: Pod[], lookup: ScaleLookup): { expectedCount: number; desiredHealthy: number } {
  const spec = pdb.spec ?? {};
  if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
    const expectedCount = expectedScale(pods, lookup);
    const maxUnavailable = scaledValue(spec.maxUnavailable, expectedCount, true);
    return { expectedCount, desiredHealthy: Math.max(0, expectedCount - maxUnavailable) };
  }
  if (spec.minAvailable !== undefined && spec.minAvailable !== null) {
    if (typeof spec.minAvailable === 'number') return { expectedCount: pods.length, desiredHealthy: spec.minAvailable };
    const expectedCount = expectedScale(pods, lookup);
    return { expectedCount, desiredHealthy: scaledValue(spec.minAvailable, expectedCount, true) };
  }
  return { expectedCount: 0, desiredHealthy: 0 };
}

function timeOf(s: string): number {
  const t = Date.parse(s);
  return Number.isNaN(t) ? 0 : t;
}

/**
 * The evictions still pending: entries of status.disruptedPods whose pod exists, is not being
 * deleted, and was evicted less than DELETION_TIMEOUT_MS ago. `expired` lists the pods that
 * should have gone by now (upstream warns about them); `recheckAt` is when the next entry expires.
 */
export function pendingDisruptions(
  disrupted: Record<string, string> | undefined,
  pods: Pod[],
  now: number,
): { pending: Record<string, string>; expired: Pod[]; recheckAt?: number } {
  const pending: Record<string, string> = {};
  const expired: Pod[] = [];
  let recheckAt: number | undefined;
  if (!disrupted) return { pending, expired };
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = disrupted[pod.metadata.name ?? ''];
    if (at === undefined) continue;
    const deadline = timeOf(at) + DELETION_TIMEOUT_MS;
    if (deadline < now) {
      expired.push(pod);
      continue;
    }
    pending[pod.metadata.name ?? ''] = at;
    if (recheckAt === undefined || deadline < recheckAt) recheckAt = deadline;
  }
  return { pending, expired, recheckAt };
}

/** Ready pods that are neither being deleted nor just evicted. */
export function countHealthy(pods: Pod[], pending: Record<string, string>): number {
  let healthy = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    if (pending[pod.metadata.name ?? ''] !== undefined) continue;
    if (isPodReady(pod)) healthy++;
  }
  return healthy;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Sets a metav1.Condition as meta.SetStatusCondition does: lastTransitionTime moves only when status changes. */
export function setCondition(conditions: Condition[] | undefined, next: Condition & { observedGeneration?: number }, now: number): Condition[] {
  const out = (conditions ?? []).map((c) => ({ ...c }));
  const i = out.findIndex((c) => c.type === next.type);
  if (i < 0) {
    out.push({ ...next, lastTransitionTime: next.lastTransitionTime ?? rfc3339(now) });
    return out;
  }
  const prev = out[i];
  out[i] = { ...next, lastTransitionTime: prev.status === next.status ? prev.lastTransitionTime : rfc3339(now) };
  return out;
}

/** The DisruptionAllowed condition a status with this many allowed disruptions carries. */
export function withDisruptionAllowedCondition(status: PodDisruptionBudgetStatus, now: number): PodDisruptionBudgetStatus {
  const allowed = status.disruptionsAllowed > 0;
  const conditions = setCondition(
    status.conditions,
    {
      type: DISRUPTION_ALLOWED,
      status: allowed ? 'True' : 'False',
      reason: allowed ? 'SufficientPods' : 'InsufficientPods',
      message: '',
      observedGeneration: status.observedGeneration,
    },
    now,
  );
  return { ...status, conditions };
}

export interface BudgetPlan {
  status: PodDisruptionBudgetStatus;
  /** How many pods the budget covers. */
  coveredPods: number;
  /** Pods evicted more than DELETION_TIMEOUT_MS ago that still exist. */
  notDeleted: Pod[];
  /** When to look again (the next pending eviction's deadline). */
  recheckAt?: number;
  /** Why the budget could not be computed (the status is then the fail-safe: no disruptions allowed). */
  error?: string;
}

/** The status a budget should have, given the pods in its namespace and its controllers' scales. */
export function planBudget(pdb: PodDisruptionBudget, namespacePods: Pod[], lookup: ScaleLookup, now: number): BudgetPlan {
  const pods = namespacePods.filter((p) => budgetCoversPod(pdb, p));
  const generation = pdb.metadata.generation ?? 1;
  const old = pdb.status;
  let counts: { expectedCount: number; desiredHealthy: number };
  try {
    counts = expectedAndDesired(pdb, pods, lookup);
  } catch (err) {
    return { status: failSafeStatus(pdb, (err as Error).message, now), coveredPods: pods.length, notDeleted: [], error: (err as Error).message };
  }
  const { pending, expired, recheckAt } = pendingDisruptions(old?.disruptedPods, pods, now);
  const currentHealthy = countHealthy(pods, pending);
  let disruptionsAllowed = currentHealthy - counts.desiredHealthy;
  if (counts.expectedCount <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
  const status: PodDisruptionBudgetStatus = {
    observedGeneration: generation,
    disruptionsAllowed,
    currentHealthy,
    desiredHealthy: counts.desiredHealthy,
    expectedPods: counts.expectedCount,
    conditions: old?.conditions,
  };
  if (Object.keys(pending).length > 0) status.disruptedPods = pending;
  return { status: withDisruptionAllowedCondition(status, now), coveredPods: pods.length, notDeleted: expired, recheckAt };
}

/** When the budget cannot be computed no disruption is allowed, and the condition says why. */
export function failSafeStatus(pdb: PodDisruptionBudget, message: string, now: number): PodDisruptionBudgetStatus {
  const old = pdb.status;
  const status: PodDisruptionBudgetStatus = {
    observedGeneration: pdb.metadata.generation ?? 1,
    disruptionsAllowed: 0,
    currentHealthy: old?.currentHealthy ?? 0,
    desiredHealthy: old?.desiredHealthy ?? 0,
    expectedPods: old?.expectedPods ?? 0,
  };
  if (old?.disruptedPods && Object.keys(old.disruptedPods).length > 0) status.disruptedPods = old.disruptedPods;
  status.conditions = setCondition(
    old?.conditions,
    { type: DISRUPTION_ALLOWED, status: 'False', reason: 'SyncFailed', message, observedGeneration: status.observedGeneration },
    now,
  );
  return status;
}
