// The etcd store: objects in etcd v3 under /registry (see etcd-keys.ts), resourceVersion = etcd
// revision (each object's mod revision; a list's revision is the newest revision the cache has
// applied), writes as etcd transactions that compare the key's mod revision (optimistic
// concurrency across every API server on the same etcd), and reads and watches served from an
// in-memory cache (a MemoryStore) that only etcd's watch feeds, as kube-apiserver's watch cache is.
//
// The etcd client (gRPC) runs in a worker thread (etcd-worker.ts), which answers a write only
// after the watch has delivered the write's own event, so the cache holds it when the write is
// answered. The asynchronous writes (createAsync ...) post the request and settle when the answer
// arrives, so the API server keeps many writes in flight and watch events flow between them; the
// writes (and the worker's events and answers) of one turn of the event loop travel as one message. The
// synchronous ones (start-up and rare system writes) block this thread on an Atomics.wait until
// the worker answers, applying the events and answers that arrive meanwhile. Reads never block.
//
// History: at start the cache replays the last `historyLimit` revisions from etcd when etcd still
// holds them; a watch or snapshot from before what the cache holds, or from before etcd's
// compaction, is answered Expired (410), as the other stores do.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { KubeObject } from '../api/types.js';
import { createLogger } from '../util/log.js';
import { DEFAULT_MAX_OBJECT_BYTES, MemoryStore } from './memory.js';
import { DEFAULT_ETCD_PREFIX, etcdKey, parseEtcdKey } from './etcd-keys.js';
import type { Batch, EtcdEvent, WorkerToMain, WriteReply, WriteRequest } from './etcd-protocol.js';
import { type ListOptions, type ListResult, type Store, type StoreEntry, type WatchListener, StoreError, objectNamespace } from './types.js';

const log = createLogger('store');
/** How many produced entries wait for their answers at most (far more than writes in flight). */
const PRODUCED_KEPT = 8192;

export interface EtcdStoreOptions {
  /** Client URLs of the etcd members, e.g. http://127.0.0.1:2379. */
  endpoints: string[];
  /** Key prefix (default /registry). */
  prefix?: string;
  historyLimit?: number;
  historyBytes?: number;
  maxObjectBytes?: number;
  /** How long one etcd request may take before the write fails (default 10 s). */
  timeoutMs?: number;
  /** Called when the watch on etcd ends for good (default: log and exit, so a restart relists). */
  onFatal?: (message: string) => void;
  /** TLS to etcd with a client certificate (PEM): --etcd-cafile, --etcd-certfile, --etcd-keyfile. */
  tls?: { caPem: string; certPem: string; keyPem: string };
}

/** Checks --etcd-servers: a comma-separated list of http:// or https:// URLs (https: with --etcd-cafile and a client certificate). */
export function parseEtcdServers(value: string, tls = false): string[] {
  const urls = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (urls.length === 0) throw new Error('--etcd-servers must list at least one URL, such as http://127.0.0.1:2379');
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new Error(`--etcd-servers: ${JSON.stringify(u)} is not a URL (expected http://HOST:PORT)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`--etcd-servers: ${JSON.stringify(u)} must be an http:// or https:// URL`);
    if ((parsed.protocol === 'https:') !== tls) throw new Error(tls ? `--etcd-servers: ${JSON.stringify(u)} must be https:// with --etcd-cafile, --etcd-certfile and --etcd-keyfile` : `--etcd-servers: ${JSON.stringify(u)}: TLS to etcd needs --etcd-cafile, --etcd-certfile and --etcd-keyfile`);
    if (!parsed.port) throw new Error(`--etcd-servers: ${JSON.stringify(u)} needs a port (etcd listens on 2379)`);
  }
  return urls;
}

export class EtcdStore implements Store {
  private readonly cache: MemoryStore;
  private readonly prefix: string;
  private readonly maxObjectBytes: number;
  private readonly timeoutMs: number;
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  /** The oldest revision the cache's history starts after: older watches and snapshots are Expired. */
  private startRev = 0;
  private nextId = 1;
  private closed = false;
  private ready: Promise<void>;
  /** The entry each write produced, found among the events as they are applied (by revision). */
  private readonly produced = new Map<number, StoreEntry>();
  /** Writes not yet posted to the worker (see flush). */
  private outbox: WriteRequest[] = [];
  /** Asynchronous writes waiting for their answer, by request id. */
  private readonly pending = new Map<number, { req: Omit<WriteRequest, 'kind' | 'id'>; resolve: (e: StoreEntry) => void; reject: (err: Error) => void }>();
  /**
   * The objects of creates and updates in flight, by request id, until their answer: the watch
   * event of our own write comes without its value (etcd-protocol.ts), and the cache takes this
   * object (what etcd stored, less resourceVersion) instead of parsing the JSON back.
   */
  private readonly sent = new Map<number, KubeObject>();

