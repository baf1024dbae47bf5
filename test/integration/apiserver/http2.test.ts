// `flatnet server --http2`: HTTP/2 and HTTP/1.1 on one listener, chosen by ALPN as kube-apiserver
// offers them. Real clients only: curl, kubectl, Node's HTTP/2 client, and a node that joined with
// its own certificate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { R } from '../../../src/api/resources.js';
import { loadKubeconfig, type ClusterConnection } from '../../../src/client/kubeconfig.js';
import { MAX_STREAMS_PER_CONNECTION } from '../../../src/apiserver/http2.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { joinNode, registerEndpoint, type JoinedNode } from './node-agent-fixture.js';

let s: TestServer;
let admin: ClusterConnection;
let agent: https.Server;
let work: string;
let n1: JoinedNode;

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: false, args: ['--http2', '--handshake-timeout', '5s'] });
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

/** One request on a session: status and body. */
function request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    let status = 0;
    let body = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => (body += c.toString('utf8')));
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
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

test('a node certificate authenticates over HTTP/2: its own Node is readable, other Secrets are not', async () => {
  const conn = loadKubeconfig(join(work, 'n1', 'kubelet.kubeconfig'));
  assert.ok(conn.cert && conn.key, 'the joined node has a client certificate');
  const session = await connect({ cert: conn.cert, key: conn.key });
  try {
    const own = await request(session, { ':path': '/api/v1/nodes/n1' });
    assert.equal(own.status, 200, own.body);
    assert.equal((JSON.parse(own.body) as { metadata: { name: string } }).metadata.name, 'n1');
    const other = await request(session, { ':path': '/api/v1/namespaces/kube-system/secrets' });
    assert.equal(other.status, 403, other.body);
    assert.match(other.body, /system:node:n1/);
  } finally {
    session.close();
  }
  const anonymous = await connect();
  try {
    assert.equal((await request(anonymous, { ':path': '/api/v1/nodes/n1' })).status, 401);
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

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

test(`a client that ignores the ${MAX_STREAMS_PER_CONNECTION}-stream limit gets the extra streams refused, and its other streams keep working`, async () => {
  // Node's own client queues streams beyond the server's limit, so this one speaks raw frames.
  const { connect: tlsConnect } = await import('node:tls');
  const url = new URL(s.url);
  const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca: admin.ca, ALPNProtocols: ['h2'] });
  await new Promise<void>((r, j) => socket.once('secureConnect', () => r()).once('error', j));
  assert.equal(socket.alpnProtocol, 'h2');
  const answered = new Set<number>();
  const reset = new Map<number, number>();
  let goaway = false;
  let maxStreams: number | undefined;
  let pending = Buffer.alloc(0);
  let settled: () => void = () => {};
  const total = MAX_STREAMS_PER_CONNECTION + 5;
  const allSeen = new Promise<void>((r) => (settled = r));
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const len = pending.readUIntBE(0, 3);
      if (pending.length < 9 + len) break;
      const [type, flags] = [pending[3], pending[4]];
      const id = pending.readUInt32BE(5) & 0x7fffffff;
      const payload = pending.subarray(9, 9 + len);
      pending = pending.subarray(9 + len);
      if (type === 4 && (flags & 1) === 0) {
        for (let o = 0; o + 6 <= payload.length; o += 6) if (payload.readUInt16BE(o) === 3) maxStreams = payload.readUInt32BE(o + 2);
        socket.write(frame(4, 1, 0, Buffer.alloc(0)));
      }
      if (type === 1) answered.add(id);
      if (type === 3) reset.set(id, payload.readUInt32BE(0));
      if (type === 7) goaway = true;
      if (answered.size + reset.size >= total) settled();
    }
  });
  socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(4, 0, 0, Buffer.alloc(0))]));
  const block = Buffer.from([
    0x82, // :method GET
    0x87, // :scheme https
    ...literal(4, '/api/v1/namespaces/default/configmaps?watch=true'),
    ...literal(1, url.host),
    ...literal(23, `Bearer ${admin.token}`),
  ]);
  const frames: Buffer[] = [];
  for (let i = 0; i < total; i++) frames.push(frame(1, 0x4 | 0x1, 1 + 2 * i, block)); // END_HEADERS | END_STREAM
  socket.write(Buffer.concat(frames));
  await allSeen;
  try {
    assert.equal(maxStreams, MAX_STREAMS_PER_CONNECTION, 'the server announces its stream limit');
    assert.equal(answered.size, MAX_STREAMS_PER_CONNECTION, `answered ${answered.size}, reset ${[...reset].join(' ')}`);
    assert.equal(reset.size, total - MAX_STREAMS_PER_CONNECTION);
    // RFC 9113 5.1.2: a stream error, PROTOCOL_ERROR (1) or REFUSED_STREAM (7); the connection stays.
    for (const code of reset.values()) assert.ok(code === 7 || code === 1, `reset code ${code}`);
    assert.equal(goaway, false, 'the connection is not torn down');
  } finally {
    socket.destroy();
  }
  // The server keeps serving new connections.
  const session = await connect();
  try {
    assert.equal((await request(session, { ':path': '/version', authorization: `Bearer ${admin.token}` })).status, 200);
  } finally {
    session.close();
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
