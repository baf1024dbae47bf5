// Node identity through the real server: `flatnet token create`, TLS bootstrap of a node client
// certificate through a CertificateSigningRequest (files 0600 in 0700 dirs), the bootstrap
// token's limits (wrong, expired, nothing but CSRs), and what a node certificate may do (the
// Node authorizer and NodeRestriction): its own Node, Lease and pods only, the Secrets only of
// its pods, 403 for everything else; every list and watch the agent makes still works.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { R, type ResourceInfo } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { KubeClient } from '../../../src/client/client.js';
import { loadKubeconfig, type ClusterConnection } from '../../../src/client/kubeconfig.js';
import { nodeClientConnection, nodeServingCertificate, renderBootstrapKubeconfig, requestCertificate, writePrivateFile } from '../../../src/agent/tls-bootstrap.js';
import { bootstrapTokenSecret, formatToken, generateBootstrapToken } from '../../../src/apiserver/node-identity/bootstrap-token.js';
import { createCertificateRequest, newEcdsaKey } from '../../../src/apiserver/node-identity/pki.js';
import { createLogger } from '../../../src/util/log.js';
import { watchCorefile } from '../../../src/dns/corefile/watch.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { code, flatnet } from './node-join-support.js';

const log = createLogger('test');
let s: TestServer;
let work: string;
let caPem: string;
let n1: KubeClient;
let n1conn: ClusterConnection;

function bootstrapKubeconfig(name: string, token: string): string {
  const path = join(work, `${name}.bootstrap.kubeconfig`);
  writePrivateFile(path, renderBootstrapKubeconfig({ server: s.url, caPem, token }));
  return path;
}

async function joinNode(node: string, token: string): Promise<{ conn: ClusterConnection; dir: string }> {
  const dir = join(work, node);
  const conn = await nodeClientConnection(node, { kubeconfig: join(dir, 'kubelet.kubeconfig'), bootstrapKubeconfig: bootstrapKubeconfig(node, token), certDir: join(dir, 'pki') }, log);
  return { conn, dir };
}

const pod = (name: string, node: string, secret: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox', env: [{ name: 'S', valueFrom: { secretKeyRef: { name: secret, key: 'k' } } }] }] },
});
const secret = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, data: { k: 'dg==' } } as KubeObject);

