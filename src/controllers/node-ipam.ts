// The node IPAM controller: gives every Node spec.podCIDR and spec.podCIDRs (node-ipam-plan.ts).
import { R } from '../api/resources.js';
import { isNotFound } from '../client/client.js';
import type { Controller, ControllerContext } from './context.js';
import { assignPodCIDRs, PodCIDRSpace } from './node-ipam-plan.js';
import { WorkQueue } from './queue.js';
import type { Node } from './types.js';

export class NodeIpamController implements Controller {
  readonly name = 'node-ipam-controller';
  private readonly queue: WorkQueue;
  private readonly nodes;
  private readonly space: PodCIDRSpace;
  /** Assignments written but not yet seen in the cache, so two nodes never get one range. */
  private readonly pending = new Map<string, string>();

  constructor(
    private readonly ctx: ControllerContext,
    podCIDR: string,
  ) {
    this.space = new PodCIDRSpace(podCIDR);
    this.queue = new WorkQueue(this.name, () => this.sync(), ctx.log.child({ controller: this.name }), { workers: 1 });
    this.nodes = ctx.informers.for<Node>(R.nodes);
    const enqueue = () => this.queue.add('all');
    this.nodes.addHandlers({ add: enqueue, update: enqueue, delete: enqueue });
  }

  start(): void {
    this.queue.start();
    this.queue.add('all');
  }

  stop(): void {
    this.queue.stop();
  }

  private async sync(): Promise<void> {
    const nodes = this.nodes.list().map((n) => {
      const pending = this.pending.get(n.metadata.name!);
      if (n.spec?.podCIDR || !pending) {
        this.pending.delete(n.metadata.name!);
        return n;
      }
      return { ...n, spec: { ...(n.spec ?? {}), podCIDR: pending, podCIDRs: [pending] } };
    });
    for (const name of this.pending.keys()) if (!this.nodes.get(undefined, name)) this.pending.delete(name);
    const failures: Error[] = [];
    for (const a of assignPodCIDRs(this.space, nodes)) {
      try {
        const node = this.nodes.get(undefined, a.node);
        if (!node) continue;
        await this.ctx.client.update(R.nodes, { ...node, spec: { ...(node.spec ?? {}), podCIDR: a.podCIDR, podCIDRs: [a.podCIDR] } });
        this.pending.set(a.node, a.podCIDR);
      } catch (err) {
        if (!isNotFound(err)) failures.push(err as Error);
      }
    }
    const waiting = nodes.filter((n) => !n.spec?.podCIDR && !n.metadata.deletionTimestamp).length;
    if (waiting > 0 && assignPodCIDRs(this.space, nodes).length === 0 && failures.length === 0) {
      this.ctx.log.warn('pod CIDR exhausted: nodes wait for a range', { nodes: waiting, ranges: this.space.count });
    }
    if (failures.length > 0) throw failures[0];
  }
}
