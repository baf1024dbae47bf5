// `flatnet server` serves HTTP/2 and HTTP/1.1 on one listener by default, chosen by ALPN as
// kube-apiserver offers them. Real clients only: curl, kubectl, Node's HTTP/2 and HTTPS clients, a
// node that joined with its own certificate, and raw frames for what no polite client sends.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { get as httpGet } from 'node:http';
import https from 'node:https';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer } from 'ws';
import { R } from '../../../src/api/resources.js';
import { loadKubeconfig, type ClusterConnection } from '../../../src/client/kubeconfig.js';
import { MAX_HEADER_BYTES, MAX_HEADER_LIST_SIZE, MAX_STREAMS_PER_CONNECTION } from '../../../src/apiserver/http2.js';
import { http2Request } from '../../support/http2-request.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { joinNode, registerEndpoint, type JoinedNode } from './node-agent-fixture.js';

let s: TestServer;
let admin: ClusterConnection;
let agent: https.Server;
let work: string;
let n1: JoinedNode;

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: false, args: ['--handshake-timeout', '5s'] });
  admin = loadKubeconfig(s.kubeconfig);
  work = mkdtempSync(join(tmpdir(), 'flatnet-h2-'));
  n1 = await joinNode(s, 'n1', work);
  // The node's agent: answers exec with a WebSocket stream, as the real agent does.
  agent = https.createServer({ cert: n1.serving.certPem, key: n1.serving.keyPem, ca: n1.serving.caPem, requestCert: true, rejectUnauthorized: true }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('log line\n');
  });
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : false) });
  agent.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(Buffer.concat([Buffer.from([1]), Buffer.from('hello over http/1.1\n')]));
      ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' }))]));
      ws.close(1000);
    });
  });
  await new Promise<void>((r) => agent.listen(0, '127.0.0.1', () => r()));
  await registerEndpoint(n1, (agent.address() as AddressInfo).port);
  await s.client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }], nodeName: 'n1' } });
});

after(async () => {
  n1?.client.close();
  await s?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  agent?.closeAllConnections();
  await new Promise<void>((r) => (agent ? agent.close(() => r()) : r()));
});

function connect(credentials: { cert?: Buffer; key?: Buffer } = {}): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(s.url, { ca: admin.ca, ...credentials });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}


