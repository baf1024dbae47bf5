// One step of a Deployment's rollout as a pure function of the Deployment and the ReplicaSets
// it controls: which ReplicaSet to create, which to scale (rolling update with maxSurge and
// maxUnavailable, or Recreate), which old ones to delete beyond revisionHistoryLimit, and the
// status `kubectl rollout status` reads.
import { canonicalJSON, fnv32a, safeEncode } from './names.js';
import type { Condition, Deployment, PodTemplate, ReplicaSet } from './types.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const POD_TEMPLATE_HASH = 'pod-template-hash';

export interface ScaleAction {
  rs: ReplicaSet;
  from: number;
  to: number;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  unavailableReplicas: number;
  conditions: Condition[];
  collisionCount?: number;
}

export interface DeploymentPlan {
  /** A new ReplicaSet to create (already carrying its replicas). */
  create?: ReplicaSet;
  /** Existing ReplicaSets to write: scaled, or with a new revision annotation. */
  update: ScaleAction[];
  delete: ReplicaSet[];
  /** The revision the Deployment's annotation should carry. */
  revision?: string;
  status: DeploymentStatus;
  /** Look again after this long (progress deadline). */
  recheckAfterMs?: number;
}

/** The pod-template-hash of a template: FNV-1a of its canonical JSON (and collision count), safe-encoded. */
export function podTemplateHash(template: PodTemplate, collisionCount?: number): string {
  const text = canonicalJSON(template) + (collisionCount ? `#${collisionCount}` : '');
  return safeEncode(String(fnv32a(text)));
}

/** An int-or-percent against a total: surge rounds up, unavailable rounds down (as upstream). */
export function resolveIntOrPercent(value: number | string | undefined, total: number, roundUp: boolean, fallback: string): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number(v) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function rollingParams(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  const replicas = d.spec.replicas ?? 1;
  if (d.spec.strategy?.type === 'Recreate') return { maxSurge: 0, maxUnavailable: 0 };
  const ru = d.spec.strategy?.rollingUpdate ?? {};
  const maxSurge = resolveIntOrPercent(ru.maxSurge, replicas, true, '25%');
  let maxUnavailable = resolveIntOrPercent(ru.maxUnavailable, replicas, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

function templateWithoutHash(t: PodTemplate): PodTemplate {
  const copy = structuredClone(t);
  if (copy.metadata?.labels) delete copy.metadata.labels[POD_TEMPLATE_HASH];
  return copy;
}

const specReplicas = (rs: ReplicaSet) => rs.spec.replicas ?? 0;
const revisionOf = (rs: ReplicaSet) => Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0) || 0;
const byCreation = (a: ReplicaSet, b: ReplicaSet) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');

/** The ReplicaSet running the Deployment's current template, if any. */
export function findNewReplicaSet(d: Deployment, owned: ReplicaSet[]): ReplicaSet | undefined {
  const hash = podTemplateHash(d.spec.template, d.status?.collisionCount);
  const byHash = owned.find((rs) => rs.metadata.name === `${d.metadata.name}-${hash}` || rs.metadata.labels?.[POD_TEMPLATE_HASH] === hash);
  if (byHash) return byHash;
  const want = canonicalJSON(d.spec.template);
  return owned.filter((rs) => canonicalJSON(templateWithoutHash(rs.spec.template)) === want).sort(byCreation)[0];
}

export function newReplicaSet(d: Deployment, replicas: number, revision: number): ReplicaSet {
  const hash = podTemplateHash(d.spec.template, d.status?.collisionCount);
  const template = structuredClone(d.spec.template);
  template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash } };
  const selector = structuredClone(d.spec.selector);
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
  const { maxSurge } = rollingParams(d);
  const desired = d.spec.replicas ?? 1;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace,
      labels: { ...(d.spec.template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash },
      annotations: {
        [DESIRED_REPLICAS_ANNOTATION]: String(desired),
        [MAX_REPLICAS_ANNOTATION]: String(desired + maxSurge),
        [REVISION_ANNOTATION]: String(revision),
      },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name ?? '', uid: d.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: { replicas, minReadySeconds: d.spec.minReadySeconds ?? 0, selector, template },
  };
}

/** The replicas a new ReplicaSet may have now under a rolling update. */
function rollingNewReplicas(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined): number {
  const desired = d.spec.replicas ?? 1;
  const current = newRS ? specReplicas(newRS) : 0;
  const { maxSurge } = rollingParams(d);
  const total = all.reduce((n, rs) => n + specReplicas(rs), 0);
  const maxTotal = desired + maxSurge;
  if (total >= maxTotal) return current;
  return current + Math.max(0, Math.min(maxTotal - total, desired - current));
}

