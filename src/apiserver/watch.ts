// Watch streams: newline-delimited JSON events over a chunked response. Each store event is
// serialized and encoded once (a Buffer memoized on the event) and written to every watcher it
// matches, so a write copies no text per watcher; the watchers an event reaches wait for the
// store's durability together (one sync() per event, not one per watcher). Selectors follow
// upstream (an object that stops matching arrives as DELETED, one that starts as ADDED).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { type ResourceInfo, apiVersionOf } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { type Store, type StoreEntry, type StoreEvent, StoreError } from '../store/types.js';
import { errors, statusOf } from './errors.js';
import { watchTimeoutMs } from './query.js';
import type { Predicate } from './selectors.js';
import { storeKey } from './registry.js';
import { toTable, type IncludeObject } from './present/index.js';
import { PacedWriter } from './paced-write.js';

/** A slow watcher with more than this written and not yet sent to it is cut off (it re-watches). */
const MAX_BUFFERED = 32 * 1024 * 1024;
/** How long a watch from a future resourceVersion waits for the store to get there (upstream: 3 s). */
const FRESHNESS_WAIT_MS = 3000;
/** The shortest gap between two writes to one watcher while events keep coming. */
const FLUSH_INTERVAL_MS = 5;

export interface WatchRequest {
  r: ResourceInfo;
  namespace?: string;
  predicate?: Predicate;
  /** The resourceVersion parameter: undefined or '0' = start with the current objects. */
  resourceVersion?: string;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
  /** Send Tables (kubectl get -w) with this includeObject. */
  table?: IncludeObject;
  bookmarkIntervalMs: number;
  /** Serve another resource's stored objects, converted (events.k8s.io/v1 over the core/v1 Events). */
  view?: { storeKey: string; tableResource: ResourceInfo; convert(obj: KubeObject): KubeObject };
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

function line(type: string, objectJson: string): string {
  return `{"type":"${type}","object":${objectJson}}\n`;
}

type Chunk = string | Buffer;

function joined(chunks: Chunk[]): Buffer {
  if (chunks.length === 1) return typeof chunks[0] === 'string' ? Buffer.from(chunks[0]) : chunks[0];
  return Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}

/**
 * The watchers waiting for their store's sync() before they write, per store: the watchers one
 * event reaches join one wait. A watcher joins only while the store is at the revision the wait
 * was asked at, so no write made after the sync() call rides on it.
 */
const awaitingSync = new WeakMap<Store, { rev: number; streams: WatchStream[] }>();

function flushAfterSync(store: Store, stream: WatchStream): void {
  const waiting = awaitingSync.get(store);
  if (waiting !== undefined && waiting.rev === store.revision) {
    waiting.streams.push(stream);
    return;
  }
  const batch = { rev: store.revision, streams: [stream] };
  awaitingSync.set(store, batch);
  const done = () => {
    if (awaitingSync.get(store) === batch) awaitingSync.delete(store);
  };
  store.sync().then(
    () => {
      done();
      for (const s of batch.streams) s.flush();
    },
    done, // the store stops the server when a write cannot be made durable
  );
}

export class WatchStream {
  private stopWatch: (() => void) | undefined;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  private pending: Chunk[] = [];
  private lastFlush = 0;
  private busy = false;
  /** The memo key of each event line this watcher renders (`${type}|${source}|${form}`), by source and type. */
  private readonly memoKeys: Record<'cur' | 'prev', Map<EventType, string>> = { cur: new Map(), prev: new Map() };
  /** How this watcher renders an object: json, a Table, or another resource's view. */
  private readonly form: string;
  /** The answer, written a chunk at a time as the client takes it (the initial events of a large list included). */
  private readonly out: PacedWriter;

  constructor(
    private readonly store: Store,
    private readonly req: WatchRequest,
    private readonly res: ServerResponse,
    private readonly onClose: () => void,
  ) {
    this.form = `${req.table ?? 'json'}${req.view ? `|${apiVersionOf(req.r)}` : ''}`;
    this.out = new PacedWriter(res);
  }