test('curl offering h2 and http/1.1 gets HTTP/2 from the server', async () => {
  const ca = join(work, 'ca.crt');
  writeFileSync(ca, admin.ca!);
  const r = await run('curl', ['-sS', '-v', '--http2', '--cacert', ca, '-H', `Authorization: Bearer ${admin.token}`, `${s.url}/version`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /ALPN: server accepted h2/);
  assert.match(r.stderr, /< HTTP\/2 200/);
  assert.match(r.stdout, /"gitVersion":"v1\.32\.0-flatnet"/);
});

test('a watch over HTTP/2 delivers the events of writes made beside it on the same connection', async () => {
  const session = await connect();
  try {
    const auth = `Bearer ${admin.token}`;
    const watch = session.request({ ':path': '/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=false', authorization: auth });
    const lines: string[] = [];
    let buffered = '';
    const seen = new Promise<void>((resolve, reject) => {
      watch.on('data', (c: Buffer) => {
        buffered += c.toString('utf8');
        let nl;
        while ((nl = buffered.indexOf('\n')) !== -1) {
          lines.push(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
        }
        if (lines.some((l) => l.includes('"h2-cm-2"'))) resolve();
      });
      watch.on('error', reject);
      watch.on('end', () => reject(new Error(`watch ended early after ${JSON.stringify(lines)}`)));
    });
    await new Promise<void>((r, j) => watch.once('response', (h) => (h[':status'] === 200 ? r() : j(new Error(`watch answered ${h[':status']}`)))));
    for (const name of ['h2-cm-1', 'h2-cm-2']) {
      const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: name } });
      const created = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const st = session.request({ ':method': 'POST', ':path': '/api/v1/namespaces/default/configmaps', authorization: auth, 'content-type': 'application/json' });
        let status = 0;
        let out = '';
        st.on('response', (h) => (status = Number(h[':status'])));
        st.on('data', (c: Buffer) => (out += c.toString('utf8')));
        st.on('end', () => resolve({ status, body: out }));
        st.on('error', reject);
        st.end(body);
      });
      assert.equal(created.status, 201, created.body);
    }
    await seen;
    const events = lines.map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.object.metadata.name}`),
      ['ADDED h2-cm-1', 'ADDED h2-cm-2'],
    );
    watch.close();
  } finally {
    session.close();
  }
});

test('kubectl (client-go) negotiates HTTP/2 with the server by default', async () => {
  // Go's HTTP/2 transport says what it does with GODEBUG=http2debug=1.
  const r = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
    const child = spawn('kubectl', ['--kubeconfig', s.kubeconfig, 'get', 'namespaces', '-o', 'name'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GODEBUG: 'http2debug=1' } });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /http2: Transport creating client conn/);
});

test('kubectl get, apply, watch and logs work against the HTTP/2 server', async () => {
  await s.kubectlOk(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied, namespace: default}\ndata: {a: "1"}\n');
  assert.match(await s.kubectlOk(['get', 'configmap', 'applied', '-o', 'jsonpath={.data.a}']), /^1$/);
  // kubectl get -w: the listed object, then the event of a change made while it watches.
  const watcher = spawn('kubectl', ['--kubeconfig', s.kubeconfig, 'get', 'configmaps', '-w', '-o', 'name'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const saw = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => (re.test(out) ? resolve() : undefined);
      watcher.stdout.on('data', (c: Buffer) => {
        out += c.toString('utf8');
        check();
      });
      watcher.once('exit', (code) => reject(new Error(`kubectl get -w exited ${code}: ${out}`)));
      check();
    });
  try {
    await saw(/configmap\/applied/);
    await s.kubectlOk(['create', 'configmap', 'made-while-watching']);
    await saw(/configmap\/made-while-watching/);
  } finally {
    watcher.kill();
  }
  assert.match(await s.kubectlOk(['logs', 'p1']), /log line/);
});

test('kubectl proxy (client-go over HTTP/2 to the server, HTTP/1.1 to its own clients) passes requests, a watch and pod logs', async () => {
  const proxy = spawn('kubectl', ['--kubeconfig', s.kubeconfig, 'proxy', '--port=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const base = await new Promise<string>((resolve, reject) => {
      let out = '';
      proxy.stdout.on('data', (c: Buffer) => {
        out += c.toString('utf8');
        const m = /Starting to serve on (\S+)/.exec(out);
        if (m) resolve(`http://${m[1]}`);
      });
      proxy.once('exit', (code) => reject(new Error(`kubectl proxy exited ${code}: ${out}`)));
    });
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        httpGet(`${base}${path}`, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        }).on('error', reject);
      });
    const list = await get('/api/v1/namespaces/default/configmaps');
    assert.equal(list.status, 200, list.body);
    assert.equal((JSON.parse(list.body) as { kind: string }).kind, 'ConfigMapList');
    assert.deepEqual(await get('/api/v1/namespaces/default/pods/p1/log'), { status: 200, body: 'log line\n' });
    // A watch through the proxy: the event of a write made while it is open.
    const events = await new Promise<string>((resolve, reject) => {
      const req = httpGet(`${base}/api/v1/namespaces/default/configmaps?watch=true&fieldSelector=metadata.name%3Dvia-proxy`, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString('utf8');
          if (body.includes('"via-proxy"')) {
            req.destroy();
            resolve(body);
          }
        });
        void s.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'via-proxy', namespace: 'default' } }).catch(reject);
      });
      req.on('error', reject);
    });
    const event = JSON.parse(events.slice(0, events.indexOf('\n'))) as { type: string; object: { metadata: { name: string } } };
    assert.deepEqual([event.type, event.object.metadata.name], ['ADDED', 'via-proxy']);
  } finally {
    proxy.kill();
  }
});