export function planDeployment(d: Deployment, owned: ReplicaSet[], now: number): DeploymentPlan {
  const desired = d.spec.replicas ?? 1;
  const alive = owned.filter((rs) => !rs.metadata.deletionTimestamp);
  let newRS = findNewReplicaSet(d, alive);
  const old = alive.filter((rs) => rs !== newRS).sort(byCreation);
  const plan: DeploymentPlan = { update: [], delete: [], status: undefined as unknown as DeploymentStatus };
  const maxOldRevision = old.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
  const scale = new Map<ReplicaSet, number>(); // target spec.replicas
  const replicasOf = (rs: ReplicaSet) => scale.get(rs) ?? specReplicas(rs);
  let created = false;
  let acted = false;
  const recreate = d.spec.strategy?.type === 'Recreate';

  // The new ReplicaSet and its revision.
  if (!newRS && !d.spec.paused) {
    let replicas: number;
    if (recreate) replicas = old.some((rs) => specReplicas(rs) > 0 || (rs.status?.replicas ?? 0) > 0) ? 0 : desired;
    else replicas = rollingNewReplicas(d, alive, undefined);
    newRS = newReplicaSet(d, replicas, maxOldRevision + 1);
    plan.create = newRS;
    created = true;
    acted = true;
  }
  const revisionUpdate = newRS && !created && revisionOf(newRS) <= maxOldRevision ? String(maxOldRevision + 1) : undefined;
  plan.revision = newRS ? (revisionUpdate ?? String(revisionOf(newRS))) : undefined;

  if (newRS && !created && d.spec.paused) {
    // Paused: no rollout, but a scale of a settled Deployment still applies.
    if (old.every((rs) => specReplicas(rs) === 0) && specReplicas(newRS) !== desired) scale.set(newRS, desired);
  } else if (newRS && !created) {
    if (recreate) {
      const oldActive = old.filter((rs) => specReplicas(rs) > 0);
      if (oldActive.length > 0) {
        for (const rs of oldActive) scale.set(rs, 0);
      } else if (old.every((rs) => (rs.status?.replicas ?? 0) === 0) && specReplicas(newRS) !== desired) {
        scale.set(newRS, desired);
      }
    } else {
      acted = reconcileNew(d, alive, newRS, scale) || reconcileOld(d, alive, newRS, old, scale);
    }
  }
  acted ||= scale.size > 0;

  // Writes to existing ReplicaSets: scale and annotations.
  const { maxSurge } = rollingParams(d);
  for (const rs of alive) {
    if (rs === plan.create) continue;
    const to = replicasOf(rs);
    const annotations = rs.metadata.annotations ?? {};
    const wantAnn: Record<string, string> = {};
    if (to !== specReplicas(rs) || rs === newRS) {
      wantAnn[DESIRED_REPLICAS_ANNOTATION] = String(desired);
      wantAnn[MAX_REPLICAS_ANNOTATION] = String(desired + maxSurge);
    }
    if (rs === newRS && revisionUpdate) wantAnn[REVISION_ANNOTATION] = revisionUpdate;
    const annChanged = Object.entries(wantAnn).some(([k, v]) => annotations[k] !== v);
    if (to === specReplicas(rs) && !annChanged) continue;
    const updated: ReplicaSet = { ...rs, metadata: { ...rs.metadata, annotations: { ...annotations, ...wantAnn } }, spec: { ...rs.spec, replicas: to } };
    plan.update.push({ rs: updated, from: specReplicas(rs), to });
  }

  // Old ReplicaSets beyond the history limit, once the rollout is complete.
  const status = deploymentStatus(d, alive, newRS, created, acted, now);
  plan.status = status;
  const complete = isComplete(d, status);
  if (complete && !acted) {
    const limit = d.spec.revisionHistoryLimit ?? 10;
    const cleanable = old.filter((rs) => !rs.metadata.deletionTimestamp).sort((a, b) => revisionOf(a) - revisionOf(b));
    const excess = cleanable.length - limit;
    for (let i = 0; i < excess; i++) {
      const rs = cleanable[i]!;
      if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      plan.delete.push(rs);
    }
  }
  const progressing = status.conditions.find((c) => c.type === 'Progressing');
  if (!complete && progressing?.status === 'True' && d.spec.progressDeadlineSeconds !== undefined && progressing.lastUpdateTime) {
    const left = Date.parse(progressing.lastUpdateTime) + d.spec.progressDeadlineSeconds * 1000 - now;
    if (left > 0) plan.recheckAfterMs = left + 100;
  }
  return plan;
}

/** Scales the new ReplicaSet towards the desired count within maxSurge; true when it changed. */
function reconcileNew(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet, scale: Map<ReplicaSet, number>): boolean {
  const desired = d.spec.replicas ?? 1;
  const current = specReplicas(newRS);
  if (current === desired) return false;
  const to = current > desired ? desired : rollingNewReplicas(d, all, newRS);
  if (to === current) return false;
  scale.set(newRS, to);
  return true;
}

