// The garbage collector: deletes objects whose owners (by uid) are all gone, drops owner
// references to owners that are gone while others remain, and carries out the Orphan and
// Foreground propagation of an owner being deleted (its `orphan` / `foregroundDeletion`
// finalizers). It watches every served resource except Events and keeps two indexes: uid ->
// object, and owner uid -> dependents.
import { RESOURCES, findByKind, type ResourceInfo } from '../api/resources.js';
import type { KubeObject, OwnerReference } from '../api/types.js';
import { isConflict, isNotFound } from '../client/client.js';
import type { Controller, ControllerContext } from './context.js';
import { WorkQueue } from './queue.js';

interface Ref {
  r: ResourceInfo;
  namespace?: string;
  name: string;
}

const refKey = (r: ResourceInfo, ns: string | undefined, name: string) => `${r.group}/${r.plural}|${ns ?? ''}|${name}`;

export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

export type DependentAction = { kind: 'none' } | { kind: 'delete' } | { kind: 'keep-owners'; owners: OwnerReference[] };

/** What to do with an object given which of its owners (by uid) are gone. */
export function dependentAction(owners: OwnerReference[], gone: Set<string>): DependentAction {
  const left = owners.filter((o) => !gone.has(o.uid));
  if (owners.length === 0 || left.length === owners.length) return { kind: 'none' };
  if (left.length === 0) return { kind: 'delete' };
  return { kind: 'keep-owners', owners: left };
}

/** The owner references left after an owner is deleted with propagationPolicy Orphan. */
export function orphaned(obj: KubeObject, ownerUid: string): OwnerReference[] {
  return (obj.metadata.ownerReferences ?? []).filter((o) => o.uid !== ownerUid);
}

