// What a StatefulSet needs done to its pods, as a pure function of the StatefulSet and the pods of
// its namespace: pods `<name>-<ordinal>` with stable hostnames (spec.hostname = pod name,
// spec.subdomain = spec.serviceName), created in order and each Running and Ready before the next
// (OrderedReady) or all at once (Parallel), removed from the highest ordinal down, and replaced
// highest ordinal first on a RollingUpdate (down to the partition) or only when deleted (OnDelete).
// Revisions are template hashes in the `controller-revision-hash` label (`<name>-<hash>`), each
// kept as a ControllerRevision (controller-revisions.ts) for rollout history and undo.
import type { KubeObject } from '../api/types.js';
import type { LabelSelector } from './selector.js';
import { canonicalJSON, fnv32a, safeEncode } from './names.js';
import { isActivePod, isOwnedBy } from './replicaset-plan.js';
import { condition, isPodReady, type Condition, type Pod, type PodTemplate } from './types.js';

export const REVISION_LABEL = 'controller-revision-hash';
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export interface VolumeClaimTemplate {
  metadata?: { name?: string };
}

export interface StatefulSet extends KubeObject {
  spec: {
    replicas?: number;
    selector: LabelSelector;
    template: PodTemplate;
    serviceName?: string;
    podManagementPolicy?: 'OrderedReady' | 'Parallel' | string;
    updateStrategy?: { type?: 'RollingUpdate' | 'OnDelete' | string; rollingUpdate?: { partition?: number } };
    minReadySeconds?: number;
    ordinals?: { start?: number };
    volumeClaimTemplates?: VolumeClaimTemplate[];
  };
  status?: StatefulSetStatus;
}

export interface StatefulSetStatus {
  observedGeneration?: number;
  replicas: number;
  readyReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  currentRevision?: string;
  updateRevision?: string;
  collisionCount?: number;
  conditions?: Condition[];
}

export type StatefulSetAction = { create: Pod } | { delete: Pod };

export interface StatefulSetPlan {
  actions: StatefulSetAction[];
  status: StatefulSetStatus;
  /** Waiting for a pod to become available (minReadySeconds): look again after this long. */
  recheckAfterMs?: number;
}

/** `<name>-<hash>`: the revision of a template, as the controller-revision-hash label carries it. */
export function statefulSetRevision(sts: StatefulSet): string {
  return `${sts.metadata.name}-${safeEncode(String(fnv32a(canonicalJSON(sts.spec.template ?? {}))))}`;
}

/** The ordinal of a pod named `<set>-<n>`, or undefined when the name is not of that form. */
export function ordinalOf(setName: string, podName: string | undefined): number | undefined {
  if (!podName?.startsWith(`${setName}-`)) return undefined;
  const tail = podName.slice(setName.length + 1);
  return /^(0|[1-9][0-9]*)$/.test(tail) ? Number(tail) : undefined;
}

function runningAndReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && isPodReady(pod);
}

function availableAt(pod: Pod, minReadySeconds: number, now: number): { available: boolean; waitMs?: number } {
  if (!runningAndReady(pod)) return { available: false };
  if (!minReadySeconds) return { available: true };
  const since = Date.parse(condition(pod, 'Ready')?.lastTransitionTime ?? '');
  if (Number.isNaN(since)) return { available: true };
  const left = since + minReadySeconds * 1000 - now;
  return left <= 0 ? { available: true } : { available: false, waitMs: left };
}

const finished = (p: Pod) => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';

/** The pod of ordinal `ord`: at the update revision, or at an older one given with its template. */
export function statefulSetPod(sts: StatefulSet, ord: number, revision = statefulSetRevision(sts), template?: PodTemplate): Pod {
  const name = `${sts.metadata.name}-${ord}`;
  const t = template ?? sts.spec.template ?? {};
  const spec = structuredClone(t.spec ?? {}) as Pod['spec'] & { volumes?: { name: string }[] };
  spec.hostname = name;
  if (sts.spec.serviceName) spec.subdomain = sts.spec.serviceName;
  // No PersistentVolumes in flatnet: each claim template's mount gets an emptyDir of the same name.
  const claims = (sts.spec.volumeClaimTemplates ?? []).map((c) => c.metadata?.name).filter((n): n is string => !!n);
  if (claims.length > 0) {
    const volumes = spec.volumes ?? [];
    for (const claim of claims) if (!volumes.some((v) => v.name === claim)) volumes.push({ name: claim, emptyDir: {} } as { name: string });
    spec.volumes = volumes;
  }
  const metadata: Pod['metadata'] = {
    name,
    namespace: sts.metadata.namespace,
    labels: { ...(t.metadata?.labels ?? {}), [REVISION_LABEL]: revision, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ord) },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: sts.metadata.name ?? '', uid: sts.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
  };
  if (t.metadata?.annotations) metadata.annotations = { ...t.metadata.annotations };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec } as Pod;
}

/**
 * `pods` may hold any pods of the namespace; only those the StatefulSet controls count.
 * `currentTemplate`: the template of status.currentRevision (from its ControllerRevision), which
 * pods below the partition are recreated from during a RollingUpdate.
 */
