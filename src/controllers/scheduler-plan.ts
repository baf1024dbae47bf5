// Where a pending pod goes: filter nodes (Ready, schedulable, nodeSelector and required node
// affinity, NoSchedule/NoExecute taints tolerated), then spread: fewest pods of the same owner,
// then fewest pods, then name. When nothing fits, the message says why per node as upstream.
import { labelRequirementHolds as matchesRequirement } from '../api/label-selector.js';
import { condition, controllerOf, type Node, type NodeSelectorTerm, type Pod, type Toleration } from './types.js';

export const DEFAULT_SCHEDULER = 'default-scheduler';

export type ScheduleDecision = { node: string } | { unschedulable: string };

/** Does the default scheduler own this pod, and is it waiting for a node? */
export function needsScheduling(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !pod.spec.nodeName && (pod.spec.schedulerName ?? DEFAULT_SCHEDULER) === DEFAULT_SCHEDULER && !pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

function tolerates(tolerations: Toleration[] | undefined, taint: { key: string; value?: string; effect: string }): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const e of exprs) {
    if (e.operator === 'Gt' || e.operator === 'Lt') {
      const v = Number(labels[e.key]);
      const bound = Number(e.values?.[0]);
      if (Number.isNaN(v) || !(e.operator === 'Gt' ? v > bound : v < bound)) return false;
    } else if (!matchesRequirement(e, labels)) return false;
  }
  for (const f of fields) {
    if (f.key !== 'metadata.name' || !matchesRequirement({ ...f, key: 'n' }, { n: node.metadata.name ?? '' })) return false;
  }
  return true;
}

function matchesNodeSelection(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && terms.length > 0 && !terms.some((t) => termMatches(t, node))) return false;
  return true;
}

/** Why a node does not fit (upstream's reason wording), or undefined when it does. */
export function nodeMisfit(pod: Pod, node: Node): string | undefined {
  if (node.metadata.deletionTimestamp) return 'node(s) were being deleted';
  const ready = condition(node, 'Ready');
  if (ready?.status !== 'True') {
    const key = ready?.status === 'Unknown' ? 'node.kubernetes.io/unreachable' : 'node.kubernetes.io/not-ready';
    if (!tolerates(pod.spec.tolerations, { key, effect: 'NoSchedule' })) return `node(s) had untolerated taint {${key}: }`;
  }
  if (node.spec?.unschedulable && !tolerates(pod.spec.tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) {
    return 'node(s) were unschedulable';
  }
  if (!matchesNodeSelection(pod, node)) return "node(s) didn't match Pod's node affinity/selector";
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!tolerates(pod.spec.tolerations, taint)) return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
  }
  return undefined;
}

/** How many pods each node runs, in all and per owner (controller uid): what spreading needs. */
export class PlacementCounts {
  private readonly total = new Map<string, number>();
  private readonly byOwner = new Map<string, Map<string, number>>();

  static of(pods: Pod[]): PlacementCounts {
    const c = new PlacementCounts();
    for (const p of pods) if (p.spec.nodeName && !p.metadata.deletionTimestamp) c.add(p.spec.nodeName, controllerOf(p)?.uid, 1);
    return c;
  }

  add(node: string, owner: string | undefined, delta: number): void {
    this.total.set(node, (this.total.get(node) ?? 0) + delta);
    if (!owner) return;
    let m = this.byOwner.get(owner);
    if (!m) this.byOwner.set(owner, (m = new Map()));
    m.set(node, (m.get(node) ?? 0) + delta);
    if (m.get(node) === 0) m.delete(node);
    if (m.size === 0) this.byOwner.delete(owner);
  }

  onNode(node: string): number {
    return this.total.get(node) ?? 0;
  }

  ofOwnerOnNode(owner: string | undefined, node: string): number {
    return owner ? (this.byOwner.get(owner)?.get(node) ?? 0) : 0;
  }
}

/** The node for `pod`; `counts` are the pods already on nodes (bound or being bound), for spreading. */
export function schedulePod(pod: Pod, nodes: Node[], counts: PlacementCounts): ScheduleDecision {
  const reasons = new Map<string, number>();
  const fit: Node[] = [];
  for (const node of nodes) {
    const why = nodeMisfit(pod, node);
    if (why) reasons.set(why, (reasons.get(why) ?? 0) + 1);
    else fit.push(node);
  }
  if (fit.length === 0) {
    const parts = [...reasons.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([why, n]) => `${n} ${why}`);
    const detail = parts.length > 0 ? ` ${parts.join(', ')}.` : '';
    return { unschedulable: `0/${nodes.length} nodes are available:${detail}` };
  }
  const owner = controllerOf(pod)?.uid;
  fit.sort((a, b) => {
    const an = a.metadata.name ?? '';
    const bn = b.metadata.name ?? '';
    return counts.ofOwnerOnNode(owner, an) - counts.ofOwnerOnNode(owner, bn) || counts.onNode(an) - counts.onNode(bn) || (an < bn ? -1 : 1);
  });
  return { node: fit[0]!.metadata.name! };
}
