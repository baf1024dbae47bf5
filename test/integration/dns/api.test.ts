// The DNS server against the real flatnet API server, driven by the real kubectl and queried
// with the real dig: records appear, change when a Service is recreated with a new IP, keep
// being served while the API server is unreachable, and catch up when it returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestServer } from '../../support/server.js';
import { KubeClient } from '../../../src/client/client.js';
import { loadKubeconfig } from '../../../src/client/kubeconfig.js';
import { startDnsServer } from '../../../src/dns/workload.js';
import { R } from '../../../src/api/resources.js';
import { bindLoopback, dig, digShort, eventually, listenHttp, startRelay, status } from './support.js';

const manifests = `
apiVersion: v1
kind: Namespace
metadata: {name: dnstest}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: dnstest}
spec:
  clusterIP: 10.96.7.20
  ports: [{name: http, port: 80, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: dnstest}
spec:
  clusterIP: None
  ports: [{name: pg, port: 5432, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-1
  namespace: dnstest
  labels: {kubernetes.io/service-name: db}
addressType: IPv4
ports: [{name: pg, port: 5432, protocol: TCP}]
endpoints:
- addresses: [10.244.1.10]
  hostname: db-0
  conditions: {ready: true}
- addresses: [10.244.1.11]
  conditions: {ready: true}
- addresses: [10.244.1.12]
  hostname: db-2
  conditions: {ready: false}
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: dnstest}
spec:
  type: ExternalName
  externalName: www.example.com
`;