  /** Writes headers, the initial events and history, then follows live changes. */
  start(httpReq: IncomingMessage): void {
    const { r, namespace } = this.req;
    const key = this.req.view?.storeKey ?? storeKey(r);
    const ns = r.namespaced ? namespace : undefined;
    this.res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
    httpReq.socket.setNoDelay(true);
    this.res.on('close', () => this.close());

    const rv = this.req.resourceVersion;
    let from: number;
    const out: Chunk[] = [];
    if (rv === undefined || rv === '' || rv === '0') {
      const list = this.store.list(key, { ns, filter: this.req.predicate ? (e) => this.req.predicate!(e.obj) : undefined });
      for (const e of list.entries) out.push(this.render('ADDED', e, undefined));
      from = list.revision;
    } else if (!/^\d+$/.test(rv)) {
      this.fail(400, 'BadRequest', `invalid resourceVersion ${JSON.stringify(rv)}: it must be a resourceVersion this server returned`);
      return;
    } else {
      from = Number(rv);
      if (from > this.store.revision) {
        this.res.flushHeaders();
        this.waitForRevision(from, Date.now() + FRESHNESS_WAIT_MS, () => this.follow(key, from, out));
        return;
      }
    }
    this.follow(key, from, out);
  }

  /**
   * A resourceVersion newer than the store's: as upstream's watch cache, wait up to 3 s for the
   * store to reach it, then answer with an ERROR event (504 Too large resource version).
   */
  private waitForRevision(rev: number, deadline: number, then: () => void): void {
    if (this.closed) return;
    if (this.store.revision >= rev) return then();
    if (Date.now() >= deadline) {
      this.failWith(errors.tooLargeResourceVersion(rev, this.store.revision).status);
      return;
    }
    const t = setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== t);
      this.waitForRevision(rev, deadline, then);
    }, 50);
    t.unref();
    this.timers.push(t);
  }

  private follow(key: string, from: number, out: Chunk[]): void {
    try {
      this.stopWatch = this.store.watch(key, from, (ev) => {
        const chunk = this.eventLine(ev);
        if (chunk === undefined) return;
        if (this.stopWatch === undefined) out.push(chunk);
        else this.write(chunk);
      });
    } catch (err) {
      if (err instanceof StoreError && err.reason === 'Expired') {
        this.fail(410, 'Expired', err.message);
        return;
      }
      throw err;
    }
    if (out.length > 0) this.write(joined(out));
    else this.res.flushHeaders();

    if (this.req.allowBookmarks) {
      const t = setInterval(() => this.bookmark(), this.req.bookmarkIntervalMs);
      t.unref();
      this.timers.push(t);
    }
    const t = setTimeout(() => this.end(), watchTimeoutMs(this.req.timeoutSeconds));
    t.unref();
    this.timers.push(t);
  }

  private inNamespace(e: StoreEntry): boolean {
    return !this.req.r.namespaced || this.req.namespace === undefined || e.ns === this.req.namespace;
  }

  /** The line this watcher gets for a store event, or undefined when it does not concern it. */
  private eventLine(ev: StoreEvent): Buffer | undefined {
    if (!this.inNamespace(ev.entry)) return undefined;
    const p = this.req.predicate;
    if (!p) return this.memo(ev, ev.type, 'cur', () => this.render(ev.type, ev.entry, ev));
    const now = p(ev.entry.obj);
    if (ev.type === 'ADDED') return now ? this.memo(ev, 'ADDED', 'cur', () => this.render('ADDED', ev.entry, ev)) : undefined;
    if (ev.type === 'DELETED') return now ? this.memo(ev, 'DELETED', 'cur', () => this.render('DELETED', ev.entry, ev)) : undefined;
    const was = ev.prev === null ? undefined : ev.prev ? p(ev.prev.obj) : false;
    if (now && was === false) return this.memo(ev, 'ADDED', 'cur', () => this.render('ADDED', ev.entry, ev));
    if (now) return this.memo(ev, 'MODIFIED', 'cur', () => this.render('MODIFIED', ev.entry, ev));
    if (was === false) return undefined;
    // Stopped matching: DELETED with the previous content at this event's resourceVersion.
    return this.memo(ev, 'DELETED', 'prev', () => {
      if (!ev.prev) return this.render('DELETED', ev.entry, ev);
      const obj = JSON.parse(ev.prev.json) as KubeObject;
      obj.metadata.resourceVersion = String(ev.rev);
      return this.render('DELETED', { ...ev.prev, obj, json: JSON.stringify(obj), rev: ev.rev }, ev);
    });
  }

  private memo(ev: StoreEvent, type: EventType, source: 'cur' | 'prev', make: () => string): Buffer {
    const keys = this.memoKeys[source];
    let k = keys.get(type);
    if (k === undefined) {
      k = `${type}|${source}|${this.form}`;
      keys.set(type, k);
    }
    const memo = (ev.memo ??= new Map());
    let b = memo.get(k);
    if (b === undefined) {
      b = Buffer.from(make());
      memo.set(k, b);
    }
    return b;
  }

  private render(type: EventType, e: StoreEntry, _ev: StoreEvent | undefined): string {
    const view = this.req.view;
    if (!this.req.table) return line(type, view ? JSON.stringify(view.convert(e.obj)) : e.json);
    return line(type, JSON.stringify(toTable(view?.tableResource ?? this.req.r, [e.obj], { includeObject: this.req.table })));
  }

  private bookmark(): void {
    const rv = String(this.store.revision);
    const object = this.req.table
      ? { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: rv }, columnDefinitions: [], rows: [] }
      : { kind: this.req.r.kind, apiVersion: apiVersionOf(this.req.r), metadata: { resourceVersion: rv } };
    this.write(line('BOOKMARK', JSON.stringify(object)));
  }

  /**
   * Queues a chunk. An event after a quiet spell goes out as soon as the store says it is durable
   * (store.sync(): at once for the memory store; for SQLite right after the group commit, ahead of
   * the answers of the requests in that commit, whose waiters come after this one), not in the
   * next check phase (setImmediate), which put every I/O callback the server had ready in front
   * of it: on loopback with the controllers, load 10, dispatch -> socket write was p50 2.1 / p90
   * 13 / max 21 ms with setImmediate, p50 0.02 ms this way (bench/gateway/programming-loopback.ts).
   * Under load (the last write carried several events), at most one write per FLUSH_INTERVAL_MS
   * per watcher: one TLS record and syscall for many events.
   */
  private write(chunk: Chunk): void {
    if (this.closed) return;
    this.pending.push(chunk);
    if (this.pending.length > 1) return;
    const wait = this.busy ? this.lastFlush + FLUSH_INTERVAL_MS - performance.now() : 0;
    if (wait > 0) setTimeout(() => this.flush(), wait);
    else flushAfterSync(this.store, this);
  }

  /** Writes what is pending (called once the store is durable up to it). */
  flush(): void {
    if (this.closed || this.pending.length === 0) return;
    this.lastFlush = performance.now();
    this.busy = this.pending.length > 1;
    const data = joined(this.pending);
    this.pending = [];
    if (this.out.buffered > MAX_BUFFERED) {
      this.res.destroy();
      return;
    }
    this.out.write(data);
  }

  private fail(code: number, reason: string, message: string): void {
    this.failWith(statusOf(code, reason, message));
  }

  private failWith(status: object): void {
    this.flush();
    this.out.write(Buffer.from(line('ERROR', JSON.stringify(status))));
    this.end();
  }

  private end(): void {
    if (!this.closed) {
      this.flush();
      this.out.end();
    }
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWatch?.();
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.onClose();
  }
}