test('a node certificate authenticates over HTTP/2: its own Node is readable, other Secrets are not', async () => {
  const conn = loadKubeconfig(join(work, 'n1', 'kubelet.kubeconfig'));
  assert.ok(conn.cert && conn.key, 'the joined node has a client certificate');
  const session = await connect({ cert: conn.cert, key: conn.key });
  try {
    const own = await http2Request(session, { ':path': '/api/v1/nodes/n1' });
    assert.equal(own.status, 200, own.body);
    assert.equal((JSON.parse(own.body) as { metadata: { name: string } }).metadata.name, 'n1');
    const other = await http2Request(session, { ':path': '/api/v1/namespaces/kube-system/secrets' });
    assert.equal(other.status, 403, other.body);
    assert.match(other.body, /system:node:n1/);
  } finally {
    session.close();
  }
  const anonymous = await connect();
  try {
    assert.equal((await http2Request(anonymous, { ':path': '/api/v1/nodes/n1' })).status, 401);
  } finally {
    anonymous.close();
  }
});

test('kubectl exec (an HTTP/1.1 upgrade) is served by the same HTTP/2-enabled listener', async () => {
  const r = await s.kubectl(['exec', 'p1', '--', 'echo', 'hi']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello over http/1.1\n');
});

/** An HPACK integer with an n-bit prefix (RFC 7541 5.1) after the pattern bits in `first`. */
function hpackInt(first: number, n: number, v: number): number[] {
  const max = (1 << n) - 1;
  if (v < max) return [first | v];
  const out = [first | max];
  for (v -= max; v >= 128; v >>= 7) out.push((v & 127) | 128);
  out.push(v);
  return out;
}

/** A header field as a literal without indexing, its name from the static table (RFC 7541 6.2.2). */
function literal(nameIndex: number, value: string): number[] {
  const bytes = [...Buffer.from(value, 'latin1')];
  return [...hpackInt(0, 4, nameIndex), ...hpackInt(0, 7, bytes.length), ...bytes];
}

/** A header field as a literal without indexing, with a new name (RFC 7541 6.2.2). */
function namedLiteral(name: string, value: string): number[] {
  const n = [...Buffer.from(name, 'latin1')];
  const v = [...Buffer.from(value, 'latin1')];
  return [0, ...hpackInt(0, 7, n.length), ...n, ...hpackInt(0, 7, v.length), ...v];
}

const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, CONTINUATION: 9 } as const;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** A GET's header block: :method GET, :scheme https, :path, :authority, then the given fields. */
function getBlock(path: string, fields: number[] = []): Buffer {
  return Buffer.from([0x82, 0x87, ...literal(4, path), ...literal(1, new URL(s.url).host), ...fields]);
}

const bearer = () => literal(23, `Bearer ${admin.token}`);

interface Frame {
  type: number;
  flags: number;
  id: number;
  payload: Buffer;
}

interface RawConnection {
  socket: TLSSocket;
  frames: Frame[];
  /** The first frame (seen or to come) that matches. */
  next(match: (f: Frame) => boolean): Promise<Frame>;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
  /** The GOAWAY's last stream id and error code, if the server sent one. */
  goaway(): { lastStreamId: number; code: number } | undefined;
}

/**
 * An HTTP/2 connection that speaks raw frames: Node's client queues streams beyond the server's
 * limit and never sends a malformed or abusive sequence, so what such a client does is written here.
 */
async function rawConnection(): Promise<RawConnection> {
  const url = new URL(s.url);
  const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca: admin.ca, ALPNProtocols: ['h2'] });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise<void>((r, j) => socket.once('secureConnect', () => r()).once('error', j));
  assert.equal(socket.alpnProtocol, 'h2');
  const frames: Frame[] = [];
  const waiting: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const len = pending.readUIntBE(0, 3);
      if (pending.length < 9 + len) break;
      const f = { type: pending[3], flags: pending[4], id: pending.readUInt32BE(5) & 0x7fffffff, payload: pending.subarray(9, 9 + len) };
      pending = pending.subarray(9 + len);
      if (f.type === FRAME.SETTINGS && (f.flags & 1) === 0) socket.write(frame(FRAME.SETTINGS, 1, 0, Buffer.alloc(0)));
      frames.push(f);
      for (const w of waiting.filter((x) => x.match(f))) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(f);
      }
    }
  });
  socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(FRAME.SETTINGS, 0, 0, Buffer.alloc(0))]));
  return {
    socket,
    frames,
    closed,
    next: (match) => {
      const seen = frames.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiting.push({ match, resolve }));
    },
    goaway: () => {
      const g = frames.find((f) => f.type === FRAME.GOAWAY);
      return g && { lastStreamId: g.payload.readUInt32BE(0) & 0x7fffffff, code: g.payload.readUInt32BE(4) };
    },
  };
}

