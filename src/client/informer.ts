// An informer: lists a resource, keeps a cache current by watching from the list's
// resourceVersion, resumes a watch that ended, relists after 410 Gone, and tells handlers about
// every add, update and delete. Components build their desired state from these caches.
import { EventEmitter } from 'node:events';
import type { KubeClient, ListOptions } from './client.js';
import type { ResourceInfo } from '../api/resources.js';
import type { KubeObject, Status, WatchEvent } from '../api/types.js';
import { createLogger } from '../util/log.js';

const log = createLogger('informer');

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(obj: T, old: T): void;
  delete?(obj: T): void;
}

/** What an informer lists and watches within its resource. */
export type InformerScope = Pick<ListOptions, 'namespace' | 'labelSelector' | 'fieldSelector'>;

/** Freezes an object and everything it holds; the cache's objects are then read-only to handlers. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const v of Object.values(value as object)) deepFreeze(v);
  return value;
}

/** What a component reads of an informer: a private one or a lease on a shared one (shared-informers.ts). */
export type InformerView<T extends KubeObject = KubeObject> = Pick<Informer<T>, 'resource' | 'addHandlers' | 'hasSynced' | 'list' | 'get' | 'start' | 'stop'>;

export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name}` : (obj.metadata.name ?? '');
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly events = new EventEmitter();
  private resourceVersion = '';
  private running = false;
  private synced = false;
  private stopWatch: (() => void) | undefined;
  private retryDelayMs = 100;

  constructor(
    private readonly client: KubeClient,
    readonly resource: ResourceInfo,
    private readonly options: InformerScope = {},
    /** Freeze every cached object (deeply) so that no consumer of a shared cache can change it. */
    private readonly readOnly = false,
  ) {}

  /** Register handlers; when the cache is already synced, `add` is called for what it holds. */
  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
    if (this.synced) for (const obj of this.cache.values()) h.add?.(obj);
  }

  /** Unregisters handlers given to addHandlers (the same object). */
  removeHandlers(h: InformerHandlers<T>): void {
    const i = this.handlers.indexOf(h);
    if (i >= 0) this.handlers.splice(i, 1);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  /** Starts the list-watch loop; resolves once the first list is in the cache. */
  start(): Promise<void> {
    if (!this.running) {
      this.running = true;
      void this.loop();
    }
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.events.once('synced', resolve));
  }

  stop(): void {
    this.running = false;
    this.stopWatch?.();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        if (!this.resourceVersion) await this.relist();
        const expired = await this.watchOnce();
        if (expired) this.resourceVersion = '';
        this.retryDelayMs = 100;
      } catch (err) {
        if (!this.running) return;
        log.debug('list/watch failed; retrying', { resource: this.resource.plural, err: (err as Error).message, delayMs: this.retryDelayMs });
        await new Promise((r) => setTimeout(r, this.retryDelayMs));
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, 5000);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.client.list<T>(this.resource, this.options);
    const seen = new Set<string>();
    for (const obj of list.items) {
      obj.apiVersion ??= list.apiVersion;
      obj.kind ??= this.resource.kind;
      const key = objectKey(obj);
      seen.add(key);
      this.store(obj);
    }
    for (const [key, old] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        for (const h of this.handlers) h.delete?.(old);
      }
    }
    this.resourceVersion = list.metadata.resourceVersion;
    if (!this.synced) {
      this.synced = true;
      this.events.emit('synced');
    }
  }

  private store(obj: T): void {
    if (this.readOnly) deepFreeze(obj);
    const key = objectKey(obj);
    const old = this.cache.get(key);
    this.cache.set(key, obj);
    for (const h of this.handlers) {
      if (old) {
        if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) h.update?.(obj, old);
      } else h.add?.(obj);
    }
  }

  /** Watches until the stream ends; answers true when the server said our version is too old. */
  private async watchOnce(): Promise<boolean> {
    let expired = false;
    const handle = this.client.watch<T>(
      this.resource,
      { ...this.options, resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 + Math.floor(Math.random() * 300) },
      (ev: WatchEvent<T>) => this.onEvent(ev, () => (expired = true)),
    );
    this.stopWatch = handle.stop;
    const err = await handle.done;
    this.stopWatch = undefined;
    if (err && (err as { code?: number }).code === 410) return true;
    if (err) throw err;
    return expired;
  }

  private onEvent(ev: WatchEvent<T>, markExpired: () => void): void {
    const obj = ev.object;
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED':
        obj.apiVersion ??= this.resource.group ? `${this.resource.group}/${this.resource.version}` : this.resource.version;
        obj.kind ??= this.resource.kind;
        this.store(obj);
        break;
      case 'DELETED': {
        if (this.readOnly) deepFreeze(obj);
        const key = objectKey(obj);
        const old = this.cache.get(key);
        this.cache.delete(key);
        if (old || obj) for (const h of this.handlers) h.delete?.(obj);
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const status = obj as unknown as Status;
        // 410 Expired, or a server behind our resourceVersion (restarted on an older store): relist.
        if (status.code === 410 || status.details?.causes?.some((c) => c.reason === 'ResourceVersionTooLarge')) markExpired();
        else log.warn('watch error event', { resource: this.resource.plural, status });
        this.stopWatch?.();
        return;
      }
    }
    if (obj?.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
  }
}
