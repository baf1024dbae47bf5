// The etcd side of the etcd store, in a worker thread: it holds the gRPC client (etcd3), runs one
// watch over the key prefix and streams its events to the main thread, and runs each write as an
// etcd transaction; writes run concurrently, as many as the main thread sends. A write's reply is
// posted only after the watch has delivered every event up to the write's revision: the main
// thread applies events in revision order and finds its own write among them. Each reply also
// wakes the main thread when it blocks on a synchronous write.
import { workerData, type MessagePort } from 'node:worker_threads';
import { Etcd3, type Watcher } from 'etcd3';
import type { EtcdEvent, WorkerToMain, WriteReply, WriteRequest } from './etcd-protocol.js';

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
const tls = init.tls && { rootCertificate: Buffer.from(init.tls.caPem), certChain: Buffer.from(init.tls.certPem), privateKey: Buffer.from(init.tls.keyPem) };
const client = new Etcd3({ hosts: init.endpoints, dialTimeout: init.timeoutMs, credentials: tls });
let watcher: Watcher | undefined;
/** The newest revision the watch has delivered. */
let watchedRev = 0;
const revWaiters: { rev: number; resolve: () => void }[] = [];

function post(msg: WorkerToMain): void {
  port.postMessage(msg);
}

function reply(msg: WriteReply): void {
  port.postMessage(msg);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}

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

function isCompacted(err: unknown): boolean {
  return /compacted/i.test(String((err as Error)?.message ?? err));
}

async function start(): Promise<void> {
  const current = await withTimeout('the first read', client.getAll().prefix(`${prefix}/`).exec());
  const currentRev = Number(current.header.revision);
  // History to replay: the last `historyWindow` revisions when etcd has not compacted them away.
  let from = Math.max(currentRev - init.historyWindow, 0);
  let snapshot = current;
  if (from < currentRev) {
    try {
      snapshot = await withTimeout('a past read', client.getAll().prefix(`${prefix}/`).revision(Math.max(from, 1)).exec());
      from = Math.max(from, 1);
    } catch (err) {
      if (!isCompacted(err)) throw err;
      from = currentRev;
    }
  }
  if (from >= currentRev) snapshot = current;
  post({
    kind: 'snapshot',
    rev: from,
    kvs: snapshot.kvs.map((kv) => ({ key: kv.key.toString(), value: kv.value.toString(), rev: Number(kv.mod_revision) })),
  });
  watchedRev = from;
  watcher = await withTimeout('the watch', client.watch().prefix(`${prefix}/`).startRevision(String(from + 1)).create());
  watcher.on('data', (res) => {
    const events: EtcdEvent[] = res.events.map((ev) => ({
      type: ev.type === 'Delete' ? 'delete' : 'put',
      key: ev.kv.key.toString(),
      value: ev.type === 'Delete' ? '' : ev.kv.value.toString(),
      rev: Number(ev.kv.mod_revision),
      created: Number(ev.kv.create_revision) === Number(ev.kv.mod_revision),
    }));
    if (events.length > 0) post({ kind: 'events', events });
    for (const ev of events) advance(ev.rev);
  });
  watcher.on('error', (err) => post({ kind: 'fatal', message: `the etcd watch on ${prefix}/ ended: ${err.message}` }));
  // The cache is ready once the watch has replayed up to the newest write under the prefix.
  let newest = from;
  for (const kv of current.kvs) newest = Math.max(newest, Number(kv.mod_revision));
  await watched(newest);
  post({ kind: 'ready' });
}

async function write(req: WriteRequest): Promise<WriteReply> {
  const { key } = req;
  const txn =
    req.op === 'create'
      ? client.if(key, 'Create', '==', 0).then(client.put(key).value(req.value!))
      : req.expectedRev !== undefined
        ? client.if(key, 'Mod', '==', req.expectedRev).then(req.op === 'update' ? client.put(key).value(req.value!) : client.delete().key(key))
        : client.if(key, 'Create', '>', 0).then(req.op === 'update' ? client.put(key).value(req.value!) : client.delete().key(key));
  const res = await withTimeout(`a ${req.op} of ${key}`, txn.else(client.get(key)).commit());
  if (res.succeeded) {
    const rev = Number(res.header.revision);
    await withTimeout(`the watch event of revision ${rev}`, watched(rev));
    return { kind: 'reply', id: req.id, ok: true, rev };
  }
  const kvs = res.responses[0]?.response_range?.kvs ?? [];
  if (kvs.length === 0) return { kind: 'reply', id: req.id, ok: false, reason: 'NotFound', message: `${req.ns}/${req.name} not found` };
  const storedRev = Number(kvs[0].mod_revision);
  // Let the cache catch up with what etcd holds before the caller retries.
  await withTimeout(`the watch event of revision ${storedRev}`, watched(storedRev));
  if (req.op === 'create') return { kind: 'reply', id: req.id, ok: false, reason: 'AlreadyExists', message: `${req.ns}/${req.name} already exists` };
  return { kind: 'reply', id: req.id, ok: false, reason: 'Conflict', message: `${req.ns}/${req.name} is at revision ${storedRev}, not ${req.expectedRev}` };
}

port.on('message', (msg: WriteRequest) => {
  write(msg).then(reply, (err: unknown) => reply({ kind: 'reply', id: msg.id, ok: false, reason: 'Unavailable', message: (err as Error).message }));
});

start().catch((err: unknown) => post({ kind: 'fatal', message: `cannot start on etcd ${init.endpoints.join(',')}: ${(err as Error).message}` }));