let token = '';

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'flatnet-nodeid-'));
  s = await startTestServer({ store: 'memory', controllers: false });
  caPem = loadKubeconfig(s.kubeconfig).ca!.toString('utf8');
  const created = await flatnet(['token', 'create', '--kubeconfig', s.kubeconfig, '--ttl', '1h', '--description', 'test']);
  assert.equal(created.code, 0, created.stderr);
  token = created.stdout.trim();
  ({ conn: n1conn } = await joinNode('n1', token));
  n1 = new KubeClient(n1conn);
  for (const o of [secret('s1'), secret('s2'), pod('p1', 'n1', 's1'), pod('p2', 'n2', 's2')]) await s.client.create(o.kind === 'Pod' ? R.pods : R.secrets, o);
  await s.client.create(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } });
  await s.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
});
after(async () => {
  n1?.close();
  await s?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('flatnet token create prints <id>.<secret> and stores it as kubeadm does', async () => {
  const m = /^([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(token);
  assert.ok(m, token);
  const stored = await s.client.get(R.secrets, 'kube-system', `bootstrap-token-${m[1]}`);
  assert.equal((stored as { type?: string }).type, 'bootstrap.kubernetes.io/token');
  const data = (stored as unknown as { data: Record<string, string> }).data;
  const field = (k: string) => Buffer.from(data[k], 'base64').toString();
  assert.equal(field('token-secret'), m[2]);
  assert.equal(field('usage-bootstrap-authentication'), 'true');
  assert.equal(field('auth-extra-groups'), 'system:bootstrappers:kubeadm:default-node-token');
  const ttl = Date.parse(field('expiration')) - Date.now();
  assert.ok(ttl > 50 * 60_000 && ttl <= 3600_000, `expires in ${ttl} ms`);
  const bad = await flatnet(['token', 'create', '--kubeconfig', s.kubeconfig, '--ttl', 'forever']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--ttl "forever" is not a duration/);
});

test('bootstrap: the node gets a CA-signed client certificate system:node:n1 / system:nodes that expires; keys and files are private', () => {
  const cert = new X509Certificate(n1conn.cert!);
  assert.match(cert.subject, /CN=system:node:n1/);
  assert.match(cert.subject, /O=system:nodes/);
  assert.ok(cert.verify(new X509Certificate(caPem).publicKey), 'signed by the cluster CA');
  const days = (Date.parse(cert.validTo) - Date.now()) / 86400_000;
  assert.ok(days > 360 && days <= 366, `valid for ${days} days`);
  assert.equal(n1conn.token, undefined, 'the node kubeconfig holds no token');
  const dir = join(work, 'n1');
  assert.equal((statSync(join(dir, 'pki')).mode & 0o777).toString(8), '700');
  for (const f of ['kubelet.kubeconfig', 'pki/kubelet-client.key', 'pki/kubelet-client.crt']) assert.equal((statSync(join(dir, f)).mode & 0o777).toString(8), '600', f);
  assert.doesNotMatch(readFileSync(join(dir, 'kubelet.kubeconfig'), 'utf8'), new RegExp(token.split('.')[1]), 'the bootstrap token is not kept in the node kubeconfig');
});

test('a restarted agent keeps its certificate: no new request while it is good', async () => {
  const before = (await s.client.list(R.certificatesigningrequests)).items.length;
  const again = await joinNode('n1', token);
  assert.equal(again.conn.cert!.toString(), n1conn.cert!.toString());
  assert.equal((await s.client.list(R.certificatesigningrequests)).items.length, before);
});

test('the server authenticates the node certificate as system:node:n1 (SelfSubjectReview)', async () => {
  const review = (await n1.create({ group: 'authentication.k8s.io', version: 'v1', kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', namespaced: false } as ResourceInfo, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'SelfSubjectReview',
    metadata: {},
  } as KubeObject)) as unknown as { status: { userInfo: { username: string; groups: string[] } } };
  assert.equal(review.status.userInfo.username, 'system:node:n1');
  assert.deepEqual(review.status.userInfo.groups.sort(), ['system:authenticated', 'system:nodes']);
});

test('a wrong or expired bootstrap token is refused (401); a valid one may ask only for certificates (403 for the rest)', async () => {
  const wrong = new KubeClient(loadKubeconfig(bootstrapKubeconfig('wrong', `${token.split('.')[0]}.0000000000000000`)));
  assert.equal(await code(wrong.list(R.certificatesigningrequests)), 401);
  wrong.close();
  const old = generateBootstrapToken();
  await s.client.create(R.secrets, bootstrapTokenSecret(old, { ttlSeconds: 60, now: new Date(Date.now() - 3600_000) }));
  const expired = new KubeClient(loadKubeconfig(bootstrapKubeconfig('expired', formatToken(old))));
  assert.equal(await code(expired.list(R.certificatesigningrequests)), 401);
  await assert.rejects(nodeClientConnection('n9', { kubeconfig: join(work, 'n9', 'kubelet.kubeconfig'), bootstrapKubeconfig: bootstrapKubeconfig('n9', formatToken(old)), certDir: join(work, 'n9', 'pki') }, log), /Unauthorized|401/);
  expired.close();
  const valid = new KubeClient(loadKubeconfig(bootstrapKubeconfig('valid', token)));
  assert.equal(await code(valid.list(R.certificatesigningrequests)), 200);
  assert.equal(await code(valid.list(R.pods)), 403);
  assert.equal(await code(valid.get(R.secrets, 'default', 's1')), 403);
  // A bootstrap token cannot get a serving certificate, nor a certificate for system:masters.
  const key = newEcdsaKey();
  await assert.rejects(
    requestCertificate(valid, { csrPem: createCertificateRequest(key, 'system:node:n1', ['system:masters']), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'key encipherment', 'client auth'], namePrefix: 'evil', timeoutMs: 5000 }),
    /failed: subject organization must be exactly \["system:nodes"\]/,
  );
  valid.close();
});

test('a node certificate: 403 for another node\'s pod Secrets, another Node, creating pods, deleting Services', async () => {
  assert.equal(await code(n1.get(R.secrets, 'default', 's1')), 200, 'the Secret of its own pod');
  assert.equal(await code(n1.get(R.secrets, 'default', 's2')), 403, 'the Secret of a pod on n2');
  assert.equal(await code(n1.list(R.secrets)), 403);
  assert.equal(await code(n1.patch(R.nodes, undefined, 'n2', { metadata: { labels: { owned: 'by-n1' } } })), 403);
  assert.equal(await code(n1.patch(R.nodes, undefined, 'n2', { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] } }, 'merge', { subresource: 'status' })), 403);
  assert.equal(await code(n1.create(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n3' } })), 403);
  assert.equal(await code(n1.create(R.pods, pod('p3', 'n1', 's1'))), 403);
  assert.equal(await code(n1.delete(R.services, 'default', 'web')), 403);
  assert.equal(await code(n1.patch(R.pods, 'default', 'p2', { status: { phase: 'Running' } }, 'merge', { subresource: 'status' })), 403);
  assert.equal(await code(n1.delete(R.pods, 'default', 'p2')), 403);
  assert.equal(await code(n1.get(R.leases, 'kube-node-lease', 'n2')), 403);
  assert.equal(await code(n1.create(R.leases, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n2', namespace: 'kube-node-lease' }, spec: {} })), 403);
  assert.equal(await code(n1.list(R.clusterroles)), 403);
  const svc = await s.client.get(R.services, 'default', 'web');
  assert.ok(svc, 'the Service is still there');
});

test('a node certificate does what its agent needs: its Node and status, Lease, pod status, events, and every list/watch', async () => {
  assert.equal(await code(n1.create(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } })), 200);
  assert.equal(await code(n1.patch(R.nodes, undefined, 'n1', { metadata: { labels: { a: 'b' } } })), 200);
  assert.equal(await code(n1.patch(R.nodes, undefined, 'n1', { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] } }, 'merge', { subresource: 'status' })), 200);
  assert.equal(await code(n1.create(R.leases, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'n1' } })), 200);
  assert.equal(await code(n1.patch(R.leases, 'kube-node-lease', 'n1', { spec: { leaseDurationSeconds: 40 } })), 200);
  assert.equal(await code(n1.patch(R.pods, 'default', 'p1', { status: { phase: 'Running' } }, 'merge', { subresource: 'status' })), 200);
  assert.equal(await code(n1.create(R.events, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'p1.x', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'p1', namespace: 'default' }, reason: 'Started', message: 'm' } as KubeObject)), 200);
  for (const [r, opts] of [
    [R.pods, { fieldSelector: 'spec.nodeName=n1' }],
    [R.pods, {}],
    [R.services, {}],
    [R.endpointslices, {}],
    [R.nodes, {}],
    [R.namespaces, {}],
    [R.networkpolicies, {}],
    [R.endpoints, {}],
  ] as const) {
    assert.equal(await code(n1.list(r, opts)), 200, `list ${r.plural}`);
    const res = await fetchAs(n1conn, `${listPath(r)}?watch=true&timeoutSeconds=1`);
    assert.equal(res.status, 200, `watch ${r.plural}: ${res.body}`);
  }
});

