// When a node stopped renewing its Lease (kube-node-lease/<node>) for longer than the grace
// period, its conditions become Unknown as upstream's node lifecycle controller sets them.
import type { Condition, Node } from './types.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const DEFAULT_NODE_MONITOR_GRACE_SECONDS = 40;
export const NODE_CONDITIONS_TO_UNKNOWN = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

/** The latest sign of life: lease renewal, Ready heartbeat, or when this controller first saw the node. */
export function lastHeartbeat(node: Node, leaseRenewTime: string | undefined, firstSeenMs: number): number {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const times = [firstSeenMs, Date.parse(leaseRenewTime ?? ''), Date.parse(ready?.lastHeartbeatTime ?? '')].filter((t) => !Number.isNaN(t));
  return Math.max(...times);
}

/** The node's conditions when it went silent, or undefined when nothing needs to change. */
export function unknownConditions(node: Node, now: number, heartbeat: number, graceMs: number): Condition[] | undefined {
  if (now - heartbeat <= graceMs) return undefined;
  const conditions = node.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready?.status === 'Unknown') return undefined;
  const at = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
  const never = conditions.length === 0;
  const out: Condition[] = conditions.filter((c) => !NODE_CONDITIONS_TO_UNKNOWN.includes(c.type));
  for (const type of NODE_CONDITIONS_TO_UNKNOWN) {
    const prev = conditions.find((c) => c.type === type);
    if (!prev && !never && type !== 'Ready') continue;
    out.push({
      type,
      status: 'Unknown',
      reason: never ? 'NodeStatusNeverUpdated' : 'NodeStatusUnknown',
      message: never ? 'Kubelet never posted node status.' : 'Kubelet stopped posting node status.',
      lastHeartbeatTime: prev?.lastHeartbeatTime ?? at,
      lastTransitionTime: at,
    });
  }
  return out;
}
