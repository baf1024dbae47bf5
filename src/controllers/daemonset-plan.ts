// What a DaemonSet needs done, as a pure function of the DaemonSet, the nodes and the pods of its
// namespace: one pod on every node it should run on (nodeSelector, required node affinity and
// taints against the pod's tolerations plus the DaemonSet's defaults), placed as upstream 1.32
// does it: a required node affinity on `metadata.name` that the default scheduler binds by.
// RollingUpdate replaces out-of-date pods while at most maxUnavailable nodes lack an available
// pod (maxSurge is treated as 0); OnDelete replaces only pods someone deleted.
import type { KubeObject } from '../api/types.js';
import type { LabelSelector } from './selector.js';
import { canonicalJSON, fnv32a, generatedName, safeEncode } from './names.js';
import { isActivePod, isOwnedBy, podAvailability } from './replicaset-plan.js';
import { resolveIntOrPercent } from './deployment-plan.js';
import { nodeMisfit } from './scheduler-plan.js';
import { condition, isPodReady, type Condition, type Node, type Pod, type PodTemplate, type Toleration } from './types.js';

export const REVISION_LABEL = 'controller-revision-hash';
export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

export interface DaemonSet extends KubeObject {
  spec: {
    selector: LabelSelector;
    template: PodTemplate;
    updateStrategy?: { type?: 'RollingUpdate' | 'OnDelete' | string; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
    minReadySeconds?: number;
  };
  status?: DaemonSetStatus;
}

export interface DaemonSetStatus {
  currentNumberScheduled: number;
  numberMisscheduled: number;
  desiredNumberScheduled: number;
  numberReady: number;
  observedGeneration?: number;
  updatedNumberScheduled: number;
  numberAvailable: number;
  numberUnavailable: number;
  collisionCount?: number;
  conditions?: Condition[];
}

export interface DaemonSetPlan {
  /** Nodes that need a new pod. */
  create: string[];
  delete: Pod[];
  status: DaemonSetStatus;
  recheckAfterMs?: number;
}

/** The tolerations upstream adds to every daemon pod. */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

/** The template hash the controller-revision-hash label carries. */
export function daemonSetRevision(ds: DaemonSet): string {
  return safeEncode(String(fnv32a(canonicalJSON(ds.spec.template ?? {}))));
}

/** The daemon pod for `node`: the template, the DaemonSet's tolerations, a required affinity to that node. */
export function daemonPod(ds: DaemonSet, node: string, revision = daemonSetRevision(ds)): Pod {
  const t = ds.spec.template ?? {};
  const spec = structuredClone(t.spec ?? {}) as Pod['spec'] & { hostNetwork?: boolean };
  const tolerations = [...(spec.tolerations ?? [])];
  for (const tol of daemonTolerations(!!spec.hostNetwork)) {
    if (!tolerations.some((x) => x.key === tol.key && x.effect === tol.effect)) tolerations.push(tol);
  }
  spec.tolerations = tolerations;
  const affinity = spec.affinity ?? {};
  spec.affinity = {
    ...affinity,
    nodeAffinity: {
      ...(affinity.nodeAffinity ?? {}),
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] },
    },
  };
  const labels: Record<string, string> = { ...(t.metadata?.labels ?? {}), [REVISION_LABEL]: revision };
  if (ds.metadata.generation !== undefined) labels[TEMPLATE_GENERATION_LABEL] = String(ds.metadata.generation);
  const metadata: Pod['metadata'] = {
    name: generatedName(ds.metadata.name ?? 'daemon'),
    namespace: ds.metadata.namespace,
    labels,
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata.name ?? '', uid: ds.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
  };
  if (t.metadata?.annotations) metadata.annotations = { ...t.metadata.annotations };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec } as Pod;
}

/** The node a daemon pod is for: where it is bound, else the node its affinity names. */
export function nodeOfDaemonPod(pod: Pod): string | undefined {
  if (pod.spec.nodeName) return pod.spec.nodeName;
  const terms = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const term of terms) for (const f of term.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  return undefined;
}

