// The in-memory store: current objects per resource and namespace, sorted key caches for fast
// paged lists, and a bounded per-resource event history for watches and snapshot reads. The
// SQLite store is this same cache with a Persistence that writes each change through.
import type { KubeObject } from '../api/types.js';
import { createLogger } from '../util/log.js';
import {
  type ListOptions,
  type ListResult,
  type Store,
  type StoreEntry,
  type StoreEvent,
  type StoreEventType,
  type WatchListener,
  StoreError,
  entryKey,
  objectNamespace,
  settled,
} from './types.js';

const log = createLogger('store');

/**
 * Where a durable store writes each change. Writes may be batched (group commit); `sync`
 * resolves once everything written so far is durable, and answers are sent only after it.
 */
export interface Persistence {
  write(change: { type: StoreEventType; resource: string; ns: string; name: string; rev: number; json: string }): void;
  sync(): Promise<void>;
  /** History of `resource` up to and including `rev` is no longer needed. */
  compact(resource: string, rev: number): void;
  /** A cheap read of the storage: throws when it cannot be read. */
  check?(): void;
  close(): void;
}

export interface MemoryStoreOptions {
  /** Events kept per resource for watches and snapshots (default 20000). */
  historyLimit?: number;
  /**
   * Serialized bytes of retained history across all resources (default 64 MiB): the oldest events
   * of the resource holding most go first, so a few huge objects cannot pin hundreds of MB.
   */
  historyBytes?: number;
  /** The largest serialized object a write may store (default 1.5 MiB, etcd's request limit). */
  maxObjectBytes?: number;
  persistence?: Persistence;
}

class ResourceState {
  readonly byNs = new Map<string, Map<string, StoreEntry>>();
  size = 0;
  /** Sorted namespace names; null when a namespace appeared or vanished. */
  sortedNs: string[] | null = null;
  /** Sorted entry names per namespace; missing when that namespace changed membership. */
  readonly sortedNames = new Map<string, string[]>();
  history: StoreEvent[] = [];
  /** The serialized size of the entries in history. */
  historyBytes = 0;
  /** Events with rev <= compactedRev may be missing from history. */
  compactedRev = 0;
  readonly listeners = new Set<WatchListener>();

  get(ns: string, name: string): StoreEntry | undefined {
    return this.byNs.get(ns)?.get(name);
  }

  put(e: StoreEntry): void {
    let m = this.byNs.get(e.ns);
    if (!m) {
      m = new Map();
      this.byNs.set(e.ns, m);
      this.sortedNs = null;
    }
    if (!m.has(e.name)) {
      this.size++;
      this.sortedNames.delete(e.ns);
    }
    m.set(e.name, e);
  }

  remove(ns: string, name: string): void {
    const m = this.byNs.get(ns);
    if (!m || !m.delete(name)) return;
    this.size--;
    this.sortedNames.delete(ns);
    if (m.size === 0) {
      this.byNs.delete(ns);
      this.sortedNs = null;
    }
  }

  namespaces(): string[] {
    if (!this.sortedNs) this.sortedNs = [...this.byNs.keys()].sort(compare);
    return this.sortedNs;
  }

  names(ns: string): string[] {
    let names = this.sortedNames.get(ns);
    if (!names) {
      names = [...(this.byNs.get(ns)?.keys() ?? [])].sort(compare);
      this.sortedNames.set(ns, names);
    }
    return names;
  }

  /** The first history index whose rev is greater than `rev`. */
  historyIndexAfter(rev: number): number {
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid].rev <= rev) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

export const DEFAULT_HISTORY_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_OBJECT_BYTES = 1536 * 1024;

export class MemoryStore implements Store {
  private rev = 0;
  private readonly state = new Map<string, ResourceState>();
  private readonly historyLimit: number;
  private readonly historyBytesLimit: number;
  private readonly maxObjectBytes: number;
  private historyBytesTotal = 0;
  private readonly persistence: Persistence | undefined;
  private listenerTotal = 0;
  /** While loading: the newest loaded entry per key, to link each event to its predecessor. */
  private loadLast = new Map<string, Map<string, StoreEntry | null>>();

