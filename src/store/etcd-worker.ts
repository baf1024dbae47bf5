// The etcd side of the etcd store, in a worker thread: it holds the gRPC connection to etcd
// (etcd-grpc.ts, messages by etcd-wire.ts), runs one watch over the key prefix and streams its
// events to the main thread, and runs each write as an etcd transaction; writes run concurrently,
// as many as the main thread sends. A write's reply is posted only after the watch has delivered
// every event up to the write's revision: the main thread applies events in revision order and
// finds its own write among them. What one turn of the event loop produced (events, replies) goes
// to the main thread in one message, which also wakes it when it blocks on a synchronous write. A watch that ends (its member died or lost its leader) is opened again on the
// next member from the revision after the last one delivered; a compacted one is fatal.
import { workerData, type MessagePort } from 'node:worker_threads';
import { EtcdGrpc } from './etcd-grpc.js';
import { type TxnCompare, type TxnOp, rangeRequest, rangeResponse, txnRequest, txnResponse, watchCreateRequest, watchResponse } from './etcd-wire.js';
import type { Batch, EtcdEvent, WorkerToMain, WriteReply, WriteRequest } from './etcd-protocol.js';

interface Init {
  port: MessagePort;
  signal: Int32Array;
  endpoints: string[];
  prefix: string;
  /** How many revisions back to replay into the history at start (when etcd still holds them). */
  historyWindow: number;
  timeoutMs: number;
  tls?: { caPem: string; certPem: string; keyPem: string };
}

const init = workerData as Init;
const { port, signal, prefix } = init;
const client = new EtcdGrpc(init.endpoints, init.tls);
/** The newest revision the watch has delivered. */
let watchedRev = 0;
/** Revisions our own successful writes produced whose watch event has not arrived yet -> the write's request id. */
const ownRevs = new Map<number, number>();
/**
 * Creates sent to etcd and not yet answered, by key. etcd often sends a create's watch event
 * before the transaction's answer (both travel on one connection); such an event is still known
 * as ours when it creates the key with exactly the JSON we sent: every create carries a fresh
 * random uid, so no other write stores the same bytes. The main thread then takes the object it
 * sent instead of parsing the JSON back, as it does for events that come after the answer.
 */
const pendingCreates = new Map<string, { id: number; value: string; matched?: boolean }>();
const revWaiters: { rev: number; resolve: () => void }[] = [];
/** How long to wait before watching again after a watch ended (doubles up to 1 s while it keeps failing). */
let rewatchDelay = 50;

/** Messages for the main thread, sent together at the end of this turn of the event loop (one postMessage, one wake-up). */
let outbox: WorkerToMain[] = [];

function flush(): void {
  const batch = outbox;
  outbox = [];
  port.postMessage(batch);
  // Wakes the main thread when it blocks on a synchronous write (see EtcdStore.call).
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}

function post(msg: WorkerToMain): void {
  if (outbox.push(msg) === 1) setImmediate(flush);
}

const reply = post;

function advance(rev: number): void {
  if (rev <= watchedRev) return;
  watchedRev = rev;
  for (let i = revWaiters.length - 1; i >= 0; i--) {
    if (revWaiters[i].rev <= watchedRev) revWaiters.splice(i, 1)[0].resolve();
  }
}

function watched(rev: number): Promise<void> {
  if (rev <= watchedRev) return Promise.resolve();
  return new Promise((resolve) => revWaiters.push({ rev, resolve }));
}

function withTimeout<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`etcd did not answer ${what} within ${init.timeoutMs} ms (endpoints ${init.endpoints.join(',')})`)), init.timeoutMs);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A write's deadline: what it waits for now, and how to fail it. */
interface Deadline {
  at: number;
  what: string;
  fail: (err: Error) => void;
}

/** The writes in flight: one sweep fails the overdue ones, instead of a timer set and cleared per call. */
const deadlines = new Set<Deadline>();
const overdue = (what: string) => new Error(`etcd did not answer ${what} within ${init.timeoutMs} ms (endpoints ${init.endpoints.join(',')})`);
setInterval(
  () => {
    const now = Date.now();
    for (const d of deadlines) {
      if (d.at > now) continue;
      deadlines.delete(d);
      d.fail(overdue(d.what));
    }
  },
  Math.max(20, Math.floor(init.timeoutMs / 20)),
).unref();

/** Runs one write (its transaction and the watch event it waits for) within timeoutMs: the sweep above fails it at most a twentieth of that late. */
function bounded<T>(run: (deadline: Deadline) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const d: Deadline = { at: Date.now() + init.timeoutMs, what: 'a write', fail: reject };
    deadlines.add(d);
    run(d).then(
      (v) => {
        deadlines.delete(d);
        resolve(v);
      },
      (err: unknown) => {
        deadlines.delete(d);
        reject(err as Error);
      },
    );
  });
}

function isCompacted(err: unknown): boolean {
  return /compacted/i.test(String((err as Error)?.message ?? err));
}

async function range(revision = 0) {
  return rangeResponse(await client.unary('/etcdserverpb.KV/Range', rangeRequest(`${prefix}/`, revision)));
}

