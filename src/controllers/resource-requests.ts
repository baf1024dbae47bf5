// What a pod requests of its node and whether the node has it free, as upstream's NodeResourcesFit
// scheduler filter and the kubelet's admission judge it (noderesources.Fits): a pod's request is
// the sum of its regular containers and restartable init containers (sidecars), at least what any
// init container needs while it runs (itself plus the sidecars started before it), plus the pod
// overhead; it fits when every requested resource is at most the node's allocatable minus the
// requests of the pods already there. cpu counts in millicores, everything else in whole units
// (bytes), each quantity rounded up as upstream's MilliValue/Value do. Pure and exact (decimal
// arithmetic, no floating point); shared by the scheduler and the agent's admission so the two
// never disagree.
import { parseQuantity } from '../api/crd/cel/quantity.js';

/** A resource list as the API carries it: name -> quantity ("500m", "1Gi", 2). */
export type ResourceList = Record<string, string | number | undefined>;

/** Resource amounts by name: cpu in millicores, the others in whole units. */
export type Amounts = ReadonlyMap<string, number>;

interface RequestsOf {
  resources?: { requests?: ResourceList };
  restartPolicy?: string;
  name?: string;
}

/** The fields of a pod its request comes from (both the agent's and the controllers' Pod fit). */
export interface PodRequestFields {
  spec: { containers?: RequestsOf[]; initContainers?: RequestsOf[]; overhead?: ResourceList };
}

/**
 * A quantity as a whole number of 10^-`scale` units, rounded up (scale 3: millicores, as
 * upstream's MilliValue; scale 0: Value), from the exact parse CEL's quantity() uses. Undefined
 * when it is not a quantity.
 */
export function scaledQuantity(q: string | number | undefined, scale: number): number | undefined {
  if (q === undefined) return undefined;
  const parsed = parseQuantity(String(q).trim());
  if ('error' in parsed) return undefined;
  const shift = scale - parsed.scale;
  if (shift >= 0) return Number(parsed.digits * 10n ** BigInt(shift));
  const unit = 10n ** BigInt(-shift);
  // Division truncates toward zero; a positive remainder rounds up (toward +infinity, as upstream).
  const whole = parsed.digits / unit;
  return Number(parsed.digits % unit > 0n ? whole + 1n : whole);
}

/** Resources counted toward a node's fit besides cpu, memory and ephemeral-storage (upstream's scalar resources). */
export function isScalarResource(name: string): boolean {
  return name.startsWith('hugepages-') || name.startsWith('attachable-volumes-') || name.includes('kubernetes.io/') || isExtendedResource(name);
}

/** A resource outside the kubernetes.io domain (example.com/gpu), which a node advertises itself. */
export function isExtendedResource(name: string): boolean {
  return name.includes('/') && !name.includes('kubernetes.io/') && !name.startsWith('requests.');
}

const FIT_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);

/** The amounts of a resource list that count toward a node's fit (pods excluded), quantities rounded up. */
export function amountsOf(list: ResourceList | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, q] of Object.entries(list ?? {})) {
    if (!FIT_RESOURCES.has(name) && !isScalarResource(name)) continue;
    const v = scaledQuantity(q, name === 'cpu' ? 3 : 0);
    if (v !== undefined) out.set(name, v);
  }
  return out;
}

function addInto(into: Map<string, number>, add: Amounts): void {
  for (const [k, v] of add) into.set(k, (into.get(k) ?? 0) + v);
}

function maxInto(into: Map<string, number>, other: Amounts): void {
  for (const [k, v] of other) if (v > (into.get(k) ?? 0)) into.set(k, v);
}

/**
 * A pod's effective request (upstream's PodRequests): regular containers and sidecars summed; at
 * least, per resource, what the largest init container needs while it runs (its own request
 * plus the sidecars before it); plus spec.overhead. Resources requested as zero are left out.
 */
export function podRequests(pod: PodRequestFields): Map<string, number> {
  const total = new Map<string, number>();
  for (const c of pod.spec.containers ?? []) addInto(total, amountsOf(c.resources?.requests));
  const sidecars = new Map<string, number>();
  const initPeak = new Map<string, number>();
  for (const c of pod.spec.initContainers ?? []) {
    const own = amountsOf(c.resources?.requests);
    if (c.restartPolicy === 'Always') {
      addInto(total, own);
      addInto(sidecars, own);
      maxInto(initPeak, sidecars);
    } else {
      const running = new Map(sidecars);
      addInto(running, own);
      maxInto(initPeak, running);
    }
  }
  maxInto(total, initPeak);
  addInto(total, amountsOf(pod.spec.overhead));
  for (const [k, v] of total) if (v === 0) total.delete(k);
  return total;
}

/** Adds `delta` times `amounts` to `into`, dropping what falls to zero (per-node sums of requests). */
export function addAmounts(into: Map<string, number>, amounts: Amounts, delta: number): void {
  for (const [k, v] of amounts) {
    const n = (into.get(k) ?? 0) + delta * v;
    if (n === 0) into.delete(k);
    else into.set(k, n);
  }
}

/** A node's allocatable as fit counts it: the pods it takes and the amounts of its resources. */
export interface Allocatable {
  readonly pods: number;
  readonly resources: Amounts;
}

const parsedAllocatable = new WeakMap<ResourceList, Allocatable>();

/**
 * The node's allocatable resource list (status.allocatable) as fit counts it; `pods` rounded up,
 * none given: 0. Parsed once per list object (informer objects are not changed in place).
 */
export function allocatableOf(list: ResourceList | undefined): Allocatable {
  const known = list && parsedAllocatable.get(list);
  if (known) return known;
  const parsed = { pods: Math.max(0, scaledQuantity(list?.pods, 0) ?? 0), resources: amountsOf(list) };
  if (list) parsedAllocatable.set(list, parsed);
  return parsed;
}

/** One resource a node lacks for a pod, with upstream's figures (cpu in millicores). */
export interface InsufficientResource {
  resource: string;
  /** The scheduler's reason: "Too many pods", "Insufficient cpu". */
  reason: string;
  requested: number;
  used: number;
  capacity: number;
}

/** What a node already holds: its pods (not terminated) and the sum of their requests. */
export interface NodeUsage {
  pods: number;
  requested: Amounts;
}

/**
 * The resources `node` lacks for a pod requesting `request`, given `usage`, in upstream's order:
 * pods, cpu, memory, ephemeral-storage, then the other requested resources by name. Empty when the
 * pod fits. A pod that requests nothing is only checked for a pod slot, as upstream.
 */
export function insufficientResources(request: Amounts, node: Allocatable, usage: NodeUsage): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  if (usage.pods + 1 > node.pods) out.push({ resource: 'pods', reason: 'Too many pods', requested: 1, used: usage.pods, capacity: node.pods });
  const names = [...request.keys()].sort((a, b) => order(a) - order(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const requested = request.get(name) ?? 0;
    const used = usage.requested.get(name) ?? 0;
    const capacity = node.resources.get(name) ?? 0;
    if (requested > 0 && requested > capacity - used) out.push({ resource: name, reason: `Insufficient ${name}`, requested, used, capacity });
  }
  return out;
}

function order(name: string): number {
  return name === 'cpu' ? 0 : name === 'memory' ? 1 : name === 'ephemeral-storage' ? 2 : 3;
}

/** The request without the extended resources the node does not advertise: the kubelet leaves those to cluster-level resources. */
export function withoutMissingExtended(request: Amounts, node: Allocatable): Map<string, number> {
  return new Map([...request].filter(([name]) => !isExtendedResource(name) || node.resources.has(name)));
}