/** Should a daemon pod run on this node (taints, selector and affinity; Ready aside)? */
export function shouldRunOn(ds: DaemonSet, node: Node): boolean {
  if (node.metadata.deletionTimestamp) return false;
  const placed = daemonPod(ds, node.metadata.name ?? '', '');
  // The template's own node selection decides; the node-name affinity only places the pod.
  const pod: Pod = { ...placed, spec: { ...placed.spec, affinity: ds.spec.template?.spec?.affinity } };
  // Readiness is judged apart: a node that is not Ready keeps its daemon pods but gets no new ones.
  const ready: Node = { ...node, status: { ...(node.status ?? {}), conditions: [{ type: 'Ready', status: 'True' }] } };
  return nodeMisfit(pod, ready) === undefined;
}

function nodeReady(node: Node): boolean {
  return condition(node, 'Ready')?.status === 'True';
}

export function planDaemonSet(ds: DaemonSet, nodes: Node[], pods: Pod[], now: number): DaemonSetPlan {
  const owned = pods.filter((p) => isOwnedBy(p, ds.metadata.uid) && !p.metadata.deletionTimestamp);
  const revision = daemonSetRevision(ds);
  const minReady = ds.spec.minReadySeconds ?? 0;
  const byNode = new Map<string, Pod[]>();
  for (const p of owned) {
    const n = nodeOfDaemonPod(p) ?? '';
    byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }
  const plan: DaemonSetPlan = { create: [], delete: [], status: undefined as unknown as DaemonSetStatus };
  const desired: { node: string; pod?: Pod }[] = [];
  let misscheduled = 0;
  const nodeNames = new Set<string>();
  for (const node of [...nodes].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1))) {
    const name = node.metadata.name ?? '';
    nodeNames.add(name);
    const here = (byNode.get(name) ?? []).sort((a, b) => (Date.parse(a.metadata.creationTimestamp ?? '') || 0) - (Date.parse(b.metadata.creationTimestamp ?? '') || 0));
    const running = here.filter(isActivePod);
    const finished = here.filter((p) => !isActivePod(p));
    if (!shouldRunOn(ds, node)) {
      if (here.length > 0) misscheduled++;
      plan.delete.push(...here);
      continue;
    }
    plan.delete.push(...finished); // a failed daemon pod is deleted and replaced
    desired.push({ node: name, pod: running[0] });
    plan.delete.push(...running.slice(1)); // one pod per node: the oldest stays
    if (running.length === 0 && nodeReady(node)) plan.create.push(name);
  }
  for (const [node, list] of byNode) if (!nodeNames.has(node)) plan.delete.push(...list); // its node is gone

  const available = (p: Pod | undefined) => !!p && podAvailability(p, minReady, now).available;
  if (!ds.metadata.deletionTimestamp && (ds.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
    const maxUnavailable = Math.max(1, resolveIntOrPercent(ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable, desired.length, true, '1'));
    let unavailable = desired.filter((d) => !available(d.pod)).length;
    const old = desired.filter((d) => d.pod && d.pod.metadata.labels?.[REVISION_LABEL] !== revision);
    for (const d of old) if (!available(d.pod)) plan.delete.push(d.pod!); // not serving anyway: replace at once
    for (const d of old) {
      if (!available(d.pod)) continue;
      if (unavailable >= maxUnavailable) break;
      plan.delete.push(d.pod!);
      unavailable++;
    }
  }
  if (ds.metadata.deletionTimestamp) plan.create = [];

  let wait: number | undefined;
  for (const p of owned) {
    const a = podAvailability(p, minReady, now);
    if (a.waitMs !== undefined) wait = Math.min(wait ?? Infinity, a.waitMs);
  }
  if (wait !== undefined) plan.recheckAfterMs = wait;
  const scheduled = desired.filter((d) => d.pod);
  const numberAvailable = desired.filter((d) => available(d.pod)).length;
  plan.status = {
    currentNumberScheduled: scheduled.length,
    numberMisscheduled: misscheduled,
    desiredNumberScheduled: desired.length,
    numberReady: scheduled.filter((d) => isPodReady(d.pod!)).length,
    updatedNumberScheduled: scheduled.filter((d) => d.pod!.metadata.labels?.[REVISION_LABEL] === revision).length,
    numberAvailable,
    numberUnavailable: desired.length - numberAvailable,
    collisionCount: ds.status?.collisionCount ?? 0,
  };
  if (ds.metadata.generation !== undefined) plan.status.observedGeneration = ds.metadata.generation;
  if (ds.status?.conditions?.length) plan.status.conditions = ds.status.conditions;
  return plan;
}