/** Watches the prefix from the revision after the newest delivered, again on another member when it ends. */
function watchFrom(): void {
  const from = watchedRev + 1;
  client.watch(
    watchCreateRequest(`${prefix}/`, from),
    (msg) => {
      const res = watchResponse(msg);
      if (res.canceled) {
        const why = res.compactRevision > 0 ? `revision ${from} was compacted (etcd keeps from ${res.compactRevision})` : res.cancelReason || 'etcd canceled it';
        post({ kind: 'fatal', message: `the etcd watch on ${prefix}/ ended: ${why}` });
        return;
      }
      rewatchDelay = 50;
      if (res.events.length === 0) return;
      const events: EtcdEvent[] = res.events.map((ev) => {
        const rev = ev.kv.modRev;
        let own = ev.type === 'put' ? ownRevs.get(rev) : undefined;
        if (own === undefined && ev.type === 'put' && ev.kv.createRev === rev) {
          const create = pendingCreates.get(ev.kv.key);
          if (create && create.value === ev.kv.value) {
            own = create.id;
            create.matched = true;
            pendingCreates.delete(ev.kv.key);
          }
        }
        if (own === undefined) return { type: ev.type, key: ev.kv.key, value: ev.kv.value, rev, created: ev.kv.createRev === rev };
        ownRevs.delete(rev);
        return { type: ev.type, key: ev.kv.key, value: '', rev, created: ev.kv.createRev === rev, own };
      });
      post({ kind: 'events', events });
      advance(events[events.length - 1].rev);
    },
    (err) => {
      setTimeout(watchFrom, rewatchDelay);
      if (rewatchDelay >= 1000) console.error(`etcd store: ${err.message}; watching again from revision ${watchedRev + 1} on ${client.endpoint}`);
      rewatchDelay = Math.min(rewatchDelay * 2, 1000);
    },
  );
}

async function start(): Promise<void> {
  const current = await withTimeout('the first read', range());
  const currentRev = current.revision;
  // History to replay: the last `historyWindow` revisions when etcd has not compacted them away.
  let from = Math.max(currentRev - init.historyWindow, 0);
  let snapshot = current;
  if (from < currentRev) {
    try {
      snapshot = await withTimeout('a past read', range(Math.max(from, 1)));
      from = Math.max(from, 1);
    } catch (err) {
      if (!isCompacted(err)) throw err;
      from = currentRev;
    }
  }
  if (from >= currentRev) snapshot = current;
  post({ kind: 'snapshot', rev: from, kvs: snapshot.kvs.map((kv) => ({ key: kv.key, value: kv.value, rev: kv.modRev })) });
  watchedRev = from;
  watchFrom();
  // The cache is ready once the watch has replayed up to the newest write under the prefix.
  let newest = from;
  for (const kv of current.kvs) newest = Math.max(newest, kv.modRev);
  await withTimeout(`the watch up to revision ${newest}`, watched(newest));
  post({ kind: 'ready' });
}

function transaction(req: WriteRequest): Buffer {
  const { key } = req;
  const change: TxnOp = req.op === 'delete' ? { delete: { key } } : { put: { key, value: req.value! } };
  const compare: TxnCompare =
    req.op === 'create'
      ? { key, target: 'create', result: 'equal', value: 0 }
      : req.expectedRev !== undefined
        ? { key, target: 'mod', result: 'equal', value: req.expectedRev }
        : { key, target: 'create', result: 'greater', value: 0 };
  return txnRequest(compare, change, { range: { key } });
}

function write(req: WriteRequest): Promise<WriteReply> {
  return bounded(async (deadline) => {
    const { key } = req;
    deadline.what = `a ${req.op} of ${key}`;
    const create: { id: number; value: string; matched?: boolean } | undefined = req.op === 'create' ? { id: req.id, value: req.value! } : undefined;
    // (A create with the same key already pending fails anyway: the newer one is the one to match.)
    if (create) {
      pendingCreates.set(key, create);
      const fail = deadline.fail;
      deadline.fail = (err) => {
        if (pendingCreates.get(key) === create) pendingCreates.delete(key);
        fail(err);
      };
    }
    let res;
    try {
      res = txnResponse(await client.unary('/etcdserverpb.KV/Txn', transaction(req)));
    } finally {
      if (create && pendingCreates.get(key) === create) pendingCreates.delete(key);
    }
    if (res.succeeded) {
      const rev = res.revision;
      deadline.what = `the watch event of revision ${rev}`;
      // Its event goes to the main thread without the value (the main thread holds the object)
      // unless the watch delivered it already; a write that times out first takes that back, so
      // its event, when it comes after the failed answer, carries the value again.
      // (A create whose event came first went as ours already, matched by its value.)
      if (req.op !== 'delete' && rev > watchedRev && !create?.matched) {
        ownRevs.set(rev, req.id);
        const fail = deadline.fail;
        deadline.fail = (err) => {
          ownRevs.delete(rev);
          fail(err);
        };
      }
      await watched(rev);
      return { kind: 'reply', id: req.id, ok: true, rev };
    }
    const kvs = res.rangeKvs;
    if (kvs.length === 0) return { kind: 'reply', id: req.id, ok: false, reason: 'NotFound', message: `${req.ns}/${req.name} not found` };
    const storedRev = kvs[0].modRev;
    // Let the cache catch up with what etcd holds before the caller retries.
    deadline.what = `the watch event of revision ${storedRev}`;
    await watched(storedRev);
    if (req.op === 'create') return { kind: 'reply', id: req.id, ok: false, reason: 'AlreadyExists', message: `${req.ns}/${req.name} already exists` };
    return { kind: 'reply', id: req.id, ok: false, reason: 'Conflict', message: `${req.ns}/${req.name} is at revision ${storedRev}, not ${req.expectedRev}` };
  });
}

port.on('message', (batch: Batch<WriteRequest>) => {
  for (const msg of batch) {
    write(msg).then(reply, (err: unknown) => reply({ kind: 'reply', id: msg.id, ok: false, reason: 'Unavailable', message: (err as Error).message }));
  }
});

start().catch((err: unknown) => post({ kind: 'fatal', message: `cannot start on etcd ${init.endpoints.join(',')}: ${(err as Error).message}` }));
