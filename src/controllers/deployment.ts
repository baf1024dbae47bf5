// The Deployment controller: rolls a Deployment's ReplicaSets towards its template (see
// deployment-plan.ts), one step per sync, and writes the status `kubectl rollout status` reads.
import { R } from '../api/resources.js';
import { isAlreadyExists, isNotFound } from '../client/client.js';
import { objectKey } from '../client/informer.js';
import type { Controller, ControllerContext } from './context.js';
import { splitKey } from './context.js';
import { planDeployment, REVISION_ANNOTATION } from './deployment-plan.js';
import { Expectations } from './expectations.js';
import { semanticJSON } from './names.js';
import { WorkQueue } from './queue.js';
import { isOwnedBy } from './replicaset-plan.js';
import { controllerOf, type Deployment, type ReplicaSet } from './types.js';
import { adopted, planClaims, released } from './claim.js';
import { matchesSelector } from './selector.js';

export class DeploymentController implements Controller {
  readonly name = 'deployment-controller';
  private readonly queue: WorkQueue;
  private readonly expectations = new Expectations();
  private readonly deployments;
  private readonly replicaSets;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }));
    this.deployments = ctx.informers.byNamespace<Deployment>(R.deployments);
    this.replicaSets = ctx.informers.byNamespace<ReplicaSet>(R.replicasets);
    const enqueue = (d: Deployment) => this.queue.add(objectKey(d));
    this.deployments.informer.addHandlers({ add: enqueue, update: enqueue, delete: enqueue });
    const rsChanged = (rs: ReplicaSet) => {
      const owner = controllerOf(rs);
      if (owner?.kind === 'Deployment') this.queue.add(`${rs.metadata.namespace}/${owner.name}`);
      else if (!owner) {
        for (const d of this.deployments.list(rs.metadata.namespace)) {
          if (matchesSelector(d.spec.selector, rs.metadata.labels)) this.queue.add(objectKey(d));
        }
      }
    };
    this.replicaSets.informer.addHandlers({ add: rsChanged, update: rsChanged, delete: rsChanged });
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const d = this.deployments.get(namespace, name);
    if (!d || d.metadata.deletionTimestamp) {
      this.expectations.forget(key);
      return;
    }
    if (!this.expectations.satisfied(key, (k) => this.replicaSets.getByKey(k))) {
      this.queue.addAfter(key, 50);
      return;
    }
    const claims = planClaims(d, d.spec.selector, this.replicaSets.list(namespace));
    if (claims.adopt.length + claims.release.length > 0) {
      for (const rs of [...claims.adopt.map((x) => adopted(x, d)), ...claims.release.map((x) => released(x, d))]) {
        await this.ctx.client.update(R.replicasets, rs).catch((err) => {
          if (!isNotFound(err)) throw err;
        });
        this.expectations.expect(key, objectKey(rs), 'update', rs.metadata.resourceVersion);
      }
      this.queue.add(key);
      return;
    }
    const owned = this.replicaSets.list(namespace).filter((rs) => isOwnedBy(rs, d.metadata.uid));
    const plan = planDeployment(d, owned, Date.now());
    const client = this.ctx.client;
    if (plan.create) {
      try {
        const made = await client.create(R.replicasets, plan.create);
        this.expectations.expect(key, objectKey(made), 'create');
        this.ctx.events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${made.metadata.name} from 0 to ${plan.create.spec.replicas}`);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        // A ReplicaSet of that name that is not ours: a hash collision; the next hash differs.
        const clash = await client.get<ReplicaSet>(R.replicasets, namespace, plan.create.metadata.name!);
        if (clash && !isOwnedBy(clash, d.metadata.uid)) {
          const status = { ...(d.status ?? {}), collisionCount: (d.status?.collisionCount ?? 0) + 1 };
          await client.updateStatus(R.deployments, { ...d, status });
          return;
        }
        throw err;
      }
    }
    for (const u of plan.update) {
      await client.update(R.replicasets, u.rs);
      this.expectations.expect(key, objectKey(u.rs), 'update', u.rs.metadata.resourceVersion);
      if (u.to !== u.from) {
        const verb = u.to > u.from ? 'up' : 'down';
        this.ctx.events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled ${verb} replica set ${u.rs.metadata.name} from ${u.from} to ${u.to}`);
      }
    }
    for (const rs of plan.delete) {
      try {
        await client.delete(R.replicasets, namespace, rs.metadata.name!);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.expectations.expect(key, objectKey(rs), 'delete');
    }
    let current = d;
    if (plan.revision && d.metadata.annotations?.[REVISION_ANNOTATION] !== plan.revision) {
      current = await client.update(R.deployments, { ...d, metadata: { ...d.metadata, annotations: { ...(d.metadata.annotations ?? {}), [REVISION_ANNOTATION]: plan.revision } } });
    }
    if (semanticJSON(d.status ?? {}) !== semanticJSON(plan.status)) {
      await client.updateStatus(R.deployments, { ...current, status: plan.status });
    }
    if (plan.recheckAfterMs !== undefined) this.queue.addAfter(key, plan.recheckAfterMs);
  }
}
