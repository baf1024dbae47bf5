// Side doors of a started `flatnet server`: the data directory and every file in it are private
// from their first byte (stat), TLS 1.2 offers only ECDHE with AEAD ciphers (openssl s_client),
// and a connection that never sends a request is closed by the server. The way to the agents:
// the server reaches a node's agent only at the address the node registered with its own
// certificate, over TLS checked against that node's serving certificate, with its kubelet client
// certificate and never a bearer token; traversal paths are 400 before anything is sent; the
// agent's kubelet endpoint serves only the API server's certificate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCertificate } from '../../support/certificates.js';
import { R } from '../../../src/api/resources.js';
import { loadKubeconfig } from '../../../src/client/kubeconfig.js';
import { KubeletServer } from '../../../src/agent/kubelet-server.js';
import { createLogger } from '../../../src/util/log.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { type FakeAgent, type JoinedNode, joinNode, registerEndpoint, startFakeAgent } from './node-agent-fixture.js';

let s: TestServer;
let parent: string;
let dataDir: string;
let n1: JoinedNode;
let n2: JoinedNode;
let agent: FakeAgent;

before(async () => {
  parent = mkdtempSync(join(tmpdir(), 'flatnet-sidedoor-'));
  dataDir = join(parent, 'data');
  s = await startTestServer({ store: 'sqlite', controllers: false, dataDir, args: ['--handshake-timeout', '1s'] });
  await s.client.create(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'private', namespace: 'default' }, data: { a: 'c2VjcmV0' } } as never);
  const nodesDir = join(parent, 'nodes');
  n1 = await joinNode(s, 'n1', nodesDir);
  n2 = await joinNode(s, 'n2', nodesDir);
  agent = await startFakeAgent(n1.serving);
  await registerEndpoint(n1, agent.port);
  for (const name of ['p1', 'p2']) {
    await s.client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } });
  }
});
after(async () => {
  n1?.client.close();
  n2?.client.close();
  await agent?.close();
  await s?.stop();
  rmSync(parent, { recursive: true, force: true });
});

test('the data dir is 0700 and every file the server wrote in it is 0600 (store, WAL, keys, token)', () => {
  assert.equal((statSync(dataDir).mode & 0o777).toString(8), '700');
  const files = readdirSync(dataDir);
  for (const f of ['state.db', 'state.db-wal', 'ca.key', 'apiserver.key', 'admin.token', 'admin.kubeconfig', 'apiserver-kubelet-client.key']) assert.ok(files.includes(f), `${f} in ${files.join(' ')}`);
  for (const f of files) assert.equal((statSync(join(dataDir, f)).mode & 0o777).toString(8), '600', f);
});

function sClient(args: string[]): Promise<{ code: number; out: string }> {
  const url = new URL(s.url);
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', ['s_client', '-connect', `${url.hostname}:${url.port}`, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err && (err as { code?: unknown }).code === 'ENOENT') reject(new Error('openssl is needed for this test (apt-get install openssl)'));
      else resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, out: stdout + stderr });
    });
    child.stdin?.end('');
  });
}

test('TLS 1.2 without forward secrecy (AES128-SHA) is refused; ECDHE with AES-GCM is served', async () => {
  const weak = await sClient(['-tls1_2', '-cipher', 'AES128-SHA']);
  assert.notEqual(weak.code, 0, weak.out);
  assert.match(weak.out, /handshake failure|no cipher|alert/i);
  // The serving key is ECDSA P-256: the ECDHE-ECDSA suites are the ones it can serve.
  const cbc = await sClient(['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA']);
  assert.notEqual(cbc.code, 0, 'CBC suites are not offered either');
  const good = await sClient(['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256']);
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /Cipher is ECDHE-ECDSA-AES128-GCM-SHA256/);
});

test('a TCP connection that never starts TLS is closed by the server', async () => {
  const url = new URL(s.url);
  const socket = net.connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', () => resolve());
  });
});

test('a TLS connection that never sends a request is closed by the server', async () => {
  const url = new URL(s.url);
  const socket = tls.connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false });
  let secured = false;
  socket.once('secureConnect', () => (secured = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', () => resolve());
  });
  assert.ok(secured, 'the handshake completed before the server closed the idle connection');
});