/** Scales old ReplicaSets down within maxUnavailable: unhealthy replicas first, then oldest first. */
function reconcileOld(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet, old: ReplicaSet[], scale: Map<ReplicaSet, number>): boolean {
  const oldCount = old.reduce((n, rs) => n + specReplicas(rs), 0);
  if (oldCount === 0) return false;
  const desired = d.spec.replicas ?? 1;
  const { maxUnavailable } = rollingParams(d);
  const allCount = all.reduce((n, rs) => n + specReplicas(rs), 0);
  const minAvailable = desired - maxUnavailable;
  const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = allCount - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  let changed = false;
  let cleaned = 0;
  for (const rs of old) {
    if (cleaned >= maxScaledDown) break;
    const cur = specReplicas(rs);
    if (cur === 0) continue;
    const unhealthy = cur - (rs.status?.availableReplicas ?? 0);
    if (unhealthy <= 0) continue;
    const down = Math.min(maxScaledDown - cleaned, unhealthy);
    scale.set(rs, cur - down);
    cleaned += down;
    changed = true;
  }
  const available = all.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
  if (available > minAvailable) {
    const total = available - minAvailable;
    let done = 0;
    for (const rs of old) {
      if (done >= total) break;
      const cur = scale.get(rs) ?? specReplicas(rs);
      if (cur === 0) continue;
      const down = Math.min(cur, total - done);
      scale.set(rs, cur - down);
      done += down;
      changed = true;
    }
  }
  return changed;
}

export function isComplete(d: Deployment, s: DeploymentStatus): boolean {
  const desired = d.spec.replicas ?? 1;
  return s.updatedReplicas === desired && s.replicas === desired && s.availableReplicas === desired && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** Sets a condition; lastUpdateTime moves when it changes or on `touch`, lastTransitionTime when its status changes. */
function setCondition(conditions: Condition[], next: Condition, now: string, touch = false): Condition[] {
  const prev = conditions.find((c) => c.type === next.type);
  const same = prev && prev.status === next.status && prev.reason === next.reason && prev.message === next.message;
  const merged: Condition = {
    ...next,
    lastUpdateTime: same && !touch ? (prev.lastUpdateTime ?? now) : now,
    lastTransitionTime: prev && prev.status === next.status ? (prev.lastTransitionTime ?? now) : now,
  };
  return [...conditions.filter((c) => c.type !== next.type), merged];
}

export function deploymentStatus(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined, created: boolean, acted: boolean, nowMs: number): DeploymentStatus {
  const now = new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z');
  const desired = d.spec.replicas ?? 1;
  const sum = (f: (rs: ReplicaSet) => number | undefined) => all.reduce((n, rs) => n + (f(rs) ?? 0), 0);
  const available = sum((rs) => rs.status?.availableReplicas);
  const status: DeploymentStatus = {
    replicas: sum((rs) => rs.status?.replicas),
    updatedReplicas: created ? 0 : (newRS?.status?.replicas ?? 0),
    readyReplicas: sum((rs) => rs.status?.readyReplicas),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sum((rs) => rs.spec.replicas) - available),
    conditions: [],
  };
  if (d.metadata.generation !== undefined) status.observedGeneration = d.metadata.generation;
  if (d.status?.collisionCount) status.collisionCount = d.status.collisionCount;
  let conditions = [...(d.status?.conditions ?? [])];
  const { maxUnavailable } = rollingParams(d);
  const minAvailable = desired - maxUnavailable;
  conditions = setCondition(
    conditions,
    available >= minAvailable
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
    now,
  );
  const prevProgress = d.status?.conditions?.find((c) => c.type === 'Progressing');
  const rsName = newRS?.metadata.name ?? '';
  const before = d.status ?? {};
  const progressed =
    (before.updatedReplicas ?? 0) !== status.updatedReplicas ||
    (before.availableReplicas ?? 0) !== status.availableReplicas ||
    (before.replicas ?? 0) !== status.replicas ||
    (before.readyReplicas ?? 0) !== status.readyReplicas;
  if (d.spec.paused) {
    conditions = setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }, now);
  } else if (created) {
    conditions = setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` }, now);
  } else if (isComplete(d, status)) {
    conditions = setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` }, now);
  } else if (progressed || acted || !prevProgress || prevProgress.reason === 'NewReplicaSetAvailable' || prevProgress.reason === 'DeploymentPaused' || prevProgress.message?.includes(`"${rsName}"`) === false) {
    conditions = setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` }, now, progressed || acted);
  } else if (prevProgress.status === 'True' && d.spec.progressDeadlineSeconds !== undefined && prevProgress.lastUpdateTime) {
    if (Date.parse(prevProgress.lastUpdateTime) + d.spec.progressDeadlineSeconds * 1000 <= nowMs) {
      conditions = setCondition(conditions, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` }, now);
    }
  }
  // Upstream lists Available before Progressing.
  status.conditions = conditions.sort((a, b) => (a.type === 'Available' ? -1 : b.type === 'Available' ? 1 : 0));
  return status;
}
