// Keeps the node.kubernetes.io/unschedulable:NoSchedule taint on cordoned nodes and off the
// others (scheduler-unschedulable-taint-plan.ts), as upstream's node lifecycle controller does.
import { R } from '../api/resources.js';
import { isConflict, isNotFound } from '../client/client.js';
import type { Controller, ControllerContext } from './context.js';
import { WorkQueue } from './queue.js';
import { unschedulableTaints } from './scheduler-unschedulable-taint-plan.js';
import type { Node } from './types.js';

export class UnschedulableTaintController implements Controller {
  readonly name = 'unschedulable-taint-controller';
  private readonly queue: WorkQueue;
  private readonly nodes;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }), { workers: 2 });
    this.nodes = ctx.informers.for<Node>(R.nodes);
    const enqueue = (n: Node) => this.queue.add(n.metadata.name!);
    this.nodes.addHandlers({ add: enqueue, update: enqueue });
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  private async sync(name: string): Promise<void> {
    const node = this.nodes.get(undefined, name);
    if (!node || node.metadata.deletionTimestamp) return;
    const taints = unschedulableTaints(node);
    if (!taints) return;
    const spec = { ...(node.spec ?? {}) };
    if (taints.length > 0) spec.taints = taints;
    else delete spec.taints;
    try {
      await this.ctx.client.update(R.nodes, { ...node, spec });
    } catch (err) {
      if (isNotFound(err)) return;
      if (isConflict(err)) throw err; // the queue retries with the newer node
      throw err;
    }
  }
}
