// The kubelet's admission of a pod bound to this node (pkg/kubelet/lifecycle/predicate.go): a pod
// put on the node by the user (spec.nodeName set, no scheduler) or by a scheduler whose view was
// stale is checked against the node before anything of it starts, in upstream's order: a free
// pod slot under allocatable `pods` (OutOfpods), its requests within allocatable minus the
// requests of the pods admitted (OutOfcpu, OutOfmemory, OutOfephemeral-storage, OutOf<name>; the
// arithmetic is the scheduler's, resource-requests.ts), nodeSelector and required node affinity
// (NodeAffinity), free host ports (NodePorts), NoExecute taints tolerated (TaintToleration). A
// rejected pod fails at once: phase Failed, the reason, and "Pod was rejected: <message>", with
// a Warning event carrying the message. Pure; the agent supplies the node, its allocatable and
// the pods it admitted.
import { hostPortsCollide, hostPortsOf } from '../controllers/host-ports.js';
import { addAmounts, allocatableOf, insufficientResources, podRequests, type ResourceList, withoutMissingExtended } from '../controllers/resource-requests.js';
import { matchesNodeSelection, tolerates } from '../controllers/scheduler-plan.js';
import type { Node } from '../controllers/types.js';
import type { Pod, PodStatus } from './pod-types.js';

export type AdmitResult = { admit: true } | { admit: false; reason: string; message: string };

/** The reason of a node affinity rejection: the agent fetches the Node again before it rejects (labels may be newer than its copy). */
export const NODE_AFFINITY = 'NodeAffinity';

function predicateFailed(name: string, desc: string): AdmitResult {
  return { admit: false, reason: name, message: `Predicate ${name} failed: ${desc}` };
}

/**
 * Whether `node` takes `pod`, given the pods it already admitted that are still active (not
 * Succeeded or Failed; terminating ones still hold their slot and their requests). `allocatable`
 * is the node's allocatable as the agent reports it (cpu, memory, ephemeral-storage, pods).
 * The first failing check gives the reason, as upstream returns only the first.
 */
export function admitPod(pod: Pod, node: Node, admitted: readonly Pod[], allocatable: ResourceList): AdmitResult {
  const free = allocatableOf(allocatable);
  const requested = new Map<string, number>();
  for (const p of admitted) addAmounts(requested, podRequests(p), 1);
  // Extended resources the node does not advertise are left to cluster-level resources, as the kubelet drops them before it checks.
  const [lacking] = insufficientResources(withoutMissingExtended(podRequests(pod), free), free, { pods: admitted.length, requested });
  if (lacking) {
    return {
      admit: false,
      reason: `OutOf${lacking.resource}`,
      message: `Node didn't have enough resource: ${lacking.resource}, requested: ${lacking.requested}, used: ${lacking.used}, capacity: ${lacking.capacity}`,
    };
  }
  if (!matchesNodeSelection(pod, node)) return predicateFailed(NODE_AFFINITY, "node(s) didn't match Pod's node affinity/selector");
  if (hostPortsCollide(hostPortsOf(pod), admitted.flatMap(hostPortsOf))) return predicateFailed('NodePorts', "node(s) didn't have free ports for the requested pod ports");
  const untolerated = (node.spec?.taints ?? []).some((t) => t.effect === 'NoExecute' && !tolerates(pod.spec.tolerations, t));
  if (untolerated) return predicateFailed('TaintToleration', "node(s) had taints that the pod didn't tolerate");
  return { admit: true };
}

/** The status the kubelet gives a pod it rejects (phase Failed; the event carries the message without the prefix). */
export function rejectedStatus(reason: string, message: string): PodStatus {
  return { phase: 'Failed', reason, message: `Pod was rejected: ${message}` };
}

/** Is the pod still holding its slot on the node (not Succeeded or Failed)? */
export function isActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}
