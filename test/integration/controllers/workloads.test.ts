// Deployments, ReplicaSets, the scheduler, the garbage collector and node pod CIDRs against a
// real `flatnet server` with its controllers, driven by the real kubectl; a fake kubelet plays
// the nodes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../../support/server.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import type { Node, Pod, ReplicaSet } from '../../../src/controllers/types.js';
import { startClusterWithFakeKubelet, type FakeKubelet, eventually } from './fake-kubelet.js';

let server: TestServer;
let kubelet: FakeKubelet;

before(async () => ({ server, kubelet } = await startClusterWithFakeKubelet()));

after(async () => {
  kubelet?.stop();
  await server?.stop();
});

const kubectl = (...args: string[]) => server.kubectlOk(args);

async function podsOf(namespace: string, selector: string): Promise<Pod[]> {
  return (await server.client.list<Pod>(R.pods, { namespace, labelSelector: selector })).items;
}

test('nodes get distinct /24 pod CIDRs from --pod-cidr', async () => {
  const cidrs = await eventually('pod CIDRs', async () => {
    const nodes = (await server.client.list<Node>(R.nodes)).items;
    const c = nodes.map((n) => n.spec?.podCIDR);
    return c.length === 2 && c.every(Boolean) && nodes;
  });
  const byName = Object.fromEntries(cidrs.map((n) => [n.metadata.name, n.spec!.podCIDR]));
  assert.deepEqual(new Set(Object.values(byName)), new Set(['10.244.0.0/24', '10.244.1.0/24']));
  assert.deepEqual(cidrs[0]!.spec!.podCIDRs, [cidrs[0]!.spec!.podCIDR]);
});