/** The server still answers a new HTTP/2 connection. */
async function stillServes(): Promise<void> {
  const session = await connect();
  try {
    assert.equal((await http2Request(session, { ':path': '/version', authorization: `Bearer ${admin.token}` })).status, 200);
  } finally {
    session.close();
  }
}

test(`a client that ignores the ${MAX_STREAMS_PER_CONNECTION}-stream limit gets the extra streams refused, and its other streams keep working`, async () => {
  const c = await rawConnection();
  const total = MAX_STREAMS_PER_CONNECTION + 5;
  try {
    const block = getBlock('/api/v1/namespaces/default/configmaps?watch=true', bearer());
    const frames: Buffer[] = [];
    for (let i = 0; i < total; i++) frames.push(frame(FRAME.HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, block));
    c.socket.write(Buffer.concat(frames));
    const settled = () => c.frames.filter((f) => f.type === FRAME.HEADERS || f.type === FRAME.RST_STREAM).length >= total;
    await c.next(() => settled());
    const settings = c.frames.find((f) => f.type === FRAME.SETTINGS && (f.flags & 1) === 0)!;
    let maxStreams: number | undefined;
    for (let o = 0; o + 6 <= settings.payload.length; o += 6) if (settings.payload.readUInt16BE(o) === 3) maxStreams = settings.payload.readUInt32BE(o + 2);
    const answered = c.frames.filter((f) => f.type === FRAME.HEADERS);
    const reset = c.frames.filter((f) => f.type === FRAME.RST_STREAM);
    assert.equal(maxStreams, MAX_STREAMS_PER_CONNECTION, 'the server announces its stream limit');
    assert.equal(answered.length, MAX_STREAMS_PER_CONNECTION, `answered ${answered.length}, reset ${reset.map((f) => f.id).join(' ')}`);
    assert.equal(reset.length, total - MAX_STREAMS_PER_CONNECTION);
    // RFC 9113 5.1.2: a stream error, PROTOCOL_ERROR (1) or REFUSED_STREAM (7); the connection stays.
    for (const f of reset) assert.ok([1, 7].includes(f.payload.readUInt32BE(0)), `reset code ${f.payload.readUInt32BE(0)}`);
    assert.equal(c.goaway(), undefined, 'the connection is not torn down');
  } finally {
    c.socket.destroy();
  }
  await stillServes();
});

test('a request with more header fields than the limit (128) has its stream refused (ENHANCE_YOUR_CALM); the connection and its other streams go on', async () => {
  const c = await rawConnection();
  try {
    const many: number[] = [];
    for (let i = 0; i < 200; i++) many.push(...namedLiteral(`x-field-${i}`, 'v'));
    c.socket.write(frame(FRAME.HEADERS, END_HEADERS | END_STREAM, 1, getBlock('/version', [...bearer(), ...many])));
    c.socket.write(frame(FRAME.HEADERS, END_HEADERS | END_STREAM, 3, getBlock('/version', bearer())));
    const refused = await c.next((f) => f.type === FRAME.RST_STREAM && f.id === 1);
    assert.equal(refused.payload.readUInt32BE(0), http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    const answer = await c.next((f) => f.type === FRAME.HEADERS && f.id === 3);
    assert.ok(answer.payload.length > 0);
    assert.equal(c.goaway(), undefined);
  } finally {
    c.socket.destroy();
  }
});

/** Opens `path` on `session` and resolves once its first DATA has come, leaving the rest unread. */
function heldAnswer(session: http2.ClientHttp2Session, path: string): Promise<http2.ClientHttp2Stream> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, authorization: `Bearer ${admin.token}` });
    stream.once('response', (h) => (h[':status'] === 200 ? undefined : reject(new Error(`${path}: status ${h[':status']}`))));
    stream.once('data', (first: Buffer) => {
      stream.pause();
      stream.unshift(first);
      resolve(stream);
    });
    stream.once('error', reject);
  });
}

