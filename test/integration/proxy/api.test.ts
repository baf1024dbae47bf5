// The proxy and the LoadBalancer address controller against a real `flatnet server`: Services and
// EndpointSlices applied with kubectl, rules programmed into a node namespace, packets sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../support/server.js';
import { startServiceProxy } from '../../../src/proxy/index.js';
import { startLoadBalancerIPController } from '../../../src/controllers/loadbalancer-ip.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { CLUSTER_CIDR, NetLab, NODE_IP } from './netlab.js';
import { requireRoot } from '../../support/prerequisites.js';

let server: TestServer;

before(async () => {
  server = await startTestServer({ controllers: false, store: 'sqlite' });
});
after(async () => {
  await server?.stop();
});

async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, tries = 100): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function apply(yaml: string): Promise<void> {
  const r = await server.kubectl(['apply', '-f', '-'], yaml);
  assert.equal(r.code, 0, r.stderr);
}

test('LoadBalancer Services get pool addresses, keep them, and give them back', async () => {
  const ctl = await startLoadBalancerIPController(server.client, { pool: '172.31.255.0/24' });
  try {
    await apply(`apiVersion: v1
kind: Service
metadata: {name: lb-a, namespace: default}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: lb-b, namespace: default}
spec: {type: LoadBalancer, loadBalancerIP: 172.31.255.77, ports: [{port: 80}]}
`);
    const ingressOf = async (name: string) => ((await server.client.get<KubeObject>(R.services, 'default', name))?.status as any)?.loadBalancer?.ingress;
    const a = await eventually('lb-a address', async () => (await ingressOf('lb-a'))?.[0]);
    assert.deepEqual(a, { ip: '172.31.255.1', ipMode: 'VIP' });
    assert.deepEqual(await eventually('lb-b address', async () => (await ingressOf('lb-b'))?.[0]), { ip: '172.31.255.77', ipMode: 'VIP' });
    const shown = await server.kubectl(['get', 'svc', 'lb-a', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']);
    assert.equal(shown.stdout, '172.31.255.1');
    // Type change releases the address; a new Service may take it.
    // (A real kube-apiserver drops the type-dependent fields itself on a type change; say it explicitly.)
    const patched = await server.kubectl([
      'patch', 'svc', 'lb-a', '--type=merge', '-p',
      '{"spec":{"type":"ClusterIP","externalTrafficPolicy":null,"allocateLoadBalancerNodePorts":null,"ports":[{"port":80,"protocol":"TCP","targetPort":80}]}}',
    ]);
    assert.equal(patched.code, 0, patched.stderr);
    await eventually('lb-a released', async () => ((await ingressOf('lb-a')) ?? []).length === 0);
    await apply(`apiVersion: v1
kind: Service
metadata: {name: lb-c, namespace: default}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`);
    assert.deepEqual(await eventually('lb-c address', async () => (await ingressOf('lb-c'))?.[0]), { ip: '172.31.255.1', ipMode: 'VIP' });
  } finally {
    await ctl.stop();
    await server.kubectl(['delete', 'svc', 'lb-a', 'lb-b', 'lb-c', '--ignore-not-found']);
  }
});

test('startServiceProxy follows the API: kubectl apply reaches packets, delete removes them', async (t) => {
  requireRoot('network namespaces, nftables');
  const lab = new NetLab('a');
  t.after(() => lab.tearDown());
  await lab.setUp(2);
  const proxy = await startServiceProxy(server.client, { nodeName: 'node-a', netns: lab.node, mode: 'nftables', nodeIPs: [NODE_IP], clusterCIDR: CLUSTER_CIDR, serviceCIDR: '10.96.0.0/16' });
  t.after(() => proxy.stop());
  // A Service without a selector and a hand-written EndpointSlice: valid Kubernetes, and it needs no kubelet.
  await apply(`apiVersion: v1
kind: Service
metadata: {name: manual, namespace: default}
spec:
  type: NodePort
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30111}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: manual-1
  namespace: default
  labels: {kubernetes.io/service-name: manual}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
- addresses: [${lab.pods[0].ip}]
  nodeName: node-a
  conditions: {ready: true}
- addresses: [${lab.pods[1].ip}]
  nodeName: node-b
  conditions: {ready: true}
`);
  const svc = await server.client.get<KubeObject>(R.services, 'default', 'manual');
  const clusterIP = (svc?.spec as { clusterIP: string }).clusterIP;
  assert.match(clusterIP, /^10\.96\./);
  const answers = await eventually('both endpoints answer', async () => {
    const r = await lab.requests(lab.client, `http://${clusterIP}/`, 20, 500);
    return new Set(r.map((a) => a.pod)).size === 2 && r;
  });
  assert.ok(answers.every((a) => a.pod));
  const viaNodePort = await lab.requests(lab.client, `http://${NODE_IP}:30111/`, 10);
  assert.ok(viaNodePort.every((a) => a.pod), JSON.stringify(viaNodePort));
  assert.match(await proxy.rules(), new RegExp(`default/manual:http\\n {2}${clusterIP.replace(/\./g, '\\.')}:80/tcp\\s+-> `));
  await server.kubectl(['delete', 'svc', 'manual']);
  await eventually('rules removed', async () => !(await proxy.rules()).includes('default/manual'));
  await server.kubectl(['delete', 'endpointslice', 'manual-1', '--ignore-not-found']);
});