test('a Deployment rolls out, scales, updates and restarts as kubectl rollout status sees it', async () => {
  await kubectl('create', 'deployment', 'web', '--image=nginx:1', '--replicas=4');
  assert.match(await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s'), /successfully rolled out/);
  const pods = await podsOf('default', 'app=web');
  assert.equal(pods.length, 4);
  const rsName = pods[0]!.metadata.ownerReferences![0]!.name;
  assert.match(rsName, /^web-[a-z0-9]+$/);
  assert.ok(pods.every((p) => p.metadata.name!.startsWith(`${rsName}-`) && p.metadata.labels!['pod-template-hash'] === rsName.slice(4)));
  // The scheduler spread them: two per node.
  const perNode = new Map<string, number>();
  for (const p of pods) perNode.set(p.spec.nodeName!, (perNode.get(p.spec.nodeName!) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(perNode), { n1: 2, n2: 2 });

  await kubectl('scale', 'deployment/web', '--replicas=6');
  await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s');
  assert.equal((await podsOf('default', 'app=web')).filter((p) => !p.metadata.deletionTimestamp).length, 6);

  await kubectl('set', 'image', 'deployment/web', 'nginx=nginx:2');
  assert.match(await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s'), /successfully rolled out/);
  const d = await server.client.get(R.deployments, 'default', 'web');
  assert.equal(d!.metadata.annotations!['deployment.kubernetes.io/revision'], '2');
  const status = d!.status as Record<string, any>;
  assert.deepEqual([status.replicas, status.updatedReplicas, status.readyReplicas, status.availableReplicas], [6, 6, 6, 6]);
  assert.equal(status.observedGeneration, d!.metadata.generation);
  assert.deepEqual(
    status.conditions.map((c: any) => [c.type, c.status, c.reason]),
    [
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ],
  );
  const rss = (await server.client.list<ReplicaSet>(R.replicasets, { namespace: 'default', labelSelector: 'app=web' })).items;
  assert.deepEqual(rss.map((rs) => rs.spec.replicas).sort(), [0, 6]);

  await kubectl('rollout', 'restart', 'deployment/web');
  await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s');
  const restarted = await server.client.get(R.deployments, 'default', 'web');
  assert.equal(restarted!.metadata.annotations!['deployment.kubernetes.io/revision'], '3');
  const history = await kubectl('rollout', 'history', 'deployment/web');
  assert.match(history, /^1\s/m);
  assert.match(history, /^3\s/m);

  await kubectl('rollout', 'undo', 'deployment/web', '--to-revision=1');
  await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s');
  const undone = (await podsOf('default', 'app=web')).filter((p) => !p.metadata.deletionTimestamp);
  assert.ok(undone.every((p) => (p.spec as any).containers[0].image === 'nginx:1'));

  const events = await kubectl('get', 'events', '--field-selector', 'involvedObject.name=web');
  assert.match(events, /ScalingReplicaSet/);
});

test('deleting a Deployment deletes its ReplicaSets and pods (background and foreground); --cascade=orphan keeps them for adoption', async () => {
  await kubectl('create', 'deployment', 'gone', '--image=nginx', '--replicas=2');
  await kubectl('rollout', 'status', 'deployment/gone', '--timeout=60s');
  await kubectl('delete', 'deployment', 'gone');
  await eventually('ReplicaSets and pods of gone deleted', async () => {
    const rs = await server.client.list(R.replicasets, { namespace: 'default', labelSelector: 'app=gone' });
    const pods = await podsOf('default', 'app=gone');
    return rs.items.length === 0 && pods.length === 0;
  });

  await kubectl('create', 'deployment', 'fg', '--image=nginx', '--replicas=2');
  await kubectl('rollout', 'status', 'deployment/fg', '--timeout=60s');
  await kubectl('delete', 'deployment', 'fg', '--cascade=foreground', '--timeout=60s');
  assert.equal((await server.client.list(R.replicasets, { namespace: 'default', labelSelector: 'app=fg' })).items.length, 0);
  assert.equal((await podsOf('default', 'app=fg')).length, 0);

  await kubectl('create', 'deployment', 'keep', '--image=nginx', '--replicas=2');
  await kubectl('rollout', 'status', 'deployment/keep', '--timeout=60s');
  const [rs] = (await server.client.list<ReplicaSet>(R.replicasets, { namespace: 'default', labelSelector: 'app=keep' })).items;
  const podNames = (await podsOf('default', 'app=keep')).map((p) => p.metadata.name).sort();
  await kubectl('delete', 'deployment', 'keep', '--cascade=orphan');
  await eventually('ReplicaSet orphaned', async () => {
    const r = await server.client.get(R.replicasets, 'default', rs!.metadata.name!);
    return r && !r.metadata.ownerReferences?.length;
  });
  // The same Deployment again adopts the ReplicaSet (and so its pods) instead of making new ones.
  await kubectl('create', 'deployment', 'keep', '--image=nginx', '--replicas=2');
  await kubectl('rollout', 'status', 'deployment/keep', '--timeout=60s');
  const readopted = await server.client.get(R.replicasets, 'default', rs!.metadata.name!);
  assert.equal(readopted!.metadata.ownerReferences?.[0]?.kind, 'Deployment');
  assert.deepEqual((await podsOf('default', 'app=keep')).map((p) => p.metadata.name).sort(), podNames);

  await kubectl('delete', 'deployment', 'keep', '--cascade=orphan');
  await kubectl('delete', 'replicaset', rs!.metadata.name!, '--cascade=orphan');
  const orphans = await eventually('orphaned pods without owner', async () => {
    const pods = await podsOf('default', 'app=keep');
    return pods.length === 2 && pods.every((p) => !p.metadata.ownerReferences?.length) && pods;
  });
  assert.equal(orphans.length, 2);
});

test('a pod that fits no node says why, and is scheduled when a node fits', async () => {
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'picky', namespace: 'default' },
    spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'c', image: 'nginx' }] },
  };
  await server.client.create(R.pods, pod);
  const cond = await eventually('PodScheduled=False', async () => {
    const p = await server.client.get<Pod>(R.pods, 'default', 'picky');
    return p?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  });
  assert.equal(cond.reason, 'Unschedulable');
  assert.equal(cond.message, "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.");
  await kubectl('label', 'node', 'n2', 'disk=ssd');
  const bound = await eventually('picky bound', async () => (await server.client.get<Pod>(R.pods, 'default', 'picky'))?.spec.nodeName);
  assert.equal(bound, 'n2');
  const events = await kubectl('get', 'events', '--field-selector', 'involvedObject.name=picky');
  assert.match(events, /FailedScheduling/);
  assert.match(events, /Scheduled/);
});

