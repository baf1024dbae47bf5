// The StatefulSet controller: pods `<name>-<ordinal>` in order, rolling updates and status, as
// statefulset-plan.ts decides; this file reads the caches and writes through the API.
import { R } from '../api/resources.js';
import { isAlreadyExists, isNotFound } from '../client/client.js';
import { objectKey } from '../client/informer.js';
import type { ControllerContext } from './context.js';
import { planStatefulSet, REVISION_LABEL, statefulSetRevision, type StatefulSet } from './statefulset-plan.js';
import { revisionTemplate, type ControllerRevision } from './controller-revisions.js';
import { syncRevisions } from './controller-revisions-sync.js';
import { isOwnedBy } from './replicaset-plan.js';
import { PodOwnerController } from './pod-owner.js';
import { controllerOf } from './types.js';

export class StatefulSetController extends PodOwnerController<StatefulSet> {
  private readonly revisions;
  /** StatefulSets already told that their volumeClaimTemplates get emptyDir volumes (by uid). */
  private readonly claimsNoticed = new Set<string>();

  constructor(ctx: ControllerContext) {
    super(ctx, { name: 'statefulset-controller', resource: R.statefulsets, workers: 4, adoptionSelector: (s) => s.spec.selector });
    this.revisions = ctx.informers.byNamespace<ControllerRevision>(R.controllerrevisions);
  }

  protected async reconcile(key: string, sts: StatefulSet): Promise<void> {
    const { namespace } = sts.metadata;
    const name = sts.metadata.name!;
    // Orphans only: a StatefulSet never releases its pods. A write means the cache shows new owners at the next sync.
    if (await this.claimPods(key, sts, sts.spec.selector, this.pods.list(namespace).filter((p) => !controllerOf(p)), false)) return;
    this.noticeClaimTemplates(sts);
    const pods = this.pods.list(namespace);
    const updateRevision = statefulSetRevision(sts);
    const live = new Set([updateRevision, sts.status?.currentRevision ?? '']);
    for (const p of pods) if (isOwnedBy(p, sts.metadata.uid)) live.add(p.metadata.labels?.[REVISION_LABEL] ?? '');
    const hash = updateRevision.slice(name.length + 1);
    const revisions = await syncRevisions(this.ctx, this.revisions, this.typed(sts), updateRevision, hash, live);
    const current = revisions.find((r) => r.metadata.name === sts.status?.currentRevision);
    const plan = planStatefulSet(sts, pods, Date.now(), revisionTemplate(current));
    for (const action of plan.actions) {
      if ('create' in action) {
        try {
          const made = await this.ctx.client.create(R.pods, action.create);
          this.expectations.expect(key, objectKey(made), 'create');
          this.ctx.events.record(sts, 'Normal', 'SuccessfulCreate', `create Pod ${made.metadata.name} in StatefulSet ${name} successful`);
        } catch (err) {
          if (isAlreadyExists(err)) continue; // a pod of that name is still going away; the cache will show it
          this.ctx.events.record(sts, 'Warning', 'FailedCreate', `create Pod ${action.create.metadata.name} in StatefulSet ${name} failed error: ${(err as Error).message}`);
          throw err;
        }
      } else {
        const pod = action.delete;
        try {
          await this.ctx.client.delete(R.pods, namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        this.expectations.expect(key, objectKey(pod), 'delete');
        this.ctx.events.record(sts, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${name} successful`);
      }
    }
    await this.writeStatus(sts, plan.status);
    this.recheckAfter(key, plan.recheckAfterMs);
  }

  private noticeClaimTemplates(sts: StatefulSet): void {
    const claims = (sts.spec.volumeClaimTemplates ?? []).map((c) => c.metadata?.name).filter(Boolean);
    const uid = sts.metadata.uid ?? '';
    if (claims.length === 0 || this.claimsNoticed.has(uid)) return;
    this.claimsNoticed.add(uid);
    this.ctx.events.record(
      sts,
      'Warning',
      'VolumeClaimTemplatesNotProvisioned',
      `flatnet has no PersistentVolumes: no PersistentVolumeClaims are created for volumeClaimTemplates ${claims.join(', ')}; each pod mounts an emptyDir volume of that name instead`,
    );
  }
}