function readAll(stream: http2.ClientHttp2Stream): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.once('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    stream.once('error', reject);
    stream.resume();
  });
}

test(`a large answer (a 40 MB LIST, a watch starting with 40 MB of objects) its client reads slowly leaves the connection usable: the next request is answered, not refused (ENHANCE_YOUR_CALM), even with ${MAX_STREAMS_PER_CONNECTION - 1} answers unread; HTTP/1.1 gets the whole answer; a client that leaves mid-answer frees it`, { timeout: 300_000 }, async () => {
  // Node's HTTP/2 server refuses new streams of a session that holds more than maxSessionMemory
  // (32 MiB) queued, answer bytes waiting for the client's window included; client-go does not
  // retry a stream refused so, and kube-apiserver has no such limit.
  const ns = 'big-answers';
  const count = 40;
  const value = 'x'.repeat(1_000_000);
  await s.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (let i = 0; i < count; i++) await s.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `big-${i}`, namespace: ns }, data: { v: value } });
  const listPath = `/api/v1/namespaces/${ns}/configmaps`;
  const auth = { authorization: `Bearer ${admin.token}` };
  try {
    for (const path of [listPath, `${listPath}?watch=true&resourceVersion=0`]) {
      const session = await connect();
      // As client-go's: a 1 GiB connection window, so only the big answer's stream waits for its reader.
      session.setLocalWindowSize(1 << 30);
      try {
        const big = await heldAnswer(session, path);
        const small = await http2Request(session, { ':path': `${listPath}/big-0`, ...auth });
        assert.equal(small.status, 200, `${path}: the request made while the answer waits`);
        assert.equal((JSON.parse(small.body) as { data: { v: string } }).data.v.length, value.length);
        if (path === listPath) {
          const list = JSON.parse(await readAll(big)) as { items: { data: { v: string } }[] };
          assert.equal(list.items.length, count);
          for (const item of list.items) assert.equal(item.data.v.length, value.length);
        } else {
          const parts: Buffer[] = [];
          let lines = 0;
          await new Promise<void>((resolve) => {
            big.on('data', (c: Buffer) => {
              parts.push(c);
              for (let at = c.indexOf(10); at >= 0; at = c.indexOf(10, at + 1)) lines++;
              if (lines === count) resolve();
            });
            big.resume();
          });
          const events = Buffer.concat(parts).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string });
          assert.deepEqual(events.map((e) => e.type), Array<string>(count).fill('ADDED'));
          big.close(http2.constants.NGHTTP2_CANCEL);
        }
      } finally {
        session.close();
      }
    }

    // Over HTTP/1.1 the same answer, whole, as its content-length says.
    const h1 = await new Promise<{ length: number; body: Buffer }>((resolve, reject) => {
      https
        .get(`${s.url}${listPath}`, { ca: admin.ca, headers: auth }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve({ length: Number(res.headers['content-length']), body: Buffer.concat(parts) }));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    assert.equal(h1.body.length, h1.length);
    assert.equal((JSON.parse(h1.body.toString('utf8')) as { items: unknown[] }).items.length, count);

    // A client that opens as many big answers as it may (1 MB each) and reads none of them, not even
    // a first byte (its stream window is 0): what the session queues stays bounded, and its last
    // stream is served.
    const stalled = await new Promise<http2.ClientHttp2Session>((resolve, reject) => {
      const session = http2.connect(s.url, { ca: admin.ca, settings: { initialWindowSize: 0 } });
      session.once('connect', () => resolve(session));
      session.once('error', reject);
    });
    try {
      const held: Promise<unknown>[] = [];
      for (let i = 0; i < MAX_STREAMS_PER_CONNECTION - 1; i++) {
        const stream = stalled.request({ ':path': `${listPath}?limit=1`, ...auth });
        stream.on('error', () => undefined);
        held.push(new Promise((resolve) => stream.once('response', resolve)));
      }
      await Promise.all(held);
      // Its answer's headers: its body waits for a window like the others'.
      const last = stalled.request({ ':path': '/version', ...auth });
      const status = await new Promise((resolve, reject) => last.once('response', (h) => resolve(h[':status'])).once('error', reject));
      assert.equal(status, 200);
    } finally {
      stalled.destroy();
    }

    // A client that cancels the answer, and one that drops its connection, mid-answer: the session
    // goes on, and so does the server.
    const session = await connect();
    try {
      const big = await heldAnswer(session, listPath);
      big.close(http2.constants.NGHTTP2_CANCEL);
      assert.equal((await http2Request(session, { ':path': '/version', ...auth })).status, 200);
      await heldAnswer(session, listPath);
    } finally {
      session.destroy();
    }
    await stillServes();
  } finally {
    for (let i = 0; i < count; i++) await s.client.delete(R.configmaps, ns, `big-${i}`);
  }
});

