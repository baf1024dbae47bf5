// Cluster DNS reads the API as its own ServiceAccount, against the real flatnet API server: the
// lab's add-on objects (ServiceAccount coredns, kubeadm's ClusterRole/ClusterRoleBinding
// system:coredns, the Corefile Role) installed as `flatnet up` installs them, a token from
// `kubectl create token coredns` in a file, and the DNS server's client built the way the node
// runtime builds it for a flatnet/dns pod (server and CA of the node's kubeconfig, identity from
// the token file). It serves cluster names and its Corefile; its requests are made as
// system:serviceaccount:kube-system:coredns (what RBAC does not grant is refused naming that
// user); without the binding a new DNS server cannot sync and is not ready, and it becomes ready
// once the binding is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from '../../support/server.js';
import { KubeClient } from '../../../src/client/client.js';
import { loadKubeconfig } from '../../../src/client/kubeconfig.js';
import { startDnsServer } from '../../../src/dns/workload.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { installClusterDns } from '../../../src/lab/addons.js';
import { dnsRbacObjects } from '../../../src/dns/manifest.js';
import { serviceAccountConnection } from '../../../src/runtime/workload-credentials.js';
import { bindLoopback, digShort, eventually, listenHttp } from './support.js';

const SA_USER = 'system:serviceaccount:kube-system:coredns';

function httpCode(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

test('the DNS server reads the API as ServiceAccount kube-system/coredns with kubeadm\'s RBAC', async (t) => {
  const server = await startTestServer();
  const dir = mkdtempSync(join(tmpdir(), 'fdns-sa-'));
  t.after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await installClusterDns(server.client);
  const token = await server.kubectl(['-n', 'kube-system', 'create', 'token', 'coredns']);
  assert.equal(token.code, 0, token.stderr);
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, token.stdout.trim(), { mode: 0o600 });
  const nodeKubeconfig = loadKubeconfig(server.kubeconfig);
  const asCoredns = () => new KubeClient(serviceAccountConnection(nodeKubeconfig, tokenFile));

  // Its identity: what the role does not grant is refused, naming the ServiceAccount.
  const client = asCoredns();
  t.after(() => client.close());
  await assert.rejects(client.list(R.secrets, { namespace: 'kube-system' }), (err: Error) => err.message.includes(`User "${SA_USER}" cannot list resource "secrets"`));
  await assert.rejects(client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x', namespace: 'default' }, spec: { ports: [{ port: 80 }] } } as KubeObject), (err: Error) => err.message.includes(`User "${SA_USER}" cannot create resource "services"`));

  // It serves cluster names and follows its Corefile ConfigMap.
  const sockets = await bindLoopback();
  const web = await listenHttp();
  const dns = await startDnsServer({ client, udp: sockets.udp, tcp: sockets.tcp, http: web.server, corefileConfigMap: { namespace: 'kube-system', name: 'coredns' } });
  t.after(() => dns.stop());
  await eventually(async () => assert.equal(await httpCode(web.port, '/ready'), 200));
  assert.ok(dns.corefile(), 'the Corefile of kube-system/coredns serves');
  assert.deepEqual(await digShort(sockets.port, 'kubernetes.default.svc.cluster.local', 'A'), ['10.96.0.1']);

  // Without the ClusterRoleBinding a new DNS server cannot list what it serves: refused as coredns, never ready.
  await server.client.delete(R.clusterrolebindings, undefined, 'system:coredns');
  const denied = asCoredns();
  t.after(() => denied.close());
  await eventually(() => assert.rejects(denied.list(R.services, {}), (err: Error) => err.message.includes(`User "${SA_USER}" cannot list resource "services"`)));
  const sockets2 = await bindLoopback();
  const web2 = await listenHttp();
  const dns2 = await startDnsServer({ client: denied, udp: sockets2.udp, tcp: sockets2.tcp, http: web2.server, corefileConfigMap: { namespace: 'kube-system', name: 'coredns' } });
  t.after(() => dns2.stop());
  // The informers keep retrying; a few seconds of retries without the binding leave it unready.
  for (let i = 0; i < 10; i++) {
    assert.equal(await httpCode(web2.port, '/ready'), 503, 'not ready without RBAC');
    await new Promise((r) => setTimeout(r, 300));
  }
  // The binding back (as the add-on installs it): the same server syncs and answers.
  await server.client.create(R.clusterrolebindings, dnsRbacObjects().find((o) => o.kind === 'ClusterRoleBinding')!);
  await eventually(async () => assert.equal(await httpCode(web2.port, '/ready'), 200), 60_000);
  assert.deepEqual(await digShort(sockets2.port, 'kube-dns.kube-system.svc.cluster.local', 'A'), ['10.96.0.10']);
});
