// One informer per resource shared by every controller in the process, so pods are listed and
// watched once however many controllers read them.
import type { KubeClient } from '../client/client.js';
import { Informer } from '../client/informer.js';
import type { ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { splitKey } from './context.js';

/** The controllers' informer sets of this process, for the server's readyz (informer-sync). */
const running = new Set<SharedInformers>();

/** Required informers of the running controllers that have not synced yet ("group/plural"). */
export function unsyncedControllerInformers(): string[] {
  return [...running].flatMap((s) => s.unsynced());
}

export class SharedInformers {
  private readonly informers = new Map<string, Informer>();
  private readonly indexes = new Map<string, NamespaceIndex<KubeObject>>();
  /** Informers a controller cannot work without; start() waits for these to sync. */
  private readonly required = new Set<string>();
  constructor(private readonly client: KubeClient) {
    running.add(this);
  }

  unsynced(): string[] {
    return [...this.required].filter((key) => !this.informers.get(key)?.hasSynced);
  }

  /**
   * The informer of a resource. `optional` ones (the garbage collector's view of every kind)
   * start with the others but start() does not wait for them: a server that does not serve a
   * kind must not keep the controllers from starting.
   */
  for<T extends KubeObject = KubeObject>(r: ResourceInfo, opts: { optional?: boolean } = {}): Informer<T> {
    const key = `${r.group}/${r.plural}`;
    if (!opts.optional) this.required.add(key);
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new Informer(this.client, r);
      this.informers.set(key, inf);
    }
    return inf as unknown as Informer<T>;
  }

  /** A per-namespace index over a resource's informer (shared too). */
  byNamespace<T extends KubeObject = KubeObject>(r: ResourceInfo): NamespaceIndex<T> {
    const key = `${r.group}/${r.plural}`;
    let idx = this.indexes.get(key);
    if (!idx) {
      idx = new NamespaceIndex(this.for(r));
      this.indexes.set(key, idx);
    }
    return idx as unknown as NamespaceIndex<T>;
  }

  async start(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const [key, inf] of this.informers) {
      const started = inf.start();
      if (this.required.has(key)) waits.push(started);
    }
    await Promise.all(waits);
  }

  stop(): void {
    running.delete(this);
    for (const i of this.informers.values()) i.stop();
  }
}

/** The objects of an informer grouped by namespace, kept current by the informer's handlers. */
export class NamespaceIndex<T extends KubeObject> {
  private readonly byNs = new Map<string, Map<string, T>>();
  constructor(readonly informer: Informer<T>) {
    informer.addHandlers({
      add: (o) => this.put(o),
      update: (o) => this.put(o),
      delete: (o) => {
        const m = this.byNs.get(o.metadata.namespace ?? '');
        m?.delete(o.metadata.name ?? '');
        if (m && m.size === 0) this.byNs.delete(o.metadata.namespace ?? '');
      },
    });
  }
  private put(o: T): void {
    const ns = o.metadata.namespace ?? '';
    let m = this.byNs.get(ns);
    if (!m) this.byNs.set(ns, (m = new Map()));
    m.set(o.metadata.name ?? '', o);
  }
  list(namespace: string | undefined): T[] {
    return [...(this.byNs.get(namespace ?? '')?.values() ?? [])];
  }
  get(namespace: string | undefined, name: string): T | undefined {
    return this.byNs.get(namespace ?? '')?.get(name);
  }
  /** The object of a `namespace/name` (or cluster-scoped `name`) key, as work queues hold them. */
  getByKey(key: string): T | undefined {
    const { namespace, name } = splitKey(key);
    return this.get(namespace, name);
  }
}