export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  private readonly queue: WorkQueue;
  private readonly byUid = new Map<string, Ref>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly refs = new Map<string, Ref>();
  private readonly resources: ResourceInfo[];

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }), { workers: 4 });
    this.resources = RESOURCES.filter((r) => r.plural !== 'events' && r.verbs.includes('watch'));
    for (const r of this.resources) {
      ctx.informers.for(r, { optional: true }).addHandlers({
        add: (o) => this.observe(r, o),
        update: (o, old) => this.observe(r, o, old),
        delete: (o) => this.forget(r, o),
      });
    }
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  private observe(r: ResourceInfo, o: KubeObject, old?: KubeObject): void {
    const key = refKey(r, o.metadata.namespace, o.metadata.name ?? '');
    const ref: Ref = { r, namespace: o.metadata.namespace, name: o.metadata.name ?? '' };
    this.refs.set(key, ref);
    if (o.metadata.uid) this.byUid.set(o.metadata.uid, ref);
    for (const owner of old?.metadata.ownerReferences ?? []) this.dependents.get(owner.uid)?.delete(key);
    const owners = o.metadata.ownerReferences ?? [];
    for (const owner of owners) {
      let set = this.dependents.get(owner.uid);
      if (!set) this.dependents.set(owner.uid, (set = new Set()));
      set.add(key);
    }
    if (owners.some((ow) => !this.byUid.has(ow.uid))) this.queue.add(`dep:${key}`);
    const fin = o.metadata.finalizers ?? [];
    if (o.metadata.deletionTimestamp && (fin.includes(ORPHAN_FINALIZER) || fin.includes(FOREGROUND_FINALIZER))) this.queue.add(`owner:${key}`);
  }

  private forget(r: ResourceInfo, o: KubeObject): void {
    const key = refKey(r, o.metadata.namespace, o.metadata.name ?? '');
    this.refs.delete(key);
    if (o.metadata.uid) this.byUid.delete(o.metadata.uid);
    for (const owner of o.metadata.ownerReferences ?? []) {
      this.dependents.get(owner.uid)?.delete(key);
      // An owner in foreground deletion waits for this dependent: look at it again.
      const ownerRef = this.byUid.get(owner.uid);
      if (ownerRef) this.queue.add(`owner:${refKey(ownerRef.r, ownerRef.namespace, ownerRef.name)}`);
    }
    const deps = o.metadata.uid ? this.dependents.get(o.metadata.uid) : undefined;
    if (deps) {
      this.dependents.delete(o.metadata.uid!);
      for (const d of deps) this.queue.add(`dep:${d}`);
    }
  }

  private cached(key: string): KubeObject | undefined {
    const ref = this.refs.get(key);
    return ref ? this.ctx.informers.for(ref.r, { optional: true }).get(ref.namespace, ref.name) : undefined;
  }

  private async sync(key: string): Promise<void> {
    if (key.startsWith('dep:')) return this.syncDependent(key.slice(4));
    return this.syncOwner(key.slice(6));
  }

  /** Does the owner exist? The cache first; a miss is confirmed with a live read (caches lag). */
  private async ownerExists(dependent: KubeObject, ref: OwnerReference): Promise<boolean> {
    if (this.byUid.has(ref.uid)) return true;
    const r = findByKind(ref.apiVersion, ref.kind);
    if (!r) return true; // a kind we do not serve: leave the reference alone
    const live = await this.ctx.client.get(r, r.namespaced ? dependent.metadata.namespace : undefined, ref.name);
    return live?.metadata.uid === ref.uid;
  }

  private async syncDependent(key: string): Promise<void> {
    const obj = this.cached(key);
    const ref = this.refs.get(key);
    if (!obj || !ref || obj.metadata.deletionTimestamp) return;
    const owners = obj.metadata.ownerReferences ?? [];
    if (owners.length === 0) return;
    const gone = new Set<string>();
    for (const o of owners) if (!(await this.ownerExists(obj, o))) gone.add(o.uid);
    const action = dependentAction(owners, gone);
    if (action.kind === 'none') return;
    if (action.kind === 'delete') {
      this.ctx.log.debug('deleting object whose owners are gone', { resource: ref.r.plural, namespace: ref.namespace, name: ref.name });
      await this.ctx.client.delete(ref.r, ref.namespace, ref.name, { propagationPolicy: 'Background', preconditions: { uid: obj.metadata.uid } }).catch((err) => {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      });
      return;
    }
    await this.setOwners(ref, obj, action.owners);
  }

  private async setOwners(ref: Ref, obj: KubeObject, owners: OwnerReference[]): Promise<void> {
    const metadata: KubeObject['metadata'] = { ...obj.metadata, ownerReferences: owners };
    if (owners.length === 0) delete metadata.ownerReferences;
    await this.ctx.client.update(ref.r, { ...obj, metadata }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }

  private async syncOwner(key: string): Promise<void> {
    const owner = this.cached(key);
    const ref = this.refs.get(key);
    if (!owner || !ref || !owner.metadata.deletionTimestamp) return;
    const finalizers = owner.metadata.finalizers ?? [];
    const uid = owner.metadata.uid ?? '';
    const deps = [...(this.dependents.get(uid) ?? [])].map((k) => ({ key: k, ref: this.refs.get(k), obj: this.cached(k) })).filter((d) => d.ref && d.obj);
    if (finalizers.includes(ORPHAN_FINALIZER)) {
      for (const d of deps) {
        await this.setOwners(d.ref!, d.obj!, orphaned(d.obj!, uid));
      }
      await this.removeFinalizer(ref, owner, ORPHAN_FINALIZER);
      return;
    }
    if (finalizers.includes(FOREGROUND_FINALIZER)) {
      if (deps.length > 0) {
        for (const d of deps) {
          if (d.obj!.metadata.deletionTimestamp) continue;
          await this.ctx.client.delete(d.ref!.r, d.ref!.namespace, d.ref!.name, { propagationPolicy: 'Foreground' }).catch((err) => {
            if (!isNotFound(err)) throw err;
          });
        }
        this.queue.addAfter(`owner:${key}`, 1000); // dependents' deletions also wake us
        return;
      }
      await this.removeFinalizer(ref, owner, FOREGROUND_FINALIZER);
    }
  }

  private async removeFinalizer(ref: Ref, obj: KubeObject, finalizer: string): Promise<void> {
    const rest = (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    const metadata: KubeObject['metadata'] = { ...obj.metadata, finalizers: rest };
    if (rest.length === 0) delete metadata.finalizers;
    await this.ctx.client.update(ref.r, { ...obj, metadata }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
}