async function httpGet(port: number, path: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

test('cluster DNS follows the API server and survives its absence', async (t) => {
  const api = await startTestServer();
  t.after(() => api.stop());
  const conn = loadKubeconfig(api.kubeconfig);
  const apiUrl = new URL(conn.server);
  const relay = await startRelay(apiUrl.hostname, Number(apiUrl.port));
  t.after(() => relay.stop());
  const client = new KubeClient({ ...conn, server: `https://127.0.0.1:${relay.port}` });
  t.after(() => client.close());
  const sockets = await bindLoopback();
  const web = await listenHttp();
  const dns = await startDnsServer({ client, udp: sockets.udp, tcp: sockets.tcp, http: web.server });
  t.after(() => dns.stop());
  const p = sockets.port;

  await eventually(async () => assert.equal((await httpGet(web.port, '/ready')).code, 200));
  assert.equal((await httpGet(web.port, '/health')).code, 200);

  const applied = await api.kubectl(['apply', '-f', '-'], manifests);
  assert.equal(applied.code, 0, applied.stderr);

  await eventually(async () => assert.deepEqual(await digShort(p, 'web.dnstest.svc.cluster.local', 'A'), ['10.96.7.20']));
  assert.deepEqual(await digShort(p, '+tcp', 'web.dnstest.svc.cluster.local', 'A'), ['10.96.7.20']);
  assert.deepEqual(await digShort(p, '_http._tcp.web.dnstest.svc.cluster.local', 'SRV'), ['0 100 80 web.dnstest.svc.cluster.local.']);
  assert.deepEqual(await digShort(p, '-x', '10.96.7.20'), ['web.dnstest.svc.cluster.local.']);
  await eventually(async () => assert.deepEqual(await digShort(p, 'db.dnstest.svc.cluster.local', 'A'), ['10.244.1.10', '10.244.1.11']));
  assert.deepEqual(await digShort(p, 'db-0.db.dnstest.svc.cluster.local', 'A'), ['10.244.1.10']);
  assert.deepEqual(await digShort(p, '_pg._tcp.db.dnstest.svc.cluster.local', 'SRV'), ['0 50 5432 10-244-1-11.db.dnstest.svc.cluster.local.', '0 50 5432 db-0.db.dnstest.svc.cluster.local.']);
  assert.deepEqual(await digShort(p, '-x', '10.244.1.10'), ['db-0.db.dnstest.svc.cluster.local.']);
  assert.equal(status(await dig(p, 'db-2.db.dnstest.svc.cluster.local', 'A')), 'NXDOMAIN');
  assert.deepEqual(await digShort(p, 'ext.dnstest.svc.cluster.local', 'CNAME'), ['www.example.com.']);
  assert.equal(status(await dig(p, 'nope.dnstest.svc.cluster.local', 'A')), 'NXDOMAIN');
  assert.equal(status(await dig(p, 'dnstest.svc.cluster.local', 'A')), 'NOERROR');
  assert.deepEqual(await digShort(p, 'dns-version.cluster.local', 'TXT'), ['"1.1.0"']);

  // the Service recreated with a new ClusterIP: the answer changes, the old PTR goes
  assert.equal((await api.kubectl(['-n', 'dnstest', 'delete', 'service', 'web'])).code, 0);
  await eventually(async () => assert.equal(status(await dig(p, 'web.dnstest.svc.cluster.local', 'A')), 'NXDOMAIN'));
  const recreated = await api.kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: dnstest}\nspec:\n  clusterIP: 10.96.7.21\n  ports: [{name: http, port: 80}]\n');
  assert.equal(recreated.code, 0, recreated.stderr);
  await eventually(async () => assert.deepEqual(await digShort(p, 'web.dnstest.svc.cluster.local', 'A'), ['10.96.7.21']));
  assert.deepEqual(await digShort(p, '-x', '10.96.7.21'), ['web.dnstest.svc.cluster.local.']);
  assert.equal(status(await dig(p, '-x', '10.96.7.20')), 'REFUSED');

  // the API server becomes unreachable: the last known records keep being served
  relay.cut();
  const madeWhileAway = await api.kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: late, namespace: dnstest}\nspec:\n  clusterIP: 10.96.7.30\n  ports: [{name: http, port: 80}]\n');
  assert.equal(madeWhileAway.code, 0, madeWhileAway.stderr);
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await digShort(p, 'web.dnstest.svc.cluster.local', 'A'), ['10.96.7.21']);
  assert.deepEqual(await digShort(p, 'db.dnstest.svc.cluster.local', 'A'), ['10.244.1.10', '10.244.1.11']);
  assert.equal(status(await dig(p, 'late.dnstest.svc.cluster.local', 'A')), 'NXDOMAIN');
  assert.equal((await httpGet(web.port, '/ready')).code, 200, 'still ready: the caches are intact');

  // ...and catches up when it is back
  relay.restore();
  await eventually(async () => assert.deepEqual(await digShort(p, 'late.dnstest.svc.cluster.local', 'A'), ['10.96.7.30']));

  // a real restart of the API server process
  await api.restart();
  const afterRestart = await api.kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: after, namespace: dnstest}\nspec:\n  clusterIP: 10.96.7.31\n  ports: [{name: http, port: 80}]\n');
  assert.equal(afterRestart.code, 0, afterRestart.stderr);
  await eventually(async () => assert.deepEqual(await digShort(p, 'after.dnstest.svc.cluster.local', 'A'), ['10.96.7.31']), 30_000);
  assert.deepEqual(await digShort(p, 'web.dnstest.svc.cluster.local', 'A'), ['10.96.7.21']);

  const metrics = await httpGet(web.port, '/metrics');
  assert.match(metrics.body, /flatnet_dns_responses_total\{rcode="NOERROR"\} \d+/);
  assert.match(metrics.body, /flatnet_dns_request_duration_seconds_bucket/);
});

test('pods verified: a pod record exists once the API reports the pod with that address', async (t) => {
  const api = await startTestServer();
  t.after(() => api.stop());
  const sockets = await bindLoopback();
  const dns = await startDnsServer({ client: api.client, udp: sockets.udp, tcp: sockets.tcp, pods: 'verified' });
  t.after(() => dns.stop());
  const p = sockets.port;
  const created = await api.kubectl(['run', 'pv', '--image=busybox:1.36', '--restart=Never', '--', 'sleep', '60']);
  assert.equal(created.code, 0, created.stderr);
  await eventually(async () => assert.equal(status(await dig(p, '10-244-9-9.default.pod.cluster.local', 'A')), 'NXDOMAIN'));
  const pod = await api.client.get(R.pods, 'default', 'pv');
  assert.ok(pod);
  await api.client.updateStatus(R.pods, { ...pod, status: { ...(pod.status as object), podIP: '10.244.9.9', podIPs: [{ ip: '10.244.9.9' }] } });
  await eventually(async () => assert.deepEqual(await digShort(p, '10-244-9-9.default.pod.cluster.local', 'A'), ['10.244.9.9']));
  assert.equal(status(await dig(p, '10-244-9-9.kube-system.pod.cluster.local', 'A')), 'NXDOMAIN');
});