/** A header block sent as HEADERS and CONTINUATION frames of at most 16 KiB (the default SETTINGS_MAX_FRAME_SIZE). */
function headerFrames(streamId: number, block: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let o = 0; o < block.length; o += 16384) {
    const last = o + 16384 >= block.length;
    out.push(frame(o === 0 ? FRAME.HEADERS : FRAME.CONTINUATION, (last ? END_HEADERS : 0) | (o === 0 ? END_STREAM : 0), streamId, block.subarray(o, o + 16384)));
  }
  return Buffer.concat(out);
}

test(`HTTP/2 header limits: ${MAX_HEADER_LIST_SIZE} bytes announced (kube-apiserver's); 70 KB of headers answered; one field over 64 KiB or a 1 MiB block ends the connection, which closes`, { timeout: 120_000 }, async () => {
  const c = await rawConnection();
  try {
    // 70 KB in seven fields: under the limit, so answered, as kube-apiserver answers it.
    const fields: number[] = [];
    for (let i = 0; i < 7; i++) fields.push(...namedLiteral(`x-big-${i}`, 'a'.repeat(10_000)));
    c.socket.write(headerFrames(1, getBlock('/version', [...bearer(), ...fields])));
    const answer = await c.next((f) => (f.type === FRAME.HEADERS || f.type === FRAME.RST_STREAM) && f.id === 1);
    assert.equal(answer.type, FRAME.HEADERS, 'a 70 KB header list was refused');
    const settings = c.frames.find((f) => f.type === FRAME.SETTINGS && (f.flags & 1) === 0)!;
    let announced: number | undefined;
    for (let o = 0; o + 6 <= settings.payload.length; o += 6) if (settings.payload.readUInt16BE(o) === 6) announced = settings.payload.readUInt32BE(o + 2);
    assert.equal(announced, MAX_HEADER_LIST_SIZE, 'SETTINGS_MAX_HEADER_LIST_SIZE');
    assert.equal(c.goaway(), undefined);
  } finally {
    c.socket.destroy();
  }
  // One 70 KB field: nghttp2 decodes no field over 64 KiB, a connection error (RFC 9113 4.3).
  // Both ends come with an error GOAWAY, then the server closes the connection (the test's
  // timeout bounds the wait) instead of keeping it until the idle timeout.
  const oneField = await rawConnection();
  try {
    oneField.socket.write(headerFrames(1, getBlock('/version', [...bearer(), ...namedLiteral('x-big', 'a'.repeat(70_000))])));
    await oneField.next((f) => f.type === FRAME.GOAWAY);
    assert.equal(oneField.goaway()?.code, http2.constants.NGHTTP2_COMPRESSION_ERROR);
    await oneField.closed;
  } finally {
    oneField.socket.destroy();
  }
  // A 1 MiB block (64 frames): more CONTINUATION frames than nghttp2 takes for one block.
  const block = await rawConnection();
  try {
    const many: number[] = [];
    for (let i = 0; i < 64; i++) many.push(...namedLiteral(`x-big-${i}`, 'a'.repeat(16_000)));
    block.socket.write(headerFrames(1, getBlock('/version', [...bearer(), ...many])));
    await block.closed;
    const g = block.goaway();
    assert.ok(g !== undefined && g.code !== http2.constants.NGHTTP2_NO_ERROR, `GOAWAY ${JSON.stringify(g)}`);
    assert.ok(!block.frames.some((f) => f.type === FRAME.HEADERS && f.id === 1), 'the 1 MiB header block was answered');
  } finally {
    block.socket.destroy();
  }
  await stillServes();
});

