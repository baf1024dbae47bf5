// The disruption controller: keeps each PodDisruptionBudget's status (currentHealthy,
// desiredHealthy, expectedPods, disruptionsAllowed, disruptedPods, observedGeneration and the
// DisruptionAllowed condition) current from the pods it covers and their controllers' scales
// (disruption-plan.ts). The eviction subresource reads that status and decrements it.
import { R } from '../api/resources.js';
import { isConflict, isNotFound } from '../client/client.js';
import { objectKey } from '../client/informer.js';
import type { KubeObject } from '../api/types.js';
import type { Controller, ControllerContext } from './context.js';
import { splitKey } from './context.js';
import { semanticJSON } from './names.js';
import { WorkQueue } from './queue.js';
import { type PodDisruptionBudget, type ScaleLookup, planBudget } from './disruption-plan.js';
import type { Deployment, Pod, ReplicaSet } from './types.js';

interface StatefulSetLike extends KubeObject {
  spec?: { replicas?: number };
}

export class DisruptionController implements Controller {
  readonly name = 'disruption-controller';
  private readonly queue: WorkQueue;
  private readonly budgets;
  private readonly pods;
  private readonly replicaSets;
  private readonly deployments;
  private readonly statefulSets;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }), { workers: 4 });
    this.budgets = ctx.informers.byNamespace<PodDisruptionBudget>(R.poddisruptionbudgets);
    this.pods = ctx.informers.byNamespace<Pod>(R.pods);
    this.replicaSets = ctx.informers.byNamespace<ReplicaSet>(R.replicasets);
    this.deployments = ctx.informers.byNamespace<Deployment>(R.deployments);
    this.statefulSets = ctx.informers.byNamespace<StatefulSetLike>(R.statefulsets);
    const enqueue = (pdb: PodDisruptionBudget) => this.queue.add(objectKey(pdb));
    this.budgets.informer.addHandlers({ add: enqueue, update: enqueue, delete: enqueue });
    // A pod or a controller scale changed: every budget of its namespace may count differently.
    const namespaceChanged = (obj: KubeObject) => {
      for (const pdb of this.budgets.list(obj.metadata.namespace)) this.queue.add(objectKey(pdb));
    };
    for (const informer of [this.pods.informer, this.replicaSets.informer, this.deployments.informer, this.statefulSets.informer] as const) {
      informer.addHandlers({ add: namespaceChanged, update: namespaceChanged, delete: namespaceChanged });
    }
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  private readonly scales: ScaleLookup = {
    scaleOf: (namespace, owner) => {
      switch (owner.kind) {
        case 'ReplicaSet': {
          const rs = this.replicaSets.get(namespace, owner.name);
          if (!rs || rs.metadata.uid !== owner.uid) return undefined;
          // A Deployment's ReplicaSets share their Deployment's scale.
          const parent = rs.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Deployment');
          const deployment = parent ? this.deployments.get(namespace, parent.name) : undefined;
          if (deployment && deployment.metadata.uid === parent?.uid) return { uid: deployment.metadata.uid!, replicas: deployment.spec.replicas ?? 1 };
          return { uid: rs.metadata.uid!, replicas: rs.spec.replicas ?? 1 };
        }
        case 'StatefulSet': {
          const sts = this.statefulSets.get(namespace, owner.name);
          if (!sts || sts.metadata.uid !== owner.uid) return undefined;
          return { uid: sts.metadata.uid!, replicas: sts.spec?.replicas ?? 1 };
        }
        default:
          return undefined;
      }
    },
  };

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pdb = this.budgets.get(namespace, name);
    if (!pdb || pdb.metadata.deletionTimestamp) return;
    const now = Date.now();
    const pods = this.pods.list(namespace);
    const plan = planBudget(pdb, pods, this.scales, now);
    for (const pod of plan.notDeleted) {
      this.ctx.events.record(pod, 'Warning', 'NotDeleted', `Pod was expected by PDB ${namespace}/${name} to be deleted but it wasn't`);
    }
    if (plan.recheckAt !== undefined) this.queue.addAfter(key, plan.recheckAt - now + 1);
    if (pdb.status && semanticJSON(pdb.status) === semanticJSON(plan.status)) return;
    // Events only when the status changes, so a quiet budget does not repeat them on every pod update.
    if (plan.error) this.ctx.events.record(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${plan.error}`);
    else if (plan.coveredPods === 0) this.ctx.events.record(pdb, 'Normal', 'NoPods', 'No matching pods found');
    try {
      await this.ctx.client.updateStatus(R.poddisruptionbudgets, { ...pdb, status: plan.status });
    } catch (err) {
      if (isNotFound(err)) return;
      if (isConflict(err)) {
        // The eviction subresource wrote the status meanwhile; the informer brings the new one.
        this.queue.addAfter(key, 100);
        return;
      }
      throw err;
    }
  }
}
