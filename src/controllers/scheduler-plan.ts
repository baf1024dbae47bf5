// Where a pending pod goes: filter nodes (Ready, schedulable, nodeSelector and required node
// affinity, NoSchedule/NoExecute taints tolerated, free host ports, a free pod slot under
// allocatable pods and the pod's requests within allocatable minus what the node's pods request),
// then spread: fewest pods of the same owner, then fewest pods, then name. When nothing fits, the
// message says why per node as upstream.
import { labelRequirementHolds as matchesRequirement } from '../api/label-selector.js';
import { type HostPort, hostPortsCollide, hostPortsOf } from './host-ports.js';
import { addAmounts, allocatableOf, type Amounts, insufficientResources, podRequests } from './resource-requests.js';
import { condition, controllerOf, type Node, type NodeSelectorTerm, type Pod, type Toleration } from './types.js';

export const DEFAULT_SCHEDULER = 'default-scheduler';

export type ScheduleDecision = { node: string } | { unschedulable: string };

/** Does the default scheduler own this pod, and is it waiting for a node? */
export function needsScheduling(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !pod.spec.nodeName && (pod.spec.schedulerName ?? DEFAULT_SCHEDULER) === DEFAULT_SCHEDULER && !pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

export function tolerates(tolerations: Toleration[] | undefined, taint: { key: string; value?: string; effect: string }): boolean {
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

/** nodeSelector and required node affinity (upstream's GetRequiredNodeAffinity().Match), for the scheduler and the kubelet's admission. */
export function matchesNodeSelection(pod: Pod, node: Node): boolean {
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

/** The pods a node takes: its allocatable `pods`, as upstream rounds a quantity up (none given: 0). */
export function allowedPods(node: Node): number {
  return allocatableOf(node.status?.allocatable).pods;
}

/**
 * Where a pod counts, given the node it is bound or being bound to: it `holds` one of that node's
 * pod slots until it has terminated (upstream's scheduler cache drops Succeeded and Failed pods;
 * a terminating pod still holds its slot), and `spreads` there (counts for spreading) until it is
 * terminating too.
 */
export interface Placement {
  holds?: string;
  spreads?: string;
  owner?: string;
  /** The host ports the pod takes on the node it holds a slot of. */
  hostPorts?: HostPort[];
  /** What the pod requests of the node it holds a slot of (resource-requests.ts), when anything. */
  requests?: Amounts;
}

export function placementOf(pod: Pod, node: string | undefined): Placement {
  const phase = pod.status?.phase;
  if (!node || phase === 'Succeeded' || phase === 'Failed') return {};
  const hostPorts = hostPortsOf(pod);
  const requests = podRequests(pod);
  return {
    holds: node,
    spreads: pod.metadata.deletionTimestamp ? undefined : node,
    owner: controllerOf(pod)?.uid,
    ...(hostPorts.length > 0 ? { hostPorts } : {}),
    ...(requests.size > 0 ? { requests } : {}),
  };
}

function bump(m: Map<string, number>, key: string, delta: number): void {
  const n = (m.get(key) ?? 0) + delta;
  if (n === 0) m.delete(key);
  else m.set(key, n);
}

const portKey = (p: HostPort) => `${p.protocol}/${p.ip}/${p.port}`;

/** Per node: the pod slots, host ports and requests held, and the pods in all and per owner (controller uid) that spreading counts. */
export class PlacementCounts {
  private readonly held = new Map<string, number>();
  /** Per node, the sum of the requests of the pods holding its slots. */
  private readonly requested = new Map<string, Map<string, number>>();
  /** Per node, the host ports held by key (protocol/ip/port) with how many pods hold each. */
  private readonly ports = new Map<string, Map<string, { port: HostPort; pods: number }>>();
  private readonly total = new Map<string, number>();
  private readonly byOwner = new Map<string, Map<string, number>>();

  /** The counts of pods bound to nodes (spec.nodeName). */
  static of(pods: Pod[]): PlacementCounts {
    const c = new PlacementCounts();
    for (const p of pods) c.add(placementOf(p, p.spec.nodeName), 1);
    return c;
  }

  add(p: Placement, delta: number): void {
    if (p.holds) bump(this.held, p.holds, delta);
    if (p.holds && p.hostPorts) this.addPorts(p.holds, p.hostPorts, delta);
    if (p.holds && p.requests) this.addRequests(p.holds, p.requests, delta);
    if (!p.spreads) return;
    bump(this.total, p.spreads, delta);
    if (!p.owner) return;
    let m = this.byOwner.get(p.owner);
    if (!m) this.byOwner.set(p.owner, (m = new Map()));
    bump(m, p.spreads, delta);
    if (m.size === 0) this.byOwner.delete(p.owner);
  }

  private addPorts(node: string, ports: HostPort[], delta: number): void {
    let m = this.ports.get(node);
    if (!m) this.ports.set(node, (m = new Map()));
    for (const port of ports) {
      const key = portKey(port);
      const pods = (m.get(key)?.pods ?? 0) + delta;
      if (pods <= 0) m.delete(key);
      else m.set(key, { port, pods });
    }
    if (m.size === 0) this.ports.delete(node);
  }

  private addRequests(node: string, requests: Amounts, delta: number): void {
    let m = this.requested.get(node);
    if (!m) this.requested.set(node, (m = new Map()));
    addAmounts(m, requests, delta);
    if (m.size === 0) this.requested.delete(node);
  }

  /** The sum of the requests of the pods holding slots of `node` (cpu in millicores). */
  requestedOn(node: string): Amounts {
    return this.requested.get(node) ?? new Map();
  }

  /** Whether `wanted` collides with a host port held on `node`. */
  portsTakenOn(node: string, wanted: HostPort[]): boolean {
    const m = this.ports.get(node);
    return m !== undefined && hostPortsCollide(wanted, [...m.values()].map((e) => e.port));
  }

  /** Pod slots of `node` held by pods bound or being bound to it that have not terminated. */
  heldOn(node: string): number {
    return this.held.get(node) ?? 0;
  }

  onNode(node: string): number {
    return this.total.get(node) ?? 0;
  }

  ofOwnerOnNode(owner: string | undefined, node: string): number {
    return owner ? (this.byOwner.get(owner)?.get(node) ?? 0) : 0;
  }
}

/**
 * Why `pod` does not fit on `node` given the pods placed (upstream's reasons; NodeResourcesFit
 * gives one per resource lacking), or none.
 */
function misfit(pod: Pod, request: Amounts, node: Node, counts: PlacementCounts): string[] {
  // NodePorts and then NodeResourcesFit run after the node, taint and affinity filters, as upstream orders them.
  const name = node.metadata.name ?? '';
  const why = nodeMisfit(pod, node);
  if (why) return [why];
  if (counts.portsTakenOn(name, hostPortsOf(pod))) return ["node(s) didn't have free ports for the requested pod ports"];
  return insufficientResources(request, allocatableOf(node.status?.allocatable), { pods: counts.heldOn(name), requested: counts.requestedOn(name) }).map((r) => r.reason);
}

/** The node for `pod`; `counts` are the pods already on nodes (bound or being bound), for spreading and pod slots. */
export function schedulePod(pod: Pod, nodes: Node[], counts: PlacementCounts): ScheduleDecision {
  const reasons = new Map<string, number>();
  const fit: Node[] = [];
  const request = podRequests(pod);
  for (const node of nodes) {
    const why = misfit(pod, request, node, counts);
    for (const r of why) reasons.set(r, (reasons.get(r) ?? 0) + 1);
    if (why.length === 0) fit.push(node);
  }
  if (fit.length === 0) {
    // "<count> <reason>" strings in byte order, as upstream sorts its reason histogram.
    const parts = [...reasons.entries()].map(([why, n]) => `${n} ${why}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
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