test(`HTTP/1.1 header limit: ${MAX_HEADER_BYTES} bytes (kube-apiserver's MaxHeaderBytes); 70 KB answered, more gets 431 and the connection closes`, async () => {
  const url = new URL(s.url);
  const exchange = (headerBytes: number) =>
    new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca: admin.ca, ALPNProtocols: ['http/1.1'] });
      let got = '';
      socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
      // The server may close while the rest of the head is still being sent.
      socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err)));
      socket.once('close', () => resolve(got));
      socket.once('secureConnect', () => {
        assert.equal(socket.alpnProtocol, 'http/1.1');
        socket.end(`GET /version HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${admin.token}\r\nconnection: close\r\nx-big: ${'a'.repeat(headerBytes)}\r\n\r\n`);
      });
    });
  assert.match(await exchange(70_000), /^HTTP\/1\.1 200 /);
  assert.match(await exchange(MAX_HEADER_BYTES + 1), /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
});

test('a header block that never ends (CONTINUATION flood) gets the connection closed instead of buffered', async () => {
  const c = await rawConnection();
  try {
    c.socket.write(frame(FRAME.HEADERS, 0, 1, getBlock('/version', bearer())));
    // Up to 64 MiB of CONTINUATION frames without END_HEADERS; the server must not keep taking them.
    const field = namedLiteral('x-junk', 'j'.repeat(100));
    const junk = frame(FRAME.CONTINUATION, 0, 1, Buffer.from(Array.from({ length: 140 }, () => field).flat()));
    let sent = 0;
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (!c.socket.destroyed && sent < 64 * 1024 * 1024) {
          sent += junk.length;
          if (!c.socket.write(junk)) return void c.socket.once('drain', pump);
        }
        resolve();
      };
      c.closed.then(() => resolve());
      pump();
    });
    await c.closed;
    assert.ok(sent < 64 * 1024 * 1024, `the server read all ${sent} bytes of the endless header block`);
    const g = c.goaway();
    assert.ok(g === undefined || g.code !== http2.constants.NGHTTP2_NO_ERROR, `GOAWAY ${JSON.stringify(g)}`);
  } finally {
    c.socket.destroy();
  }
  await stillServes();
});

test('a rapid-reset flood (streams opened and cancelled at once, CVE-2023-44487) gets a GOAWAY; the server keeps serving and no watch is left open', async () => {
  const c = await rawConnection();
  const total = 3000;
  try {
    const block = getBlock('/api/v1/namespaces/default/configmaps?watch=true', bearer());
    const cancel = Buffer.alloc(4);
    cancel.writeUInt32BE(http2.constants.NGHTTP2_CANCEL);
    const frames: Buffer[] = [];
    for (let i = 0; i < total; i++) frames.push(frame(FRAME.HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, block), frame(FRAME.RST_STREAM, 0, 1 + 2 * i, cancel));
    c.socket.write(Buffer.concat(frames));
    await c.next((f) => f.type === FRAME.GOAWAY);
    const g = c.goaway()!;
    assert.ok(g.lastStreamId < 2 * total - 1, `the server took every stream of the flood (last ${g.lastStreamId})`);
    assert.notEqual(g.code, http2.constants.NGHTTP2_NO_ERROR);
    // After its GOAWAY the server ends the connection (an unanswered PING once it falls silent:
    // SILENT_SESSION_PROBE_MS), not the 90 s idle timeout later; the test's timeout bounds the wait.
    await c.closed;
  } finally {
    c.socket.destroy();
  }
  await stillServes();
  const session = await connect();
  try {
    const metrics = await http2Request(session, { ':path': '/metrics', authorization: `Bearer ${admin.token}` });
    assert.match(metrics.body, /^apiserver_registered_watchers 0$/m, 'the flood left watches registered');
  } finally {
    session.close();
  }
});

