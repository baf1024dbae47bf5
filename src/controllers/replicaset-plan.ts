// What a ReplicaSet needs done to its pods and what its status says, as pure functions of the
// ReplicaSet and the pods it owns.
import type { OwnerReference } from '../api/types.js';
import { generatedName } from './names.js';
import { condition, isPodReady, type Pod, type ReplicaSet } from './types.js';

/** Upstream creates or deletes at most this many pods per sync. */
export const BURST_REPLICAS = 500;

export interface ReplicaSetStatus {
  replicas: number;
  fullyLabeledReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  observedGeneration?: number;
  conditions?: unknown[];
}

export interface ReplicaSetPlan {
  create: number;
  delete: Pod[];
  status: ReplicaSetStatus;
  /** Look again after this long (a pod becomes available once Ready for minReadySeconds). */
  recheckAfterMs?: number;
}

export function isOwnedBy(obj: { metadata: { ownerReferences?: OwnerReference[] } }, uid: string | undefined): boolean {
  return !!uid && (obj.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === uid);
}

/** A pod that counts towards replicas: not being deleted and not finished. */
export function isActivePod(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

/** Ready for at least minReadySeconds at `now` (ms). Answers the ms left when not yet. */
export function podAvailability(pod: Pod, minReadySeconds: number, now: number): { available: boolean; waitMs?: number } {
  if (!isPodReady(pod)) return { available: false };
  if (!minReadySeconds) return { available: true };
  const since = Date.parse(condition(pod, 'Ready')?.lastTransitionTime ?? '');
  if (Number.isNaN(since)) return { available: true };
  const left = since + minReadySeconds * 1000 - now;
  return left <= 0 ? { available: true } : { available: false, waitMs: left };
}

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Upstream's order of pods to delete first: unscheduled, then pending/unknown, not ready,
 * ready for less time, more restarts, newer.
 */
export function deletionOrder(a: Pod, b: Pod): number {
  const sched = Number(!!a.spec.nodeName) - Number(!!b.spec.nodeName);
  if (sched !== 0) return sched;
  const phase = (phaseRank[a.status?.phase ?? 'Pending'] ?? 0) - (phaseRank[b.status?.phase ?? 'Pending'] ?? 0);
  if (phase !== 0) return phase;
  const ready = Number(isPodReady(a)) - Number(isPodReady(b));
  if (ready !== 0) return ready;
  if (isPodReady(a)) {
    const ta = Date.parse(condition(a, 'Ready')?.lastTransitionTime ?? '') || 0;
    const tb = Date.parse(condition(b, 'Ready')?.lastTransitionTime ?? '') || 0;
    if (ta !== tb) return tb - ta; // ready more recently goes first
  }
  const restarts = (p: Pod) => (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const r = restarts(b) - restarts(a);
  if (r !== 0) return r;
  const ca = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const cb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ca !== cb) return cb - ca; // newer first
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? 1 : -1;
}

/** `pods` may hold any pods of the namespace; only those the ReplicaSet controls count. */
export function planReplicaSet(rs: ReplicaSet, pods: Pod[], now: number): ReplicaSetPlan {
  const owned = pods.filter((p) => isOwnedBy(p, rs.metadata.uid));
  const active = owned.filter(isActivePod);
  const want = rs.spec.replicas ?? 1;
  const diff = active.length - want;
  const plan: ReplicaSetPlan = { create: 0, delete: [], status: replicaSetStatus(rs, active, now) };
  if (diff < 0) plan.create = Math.min(-diff, BURST_REPLICAS);
  else if (diff > 0) plan.delete = [...active].sort(deletionOrder).slice(0, Math.min(diff, BURST_REPLICAS));
  let wait: number | undefined;
  for (const p of active) {
    const a = podAvailability(p, rs.spec.minReadySeconds ?? 0, now);
    if (a.waitMs !== undefined) wait = Math.min(wait ?? Infinity, a.waitMs);
  }
  if (wait !== undefined) plan.recheckAfterMs = wait;
  return plan;
}

export function replicaSetStatus(rs: ReplicaSet, active: Pod[], now: number): ReplicaSetStatus {
  const templateLabels = rs.spec.template.metadata?.labels ?? {};
  const fully = active.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v));
  const status: ReplicaSetStatus = {
    replicas: active.length,
    fullyLabeledReplicas: fully.length,
    readyReplicas: active.filter(isPodReady).length,
    availableReplicas: active.filter((p) => podAvailability(p, rs.spec.minReadySeconds ?? 0, now).available).length,
  };
  if (rs.metadata.generation !== undefined) status.observedGeneration = rs.metadata.generation;
  if (rs.status?.conditions?.length) status.conditions = rs.status.conditions;
  return status;
}

/** A new pod of the ReplicaSet: its template, its name `<rs>-<random 5>`, the ReplicaSet as controller. */
export function podFromTemplate(rs: ReplicaSet): Pod {
  const t = rs.spec.template;
  const metadata: Pod['metadata'] = {
    name: generatedName(rs.metadata.name ?? 'pod'),
    namespace: rs.metadata.namespace,
    labels: { ...(t.metadata?.labels ?? {}) },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name ?? '', uid: rs.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
  };
  if (t.metadata?.annotations) metadata.annotations = { ...t.metadata.annotations };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: structuredClone(t.spec ?? {}) } as Pod;
}
