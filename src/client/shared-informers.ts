// The shared informer factory: one informer per (resource, namespace, selectors) per client, so
// every component of a process (agent, service proxy, policy enforcer, overlay, BGP, flows, DNS,
// gateway proxy, controllers) lists and watches each kind once. Components hold a lease on the
// shared informer: their own handlers, their own start/stop. The list-watch ends when the last
// started lease stops; a component that stops never ends a watch another one still reads.
// Cached objects are frozen: they are read-only to every consumer.
import type { KubeClient } from './client.js';
import { Informer, type InformerHandlers, type InformerScope } from './informer.js';
import type { ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';

/** One component's view of a shared informer. */
export class SharedInformer<T extends KubeObject = KubeObject> {
  private readonly handlers: InformerHandlers<T>[] = [];
  private started = false;

  constructor(
    private readonly entry: FactoryEntry,
    private readonly release: (entry: FactoryEntry) => void,
  ) {}

  private get informer(): Informer<T> {
    return this.entry.informer as unknown as Informer<T>;
  }

  get resource(): ResourceInfo {
    return this.informer.resource;
  }

  /** Registers handlers; when the cache is already synced, `add` is called for what it holds. */
  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
    this.informer.addHandlers(h);
  }

  get hasSynced(): boolean {
    return this.informer.hasSynced;
  }

  get lastSyncResourceVersion(): string {
    return this.informer.lastSyncResourceVersion;
  }

  list(): T[] {
    return this.informer.list();
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.informer.get(namespace, name);
  }

  /** Starts the shared list-watch if nobody has yet; resolves once the cache holds the first list. */
  start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.entry.refs++;
    }
    return this.informer.start();
  }

  /** Drops this component's handlers; the list-watch stops only when no started lease is left. */
  stop(): void {
    for (const h of this.handlers.splice(0)) this.informer.removeHandlers(h);
    if (!this.started) return;
    this.started = false;
    this.entry.refs--;
    if (this.entry.refs === 0) this.release(this.entry);
  }
}

interface FactoryEntry {
  key: string;
  informer: Informer;
  /** Started leases. */
  refs: number;
}

export interface SharedInformerStats {
  key: string;
  started: number;
  synced: boolean;
  objects: number;
}

const factories = new WeakMap<KubeClient, SharedInformerFactory>();

export class SharedInformerFactory {
  private readonly entries = new Map<string, FactoryEntry>();

  constructor(private readonly client: KubeClient) {}

  /** The factory of a client: every component using this client shares its informers. */
  static of(client: KubeClient): SharedInformerFactory {
    let f = factories.get(client);
    if (!f) factories.set(client, (f = new SharedInformerFactory(client)));
    return f;
  }

  /** A lease on the informer of a resource within a namespace/selectors (created on first use). */
  informer<T extends KubeObject = KubeObject>(r: ResourceInfo, scope: InformerScope = {}): SharedInformer<T> {
    const key = scopeKey(r, scope);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { key, informer: new Informer(this.client, r, scope, true), refs: 0 };
      this.entries.set(key, entry);
    }
    return new SharedInformer<T>(entry, (e) => {
      e.informer.stop();
      if (this.entries.get(e.key) === e) this.entries.delete(e.key);
    });
  }

  /** What the factory holds now (for tests and debugging). */
  stats(): SharedInformerStats[] {
    return [...this.entries.values()].map((e) => ({ key: e.key, started: e.refs, synced: e.informer.hasSynced, objects: e.informer.list().length }));
  }
}

/** The shared informer of a resource for this client (see SharedInformerFactory). */
export function sharedInformer<T extends KubeObject = KubeObject>(client: KubeClient, r: ResourceInfo, scope: InformerScope = {}): SharedInformer<T> {
  return SharedInformerFactory.of(client).informer<T>(r, scope);
}

function scopeKey(r: ResourceInfo, scope: InformerScope): string {
  return `${r.group}/${r.version}/${r.plural}?ns=${scope.namespace ?? ''}&l=${scope.labelSelector ?? ''}&f=${scope.fieldSelector ?? ''}`;
}

/** The groups that are running now, for the server's readyz (informer-sync). */
const runningGroups = new Set<InformerGroup>();

/** Required informers of the running groups that have not synced yet ("group/plural"). */
export function unsyncedInformers(): string[] {
  return [...runningGroups].flatMap((g) => g.unsynced());
}

/**
 * The informers of a set of components that start and stop together (the controllers of a
 * process), each a lease from the client's factory, with per-namespace indexes over them.
 */
export class InformerGroup {
  private readonly leases = new Map<string, SharedInformer>();
  private readonly indexes = new Map<string, NamespaceIndex<KubeObject>>();
  /** Informers the group cannot work without; start() waits for these to sync. */
  private readonly required = new Set<string>();
  private readonly factory: SharedInformerFactory;

  constructor(client: KubeClient) {
    this.factory = SharedInformerFactory.of(client);
    runningGroups.add(this);
  }

  unsynced(): string[] {
    return [...this.required].filter((key) => !this.leases.get(key)?.hasSynced);
  }

  /**
   * The informer of a resource. `optional` ones (the garbage collector's view of every kind)
   * start with the others but start() does not wait for them: a server that does not serve a
   * kind must not keep the controllers from starting.
   */
  for<T extends KubeObject = KubeObject>(r: ResourceInfo, opts: { optional?: boolean } = {}): SharedInformer<T> {
    const key = `${r.group}/${r.plural}`;
    if (!opts.optional) this.required.add(key);
    let lease = this.leases.get(key);
    if (!lease) {
      lease = this.factory.informer(r);
      this.leases.set(key, lease);
    }
    return lease as unknown as SharedInformer<T>;
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
    runningGroups.add(this);
    const waits: Promise<void>[] = [];
    for (const [key, lease] of this.leases) {
      const started = lease.start();
      if (this.required.has(key)) waits.push(started);
    }
    await Promise.all(waits);
  }

  stop(): void {
    runningGroups.delete(this);
    for (const lease of this.leases.values()) lease.stop();
  }
}

/** The objects of an informer grouped by namespace, kept current by the informer's handlers. */
export class NamespaceIndex<T extends KubeObject> {
  private readonly byNs = new Map<string, Map<string, T>>();
  constructor(readonly informer: SharedInformer<T>) {
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
    const i = key.indexOf('/');
    return i < 0 ? this.get(undefined, key) : this.get(key.slice(0, i), key.slice(i + 1));
  }
}