/** A request with the admin credentials and the exact path given (no client-side normalisation). */
function adminRequest(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const conn = loadKubeconfig(s.kubeconfig);
  const url = new URL(s.url);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: url.hostname, port: Number(url.port), path, method: 'GET', ca: conn.ca, headers: { authorization: `Bearer ${conn.token}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, body: '' });
    });
    req.on('error', reject);
    req.end();
  });
}

test('logs reach the agent the node registered, with the server\'s kubelet client certificate and no bearer token', async () => {
  const before = agent.seen.length;
  const r = await s.kubectl(['logs', 'p1']);
  assert.equal(r.code, 0, r.stderr);
  const got = agent.seen.slice(before);
  assert.equal(got.length, 1);
  assert.equal(got[0].auth, undefined, 'no Authorization header reaches the agent');
  assert.equal(got[0].clientCN, 'kube-apiserver-kubelet-client');
  const adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  assert.ok(!JSON.stringify(got).includes(adminToken));
});

test('a user-settable annotation never redirects the server to another endpoint', async () => {
  const decoy = await startFakeAgent(n1.serving);
  try {
    await s.client.patch(R.nodes, undefined, 'n1', { metadata: { annotations: { 'flatnet.dev/kubelet-endpoint': `127.0.0.1:${decoy.port}` } } });
    const r = await s.kubectl(['logs', 'p1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(decoy.seen.length, 0);
  } finally {
    await decoy.close();
  }
});

test('an agent with a wrong certificate (another node\'s, or not from the cluster CA) gets nothing', async () => {
  const other = await startFakeAgent(n2.serving);
  const forged = selfSignedCertificate(['127.0.0.1'], { commonName: 'system:node:n1', organizations: ['system:nodes'], notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3600_000) });
  const selfSigned = await startFakeAgent({ ...forged, caPem: n1.serving.caPem });
  try {
    await registerEndpoint(n1, other.port);
    const wrongNode = await s.kubectl(['logs', 'p1']);
    assert.notEqual(wrongNode.code, 0);
    assert.match(wrongNode.stderr, /not node n1's serving certificate/);
    assert.equal(other.seen.length, 0);
    await registerEndpoint(n1, selfSigned.port);
    const untrusted = await s.kubectl(['logs', 'p1']);
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stderr, /error dialing backend: .*(self[- ]signed|unable to verify)/i);
    assert.equal(selfSigned.seen.length, 0);
    const exec = await s.kubectl(['exec', 'p1', '--', 'id']);
    assert.notEqual(exec.code, 0);
    assert.equal(selfSigned.seen.length, 0, 'an upgrade is not sent either');
  } finally {
    await registerEndpoint(n1, agent.port);
    await other.close();
    await selfSigned.close();
  }
});

test('traversal in logs/exec/attach/port-forward/proxy paths is 400 before anything is sent', async () => {
  const paths = [
    '/api/v1/namespaces/default/pods/p1/log/../../p2/exec?command=id',
    '/api/v1/namespaces/default/pods/p1/exec/%2e%2e/%2e%2e/p2/exec?command=id',
    '/api/v1/namespaces/default/pods/p1/%2E%2E/p2/attach',
    '/api/v1/namespaces/default/pods/%2e%2e/portforward?ports=80',
    '/api/v1/namespaces/default/pods/p1%2f..%2fp2/exec?command=id',
    '/api/v1/namespaces/default/pods/p1%2Fexec/log',
    '/api/v1/namespaces/default/pods/p1/./log',
    '/api/v1/namespaces/default/pods/p1/proxy/%252e%252e/%252e%252e/p2/exec',
    '/api/v1/nodes/n1/proxy/../../api/v1/namespaces/default/pods/p2/exec',
    '/api/v1/nodes/n1/proxy/%2e%2e/x',
    '/api/v1/nodes/n1/proxy/a%5c..%5cb',
    '/api/v1/nodes/n1/proxy/x%00y',
  ];
  const before = agent.seen.length;
  for (const path of paths) {
    const r = await adminRequest(path);
    assert.equal(r.status, 400, `${path}: ${r.body}`);
    assert.match(r.body, /not allowed for proxying/);
    const up = await adminRequest(path, { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'v5.channel.k8s.io' });
    assert.equal(up.status, 400, `upgrade ${path}`);
  }
  assert.equal(agent.seen.length, before, 'the agent received none of them');
  // A clean nodes/proxy path reaches the agent without its /api/v1/nodes/<name>/proxy prefix.
  const clean = await adminRequest('/api/v1/nodes/n1/proxy/healthz');
  assert.equal(clean.status, 200, clean.body);
  assert.equal(agent.seen.at(-1)?.url, '/healthz');
});

test('the agent\'s kubelet endpoint serves only the API server\'s client certificate, and refuses traversal itself', async () => {
  const kubelet = new KubeletServer({ listen: '127.0.0.1:0', tls: n1.serving, pods: { find: () => undefined, busyboxApplets: new Set() }, log: createLogger('test') });
  const { port } = await kubelet.listen();
  const ask = (path: string, creds: { cert?: string | Buffer; key?: string | Buffer }) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path, ca: n1.serving.caPem, ...creds, checkServerIdentity: () => undefined }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  try {
    const apiserver = { cert: readFileSync(join(dataDir, 'apiserver-kubelet-client.crt')), key: readFileSync(join(dataDir, 'apiserver-kubelet-client.key')) };
    const nodeCert = { cert: n1.client.connection.cert, key: n1.client.connection.key };
    const path = '/api/v1/namespaces/default/pods/p1/log';
    assert.equal((await ask(path, {})).status, 401, 'no client certificate');
    assert.equal((await ask(path, nodeCert)).status, 401, 'a node certificate is not the API server');
    assert.equal((await ask(path, { cert: n2.serving.certPem, key: n2.serving.keyPem })).status, 401, 'a serving certificate is no client certificate');
    const served = await ask(path, apiserver);
    assert.equal(served.status, 404, served.body);
    assert.match(served.body, /not running on this node/);
    const traversal = await ask('/api/v1/namespaces/default/pods/p1/%2e%2e/p2/log', apiserver);
    assert.equal(traversal.status, 400, traversal.body);
  } finally {
    kubelet.close();
  }
});
