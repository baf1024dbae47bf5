// The Store: every API object, keyed by resource ("group/plural"), namespace and name, with a
// single global revision that serves as resourceVersion, optimistic concurrency, and a bounded
// per-resource history of changes that watches replay. Reads are synchronous. Each write is one
// atomic step, offered twice: synchronously, and as a promise (createAsync, updateAsync,
// deleteAsync) so a store whose writes travel to another process (etcd) can have many in flight
// at once. A store whose writes are local settles the promise with the result computed at the
// call, so a read-modify-write that awaits it never interleaves with another write there.
import type { KubeObject } from '../api/types.js';

/** One stored object. Entries are immutable: a change makes a new entry. */
export interface StoreEntry {
  readonly ns: string;
  readonly name: string;
  /** The revision of the write that produced this entry (= metadata.resourceVersion). */
  readonly rev: number;
  /** The object; callers must never mutate it (copy with JSON.parse(entry.json)). */
  readonly obj: KubeObject;
  /** The object serialized once, reused by every response and watch event. */
  readonly json: string;
}

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: StoreEventType;
  readonly rev: number;
  readonly resource: string;
  /** The object after the change; for DELETED, the object as it was deleted. */
  readonly entry: StoreEntry;
  /** The object before the change; undefined for ADDED; null when history does not know it. */
  readonly prev: StoreEntry | undefined | null;
  /** Per-event memo for serialized forms (encoded watch lines, tables), shared by every watcher. */
  memo?: Map<string, Buffer>;
}

export type StoreErrorReason = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Expired' | 'TooLarge';

export class StoreError extends Error {
  constructor(
    readonly reason: StoreErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface ListResult {
  entries: StoreEntry[];
  /** The revision this list is a snapshot of (the list's metadata.resourceVersion). */
  revision: number;
  /** How many entries come after the last returned one (set when a limit cut the list). */
  remaining: number;
}

export interface ListOptions {
  /** Only this namespace; undefined = all. */
  ns?: string;
  /** A consistent snapshot at this past revision (Expired when history no longer reaches it). */
  atRevision?: number;
  /** Start after this key ("ns/name", as returned by entryKey). */
  after?: string;
  /** Keep entries for which this is true (selectors), before limit. */
  filter?: (e: StoreEntry) => boolean;
  /** At most this many entries. */
  limit?: number;
}

export type WatchListener = (ev: StoreEvent) => void;

export interface Store {
  /** The newest revision written. */
  readonly revision: number;
  get(resource: string, ns: string, name: string): StoreEntry | undefined;
  list(resource: string, opts?: ListOptions): ListResult;
  count(resource: string): number;
  /** Resources that hold at least one object. */
  resources(): string[];
  /** Stores a new object; sets metadata.resourceVersion on `obj`, which the store then owns. */
  create(resource: string, obj: KubeObject): StoreEntry;
  /** Replaces an object; `expectedRev` (when given) must be the stored revision or Conflict. */
  update(resource: string, obj: KubeObject, expectedRev?: number): StoreEntry;
  delete(resource: string, ns: string, name: string, expectedRev?: number): StoreEntry;
  /** create, answered as a promise (rejected with the same errors). */
  createAsync(resource: string, obj: KubeObject): Promise<StoreEntry>;
  /** update, answered as a promise; with etcd, Conflict also when another write got there first. */
  updateAsync(resource: string, obj: KubeObject, expectedRev?: number): Promise<StoreEntry>;
  /** delete, answered as a promise. */
  deleteAsync(resource: string, ns: string, name: string, expectedRev?: number): Promise<StoreEntry>;
  /**
   * Calls `listener` for every change of `resource` after `fromRevision`: first the retained
   * history (synchronously), then live changes. Throws Expired when history no longer reaches it.
   */
  watch(resource: string, fromRevision: number, listener: WatchListener): () => void;
  /** Number of active watch listeners (for metrics). */
  watcherCount(): number;
  /** Resolves when every write made so far is durable (at once for the memory store). */
  sync(): Promise<void>;
  /** A cheap read of the backing storage (health checks): throws when it cannot be read. */
  check?(): void;
  close(): void;
}

/** The result of a synchronous step as a settled promise (for stores whose writes are local). */
export function settled<T>(step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (err) {
    return Promise.reject(err as Error);
  }
}

export function entryKey(ns: string, name: string): string {
  return `${ns}/${name}`;
}

export function objectNamespace(obj: KubeObject): string {
  return obj.metadata.namespace ?? '';
}
