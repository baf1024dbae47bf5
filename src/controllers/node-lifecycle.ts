// The node lifecycle controller: every monitor period, a node whose Lease was not renewed
// within the grace period gets Unknown conditions (node-lifecycle-plan.ts), and the pods on a
// node whose Ready is Unknown are marked Ready=False so their endpoints turn not ready.
// It also force-deletes terminating pods bound to nodes that no longer exist (nobody else would).
import { R } from '../api/resources.js';
import { isConflict, isNotFound } from '../client/client.js';
import type { Controller, ControllerContext } from './context.js';
import { lastHeartbeat, NODE_LEASE_NAMESPACE, unknownConditions } from './node-lifecycle-plan.js';
import type { KubeObject } from '../api/types.js';
import { condition, type Node, type Pod } from './types.js';

export interface NodeLifecycleOptions {
  gracePeriodMs: number;
  monitorPeriodMs: number;
}

export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle-controller';
  private readonly nodes;
  private readonly leases;
  private readonly pods;
  private readonly firstSeen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly log;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly opts: NodeLifecycleOptions,
  ) {
    this.log = ctx.log.child({ controller: this.name });
    this.nodes = ctx.informers.for<Node>(R.nodes);
    this.leases = ctx.informers.byNamespace(R.leases);
    this.pods = ctx.informers.for<Pod>(R.pods);
    this.nodes.addHandlers({ delete: (n) => this.firstSeen.delete(n.metadata.name!) });
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.opts.monitorPeriodMs);
    this.timer.unref();
    this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.monitor()
      .catch((err: Error) => this.log.warn('node monitor pass failed', { err: err.message }))
      .finally(() => (this.running = undefined));
  }

  private async monitor(): Promise<void> {
    const now = Date.now();
    const unknown = new Set<string>();
    for (const node of this.nodes.list()) {
      const name = node.metadata.name!;
      if (!this.firstSeen.has(name)) this.firstSeen.set(name, now);
      const lease = this.leases.get(NODE_LEASE_NAMESPACE, name) as (KubeObject & { spec?: { renewTime?: string } }) | undefined;
      const beat = lastHeartbeat(node, lease?.spec?.renewTime, this.firstSeen.get(name)!);
      const conditions = unknownConditions(node, now, beat, this.opts.gracePeriodMs);
      if (conditions) {
        try {
          await this.ctx.client.updateStatus(R.nodes, { ...node, status: { ...(node.status ?? {}), conditions } });
          this.log.info('node stopped posting status; conditions set to Unknown', { node: name });
          this.ctx.events.record(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
          unknown.add(name);
        } catch (err) {
          if (!isConflict(err) && !isNotFound(err)) throw err;
        }
      } else if (condition(node, 'Ready')?.status === 'Unknown') unknown.add(name);
    }
    for (const pod of this.pods.list()) {
      const nodeName = pod.spec.nodeName;
      if (!nodeName) continue;
      if (pod.metadata.deletionTimestamp && !this.nodes.get(undefined, nodeName)) {
        await this.ctx.client.delete(R.pods, pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0 }).catch((err) => {
          if (!isNotFound(err)) throw err;
        });
        continue;
      }
      if (unknown.has(nodeName) && condition(pod, 'Ready')?.status === 'True') await this.markPodNotReady(pod);
    }
  }

  private async markPodNotReady(pod: Pod): Promise<void> {
    const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const conditions = (pod.status?.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: at } : c));
    try {
      await this.ctx.client.updateStatus(R.pods, { ...pod, status: { ...(pod.status ?? {}), conditions } });
      this.ctx.events.record(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }
}
