// The floor under an API server on etcd, for bench/apiserver/etcd-floor.ts and etcd-store.ts: a
// bare Node HTTPS server (HTTP/2 and HTTP/1.1 by ALPN, as `flatnet server --http2`) whose only work
// per create is one transaction through the etcd store's own gRPC client (etcd-grpc.ts, on this
// thread): read the body, JSON.parse it, check the bearer token, send kube-apiserver's create
// transaction (put if absent, else read), answer 201 with the object and its resourceVersion. No
// admission, validation, defaulting or cache. A watch (GET ...?watch=true) is one stream per
// request fed by one etcd watch over all keys, opened at start on this thread: each put is written
// to the namespace's streams as `{"type":"ADDED","object":<the stored JSON>}` with its revision
// spliced in, nothing decoded. The least an API server on etcd can do for a watch. Run as a child:
//
//   node --import tsx bench/apiserver/etcd-floor-server.ts   (config as JSON on stdin: see Config)
//
// It prints its port on stdout once listening. With `worker: true` the transactions run in a
// worker thread as the etcd store runs them (requests and answers batched per turn of each event
// loop): the same work plus the hop, to price the hop alone (watches stay on the main thread).
import { type Http2ServerRequest, type Http2ServerResponse, createSecureServer } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { EtcdGrpc } from '../../src/store/etcd-grpc.js';
import { txnRequest, txnResponse, watchCreateRequest, watchResponse } from '../../src/store/etcd-wire.js';

interface Config {
  etcdUrl: string;
  etcdTls?: { caPem: string; certPem: string; keyPem: string };
  serverCertPem: string;
  serverKeyPem: string;
  token: string;
  worker?: boolean;
}

/** Where the floor keeps its objects: PREFIX + namespace + '/' + name. */
const PREFIX = '/floor/configmaps/';

type Txn = { id: number; key: string; value: string };
type TxnAnswer = { id: number; rev?: number; error?: string };

/** One create transaction: the revision, or undefined when the key exists. */
async function createTxn(etcd: EtcdGrpc, key: string, value: string): Promise<number | undefined> {
  const r = txnResponse(await etcd.unary('/etcdserverpb.KV/Txn', txnRequest({ key, target: 'create', result: 'equal', value: 0 }, { put: { key, value } }, { range: { key } })));
  return r.succeeded ? r.revision : undefined;
}

if (!isMainThread) {
  const cfg = workerData as Config;
  const etcd = new EtcdGrpc([cfg.etcdUrl], cfg.etcdTls);
  let out: TxnAnswer[] = [];
  const answer = (a: TxnAnswer) => {
    if (out.push(a) === 1) {
      setImmediate(() => {
        parentPort!.postMessage(out);
        out = [];
      });
    }
  };
  parentPort!.on('message', (batch: Txn[]) => {
    for (const t of batch) createTxn(etcd, t.key, t.value).then((rev) => answer({ id: t.id, rev }), (err: unknown) => answer({ id: t.id, error: (err as Error).message }));
  });
} else {
  await serve();
}

async function serve(): Promise<void> {

  async function readStdin(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  const config = JSON.parse(await readStdin()) as Config;
  const auth = `Bearer ${config.token}`;
  let txn: (key: string, value: string) => Promise<number | undefined>;
  let close: () => void;
  if (config.worker) {
    // As etcd.ts starts its thread from the TypeScript sources: the same loader first.
    const script = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const worker = new Worker(script, { eval: true, workerData: config });
    const waiting = new Map<number, { resolve: (rev: number | undefined) => void; reject: (err: Error) => void }>();
    let nextId = 1;
    let outbox: Txn[] = [];
    worker.on('message', (answers: TxnAnswer[]) => {
      for (const a of answers) {
        const w = waiting.get(a.id)!;
        waiting.delete(a.id);
        if (a.error !== undefined) w.reject(new Error(a.error));
        else w.resolve(a.rev);
      }
    });
    txn = (key, value) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        if (outbox.push({ id, key, value }) === 1) {
          setImmediate(() => {
            worker.postMessage(outbox);
            outbox = [];
          });
        }
      });
    close = () => void worker.terminate();
  } else {
    const etcd = new EtcdGrpc([config.etcdUrl], config.etcdTls);
    txn = (key, value) => createTxn(etcd, key, value);
    close = () => etcd.close();
  }

  const watchers = watchRelay(config);
  const onRequest = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
    const fail = (code: number, message: string) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code }));
    };
    if (req.headers.authorization !== auth) return fail(401, 'Unauthorized');
    const url = new URL(req.url ?? '/', 'https://floor');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps$/.exec(url.pathname);
    if (!m) return fail(404, 'only POST and watches of /api/v1/namespaces/NS/configmaps are served here');
    if (req.method === 'GET' && url.searchParams.get('watch') === 'true') return watchers.add(m[1], res);
    if (req.method !== 'POST') return fail(405, 'only POST and watches of /api/v1/namespaces/NS/configmaps are served here');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let obj: { metadata: { name: string; resourceVersion?: string } };
      try {
        obj = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof obj;
      } catch {
        return fail(400, 'the body is not JSON');
      }
      const key = `${PREFIX}${m[1]}/${obj.metadata.name}`;
      const value = JSON.stringify(obj);
      txn(key, value).then(
        (rev) => {
          if (rev === undefined) return fail(409, `${key} already exists`);
          obj.metadata.resourceVersion = String(rev);
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(JSON.stringify(obj));
        },
        (err: unknown) => fail(500, (err as Error).message),
      );
    });
  };
  const server = createSecureServer({ cert: config.serverCertPem, key: config.serverKeyPem, allowHTTP1: true, settings: { maxConcurrentStreams: 100 } }, onRequest);
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
  process.on('SIGTERM', () => {
    close();
    watchers.close();
    server.close();
    process.exit(0);
  });
}

/**
 * The watches: one etcd watch over PREFIX from now on, each put written to the streams watching
 * its namespace as one line, the stored JSON untouched but for the revision spliced into metadata.
 */
function watchRelay(config: Config): { add(namespace: string, res: ServerResponse | Http2ServerResponse): void; close(): void } {
  const etcd = new EtcdGrpc([config.etcdUrl], config.etcdTls);
  const streams = new Map<string, Set<ServerResponse>>();
  const watch = etcd.watch(
    watchCreateRequest(PREFIX, 0),
    (msg) => {
      for (const ev of watchResponse(msg).events) {
        if (ev.type !== 'put') continue;
        const namespace = ev.kv.key.slice(PREFIX.length, ev.kv.key.indexOf('/', PREFIX.length));
        const to = streams.get(namespace);
        if (!to) continue;
        const line = `{"type":"ADDED","object":${ev.kv.value.replace('"metadata":{', `"metadata":{"resourceVersion":"${ev.kv.modRev}",`)}}\n`;
        for (const res of to) res.write(line);
      }
    },
    (err) => {
      process.stderr.write(`etcd-floor-server: ${err.message}\n`);
      process.exit(1);
    },
  );
  return {
    add(namespace, res) {
      let set = streams.get(namespace);
      if (!set) streams.set(namespace, (set = new Set()));
      // (Node's HTTP/2 compatibility answer has the same write and close as HTTP/1.1's.)
      const stream = res as ServerResponse;
      set.add(stream);
      stream.on('close', () => set.delete(stream));
      // HTTP/2 sends the headers at writeHead; HTTP/1.1 only when asked.
      res.writeHead(200, { 'content-type': 'application/json' });
      if ('flushHeaders' in res) res.flushHeaders();
    },
    close() {
      watch.close();
      etcd.close();
    },
  };
}