export function planStatefulSet(sts: StatefulSet, pods: Pod[], now: number, currentTemplate?: PodTemplate): StatefulSetPlan {
  const name = sts.metadata.name ?? '';
  const owned = pods.filter((p) => isOwnedBy(p, sts.metadata.uid));
  const replicas = sts.spec.replicas ?? 1;
  const start = sts.spec.ordinals?.start ?? 0;
  const ordered = (sts.spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
  const updateRevision = statefulSetRevision(sts);
  const minReady = sts.spec.minReadySeconds ?? 0;
  const byOrdinal = new Map<number, Pod>();
  const condemned: Pod[] = [];
  for (const p of owned) {
    const ord = ordinalOf(name, p.metadata.name);
    if (ord !== undefined && ord >= start && ord < start + replicas) byOrdinal.set(ord, p);
    else condemned.push(p);
  }
  condemned.sort((a, b) => (ordinalOf(name, b.metadata.name) ?? -1) - (ordinalOf(name, a.metadata.name) ?? -1));

  const actions: StatefulSetAction[] = [];
  const deleting = sts.metadata.deletionTimestamp !== undefined;
  let blocked = deleting;
  const unhealthy = (p: Pod | undefined) => !p || !!p.metadata.deletionTimestamp || !runningAndReady(p);

  const strategy = sts.spec.updateStrategy?.type ?? 'RollingUpdate';
  const partition = sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
  const currentRevision = sts.status?.currentRevision;
  const newPod = (ord: number) =>
    strategy === 'RollingUpdate' && currentTemplate && currentRevision && currentRevision !== updateRevision && ord < start + partition
      ? statefulSetPod(sts, ord, currentRevision, currentTemplate)
      : statefulSetPod(sts, ord, updateRevision);

  // 1. Every ordinal gets its pod; failed or finished pods are replaced (deleted, then recreated).
  for (let ord = start; ord < start + replicas && !blocked; ord++) {
    const pod = byOrdinal.get(ord);
    if (!pod) {
      actions.push({ create: newPod(ord) });
      if (ordered) blocked = true;
      continue;
    }
    if (pod.metadata.deletionTimestamp) {
      if (ordered) blocked = true;
      continue;
    }
    if (finished(pod)) {
      actions.push({ delete: pod });
      if (ordered) blocked = true;
      continue;
    }
    if (ordered && !availableAt(pod, minReady, now).available) blocked = true;
  }

  // 2. Pods past the end go, highest ordinal first; in order, one at a time and only when the rest are healthy.
  if (!blocked) {
    for (const pod of condemned) {
      if (pod.metadata.deletionTimestamp) {
        if (ordered) break;
        continue;
      }
      if (ordered && [...byOrdinal.values(), ...condemned].some((p) => p !== pod && unhealthy(p))) break;
      actions.push({ delete: pod });
      if (ordered) break;
    }
  }

  // 3. RollingUpdate: once every pod is healthy, replace the highest out-of-date ordinal at or above the partition.
  if (!deleting && strategy === 'RollingUpdate' && actions.length === 0) {
    for (let ord = start + replicas - 1; ord >= start + partition; ord--) {
      const pod = byOrdinal.get(ord);
      if (!pod) break;
      if (pod.metadata.labels?.[REVISION_LABEL] !== updateRevision && !pod.metadata.deletionTimestamp) {
        if ([...byOrdinal.values()].every((p) => !unhealthy(p))) actions.push({ delete: pod });
        break;
      }
      if (unhealthy(pod)) break;
    }
  }

  let wait: number | undefined;
  for (const p of owned) {
    const a = availableAt(p, minReady, now);
    if (a.waitMs !== undefined) wait = Math.min(wait ?? Infinity, a.waitMs);
  }
  const plan: StatefulSetPlan = { actions, status: statefulSetStatus(sts, owned, updateRevision, now) };
  if (wait !== undefined) plan.recheckAfterMs = wait;
  return plan;
}

export function statefulSetStatus(sts: StatefulSet, owned: Pod[], updateRevision: string, now: number): StatefulSetStatus {
  const active = owned.filter(isActivePod);
  const replicas = sts.spec.replicas ?? 1;
  const currentRevision = sts.status?.currentRevision || updateRevision;
  const status: StatefulSetStatus = {
    replicas: active.length,
    readyReplicas: active.filter(runningAndReady).length,
    currentReplicas: active.filter((p) => p.metadata.labels?.[REVISION_LABEL] === currentRevision).length,
    updatedReplicas: active.filter((p) => p.metadata.labels?.[REVISION_LABEL] === updateRevision).length,
    availableReplicas: active.filter((p) => availableAt(p, sts.spec.minReadySeconds ?? 0, now).available).length,
    currentRevision,
    updateRevision,
    collisionCount: sts.status?.collisionCount ?? 0,
  };
  if (sts.metadata.generation !== undefined) status.observedGeneration = sts.metadata.generation;
  // A finished rolling update makes the update revision current (upstream's completeRollingUpdate).
  const rolling = (sts.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  if (rolling && status.updatedReplicas === replicas && status.readyReplicas === replicas && status.replicas === replicas) {
    status.currentRevision = updateRevision;
    status.currentReplicas = status.updatedReplicas;
  }
  if (sts.status?.conditions?.length) status.conditions = sts.status.conditions;
  return status;
}