test('a node certificate watches the ConfigMap of its pod by name (fieldSelector metadata.name); 403 without the selector or for another ConfigMap', async () => {
  const cm = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { Corefile: `# ${name}` } }) as KubeObject;
  await s.client.create(R.configmaps, cm('cfg-own'));
  await s.client.create(R.configmaps, cm('cfg-other'));
  await s.client.create(R.pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p-cfg', namespace: 'default' },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'v', configMap: { name: 'cfg-own' } }] },
  } as KubeObject);
  const base = '/api/v1/namespaces/default/configmaps';
  const watched = await fetchAs(n1conn, `${base}?watch=true&timeoutSeconds=1&fieldSelector=${encodeURIComponent('metadata.name=cfg-own')}`);
  assert.equal(watched.status, 200, watched.body);
  const events = watched.body.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: KubeObject });
  assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED cfg-own'], 'the watch sees that ConfigMap only');
  const listed = await fetchAs(n1conn, `${base}?fieldSelector=${encodeURIComponent('metadata.name=cfg-own')}`);
  assert.equal(listed.status, 200, listed.body);
  assert.deepEqual((JSON.parse(listed.body) as { items: KubeObject[] }).items.map((i) => i.metadata.name), ['cfg-own']);
  assert.equal((await fetchAs(n1conn, `${base}?watch=true&timeoutSeconds=1`)).status, 403, 'a watch of every ConfigMap');
  assert.equal((await fetchAs(n1conn, base)).status, 403, 'a list without the selector');
  assert.equal((await fetchAs(n1conn, `${base}?fieldSelector=${encodeURIComponent('metadata.name!=cfg-own')}`)).status, 403, 'a negated selector');
  assert.equal((await fetchAs(n1conn, `${base}?watch=true&timeoutSeconds=1&fieldSelector=${encodeURIComponent('metadata.name=cfg-other')}`)).status, 403, 'another ConfigMap by name');
  assert.equal((await fetchAs(n1conn, `/api/v1/configmaps?watch=true&timeoutSeconds=1&fieldSelector=${encodeURIComponent('metadata.name=cfg-own')}`)).status, 403, 'across namespaces');
  assert.equal(await code(n1.get(R.configmaps, 'default', 'cfg-other')), 403);
  assert.equal(await code(n1.get(R.configmaps, 'default', 'cfg-own')), 200);
});

