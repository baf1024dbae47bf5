// The DaemonSet controller: one pod per eligible node, rolling updates and status, as
// daemonset-plan.ts decides; the scheduler binds each pod by its node-name affinity.
import { R } from '../api/resources.js';
import { isNotFound } from '../client/client.js';
import { objectKey } from '../client/informer.js';
import type { Controller, ControllerContext } from './context.js';
import { splitKey } from './context.js';
import { daemonPod, daemonSetRevision, planDaemonSet, REVISION_LABEL, type DaemonSet } from './daemonset-plan.js';
import type { ControllerRevision } from './controller-revisions.js';
import { syncRevisions } from './controller-revisions-sync.js';
import { isOwnedBy } from './replicaset-plan.js';
import { Expectations } from './expectations.js';
import { writeOwnedPods } from './pod-writes.js';
import { semanticJSON } from './names.js';
import { WorkQueue } from './queue.js';
import { controllerOf, type Node, type Pod } from './types.js';

export class DaemonSetController implements Controller {
  readonly name = 'daemonset-controller';
  private readonly queue: WorkQueue;
  private readonly expectations = new Expectations();
  private readonly sets;
  private readonly pods;
  private readonly nodes;
  private readonly revisions;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }), { workers: 4 });
    this.sets = ctx.informers.byNamespace<DaemonSet>(R.daemonsets);
    this.pods = ctx.informers.byNamespace<Pod>(R.pods);
    this.nodes = ctx.informers.for<Node>(R.nodes);
    this.revisions = ctx.informers.byNamespace<ControllerRevision>(R.controllerrevisions);
    const enqueue = (s: DaemonSet) => this.queue.add(objectKey(s));
    this.sets.informer.addHandlers({ add: enqueue, update: enqueue, delete: enqueue });
    const podChanged = (pod: Pod) => {
      const owner = controllerOf(pod);
      if (owner?.kind === 'DaemonSet') this.queue.add(`${pod.metadata.namespace}/${owner.name}`);
    };
    this.pods.informer.addHandlers({ add: podChanged, update: (p, old) => (podChanged(p), podChanged(old)), delete: podChanged });
    const everySet = () => {
      for (const s of this.sets.informer.list()) this.queue.add(objectKey(s));
    };
    this.nodes.addHandlers({ add: everySet, update: (n, old) => void (semanticJSON(nodeFacts(n)) !== semanticJSON(nodeFacts(old)) && everySet()), delete: everySet });
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const ds = this.sets.get(namespace, name);
    if (!ds) {
      this.expectations.forget(key);
      return;
    }
    if (!this.expectations.satisfied(key, (k) => this.pods.getByKey(k))) {
      this.queue.addAfter(key, 50);
      return;
    }
    const pods = this.pods.list(namespace);
    const hash = daemonSetRevision(ds);
    const live = new Set([`${name}-${hash}`]);
    for (const p of pods) if (isOwnedBy(p, ds.metadata.uid)) live.add(`${name}-${p.metadata.labels?.[REVISION_LABEL] ?? ''}`);
    await syncRevisions(this.ctx, this.revisions, { ...ds, apiVersion: 'apps/v1', kind: 'DaemonSet' }, `${name}-${hash}`, hash, live);
    const plan = planDaemonSet(ds, this.nodes.list(), pods, Date.now());
    await writeOwnedPods(this.ctx, this.expectations, key, ds, plan.create.map((node) => daemonPod(ds, node)), plan.delete);
    if (semanticJSON(ds.status ?? {}) !== semanticJSON(plan.status)) {
      try {
        await this.ctx.client.updateStatus(R.daemonsets, { ...ds, status: plan.status });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (plan.recheckAfterMs !== undefined) this.queue.addAfter(key, plan.recheckAfterMs + 10);
  }
}

/** What of a node decides where daemon pods run. */
function nodeFacts(n: Node): unknown {
  return { labels: n.metadata.labels, spec: n.spec, ready: n.status?.conditions?.find((c) => c.type === 'Ready')?.status };
}
