// The ReplicaSet controller: creates and deletes pods until a ReplicaSet has its replicas,
// and keeps its status (replicas, ready, available, observedGeneration) current.
import { R } from '../api/resources.js';
import { isNotFound } from '../client/client.js';
import { objectKey } from '../client/informer.js';
import type { Controller, ControllerContext } from './context.js';
import { splitKey } from './context.js';
import { Expectations } from './expectations.js';
import { semanticJSON } from './names.js';
import { WorkQueue } from './queue.js';
import { matchesSelector } from './selector.js';
import { planReplicaSet, podFromTemplate } from './replicaset-plan.js';
import { controllerOf, type Pod, type ReplicaSet } from './types.js';
import { adopted, planClaims, released } from './claim.js';

export class ReplicaSetController implements Controller {
  readonly name = 'replicaset-controller';
  private readonly queue: WorkQueue;
  private readonly expectations = new Expectations();
  private readonly replicaSets;
  private readonly pods;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }), { workers: 8 });
    this.replicaSets = ctx.informers.byNamespace<ReplicaSet>(R.replicasets);
    this.pods = ctx.informers.byNamespace<Pod>(R.pods);
    const enqueue = (rs: ReplicaSet) => this.queue.add(objectKey(rs));
    this.replicaSets.informer.addHandlers({ add: enqueue, update: enqueue, delete: enqueue });
    const podChanged = (pod: Pod) => {
      const owner = controllerOf(pod);
      if (owner?.kind === 'ReplicaSet') this.queue.add(`${pod.metadata.namespace}/${owner.name}`);
      else if (!owner) {
        // An orphan: a ReplicaSet whose selector matches may adopt it.
        for (const rs of this.replicaSets.list(pod.metadata.namespace)) {
          if (matchesSelector(rs.spec.selector, pod.metadata.labels)) this.queue.add(objectKey(rs));
        }
      }
    };
    this.pods.informer.addHandlers({ add: podChanged, update: (p, old) => (podChanged(p), podChanged(old)), delete: podChanged });
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const rs = this.replicaSets.get(namespace, name);
    if (!rs) {
      this.expectations.forget(key);
      return;
    }
    if (!this.expectations.satisfied(key, (k) => this.pods.getByKey(k))) {
      this.queue.addAfter(key, 50);
      return;
    }
    if (await this.claimPods(key, rs)) return; // the cache will show the new owners; sync again then
    const plan = planReplicaSet(rs, this.pods.list(namespace), Date.now());
    if (!rs.metadata.deletionTimestamp) {
      const creates = Array.from({ length: plan.create }, async () => {
        const pod = podFromTemplate(rs);
        const made = await this.ctx.client.create(R.pods, pod);
        this.expectations.expect(key, objectKey(made), 'create');
        this.ctx.events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${made.metadata.name}`);
      });
      const deletes = plan.delete.map(async (pod) => {
        try {
          await this.ctx.client.delete(R.pods, namespace, pod.metadata.name!);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        this.expectations.expect(key, objectKey(pod), 'delete');
        this.ctx.events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      });
      const results = await Promise.allSettled([...creates, ...deletes]);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) {
        const err = (failed as PromiseRejectedResult).reason as Error;
        if (plan.create > 0) this.ctx.events.record(rs, 'Warning', 'FailedCreate', `Error creating: ${err.message}`);
        throw err;
      }
    }
    if (semanticJSON(rs.status ?? {}) !== semanticJSON(plan.status)) {
      try {
        await this.ctx.client.updateStatus(R.replicasets, { ...rs, status: plan.status });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (plan.recheckAfterMs !== undefined) this.queue.addAfter(key, plan.recheckAfterMs + 10);
  }

  /** Adopts orphan pods matching the selector and releases owned pods that stopped matching; true when it wrote. */
  private async claimPods(key: string, rs: ReplicaSet): Promise<boolean> {
    const claims = planClaims(rs, rs.spec.selector, this.pods.list(rs.metadata.namespace).filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed'));
    const writes = [...claims.adopt.map((p) => adopted(p, rs)), ...claims.release.map((p) => released(p, rs))];
    for (const p of writes) {
      await this.ctx.client.update(R.pods, p).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      this.expectations.expect(key, objectKey(p), 'update', p.metadata.resourceVersion);
    }
    return writes.length > 0;
  }
}