test('the DNS Corefile watcher on a node identity follows the ConfigMap its pod mounts by watch, not by polling', async (t) => {
  const corefile = (extra: string) => `.:53 {\n    reload\n    errors\n${extra}}\n`;
  await s.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'default' }, data: { Corefile: corefile('') } } as KubeObject);
  await s.client.create(R.pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p-dns', namespace: 'default' },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'coredns' }], volumes: [{ name: 'config-volume', configMap: { name: 'coredns' } }] },
  } as KubeObject);
  const applied: string[] = [];
  const logs: string[] = [];
  const w = watchCorefile({ client: n1, source: { namespace: 'default', name: 'coredns' }, apply: (_c, text) => applied.push(text), podLog: (l) => logs.push(l), events: { record: () => undefined } });
  t.after(() => w.stop());
  await w.synced;
  assert.equal(w.mode(), 'watch', logs.join('\n'));
  assert.deepEqual(applied, [corefile('')]);
  await s.client.patch(R.configmaps, 'default', 'coredns', { data: { Corefile: corefile('    log\n') } });
  for (let i = 0; i < 100 && applied.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(applied, [corefile(''), corefile('    log\n')], logs.join('\n'));
  assert.ok(!logs.some((l) => l.includes('[ERROR]')), logs.join('\n'));
});

function listPath(r: ResourceInfo): string {
  return r.group ? `/apis/${r.group}/${r.version}/${r.plural}` : `/api/${r.version}/${r.plural}`;
}

async function fetchAs(conn: ClusterConnection, path: string): Promise<{ status: number; body: string }> {
  const https = await import('node:https');
  return new Promise((done, fail) => {
    const req = https.request(`${conn.server}${path}`, { ca: conn.ca, cert: conn.cert, key: conn.key }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

test('serving certificates: the node gets one for its addresses; it cannot get one in another node\'s name', async () => {
  const certDir = join(work, 'n1', 'pki');
  const serving = await nodeServingCertificate(n1, 'n1', ['127.0.0.1'], certDir, log);
  const x = new X509Certificate(serving.certPem);
  assert.match(x.subject, /CN=system:node:n1/);
  assert.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.equal((statSync(join(certDir, 'kubelet-server.key')).mode & 0o777).toString(8), '600');
  // The same certificate is reused while it is good and names the addresses.
  const again = await nodeServingCertificate(n1, 'n1', ['127.0.0.1'], certDir, log);
  assert.equal(again.certPem, serving.certPem);
  await assert.rejects(
    requestCertificate(n1, { csrPem: createCertificateRequest(newEcdsaKey(), 'system:node:n2', ['system:nodes'], { ips: ['127.0.0.1'] }), signerName: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'key encipherment', 'server auth'], namePrefix: 'steal', timeoutMs: 3000 }),
    /was not signed within/,
  );
  // A serving certificate is no client certificate: TLS refuses it as one, so the request is anonymous (401).
  const asClient = await fetchAs({ ...n1conn, cert: Buffer.from(serving.certPem), key: Buffer.from(serving.keyPem) }, '/api/v1/nodes').catch((err: Error) => ({ status: 0, body: err.message }));
  assert.equal(asClient.status, 401, asClient.body);
});

test('flatnet join pins the CA: a wrong hash is refused before the token is sent; the right one joins', async () => {
  const created = await flatnet(['token', 'create', '--kubeconfig', s.kubeconfig, '--print-ca-hash']);
  assert.equal(created.code, 0, created.stderr);
  const [joinToken, hash] = created.stdout.trim().split('\n');
  assert.match(hash, /^sha256:[0-9a-f]{64}$/);
  const csrsBefore = (await s.client.list(R.certificatesigningrequests)).items.length;
  const wrongHash = `sha256:${'0'.repeat(64)}`;
  const dir = join(work, 'j1');
  const refused = await flatnet(['join', '--server', s.url, '--token', joinToken, '--ca-cert-hash', wrongHash, '--node', 'j1', '--data-dir', dir, '--credentials-only']);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /presented no CA matching sha256:0{64}.*refusing to send the token/);
  assert.equal((await s.client.list(R.certificatesigningrequests)).items.length, csrsBefore, 'no request reached the server');
  assert.throws(() => statSync(join(dir, 'bootstrap.kubeconfig')), /ENOENT/);
  const joined = await flatnet(['join', '--server', s.url, '--token', joinToken, '--ca-cert-hash', hash, '--node', 'j1', '--data-dir', dir, '--credentials-only']);
  assert.equal(joined.code, 0, joined.stderr);
  const conn = loadKubeconfig(join(dir, 'kubelet.kubeconfig'));
  assert.match(new X509Certificate(conn.cert!).subject, /CN=system:node:j1/);
  assert.equal((statSync(dir).mode & 0o777).toString(8), '700');
  assert.equal((statSync(join(dir, 'bootstrap.kubeconfig')).mode & 0o777).toString(8), '600');
});
