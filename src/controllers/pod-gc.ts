// The pod garbage collector's orphan pass (pod-gc-plan.ts): every 20 s, pods bound to a Node that
// has been missing for 40 s (checked once more against the API, not only the cache) are marked
// Failed with DisruptionTarget and deleted at once (grace period 0), as kube-controller-manager's
// PodGC does; their owners (ReplicaSets, ...) then replace them. A Node that comes back within the
// quarantine keeps its pods.
import { R } from '../api/resources.js';
import { isConflict, isNotFound } from '../client/client.js';
import type { Controller, ControllerContext } from './context.js';
import { missingNodes, orphanedPodStatus, POD_GC_PERIOD_MS, POD_GC_QUARANTINE_MS, quarantineOver } from './pod-gc-plan.js';
import type { Node, Pod } from './types.js';

export interface PodGcOptions {
  periodMs?: number;
  quarantineMs?: number;
}

export class PodGcController implements Controller {
  readonly name = 'pod-garbage-collector';
  private readonly nodes;
  private readonly pods;
  private missing = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly log;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly opts: PodGcOptions = {},
  ) {
    this.log = ctx.log.child({ controller: this.name });
    this.nodes = ctx.informers.for<Node>(R.nodes);
    this.pods = ctx.informers.for<Pod>(R.pods);
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.opts.periodMs ?? POD_GC_PERIOD_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One pass now (tests); one at a time. */
  tick(): Promise<void> {
    this.running ??= this.collect()
      .catch((err: Error) => this.log.warn('pod garbage collection pass failed', { err: err.message }))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async collect(): Promise<void> {
    const now = Date.now();
    const pods = this.pods.list();
    this.missing = missingNodes(pods, (n) => this.nodes.get(undefined, n) !== undefined, this.missing, now);
    for (const node of quarantineOver(this.missing, now, this.opts.quarantineMs ?? POD_GC_QUARANTINE_MS)) {
      if (await this.ctx.client.get(R.nodes, undefined, node)) {
        this.missing.delete(node);
        continue;
      }
      for (const pod of pods.filter((p) => p.spec.nodeName === node)) await this.collectPod(pod, node);
    }
  }

  private async collectPod(pod: Pod, node: string): Promise<void> {
    const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    try {
      await this.ctx.client.updateStatus(R.pods, { ...pod, status: orphanedPodStatus(pod, at) });
      await this.ctx.client.delete(R.pods, pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0 });
      this.log.info('deleted a pod bound to a node that no longer exists', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, node });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
