// The StatefulSet controller: pods `<name>-<ordinal>` in order, rolling updates and status, as
// statefulset-plan.ts decides; this file reads the caches and writes through the API.
import { R } from '../api/resources.js';
import { isAlreadyExists, isNotFound } from '../client/client.js';
import { objectKey } from '../client/informer.js';
import type { Controller, ControllerContext } from './context.js';
import { splitKey } from './context.js';
import { Expectations } from './expectations.js';
import { semanticJSON } from './names.js';
import { WorkQueue } from './queue.js';
import { matchesSelector } from './selector.js';
import { planStatefulSet, REVISION_LABEL, statefulSetRevision, type StatefulSet } from './statefulset-plan.js';
import { revisionTemplate, type ControllerRevision } from './controller-revisions.js';
import { syncRevisions } from './controller-revisions-sync.js';
import { isOwnedBy } from './replicaset-plan.js';
import { controllerOf, type Pod } from './types.js';
import { adopted, planClaims } from './claim.js';

export class StatefulSetController implements Controller {
  readonly name = 'statefulset-controller';
  private readonly queue: WorkQueue;
  private readonly expectations = new Expectations();
  private readonly sets;
  private readonly pods;
  private readonly revisions;
  /** StatefulSets already told that their volumeClaimTemplates get emptyDir volumes (by uid). */
  private readonly claimsNoticed = new Set<string>();

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }), { workers: 4 });
    this.sets = ctx.informers.byNamespace<StatefulSet>(R.statefulsets);
    this.pods = ctx.informers.byNamespace<Pod>(R.pods);
    this.revisions = ctx.informers.byNamespace<ControllerRevision>(R.controllerrevisions);
    const enqueue = (s: StatefulSet) => this.queue.add(objectKey(s));
    this.sets.informer.addHandlers({ add: enqueue, update: enqueue, delete: enqueue });
    const podChanged = (pod: Pod) => {
      const owner = controllerOf(pod);
      if (owner?.kind === 'StatefulSet') this.queue.add(`${pod.metadata.namespace}/${owner.name}`);
      else if (!owner) for (const s of this.sets.list(pod.metadata.namespace)) if (matchesSelector(s.spec.selector, pod.metadata.labels)) this.queue.add(objectKey(s));
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
    const sts = this.sets.get(namespace, name);
    if (!sts) {
      this.expectations.forget(key);
      return;
    }
    if (!this.expectations.satisfied(key, (k) => this.pods.getByKey(k))) {
      this.queue.addAfter(key, 50);
      return;
    }
    if (await this.adoptOrphans(key, sts)) return;
    this.noticeClaimTemplates(sts);
    const pods = this.pods.list(namespace);
    const updateRevision = statefulSetRevision(sts);
    const live = new Set([updateRevision, sts.status?.currentRevision ?? '']);
    for (const p of pods) if (isOwnedBy(p, sts.metadata.uid)) live.add(p.metadata.labels?.[REVISION_LABEL] ?? '');
    const hash = updateRevision.slice((sts.metadata.name ?? '').length + 1);
    const revisions = await syncRevisions(this.ctx, this.revisions, { ...sts, apiVersion: 'apps/v1', kind: 'StatefulSet' }, updateRevision, hash, live);
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
    if (semanticJSON(sts.status ?? {}) !== semanticJSON(plan.status)) {
      try {
        await this.ctx.client.updateStatus(R.statefulsets, { ...sts, status: plan.status });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (plan.recheckAfterMs !== undefined) this.queue.addAfter(key, plan.recheckAfterMs + 10);
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

  /** Adopts orphan pods matching the selector; true when it wrote. */
  private async adoptOrphans(key: string, sts: StatefulSet): Promise<boolean> {
    const claims = planClaims(sts, sts.spec.selector, this.pods.list(sts.metadata.namespace).filter((p) => !controllerOf(p)));
    for (const p of claims.adopt) {
      const next = adopted(p, { ...sts, apiVersion: 'apps/v1', kind: 'StatefulSet' });
      await this.ctx.client.update(R.pods, next).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      this.expectations.expect(key, objectKey(p), 'update', p.metadata.resourceVersion);
    }
    return claims.adopt.length > 0;
  }
}
