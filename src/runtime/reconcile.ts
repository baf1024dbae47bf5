// What a starting agent does with the containers the node runtime already has (pure): for each
// pod it keeps (bound here, not being deleted, not finished, its sandbox adopted) it takes over
// the newest attempt of each container it still declares and keeps the one before it (for
// `logs --previous`); every other container, and the sandboxes of pods it does not keep, go.
import type { ContainerStatusReply } from './api.js';

export interface KeptPod {
  uid: string;
  /** Names of the pod's init containers and containers. */
  containerNames: string[];
}

export interface ReconcilePlan {
  /** Pod UID -> the containers the agent takes over (the newest attempt per name). */
  adopt: Map<string, ContainerStatusReply[]>;
  /** Containers to remove (stopped first when running): older attempts, names the pod no longer has. */
  removeContainers: string[];
  /** Sandboxes to stop and remove with all their containers: their pods are not kept. */
  removeSandboxes: string[];
}

export function planReconcile(sandboxIds: string[], containers: ContainerStatusReply[], kept: KeptPod[]): ReconcilePlan {
  const keptByUid = new Map(kept.map((p) => [p.uid, p]));
  const plan: ReconcilePlan = { adopt: new Map(), removeContainers: [], removeSandboxes: [] };
  const sandboxes = new Set([...sandboxIds, ...containers.map((c) => c.sandboxId)]);
  for (const id of [...sandboxes].sort()) if (!keptByUid.has(id)) plan.removeSandboxes.push(id);
  const byPodAndName = new Map<string, ContainerStatusReply[]>();
  for (const c of containers) {
    const pod = keptByUid.get(c.sandboxId);
    if (!pod) continue; // goes with its sandbox
    if (!pod.containerNames.includes(c.name)) {
      plan.removeContainers.push(c.id);
      continue;
    }
    const key = `${c.sandboxId}/${c.name}`;
    byPodAndName.set(key, [...(byPodAndName.get(key) ?? []), c]);
  }
  for (const attempts of byPodAndName.values()) {
    const [newest, previous, ...older] = [...attempts].sort((a, b) => b.attempt - a.attempt);
    void previous;
    plan.adopt.set(newest.sandboxId, [...(plan.adopt.get(newest.sandboxId) ?? []), newest]);
    for (const o of older) plan.removeContainers.push(o.id);
  }
  plan.removeContainers.sort();
  return plan;
}
