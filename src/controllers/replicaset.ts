// The ReplicaSet controller: creates and deletes pods until a ReplicaSet has its replicas,
// and keeps its status (replicas, ready, available, observedGeneration) current.
import { R } from '../api/resources.js';
import type { ControllerContext } from './context.js';
import { PodOwnerController } from './pod-owner.js';
import { writeOwnedPods } from './pod-writes.js';
import { planReplicaSet, podFromTemplate } from './replicaset-plan.js';
import type { ReplicaSet } from './types.js';

export class ReplicaSetController extends PodOwnerController<ReplicaSet> {
  constructor(ctx: ControllerContext) {
    super(ctx, { name: 'replicaset-controller', resource: R.replicasets, workers: 8, adoptionSelector: (rs) => rs.spec.selector });
  }

  protected async reconcile(key: string, rs: ReplicaSet): Promise<void> {
    const namespace = rs.metadata.namespace;
    // Finished pods are neither adopted nor released; a write means the cache shows new owners at the next sync.
    const running = this.pods.list(namespace).filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    if (await this.claimPods(key, rs, rs.spec.selector, running, true)) return;
    const plan = planReplicaSet(rs, this.pods.list(namespace), Date.now());
    if (!rs.metadata.deletionTimestamp) {
      const creates = Array.from({ length: plan.create }, () => podFromTemplate(rs));
      await writeOwnedPods(this.ctx, this.expectations, key, rs, creates, plan.delete);
    }
    await this.writeStatus(rs, plan.status);
    this.recheckAfter(key, plan.recheckAfterMs);
  }
}
