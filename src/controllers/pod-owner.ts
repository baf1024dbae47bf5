// What the controllers that own pods share (ReplicaSet, Job, DaemonSet, StatefulSet): a work queue
// keyed by the owner; a pod watch that queues the pod's controller and, for the kinds that adopt
// orphans, every owner whose selector matches an orphan; expectations, so that a sync waits until
// the cache shows the writes of the one before; adoption and release through controller references;
// and a status written only when it changed. Each controller supplies its reconcile step.
import { apiVersionOf, R, type ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { isNotFound } from '../client/client.js';
import { objectKey } from '../client/informer.js';
import type { NamespaceIndex } from '../client/shared-informers.js';
import { adopted, planClaims, released } from './claim.js';
import type { Controller, ControllerContext } from './context.js';
import { splitKey } from './context.js';
import { Expectations } from './expectations.js';
import { semanticJSON } from './names.js';
import { WorkQueue } from './queue.js';
import { matchesSelector, type LabelSelector } from './selector.js';
import { controllerOf, type Pod } from './types.js';

export interface PodOwnerOptions<T> {
  name: string;
  resource: ResourceInfo;
  workers: number;
  /** The selector by which an owner adopts orphan pods; absent for kinds that never adopt. */
  adoptionSelector?: (owner: T) => LabelSelector;
}

export abstract class PodOwnerController<T extends KubeObject> implements Controller {
  readonly name: string;
  protected readonly queue: WorkQueue;
  protected readonly expectations = new Expectations();
  protected readonly owners: NamespaceIndex<T>;
  protected readonly pods: NamespaceIndex<Pod>;

  constructor(
    protected readonly ctx: ControllerContext,
    private readonly options: PodOwnerOptions<T>,
  ) {
    this.name = options.name;
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }), { workers: options.workers });
    this.owners = ctx.informers.byNamespace<T>(options.resource);
    this.pods = ctx.informers.byNamespace<Pod>(R.pods);
    const enqueue = (o: T) => this.queue.add(objectKey(o));
    this.owners.informer.addHandlers({ add: enqueue, update: enqueue, delete: enqueue });
    const podChanged = (pod: Pod) => {
      const owner = controllerOf(pod);
      if (owner?.kind === options.resource.kind) this.queue.add(`${pod.metadata.namespace}/${owner.name}`);
      else if (!owner && options.adoptionSelector) {
        for (const o of this.owners.list(pod.metadata.namespace)) if (matchesSelector(options.adoptionSelector(o), pod.metadata.labels)) this.queue.add(objectKey(o));
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

  /** One step towards the owner's desired pods and status, once the cache shows the last step's writes. */
  protected abstract reconcile(key: string, owner: T): Promise<void>;

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const owner = this.owners.get(namespace, name);
    if (!owner) {
      this.expectations.forget(key);
      return;
    }
    if (!this.expectations.satisfied(key, (k) => this.pods.getByKey(k))) {
      this.queue.addAfter(key, 50);
      return;
    }
    await this.reconcile(key, owner);
  }

  /** The owner with the apiVersion and kind its controller references name (cache objects may lack them). */
  protected typed(owner: T): T {
    return { ...owner, apiVersion: apiVersionOf(this.options.resource), kind: this.options.resource.kind };
  }

  /**
   * Adopts the orphans among `candidates` that match the owner's selector and, with `release`,
   * releases the pods it controls that no longer match; true when it wrote (the next sync then
   * sees the new owners in the cache).
   */
  protected async claimPods(key: string, owner: T, selector: LabelSelector, candidates: Pod[], release: boolean): Promise<boolean> {
    const claims = planClaims(owner, selector, candidates);
    const ref = this.typed(owner);
    const writes = [...claims.adopt.map((p) => adopted(p, ref)), ...(release ? claims.release.map((p) => released(p, ref)) : [])];
    for (const p of writes) {
      await this.ctx.client.update(R.pods, p).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      this.expectations.expect(key, objectKey(p), 'update', p.metadata.resourceVersion);
    }
    return writes.length > 0;
  }

  /** Writes `status` when it differs from the owner's; true when it did. An owner deleted meanwhile is no error. */
  protected async writeStatus(owner: T, status: unknown): Promise<boolean> {
    if (semanticJSON(owner.status ?? {}) === semanticJSON(status)) return false;
    try {
      await this.ctx.client.updateStatus(this.options.resource, { ...owner, status } as KubeObject);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return true;
  }

  /** Syncs the owner again after `ms` (a deadline or a minimum-ready period the plan waits for). */
  protected recheckAfter(key: string, ms: number | undefined): void {
    if (ms !== undefined) this.queue.addAfter(key, ms + 10);
  }
}