test('the scheduler keeps host ports and requested cpu within a node: upstream\'s NodePorts and Insufficient cpu', async () => {
  // n4 has one CPU; nothing runs its pods (the fake kubelet plays n1 and n2), so they hold what they request.
  // Host ports need a namespace that Pod Security lets have them.
  const NS = 'host-ports';
  await server.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } });
  await kubelet.register('n4', { 'flatnet.dev/test': 'small' }, 110, { cpu: '1', memory: '1Gi' });
  const pod = (name: string, hostPort: number, cpu: string): KubeObject =>
    ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { nodeSelector: { 'flatnet.dev/test': 'small' }, containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80, hostPort }], resources: { requests: { cpu } } }] } }) as KubeObject;
  const unschedulable = (name: string) =>
    eventually(`${name} refused`, async () => (await server.client.get<Pod>(R.pods, NS, name))?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False'));
  const names = ['fit', 'same-port', 'too-much-cpu'];
  try {
    await server.client.create(R.pods, pod('fit', 8080, '600m'));
    assert.equal(await eventually('fit bound', async () => (await server.client.get<Pod>(R.pods, NS, 'fit'))?.spec.nodeName), 'n4');
    await server.client.create(R.pods, pod('same-port', 8080, '100m'));
    await server.client.create(R.pods, pod('too-much-cpu', 8081, '600m'));
    assert.equal((await unschedulable('same-port')).message, "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 2 node(s) didn't match Pod's node affinity/selector.");
    assert.equal((await unschedulable('too-much-cpu')).message, "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.");
    // The pod holding both leaves: both are placed.
    await server.client.delete(R.pods, NS, 'fit', { gracePeriodSeconds: 0 });
    for (const name of ['same-port', 'too-much-cpu']) assert.equal(await eventually(`${name} bound`, async () => (await server.client.get<Pod>(R.pods, NS, name))?.spec.nodeName), 'n4');
  } finally {
    for (const name of names) await server.client.delete(R.pods, NS, name, { gracePeriodSeconds: 0 }).catch(() => undefined);
    await server.client.delete(R.nodes, undefined, 'n4').catch(() => undefined);
    await server.client.delete(R.namespaces, undefined, NS).catch(() => undefined);
  }
});

test('a node takes no more pods than its allocatable pods: "Too many pods" until one leaves', async () => {
  // n3 takes 2 pods; nothing runs them (the fake kubelet plays n1 and n2), so they hold their slots.
  await kubelet.register('n3', { 'flatnet.dev/test': 'full' }, 2);
  const names = ['slot-0', 'slot-1', 'slot-2'];
  try {
    for (const name of names) {
      await server.client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeSelector: { 'flatnet.dev/test': 'full' }, containers: [{ name: 'c', image: 'nginx' }] } } as KubeObject);
    }
    const left = await eventually('two bound to n3, one refused', async () => {
      const pods = await Promise.all(names.map((n) => server.client.get<Pod>(R.pods, 'default', n)));
      const waiting = pods.filter((p) => !p?.spec.nodeName);
      return pods.filter((p) => p?.spec.nodeName === 'n3').length === 2 && waiting.length === 1 && waiting[0]!.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False') && waiting[0]!;
    });
    const cond = left.status!.conditions!.find((c) => c.type === 'PodScheduled')!;
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal(cond.message, "0/3 nodes are available: 1 Too many pods, 2 node(s) didn't match Pod's node affinity/selector.");
    const events = await kubectl('get', 'events', '--field-selector', `involvedObject.name=${left.metadata.name},reason=FailedScheduling`, '-o', 'jsonpath={.items[*].message}');
    assert.match(events, /0\/3 nodes are available: 1 Too many pods/);
    // A bound pod leaving frees its slot, and the refused pod is tried again and placed.
    const gone = names.find((n) => n !== left.metadata.name)!;
    await server.client.delete(R.pods, 'default', gone, { gracePeriodSeconds: 0 });
    assert.equal(await eventually('the refused pod bound', async () => (await server.client.get<Pod>(R.pods, 'default', left.metadata.name!))?.spec.nodeName), 'n3');
  } finally {
    for (const name of names) await server.client.delete(R.pods, 'default', name, { gracePeriodSeconds: 0 }).catch(() => undefined);
    await server.client.delete(R.nodes, undefined, 'n3').catch(() => undefined);
  }
});
