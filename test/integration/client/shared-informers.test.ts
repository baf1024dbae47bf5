// The shared informer factory against a real `flatnet server`: an agent-like process starts the
// service proxy and the policy enforcer (rules in a namespace of this test), the DNS model, the
// Corefile watch, the agent's own informers and two controllers on one client, and the server
// sees each kind listed once and one watch per kind and scope. A component that stops leaves the
// watches others read; the last one to stop ends them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startTestServer, type TestServer } from '../../support/server.js';
import { requireRoot, requireTool } from '../../support/prerequisites.js';
import { sharedInformer, SharedInformerFactory } from '../../../src/client/shared-informers.js';
import { startServiceProxy } from '../../../src/proxy/index.js';
import { startPolicyEnforcer } from '../../../src/netpol/enforcer.js';
import { watchCluster } from '../../../src/dns/watch.js';
import { ClusterDnsModel } from '../../../src/dns/model.js';
import { startControllers } from '../../../src/controllers/index.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';

const NETNS = 'e12inf';

interface Counts {
  lists: Map<string, number>;
  watchers: number;
}

/** LIST requests per resource and the open watch streams, from the server's own /metrics. */
async function serverCounts(server: TestServer): Promise<Counts> {
  const r = await server.kubectl(['get', '--raw', '/metrics']);
  assert.equal(r.code, 0, r.stderr);
  const lists = new Map<string, number>();
  let watchers = -1;
  for (const line of r.stdout.split('\n')) {
    const m = line.match(/^apiserver_request_total\{(.*)\} (\d+)$/);
    if (m) {
      const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      if (labels.verb === 'list') lists.set(labels.resource, (lists.get(labels.resource) ?? 0) + Number(m[2]));
    }
    const w = line.match(/^apiserver_registered_watchers (\d+)$/);
    if (w) watchers = Number(w[1]);
  }
  assert.notEqual(watchers, -1, 'the server reports apiserver_registered_watchers');
  return { lists, watchers };
}

async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

test('every component of one process shares one list and one watch per kind', async (t) => {
  requireRoot('the service proxy and the policy enforcer program nftables in a network namespace');
  requireTool('nft', 'Debian package nftables');
  const server = await startTestServer({ store: 'sqlite', controllers: false });
  t.after(() => server.stop());
  try {
    ip('netns', 'del', NETNS);
  } catch {
    /* not left over */
  }
  ip('netns', 'add', NETNS);
  t.after(() => ip('netns', 'del', NETNS));
  // Someone else's client: its informers are not shared with the agent's.
  const client = server.client;
  const before = await serverCounts(server);

  const nodeName = 'e12-node';
  const proxy = await startServiceProxy(client, { nodeName, netns: NETNS, mode: 'nftables', nodeIPs: ['172.31.9.2'], clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/16' });
  const policy = await startPolicyEnforcer(client, { nodeName, netns: NETNS, podCIDR: '10.244.9.0/24' });
  const dns = watchCluster(client, new ClusterDnsModel(), true);
  await dns.synced;
  const services = sharedInformer(client, R.services);
  const nodePods = sharedInformer(client, R.pods, { fieldSelector: `spec.nodeName=${nodeName}` });
  await Promise.all([services.start(), nodePods.start()]);
  const controllers = await startControllers(client, {
    serviceCIDR: '10.96.0.0/16',
    podCIDR: '10.244.0.0/16',
    nodePortRange: '30000-32767',
    advertiseAddress: '127.0.0.1',
    advertisePort: 6443,
    only: ['endpointslice', 'namespace'],
  });
  // On a failed assertion, stop whatever still runs so the process can end.
  let finished = false;
  t.after(async () => {
    if (finished) return;
    await Promise.allSettled([proxy.stop(), policy.stop(), controllers.stop()]);
    dns.stop();
    services.stop();
    nodePods.stop();
  });

  const during = await serverCounts(server);
  const listed = (resource: string) => (during.lists.get(resource) ?? 0) - (before.lists.get(resource) ?? 0);
  // Without sharing: services 4 (proxy, DNS, agent, endpointslice controller), endpointslices 3,
  // pods 4, namespaces 4, networkpolicies 1.
  assert.equal(listed('services'), 1, 'Services listed once');
  assert.equal(listed('endpointslices'), 1, 'EndpointSlices listed once');
  assert.equal(listed('namespaces'), 1, 'Namespaces listed once');
  assert.equal(listed('networkpolicies'), 1, 'NetworkPolicies listed once');
  assert.equal(listed('pods'), 2, 'Pods listed once for the cluster and once for the node (another field selector)');
  const keys = SharedInformerFactory.of(client).stats().map((s) => s.key);
  assert.equal(new Set(keys).size, keys.length);
  const watchesNow = during.watchers - before.watchers;
  assert.equal(watchesNow, keys.length, `one watch per kind and scope: ${keys.join(', ')}`);

  // The cache is read-only to consumers.
  const svc = services.list().find((s) => s.metadata.name === 'kubernetes') ?? services.list()[0];
  if (svc) assert.throws(() => ((svc.metadata as { name?: string }).name = 'changed'), TypeError);

  // A handler added after the sync sees the current state; a change reaches every component.
  const seen: string[] = [];
  const late = sharedInformer<KubeObject>(client, R.services);
  late.addHandlers({ add: (o) => seen.push(o.metadata.name ?? '') });
  await client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'shared-a', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
  await eventually('the new Service at the late handler', async () => seen.includes('shared-a'));
  assert.ok(seen.length >= 2, 'the existing Services were replayed to the late handler');
  late.stop();

  // The proxy stops: the Service and EndpointSlice watches stay for DNS, the agent and the controllers.
  await proxy.stop();
  await policy.stop();
  await eventually('the NetworkPolicy watch (no other reader) to end', async () => (await serverCounts(server)).watchers - before.watchers === watchesNow - 1);
  assert.equal((await serverCounts(server)).watchers - before.watchers, watchesNow - 1, 'only the NetworkPolicy watch ended');
  await client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'shared-b', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
  await eventually('shared-b in the agent cache', async () => services.get('default', 'shared-b') !== undefined);

  dns.stop();
  services.stop();
  nodePods.stop();
  await controllers.stop();
  await eventually('every watch closed', async () => (await serverCounts(server)).watchers === before.watchers);
  finished = true;
  assert.deepEqual(SharedInformerFactory.of(client).stats(), []);
});
