// The scheduler: binds pending pods of the default scheduler to nodes (scheduler-plan.ts) with
// POST pods/<name>/binding; marks pods that fit nowhere PodScheduled=False/Unschedulable and
// tries them again whenever a node changes or a pod frees a node's pod slot.
import { R } from '../api/resources.js';
import { isConflict, isNotFound } from '../client/client.js';
import { objectKey } from '../client/informer.js';
import type { Controller, ControllerContext } from './context.js';
import { splitKey } from './context.js';
import { WorkQueue } from './queue.js';
import { needsScheduling, PlacementCounts, placementOf, schedulePod, type Placement } from './scheduler-plan.js';
import type { Node, Pod } from './types.js';

/** Binding writes in flight at once (each is one API request). */
const BINDINGS_IN_FLIGHT = 16;
const BINDING_RETRY_MS = 1000;

export class Scheduler implements Controller {
  readonly name = 'default-scheduler';
  private readonly queue: WorkQueue;
  private readonly pods;
  private readonly nodes;
  /** Pods bound here whose binding the cache does not show yet: key -> node. */
  private readonly assumed = new Map<string, string>();
  private readonly unschedulable = new Set<string>();
  /** Pods counted per node (bound, or assumed bound), kept current from events. */
  private readonly counts = new PlacementCounts();
  private readonly counted = new Map<string, Placement>();
  /** Binding writes in flight. */
  private readonly binding = new Set<Promise<void>>();

  constructor(private readonly ctx: ControllerContext) {
    // One worker: each decision sees the previous one, so spreading is exact.
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }), { workers: 1 });
    this.pods = ctx.informers.byNamespace<Pod>(R.pods);
    this.nodes = ctx.informers.for<Node>(R.nodes);
    const podChanged = (pod: Pod) => {
      const key = objectKey(pod);
      if (pod.spec.nodeName) this.assumed.delete(key);
      this.recount(key, pod);
      if (needsScheduling(pod)) this.queue.add(key);
      else this.unschedulable.delete(key);
    };
    this.pods.informer.addHandlers({
      add: podChanged,
      update: podChanged,
      delete: (pod) => {
        this.assumed.delete(objectKey(pod));
        this.recount(objectKey(pod), undefined);
        this.unschedulable.delete(objectKey(pod));
      },
    });
    this.nodes.addHandlers({ add: () => this.retryUnschedulable(), update: () => this.retryUnschedulable() });
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  /** Writes one binding; a failure other than "gone" or "bound meanwhile" forgets the assumption and retries the pod. */
  private async bind(key: string, pod: Pod, node: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    try {
      await this.ctx.client.create(
        R.pods,
        { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, uid: pod.metadata.uid }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
        { subresource: 'binding' },
      );
    } catch (err) {
      if (this.assumed.get(key) === node) {
        this.assumed.delete(key);
        this.recount(key, isNotFound(err) ? undefined : this.pods.get(namespace, name));
      }
      if (isNotFound(err)) return;
      // A conflict: bound meanwhile (by someone else) or replaced; a retry sees which once the cache does.
      if (!isConflict(err)) this.ctx.log.warn('binding failed; the pod is scheduled again', { pod: key, node, err: (err as Error).message });
      this.queue.addAfter(key, BINDING_RETRY_MS);
      return;
    }
    this.ctx.events.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${node}`);
  }

  private retryUnschedulable(): void {
    for (const key of this.unschedulable) this.queue.add(key);
  }

  /**
   * Moves a pod's count to where it is now (its node, the node it is being bound to, or none); a
   * pod slot freed on a node sends the pods that fit nowhere through the scheduler again.
   */
  private recount(key: string, pod: Pod | undefined): void {
    const before = this.counted.get(key);
    const now = pod ? placementOf(pod, pod.spec.nodeName ?? this.assumed.get(key)) : {};
    if (before?.holds === now.holds && before?.spreads === now.spreads && before?.owner === now.owner) return;
    if (before) this.counts.add(before, -1);
    if (now.holds) {
      this.counts.add(now, 1);
      this.counted.set(key, now);
    } else this.counted.delete(key);
    if (before?.holds && before.holds !== now.holds) this.retryUnschedulable();
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.pods.get(namespace, name);
    if (!pod || !needsScheduling(pod) || this.assumed.has(key)) return;
    const decision = schedulePod(pod, this.nodes.list(), this.counts);
    if ('node' in decision) {
      // Assumed bound at once (the next decision counts it, so spreading stays exact); the binding
      // is written while the next pods are placed, as kube-scheduler's binding cycle runs apart
      // from its scheduling cycle. At most BINDINGS_IN_FLIGHT are written at a time.
      this.assumed.set(key, decision.node);
      this.recount(key, pod);
      this.unschedulable.delete(key);
      while (this.binding.size >= BINDINGS_IN_FLIGHT) await Promise.race(this.binding);
      const written = this.bind(key, pod, decision.node).finally(() => this.binding.delete(written));
      this.binding.add(written);
      return;
    }
    this.unschedulable.add(key);
    const current = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (current?.status === 'False' && current.reason === 'Unschedulable' && current.message === decision.unschedulable) return;
    const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: decision.unschedulable, lastProbeTime: null, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
    try {
      await this.ctx.client.updateStatus(R.pods, { ...pod, status: { ...(pod.status ?? {}), phase: pod.status?.phase ?? 'Pending', conditions } });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    this.ctx.events.record(pod, 'Warning', 'FailedScheduling', decision.unschedulable);
  }
}