  constructor(opts: MemoryStoreOptions = {}) {
    this.historyLimit = opts.historyLimit ?? 20000;
    this.historyBytesLimit = opts.historyBytes ?? DEFAULT_HISTORY_BYTES;
    this.maxObjectBytes = opts.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
    this.persistence = opts.persistence;
  }

  get revision(): number {
    return this.rev;
  }

  private resource(resource: string): ResourceState {
    let s = this.state.get(resource);
    if (!s) {
      s = new ResourceState();
      this.state.set(resource, s);
    }
    return s;
  }

  // ---- loading (used by durable stores at start) ----

  /** Puts an object loaded from disk without recording an event. */
  loadObject(resource: string, obj: KubeObject, json: string): void {
    const rev = Number(obj.metadata.resourceVersion);
    this.resource(resource).put({ ns: objectNamespace(obj), name: obj.metadata.name ?? '', rev, obj, json });
    if (rev > this.rev) this.rev = rev;
  }

  /** Appends a historic event loaded from disk (in revision order). */
  loadEvent(resource: string, type: StoreEventType, obj: KubeObject, json: string, rev: number): void {
    const s = this.resource(resource);
    const ns = objectNamespace(obj);
    const name = obj.metadata.name ?? '';
    const entry: StoreEntry = { ns, name, rev, obj, json };
    const key = entryKey(ns, name);
    let last = this.loadLast.get(resource);
    if (!last) this.loadLast.set(resource, (last = new Map()));
    const prev: StoreEntry | null | undefined = type === 'ADDED' ? undefined : (last.get(key) ?? null);
    last.set(key, type === 'DELETED' ? null : entry);
    s.history.push({ type, rev, resource, entry, prev });
    s.historyBytes += json.length;
    this.historyBytesTotal += json.length;
    if (rev > this.rev) this.rev = rev;
  }

  /** Moves the revision forward to `revision` (a no-op when it is there already): the next write gets `revision` + 1. */
  advanceRevision(revision: number): void {
    if (revision > this.rev) this.rev = revision;
  }

  /** Sets the compaction mark and revision after loading. */
  finishLoad(compacted: Map<string, number>, revision: number): void {
    for (const [resource, rev] of compacted) this.resource(resource).compactedRev = rev;
    this.advanceRevision(revision);
    this.loadLast.clear();
    for (const [resource, s] of this.state) this.trimHistory(resource, s);
    this.trimHistoryBytes();
  }

  // ---- reads ----

  get(resource: string, ns: string, name: string): StoreEntry | undefined {
    return this.state.get(resource)?.get(ns, name);
  }

  count(resource: string): number {
    return this.state.get(resource)?.size ?? 0;
  }

  resources(): string[] {
    return [...this.state.entries()].filter(([, s]) => s.size > 0).map(([r]) => r);
  }

