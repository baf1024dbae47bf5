// The orphaned-pod part of kube-controller-manager's pod garbage collector, as pure functions: a
// pod bound (spec.nodeName) to a Node that does not exist is deleted once that Node has been
// missing for the quarantine time (40 s upstream), so a node that registers again soon (an agent
// whose Node was deleted while it runs) keeps its pods. Before the delete the pod is marked Failed
// with the DisruptionTarget condition (reason DeletionByPodGC), as upstream does.
import type { Condition, Pod } from './types.js';

export const POD_GC_QUARANTINE_MS = 40_000;
export const POD_GC_PERIOD_MS = 20_000;

/**
 * The nodes pods are bound to that are missing now, with when each was first seen missing:
 * `previous` carried over, new ones stamped `now`, nodes that exist again dropped.
 */
export function missingNodes(pods: readonly Pod[], nodeExists: (name: string) => boolean, previous: ReadonlyMap<string, number>, now: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of pods) {
    const node = p.spec.nodeName;
    if (!node || out.has(node) || nodeExists(node)) continue;
    out.set(node, previous.get(node) ?? now);
  }
  return out;
}

/** The nodes missing for at least the quarantine time (their pods are to be collected, once the API confirms the node is gone). */
export function quarantineOver(missing: ReadonlyMap<string, number>, now: number, quarantineMs = POD_GC_QUARANTINE_MS): string[] {
  return [...missing].filter(([, since]) => now - since >= quarantineMs).map(([node]) => node);
}

/** The status a collected pod gets before its delete: Failed unless already finished, with the DisruptionTarget condition. */
export function orphanedPodStatus(pod: Pod, at: string): NonNullable<Pod['status']> {
  const phase = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' ? pod.status.phase : 'Failed';
  const disruption: Condition = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists', lastTransitionTime: at };
  return { ...(pod.status ?? {}), phase, conditions: [...(pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'), disruption] };
}
