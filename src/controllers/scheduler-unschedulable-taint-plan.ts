// The node.kubernetes.io/unschedulable:NoSchedule taint follows spec.unschedulable (what
// `kubectl cordon`/`uncordon` set), as upstream's node lifecycle controller keeps it, so pods
// and DaemonSets can tolerate a cordon like any other taint. Pure.
import type { Node } from './types.js';

export const UNSCHEDULABLE_TAINT_KEY = 'node.kubernetes.io/unschedulable';

type Taint = NonNullable<NonNullable<Node['spec']>['taints']>[number];

/** The taints the node should have, or undefined when its taints already agree with spec.unschedulable. */
export function unschedulableTaints(node: Node): Taint[] | undefined {
  const taints = node.spec?.taints ?? [];
  const has = taints.some((t) => t.key === UNSCHEDULABLE_TAINT_KEY && t.effect === 'NoSchedule');
  const wanted = node.spec?.unschedulable === true;
  if (wanted === has) return undefined;
  if (wanted) return [...taints, { key: UNSCHEDULABLE_TAINT_KEY, effect: 'NoSchedule' }];
  return taints.filter((t) => !(t.key === UNSCHEDULABLE_TAINT_KEY && t.effect === 'NoSchedule'));
}