  list(resource: string, opts: ListOptions = {}): ListResult {
    const s = this.state.get(resource);
    const revision = opts.atRevision ?? this.rev;
    if (!s) return { entries: [], revision, remaining: 0 };
    if (opts.atRevision !== undefined && opts.atRevision < this.rev && this.changedAfter(s, opts.atRevision)) {
      return this.listSnapshot(s, opts.atRevision, opts);
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const out: StoreEntry[] = [];
    let remaining = 0;
    const [afterNs, afterName] = opts.after !== undefined ? splitKey(opts.after) : [undefined, undefined];
    const namespaces = opts.ns !== undefined ? (s.byNs.has(opts.ns) ? [opts.ns] : []) : s.namespaces();
    for (const ns of namespaces) {
      if (afterNs !== undefined && ns < afterNs) continue;
      const m = s.byNs.get(ns)!;
      const names = s.names(ns);
      let start = 0;
      if (afterNs !== undefined && ns === afterNs) start = upperBound(names, afterName!);
      for (let i = start; i < names.length; i++) {
        const e = m.get(names[i])!;
        if (opts.filter && !opts.filter(e)) continue;
        if (out.length < limit) out.push(e);
        else remaining++;
        if (remaining > 0 && opts.filter) break; // counting the rest under a filter costs a full scan
      }
      if (remaining > 0 && opts.filter) break;
    }
    return { entries: out, revision: this.rev, remaining };
  }

  private changedAfter(s: ResourceState, rev: number): boolean {
    const h = s.history;
    return h.length > 0 && h[h.length - 1].rev > rev;
  }

  /** The resource's objects as they were at `rev`, rebuilt by undoing newer history. */
  private listSnapshot(s: ResourceState, rev: number, opts: ListOptions): ListResult {
    if (rev < s.compactedRev) throw new StoreError('Expired', `revision ${rev} is older than the retained history (${s.compactedRev})`);
    const byKey = new Map<string, StoreEntry>();
    for (const [ns, m] of s.byNs) {
      if (opts.ns !== undefined && ns !== opts.ns) continue;
      for (const e of m.values()) byKey.set(entryKey(ns, e.name), e);
    }
    for (let i = s.history.length - 1; i >= 0 && s.history[i].rev > rev; i--) {
      const ev = s.history[i];
      if (opts.ns !== undefined && ev.entry.ns !== opts.ns) continue;
      const key = entryKey(ev.entry.ns, ev.entry.name);
      if (ev.type === 'ADDED') byKey.delete(key);
      else if (ev.prev === null) throw new StoreError('Expired', `history no longer holds the object ${key} at revision ${rev}`);
      else if (ev.prev) byKey.set(key, ev.prev);
    }
    const sorted = [...byKey.values()].sort((a, b) => compare(a.ns, b.ns) || compare(a.name, b.name));
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const out: StoreEntry[] = [];
    let remaining = 0;
    for (const e of sorted) {
      if (opts.after !== undefined && !keyAfter(e, opts.after)) continue;
      if (opts.filter && !opts.filter(e)) continue;
      if (out.length < limit) out.push(e);
      else remaining++;
    }
    return { entries: out, revision: rev, remaining };
  }

  // ---- writes ----

  create(resource: string, obj: KubeObject): StoreEntry {
    const s = this.resource(resource);
    const ns = objectNamespace(obj);
    const name = obj.metadata.name ?? '';
    if (s.get(ns, name)) throw new StoreError('AlreadyExists', `${entryKey(ns, name)} already exists`);
    return this.commit(s, resource, 'ADDED', obj, undefined);
  }

  update(resource: string, obj: KubeObject, expectedRev?: number): StoreEntry {
    const s = this.resource(resource);
    const ns = objectNamespace(obj);
    const name = obj.metadata.name ?? '';
    const old = s.get(ns, name);
    if (!old) throw new StoreError('NotFound', `${entryKey(ns, name)} not found`);
    if (expectedRev !== undefined && expectedRev !== old.rev) {
      throw new StoreError('Conflict', `${entryKey(ns, name)} is at revision ${old.rev}, not ${expectedRev}`);
    }
    return this.commit(s, resource, 'MODIFIED', obj, old);
  }

  delete(resource: string, ns: string, name: string, expectedRev?: number): StoreEntry {
    const s = this.resource(resource);
    const old = s.get(ns, name);
    if (!old) throw new StoreError('NotFound', `${entryKey(ns, name)} not found`);
    if (expectedRev !== undefined && expectedRev !== old.rev) {
      throw new StoreError('Conflict', `${entryKey(ns, name)} is at revision ${old.rev}, not ${expectedRev}`);
    }
    // The DELETED event carries the last state with the deletion's revision, as upstream does.
    const obj = JSON.parse(old.json) as KubeObject;
    return this.commit(s, resource, 'DELETED', obj, old);
  }

  createAsync(resource: string, obj: KubeObject): Promise<StoreEntry> {
    return settled(() => this.create(resource, obj));
  }

  updateAsync(resource: string, obj: KubeObject, expectedRev?: number): Promise<StoreEntry> {
    return settled(() => this.update(resource, obj, expectedRev));
  }

  deleteAsync(resource: string, ns: string, name: string, expectedRev?: number): Promise<StoreEntry> {
    return settled(() => this.delete(resource, ns, name, expectedRev));
  }

  private commit(s: ResourceState, resource: string, type: StoreEventType, obj: KubeObject, old: StoreEntry | undefined): StoreEntry {
    const rev = this.rev + 1;
    obj.metadata.resourceVersion = String(rev);
    const json = JSON.stringify(obj);
    if (type !== 'DELETED' && json.length > this.maxObjectBytes) {
      throw new StoreError('TooLarge', `the object would be ${json.length} bytes, over the store's limit of ${this.maxObjectBytes} bytes`);
    }
    const entry: StoreEntry = { ns: objectNamespace(obj), name: obj.metadata.name ?? '', rev, obj, json };
    this.persistence?.write({ type, resource, ns: entry.ns, name: entry.name, rev, json });
    this.rev = rev;
    if (type === 'DELETED') s.remove(entry.ns, entry.name);
    else s.put(entry);
    const ev: StoreEvent = { type, rev, resource, entry, prev: old };
    s.history.push(ev);
    s.historyBytes += json.length;
    this.historyBytesTotal += json.length;
    if (s.history.length > this.historyLimit * 1.25) this.trimHistory(resource, s);
    if (this.historyBytesTotal > this.historyBytesLimit) this.trimHistoryBytes();
    for (const listener of s.listeners) {
      try {
        listener(ev);
      } catch (err) {
        log.error('watch listener failed', { resource, err });
      }
    }
    // The memo serves this fan-out only; history replays are rare and rebuild it.
    ev.memo = undefined;
    return entry;
  }

  private trimHistory(resource: string, s: ResourceState, drop = s.history.length - this.historyLimit): void {
    if (drop <= 0) return;
    const lastDropped = s.history[drop - 1].rev;
    let bytes = 0;
    for (let i = 0; i < drop; i++) bytes += s.history[i].entry.json.length;
    s.history = s.history.slice(drop);
    s.historyBytes -= bytes;
    this.historyBytesTotal -= bytes;
    s.compactedRev = Math.max(s.compactedRev, lastDropped);
    this.persistence?.compact(resource, s.compactedRev);
  }

  /** Drops the oldest events of the largest histories until history fits in 3/4 of its byte budget. */
  private trimHistoryBytes(): void {
    const target = Math.floor(this.historyBytesLimit * 0.75);
    while (this.historyBytesTotal > target) {
      let largest: [string, ResourceState] | undefined;
      for (const [resource, s] of this.state) if (s.history.length > 0 && (!largest || s.historyBytes > largest[1].historyBytes)) largest = [resource, s];
      if (!largest) return;
      const [resource, s] = largest;
      let drop = 0;
      let freed = 0;
      const excess = this.historyBytesTotal - target;
      while (drop < s.history.length && freed < excess) freed += s.history[drop++].entry.json.length;
      this.trimHistory(resource, s, drop);
    }
  }

  // ---- watch ----

  watch(resource: string, fromRevision: number, listener: WatchListener): () => void {
    const s = this.resource(resource);
    if (fromRevision < s.compactedRev) {
      throw new StoreError('Expired', `too old resource version: ${fromRevision} (${s.compactedRev})`);
    }
    for (let i = s.historyIndexAfter(fromRevision); i < s.history.length; i++) listener(s.history[i]);
    s.listeners.add(listener);
    this.listenerTotal++;
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      s.listeners.delete(listener);
      this.listenerTotal--;
    };
  }

  watcherCount(): number {
    return this.listenerTotal;
  }

  sync(): Promise<void> {
    return this.persistence ? this.persistence.sync() : Promise.resolve();
  }

  /** The oldest revision a watch on `resource` may start from. */
  compactedRevision(resource: string): number {
    return this.state.get(resource)?.compactedRev ?? 0;
  }

  check(): void {
    this.persistence?.check?.();
  }

  close(): void {
    for (const s of this.state.values()) s.listeners.clear();
    this.listenerTotal = 0;
    this.persistence?.close();
  }
}

function upperBound(sorted: string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function keyAfter(e: StoreEntry, after: string): boolean {
  const [ns, name] = splitKey(after);
  return e.ns > ns || (e.ns === ns && e.name > name);
}
