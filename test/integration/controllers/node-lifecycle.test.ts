// A node whose agent stops renewing its Lease goes Ready=Unknown and its pods turn not ready,
// so their endpoints do too. The controllers run in a child process with a 6 s grace period.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../../support/server.js';
import { R } from '../../../src/api/resources.js';
import type { EndpointSlice } from '../../../src/controllers/endpointslice-plan.js';
import type { Node, Pod } from '../../../src/controllers/types.js';
import { FakeKubelet, eventually } from './fake-kubelet.js';

let server: TestServer;
let kubelet: FakeKubelet;
let controllers: ChildProcess | undefined;

before(async () => {
  server = await startTestServer({ controllers: false, store: 'memory' });
  kubelet = new FakeKubelet(server.client, ['alive', 'dying']);
  await kubelet.start();
  const script = fileURLToPath(new URL('./run-controllers.ts', import.meta.url));
  const opts = {
    serviceCIDR: '10.96.0.0/16',
    podCIDR: '10.244.0.0/16',
    nodePortRange: '30000-32767',
    advertiseAddress: '127.0.0.1',
    advertisePort: Number(new URL(server.url).port),
    nodeMonitorGracePeriodSeconds: 6, // the fake kubelet renews every 2 s
    nodeMonitorPeriodSeconds: 0.2,
  };
  controllers = spawn(process.execPath, ['--import', 'tsx', script, server.kubeconfig, JSON.stringify(opts)], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    controllers!.stderr!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('controllers running')) resolve();
    });
    controllers!.once('exit', (code) => reject(new Error(`controllers exited with ${code}: ${out}`)));
  });
});

after(async () => {
  kubelet?.stop();
  if (controllers && controllers.exitCode === null) {
    const exited = new Promise((r) => controllers!.once('exit', r));
    controllers.kill('SIGTERM');
    await exited;
  }
  await server?.stop();
});

test('a silent node goes Unknown and its pods and endpoints turn not ready', async () => {
  for (const [name, node] of [['a', 'alive'], ['d', 'dying']]) {
    await server.client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'lc' } }, spec: { nodeName: node, containers: [{ name: 'c', image: 'nginx' }] } });
  }
  await server.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'lc', namespace: 'default' }, spec: { selector: { app: 'lc' }, ports: [{ port: 80 }] } });
  const ready = async () => {
    const slices = (await server.client.list<EndpointSlice>(R.endpointslices, { namespace: 'default', labelSelector: 'kubernetes.io/service-name=lc' })).items;
    return Object.fromEntries(slices.flatMap((s) => s.endpoints ?? []).map((e) => [e.targetRef?.name, e.conditions.ready]));
  };
  await eventually('both endpoints ready', async () => {
    const r = await ready();
    return r.a === true && r.d === true;
  });

  kubelet.goSilent('dying');
  const cond = await eventually('dying Ready=Unknown', async () => {
    const n = await server.client.get<Node>(R.nodes, undefined, 'dying');
    return n?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'Unknown');
  });
  assert.equal(cond.reason, 'NodeStatusUnknown');
  assert.equal(cond.message, 'Kubelet stopped posting node status.');
  const pod = await eventually('pod d not ready', async () => {
    const p = await server.client.get<Pod>(R.pods, 'default', 'd');
    return p?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False' && p;
  });
  assert.ok(pod);
  await eventually('endpoint d not ready, a still ready', async () => {
    const r = await ready();
    return r.a === true && r.d === false;
  });
  const alive = await server.client.get<Node>(R.nodes, undefined, 'alive');
  assert.equal(alive!.status!.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
});