for (const [kind, type] of [['PING', FRAME.PING], ['SETTINGS', FRAME.SETTINGS]] as const) {
  test(`a client that floods ${kind} frames and never reads their acknowledgements gets its connection closed, not an unbounded queue`, async () => {
    const c = await rawConnection();
    const total = 2_000_000;
    let sent = 0;
    try {
      // One request first, so the connection is past its first-request deadline.
      c.socket.write(frame(FRAME.HEADERS, END_HEADERS | END_STREAM, 1, getBlock('/version', bearer())));
      await c.next((f) => f.type === FRAME.HEADERS && f.id === 1);
      c.socket.pause();
      const one = frame(type, 0, 0, type === FRAME.PING ? Buffer.alloc(8) : Buffer.alloc(0));
      const chunk = Buffer.concat(Array.from({ length: 10_000 }, () => one));
      let closed = false;
      void c.closed.then(() => (closed = true));
      while (!closed && sent < total) {
        sent += 10_000;
        if (c.socket.write(chunk)) continue;
        // A liveness bound, not a timing assertion: a server that stopped reading without closing fails here.
        const drained = await Promise.race([new Promise<boolean>((r) => c.socket.once('drain', () => r(true))), c.closed.then(() => false), sleep(30_000, false, { ref: false })]);
        if (!drained && !closed) assert.fail(`the server stopped reading after ${sent} ${kind} frames but kept the connection`);
      }
      assert.ok(sent < total, `the server took all ${total} ${kind} frames`);
    } finally {
      c.socket.destroy();
    }
    await stillServes();
  });
}

test('over HTTP/2, a request without valid credentials gets its answer (401) with a GOAWAY, as kube-apiserver (UnauthenticatedHTTP2DOSMitigation); authenticated sessions stay', async () => {
  // A flood of unauthenticated streams: only the first is taken, the rest are left unprocessed.
  const c = await rawConnection();
  try {
    const block = getBlock('/api/v1/namespaces/default/configmaps');
    const frames: Buffer[] = [];
    for (let i = 0; i < 50; i++) frames.push(frame(FRAME.HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, block));
    c.socket.write(Buffer.concat(frames));
    await c.next((f) => f.type === FRAME.GOAWAY);
    assert.deepEqual(c.goaway(), { lastStreamId: 1, code: http2.constants.NGHTTP2_NO_ERROR });
    await c.closed;
    assert.deepEqual(
      c.frames.filter((f) => f.type === FRAME.HEADERS).map((f) => f.id),
      [1],
    );
  } finally {
    c.socket.destroy();
  }
  // A wrong token: the answer is the 401 Status, then the GOAWAY; so is an anonymous /version.
  for (const headers of [{ ':path': '/api/v1/namespaces', authorization: 'Bearer not-a-token' }, { ':path': '/version' }]) {
    const session = await connect();
    let away: number | undefined;
    session.once('goaway', (code: number) => (away = code));
    session.on('error', () => undefined);
    const r = await http2Request(session, headers);
    assert.equal(r.status, headers.authorization ? 401 : 200, r.body);
    // The GOAWAY goes out before the answer, so the client has it once the answer is in.
    assert.equal(away, http2.constants.NGHTTP2_NO_ERROR, 'no GOAWAY came with the answer');
    session.destroy();
  }
  // An authenticated session carries request after request.
  const session = await connect();
  try {
    let away = false;
    session.once('goaway', () => (away = true));
    for (let i = 0; i < 20; i++) assert.equal((await http2Request(session, { ':path': '/api/v1/namespaces/default/configmaps', authorization: `Bearer ${admin.token}` })).status, 200);
    assert.equal(away, false);
  } finally {
    session.close();
  }
  // HTTP/1.1 keeps its keep-alive connection after a 401, as kube-apiserver's (the mitigation is HTTP/2's).
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: admin.ca });
  try {
    const get1 = (auth: string) =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = https.get(`${s.url}/api/v1/namespaces`, { agent, headers: { authorization: auth } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
        });
        req.on('error', reject);
      });
    assert.deepEqual(await get1('Bearer not-a-token'), { status: 401, reused: false });
    assert.deepEqual(await get1(`Bearer ${admin.token}`), { status: 200, reused: true });
  } finally {
    agent.destroy();
  }
});

// The timeout option is a liveness bound (the server's deadline is 5 s), so a missing deadline fails instead of hanging.
test('an HTTP/2 connection that sends no request is closed after the handshake timeout, as an HTTP/1.1 one is', { timeout: 120_000 }, async () => {
  const session = await connect();
  const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
  session.on('error', () => undefined);
  await closed;
  assert.equal(session.destroyed, true);
});
