// The gateway proxy's credentials against the real `flatnet server`: a proxy token reads what the
// route model needs (200) and nothing else (403 with upstream's wording); a token the server did
// not sign is 401. The real kubectl, given a kubeconfig holding the proxy token, sees the same.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import { ApiError, KubeClient } from '../../../src/client/client.js';
import { loadKubeconfig, renderKubeconfig } from '../../../src/client/kubeconfig.js';
import { mintProxyToken } from '../../../src/gateway/proxy-identity.js';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;
let proxy: KubeClient;
let garbage: KubeClient;
let work: string;
let proxyKubeconfig: string;
const USER = 'system:serviceaccount:gw-ns:gw-proxy';

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: false });
  work = mkdtempSync(join(tmpdir(), 'gwt-auth-'));
  const admin = loadKubeconfig(s.kubeconfig);
  const token = mintProxyToken(s.dataDir, { namespace: 'gw-ns', name: 'gw-proxy' });
  proxy = new KubeClient({ ...admin, token });
  garbage = new KubeClient({ ...admin, token: token.slice(0, -4) + 'AAAA' });
  proxyKubeconfig = join(work, 'proxy.kubeconfig');
  writeFileSync(proxyKubeconfig, renderKubeconfig({ server: s.url, caPem: admin.ca!.toString(), token }));
  await s.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
  await s.client.create(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cert', namespace: 'default' }, type: 'Opaque', data: { a: 'Yg==' } });
});

after(async () => {
  proxy?.close();
  garbage?.close();
  await s?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function denied(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApiError, `expected an API error, got ${String(err)}`);
  return err;
}

test('a proxy token lists and watches gateways, services and secrets', async () => {
  assert.equal((await proxy.list(R.gateways)).kind, 'GatewayList');
  const services = await proxy.list(R.services, { namespace: 'default' });
  assert.ok(services.items.some((x) => x.metadata.name === 'web'));
  const secrets = await proxy.list(R.secrets);
  assert.ok(secrets.items.some((x) => x.metadata.name === 'cert'));
  assert.equal((await proxy.get(R.services, 'default', 'web'))?.metadata.name, 'web');
  for (const r of [R.gatewayclasses, R.httproutes, R.referencegrants, R.endpointslices, R.namespaces, R.ingresses, R.ingressclasses]) await proxy.list(r);
  const events: string[] = [];
  const watch = proxy.watch(R.services, { namespace: 'default' }, (ev) => events.push(`${ev.type} ${ev.object.metadata.name}`));
  await s.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'watched', namespace: 'default' }, spec: { ports: [{ port: 81 }] } });
  for (let i = 0; i < 100 && !events.includes('ADDED watched'); i++) await new Promise((r) => setTimeout(r, 50));
  watch.stop();
  assert.ok(events.includes('ADDED watched'), `watch events: ${events.join(', ')}`);
  assert.equal((await proxy.request<{ kind: string }>('GET', '/apis')).kind, 'APIGroupList', 'discovery');
});

test('a proxy token may not create pods, delete Services, exec, or read other kinds', async () => {
  const create = await denied(proxy.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }));
  assert.equal(create.code, 403);
  assert.equal(create.reason, 'Forbidden');
  assert.equal(create.message, `pods is forbidden: User "${USER}" cannot create resource "pods" in API group "" in the namespace "default"`);
  const del = await denied(proxy.request('DELETE', '/api/v1/namespaces/default/services/web'));
  assert.equal(del.code, 403);
  assert.equal(del.message, `services "web" is forbidden: User "${USER}" cannot delete resource "services" in API group "" in the namespace "default"`);
  assert.ok(await s.client.get(R.services, 'default', 'web'), 'the Service is still there');
  const exec = await denied(proxy.request('POST', '/api/v1/namespaces/default/pods/p/exec?command=sh&stdout=true'));
  assert.equal(exec.code, 403);
  assert.match(exec.message, /cannot create resource "pods\/exec"/);
  const status = await denied(proxy.patch(R.gateways, 'gw-ns', 'gw', { status: {} }, 'merge', { subresource: 'status' }));
  assert.equal(status.code, 403);
  assert.equal((await denied(proxy.list(R.pods))).code, 403);
  assert.equal((await denied(proxy.list(R.configmaps))).code, 403);
  assert.equal((await denied(proxy.request('GET', '/metrics'))).message, `forbidden: User "${USER}" cannot get path "/metrics"`);
});

test('a token the server did not sign is 401', async () => {
  const err = await denied(garbage.list(R.services));
  assert.equal(err.code, 401);
  const admin = loadKubeconfig(s.kubeconfig);
  const unsigned = new KubeClient({ ...admin, token: 'fnp1.eyJzdWIiOiJ4In0.AAAA' });
  try {
    assert.equal((await denied(unsigned.list(R.gateways))).code, 401);
  } finally {
    unsigned.close();
  }
});

test('kubectl with the proxy token reads, and is refused a write with the upstream message', async () => {
  const kubectl = (args: string[]) => s.kubectl(['--kubeconfig', proxyKubeconfig, ...args]);
  const get = await kubectl(['get', 'services', '-n', 'default', '-o', 'name']);
  assert.equal(get.code, 0, get.stderr);
  assert.match(get.stdout, /service\/web/);
  const run = await kubectl(['create', 'configmap', 'x', '-n', 'default']);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, new RegExp(`configmaps is forbidden: User "${USER}" cannot create resource "configmaps" in API group "" in the namespace "default"`));
  assert.ok(readFileSync(proxyKubeconfig, 'utf8').includes('fnp1.'));
});