  private constructor(private readonly opts: EtcdStoreOptions) {
    this.prefix = opts.prefix ?? DEFAULT_ETCD_PREFIX;
    this.maxObjectBytes = opts.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    // The size limit is enforced before a write goes to etcd; the cache takes what etcd holds.
    this.cache = new MemoryStore({ historyLimit: opts.historyLimit, historyBytes: opts.historyBytes, maxObjectBytes: Number.MAX_SAFE_INTEGER });
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const here = fileURLToPath(import.meta.url);
    const entry = new URL(`./etcd-worker${extname(here)}`, import.meta.url);
    // Run from the TypeScript sources (tests, tsx), the thread registers the same loader first.
    const fromSource = extname(here) === '.ts';
    const script = fromSource ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); })` : entry;
    this.worker = new Worker(script, {
      eval: fromSource,
      workerData: {
        port: port2,
        signal: this.signal,
        endpoints: opts.endpoints,
        prefix: this.prefix,
        historyWindow: opts.historyLimit ?? 20000,
        timeoutMs: this.timeoutMs,
        tls: opts.tls,
      },
      transferList: [port2],
    });
    let started = false;
    this.ready = new Promise((resolve, reject) => {
      const onMessage = (batch: Batch<WorkerToMain>) => {
        for (const msg of batch) {
          if (msg.kind === 'ready') {
            started = true;
            resolve();
          } else if (msg.kind === 'fatal' && !started) {
            reject(new Error(msg.message));
          } else this.handle(msg);
        }
      };
      this.port.on('message', onMessage);
      this.worker.once('error', (err) => {
        if (!started) reject(err);
        else {
          this.failPending(`the etcd client thread failed: ${err.message}`);
          this.fatal(`the etcd client thread failed: ${err.message}`);
        }
      });
    });
  }

  /** Connects to etcd, loads the objects under the prefix and replays recent history. */
  static async open(opts: EtcdStoreOptions): Promise<EtcdStore> {
    const store = new EtcdStore(opts);
    try {
      await store.ready;
    } catch (err) {
      store.close();
      throw err;
    }
    return store;
  }

  private fatal(message: string): void {
    if (this.closed) return;
    if (this.opts.onFatal) {
      this.opts.onFatal(message);
      return;
    }
    // Serving on without the watch would serve state other API servers have changed: stop, so a
    // restart relists.
    log.error('the etcd store cannot go on; stopping', { err: message });
    process.exit(70);
  }

  private handle(msg: WorkerToMain): void {
    if (msg.kind === 'snapshot') {
      for (const kv of msg.kvs) {
        const where = parseEtcdKey(this.prefix, kv.key);
        if (!where) continue;
        const obj = JSON.parse(kv.value) as KubeObject;
        obj.metadata.resourceVersion = String(kv.rev);
        this.cache.loadObject(where.resource, obj, JSON.stringify(obj));
      }
      this.cache.finishLoad(new Map(), msg.rev);
      this.startRev = msg.rev;
    } else if (msg.kind === 'events') {
      for (const ev of msg.events) this.apply(ev);
    } else if (msg.kind === 'reply') {
      const waiting = this.pending.get(msg.id);
      if (!waiting) return;
      this.pending.delete(msg.id);
      this.sent.delete(msg.id);
      try {
        waiting.resolve(this.answer(waiting.req, msg));
      } catch (err) {
        waiting.reject(err as Error);
      }
    } else if (msg.kind === 'fatal') {
      this.fatal(msg.message);
    }
  }

  private failPending(message: string): void {
    for (const { reject } of this.pending.values()) reject(new Error(`etcd store: ${message}`));
    this.pending.clear();
    this.sent.clear();
  }

  /** Applies one etcd event to the cache at the event's revision (which notifies watchers). */
  private apply(ev: EtcdEvent): void {
    const where = parseEtcdKey(this.prefix, ev.key);
    if (!where) return;
    if (ev.rev <= this.cache.revision) return;
    const { resource, ns, name } = where;
    try {
      // The cache's next write gets revision cache.revision + 1: move it to just before the event
      // (etcd skips the revisions of writes outside the prefix). Not finishLoad: that also trims every
      // resource's history, copying a full one (--watch-history events) on each call.
      this.cache.advanceRevision(ev.rev - 1);
      let entry: StoreEntry | undefined;
      if (ev.type === 'delete') {
        if (this.cache.get(resource, ns, name)) entry = this.cache.delete(resource, ns, name);
      } else {
        const obj = ev.own === undefined ? (JSON.parse(ev.value) as KubeObject) : this.sent.get(ev.own);
        if (!obj) {
          this.fatal(`the etcd watch delivered revision ${ev.rev} of ${ev.key} as this server's write, but no such write is in flight`);
          return;
        }
        entry = ev.created || !this.cache.get(resource, ns, name) ? this.cache.create(resource, obj) : this.cache.update(resource, obj);
      }
      if (entry) this.produced.set(ev.rev, entry);
      // Answers follow their events closely; entries nobody claimed (other API servers' writes)
      // go oldest first (a Map iterates in insertion order, which is revision order here).
      if (this.produced.size > PRODUCED_KEPT) {
        for (const rev of this.produced.keys()) {
          if (this.produced.size <= PRODUCED_KEPT / 2) break;
          this.produced.delete(rev);
        }
      }
    } catch (err) {
      log.error('applying an etcd event failed', { key: ev.key, rev: ev.rev, err });
    }
  }

  /** Sends a write to the worker and blocks until it is answered, applying what arrives meanwhile. */
  private call(req: Omit<WriteRequest, 'kind' | 'id'>, obj?: KubeObject): StoreEntry {
    if (this.closed) throw new Error('the etcd store is closed');
    const id = this.nextId++;
    if (obj) this.sent.set(id, obj);
    this.outbox.push({ ...req, kind: 'write', id });
    this.flush();
    const deadline = Date.now() + this.timeoutMs * 2 + 1000;
    let reply: WriteReply | undefined;
    while (!reply) {
      // Cleared before the port is drained: an answer posted after the drain sets it again.
      Atomics.store(this.signal, 0, 0);
      for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
        for (const msg of m.message as Batch<WorkerToMain>) {
          if (msg.kind === 'reply' && msg.id === id) reply = msg;
          else this.handle(msg);
        }
      }
      if (reply) break;
      const left = deadline - Date.now();
      if (left <= 0) {
        // Its event, should it still come, is applied from the value (the worker answers it timed out before it forgets the write).
        this.sent.delete(id);
        throw new Error(`etcd store: no answer to a ${req.op} of ${req.key} within ${this.timeoutMs * 2} ms`);
      }
      Atomics.wait(this.signal, 0, 0, left);
    }
    this.sent.delete(id);
    return this.answer(req, reply);
  }

  /** Sends a write to the worker; settles when the worker answers (see handle). */
  private send(req: Omit<WriteRequest, 'kind' | 'id'>, obj?: KubeObject): Promise<StoreEntry> {
    if (this.closed) return Promise.reject(new Error('the etcd store is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { req, resolve, reject });
      if (obj) this.sent.set(id, obj);
      if (this.outbox.push({ ...req, kind: 'write', id }) === 1) setImmediate(this.flush);
    });
  }

  /** Sends the writes of this turn of the event loop to the worker in one message. */
  private readonly flush = (): void => {
    if (this.outbox.length === 0 || this.closed) return;
    const batch = this.outbox;
    this.outbox = [];
    this.port.postMessage(batch);
  };

  /** The entry a write produced, or the error its answer carries. */
  private answer(req: Omit<WriteRequest, 'kind' | 'id'>, reply: WriteReply): StoreEntry {
    if (!reply.ok) {
      if (reply.reason === 'Unavailable') throw new Error(`etcd store: ${reply.message}`);
      throw new StoreError(reply.reason, reply.message);
    }
    const entry = this.produced.get(reply.rev);
    this.produced.delete(reply.rev);
    if (!entry) throw new Error(`etcd store: the watch did not deliver revision ${reply.rev} of ${req.key}`);
    return entry;
  }

  /** The JSON stored in etcd: the object without resourceVersion (the key's revision is it). */
  private stored(obj: KubeObject): string {
    const { resourceVersion: _rv, ...metadata } = obj.metadata;
    const json = JSON.stringify({ ...obj, metadata });
    if (json.length > this.maxObjectBytes) {
      throw new StoreError('TooLarge', `the object would be ${json.length} bytes, over the store's limit of ${this.maxObjectBytes} bytes`);
    }
    return json;
  }

  private commitTo(obj: KubeObject, entry: StoreEntry): StoreEntry {
    // As the other stores do, the caller's object now carries the new revision.
    obj.metadata.resourceVersion = String(entry.rev);
    return entry;
  }

  get revision(): number {
    return this.cache.revision;
  }

  get(resource: string, ns: string, name: string): StoreEntry | undefined {
    return this.cache.get(resource, ns, name);
  }

  list(resource: string, opts: ListOptions = {}): ListResult {
    if (opts.atRevision !== undefined && opts.atRevision < this.startRev) {
      throw new StoreError('Expired', `revision ${opts.atRevision} is older than the retained history (${this.startRev})`);
    }
    return this.cache.list(resource, opts);
  }

  count(resource: string): number {
    return this.cache.count(resource);
  }

  resources(): string[] {
    return this.cache.resources();
  }

  create(resource: string, obj: KubeObject): StoreEntry {
    return this.commitTo(obj, this.call(this.createRequest(resource, obj), obj));
  }

  update(resource: string, obj: KubeObject, expectedRev?: number): StoreEntry {
    return this.commitTo(obj, this.call(this.updateRequest(resource, obj, expectedRev), obj));
  }

  delete(resource: string, ns: string, name: string, expectedRev?: number): StoreEntry {
    return this.call(this.deleteRequest(resource, ns, name, expectedRev));
  }

  async createAsync(resource: string, obj: KubeObject): Promise<StoreEntry> {
    return this.commitTo(obj, await this.send(this.createRequest(resource, obj), obj));
  }

  async updateAsync(resource: string, obj: KubeObject, expectedRev?: number): Promise<StoreEntry> {
    return this.commitTo(obj, await this.send(this.updateRequest(resource, obj, expectedRev), obj));
  }

  deleteAsync(resource: string, ns: string, name: string, expectedRev?: number): Promise<StoreEntry> {
    return this.send(this.deleteRequest(resource, ns, name, expectedRev));
  }

  private createRequest(resource: string, obj: KubeObject): Omit<WriteRequest, 'kind' | 'id'> {
    const ns = objectNamespace(obj);
    const name = obj.metadata.name ?? '';
    return { op: 'create', key: etcdKey(this.prefix, resource, ns, name), ns, name, value: this.stored(obj) };
  }

  private updateRequest(resource: string, obj: KubeObject, expectedRev: number | undefined): Omit<WriteRequest, 'kind' | 'id'> {
    const ns = objectNamespace(obj);
    const name = obj.metadata.name ?? '';
    const value = this.stored(obj);
    // Without an expected revision the caller built `obj` from the cached object: compare with
    // that, so a stale cache gives Conflict rather than a lost update.
    const expected = expectedRev ?? this.cache.get(resource, ns, name)?.rev;
    return { op: 'update', key: etcdKey(this.prefix, resource, ns, name), ns, name, value, expectedRev: expected };
  }

  private deleteRequest(resource: string, ns: string, name: string, expectedRev: number | undefined): Omit<WriteRequest, 'kind' | 'id'> {
    const expected = expectedRev ?? this.cache.get(resource, ns, name)?.rev;
    return { op: 'delete', key: etcdKey(this.prefix, resource, ns, name), ns, name, expectedRev: expected };
  }

  watch(resource: string, fromRevision: number, listener: WatchListener): () => void {
    if (fromRevision < this.startRev) {
      throw new StoreError('Expired', `too old resource version: ${fromRevision} (${this.startRev})`);
    }
    return this.cache.watch(resource, fromRevision, listener);
  }

  watcherCount(): number {
    return this.cache.watcherCount();
  }

  /** Writes are answered once etcd has committed them: nothing is pending. */
  sync(): Promise<void> {
    return Promise.resolve();
  }

  /** The client thread is gone once the store closed (a lost watch ends the process: fatal()). */
  check(): void {
    if (this.closed) throw new Error('the etcd store is closed');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failPending('the store was closed before etcd answered');
    // Ending the thread closes its gRPC connections and the watch with them.
    this.port.close();
    this.cache.close();
    void this.worker.terminate();
  }
}

export function openEtcdStore(opts: EtcdStoreOptions): Promise<EtcdStore> {
  return EtcdStore.open(opts);
}
