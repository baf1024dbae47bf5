import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedPods, needsScheduling, PlacementCounts, placementOf, schedulePod } from '../../../src/controllers/scheduler-plan.js';
import type { Node, Pod } from '../../../src/controllers/types.js';

function node(name: string, o: { ready?: boolean | 'Unknown'; labels?: Record<string, string>; unschedulable?: boolean; taints?: { key: string; value?: string; effect: string }[]; pods?: string | null } = {}): Node {
  const status = o.ready === 'Unknown' ? 'Unknown' : o.ready === false ? 'False' : 'True';
  const allocatable = o.pods === null ? undefined : { pods: o.pods ?? '110' };
  return { metadata: { name, labels: o.labels ?? { 'kubernetes.io/hostname': name } }, spec: { unschedulable: o.unschedulable, taints: o.taints }, status: { conditions: [{ type: 'Ready', status }], allocatable } };
}

function pod(name: string, o: { node?: string; owner?: string; nodeSelector?: Record<string, string>; tolerations?: Pod['spec']['tolerations']; phase?: string; deleting?: boolean } = {}): Pod {
  return {
    metadata: { name, namespace: 'default', ownerReferences: o.owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner, uid: o.owner, controller: true }] : undefined, deletionTimestamp: o.deleting ? '2026-01-01T00:00:00Z' : undefined },
    spec: { nodeName: o.node, nodeSelector: o.nodeSelector, tolerations: o.tolerations },
    status: o.phase ? { phase: o.phase } : undefined,
  };
}

test('spreads pods of one owner across nodes, then by total pods', () => {
  const nodes = [node('a'), node('b'), node('c')];
  const placed = [pod('x1', { node: 'a', owner: 'rs' }), pod('o1', { node: 'b' }), pod('o2', { node: 'b' })];
  assert.deepEqual(schedulePod(pod('new', { owner: 'rs' }), nodes, PlacementCounts.of(placed)), { node: 'c' });
  placed.push(pod('x2', { node: 'c', owner: 'rs' }));
  assert.deepEqual(schedulePod(pod('new2', { owner: 'rs' }), nodes, PlacementCounts.of(placed)), { node: 'b' });
  assert.deepEqual(schedulePod(pod('lonely'), nodes, PlacementCounts.of(placed)), { node: 'a' });
});

test('nodeSelector mismatch gives the upstream message', () => {
  const nodes = [node('a'), node('b')];
  assert.deepEqual(schedulePod(pod('p', { nodeSelector: { disk: 'ssd' } }), nodes, PlacementCounts.of([])), {
    unschedulable: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.",
  });
  const withSsd = [...nodes, node('c', { labels: { disk: 'ssd' } })];
  assert.deepEqual(schedulePod(pod('p', { nodeSelector: { disk: 'ssd' } }), withSsd, PlacementCounts.of([])), { node: 'c' });
});

test('not-ready, unschedulable and tainted nodes are filtered; reasons are counted and sorted', () => {
  const nodes = [node('a', { ready: false }), node('b', { unschedulable: true }), node('c', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }), node('d', { ready: 'Unknown' })];
  assert.deepEqual(schedulePod(pod('p'), nodes, PlacementCounts.of([])), {
    unschedulable:
      '0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 1 node(s) were unschedulable.',
  });
  assert.deepEqual(schedulePod(pod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }), nodes, PlacementCounts.of([])), { node: 'c' });
  assert.deepEqual(schedulePod(pod('p'), [], PlacementCounts.of([])), { unschedulable: '0/0 nodes are available:' });
});

test('required node affinity', () => {
  const p = pod('p');
  p.spec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z2'] }] }] } } };
  assert.deepEqual(schedulePod(p, [node('a', { labels: { zone: 'z1' } }), node('b', { labels: { zone: 'z2' } })], PlacementCounts.of([])), { node: 'b' });
});

test('pods with a nodeName, another scheduler or terminating are not scheduled', () => {
  assert.equal(needsScheduling(pod('p')), true);
  assert.equal(needsScheduling(pod('p', { node: 'a' })), false);
  const other = pod('p');
  other.spec.schedulerName = 'my-scheduler';
  assert.equal(needsScheduling(other), false);
});

test('a node takes no more pods than its allocatable pods: upstream\'s "Too many pods"', () => {
  const nodes = [node('a', { pods: '2' }), node('b', { pods: '1' })];
  const placed = [pod('x1', { node: 'a' }), pod('x2', { node: 'a' })];
  assert.deepEqual(schedulePod(pod('p'), nodes, PlacementCounts.of(placed)), { node: 'b' });
  placed.push(pod('x3', { node: 'b' }));
  assert.deepEqual(schedulePod(pod('p'), nodes, PlacementCounts.of(placed)), { unschedulable: '0/2 nodes are available: 2 Too many pods.' });
  // A pod being bound (assumed, no nodeName in the cache yet) takes its slot at once.
  const counts = PlacementCounts.of([pod('x1', { node: 'a' })]);
  counts.add(placementOf(pod('assumed'), 'a'), 1);
  assert.deepEqual(schedulePod(pod('p'), [node('a', { pods: '2' })], counts), { unschedulable: '0/1 nodes are available: 1 Too many pods.' });
});

test('terminated pods free their slot; terminating pods keep it but no longer count for spreading', () => {
  const a = node('a', { pods: '1' });
  assert.deepEqual(schedulePod(pod('p'), [a], PlacementCounts.of([pod('done', { node: 'a', phase: 'Succeeded' })])), { node: 'a' });
  assert.deepEqual(schedulePod(pod('p'), [a], PlacementCounts.of([pod('failed', { node: 'a', phase: 'Failed' })])), { node: 'a' });
  assert.deepEqual(schedulePod(pod('p'), [a], PlacementCounts.of([pod('going', { node: 'a', deleting: true })])), { unschedulable: '0/1 nodes are available: 1 Too many pods.' });
  const counts = PlacementCounts.of([pod('going', { node: 'a', deleting: true, owner: 'rs' }), pod('pending', { node: 'b', phase: 'Pending' })]);
  assert.equal(counts.heldOn('a'), 1);
  assert.equal(counts.onNode('a'), 0);
  assert.equal(counts.ofOwnerOnNode('rs', 'a'), 0);
  assert.equal(counts.heldOn('b'), 1);
  counts.add(placementOf(pod('going', { node: 'a', deleting: true, owner: 'rs' }), 'a'), -1);
  assert.equal(counts.heldOn('a'), 0);
});

test('allocatable pods: a quantity rounded up; none given is 0 pods, as upstream', () => {
  assert.equal(allowedPods(node('a', { pods: '110' })), 110);
  assert.equal(allowedPods(node('a', { pods: '1k' })), 1000);
  assert.equal(allowedPods(node('a', { pods: '2500m' })), 3);
  assert.equal(allowedPods(node('a', { pods: null })), 0);
  assert.deepEqual(schedulePod(pod('p'), [node('a', { pods: null })], PlacementCounts.of([])), { unschedulable: '0/1 nodes are available: 1 Too many pods.' });
});

test('the pod-slot check runs after the node filters; reasons sort as "<count> <reason>" strings, as upstream', () => {
  const nodes = [node('a', { ready: false, pods: '0' }), node('b', { pods: '0' }), node('c', { pods: '0' })];
  assert.deepEqual(schedulePod(pod('p'), nodes, PlacementCounts.of([])), {
    unschedulable: '0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 Too many pods.',
  });
});

test('host ports: a node whose pods hold the port is filtered with upstream\'s NodePorts reason; a different protocol, address or a freed pod does not collide', () => {
  const withPort = (name: string, port: { hostPort: number; hostIP?: string; protocol?: string }, o: { node?: string; phase?: string } = {}): Pod => {
    const p = pod(name, o);
    p.spec.containers = [{ name: 'c', ports: [{ containerPort: 80, ...port }] }];
    return p;
  };
  const nodes = [node('a'), node('b')];
  const placed = [withPort('x1', { hostPort: 8080 }, { node: 'a' })];
  assert.deepEqual(schedulePod(withPort('p', { hostPort: 8080 }), nodes, PlacementCounts.of(placed)), { node: 'b' });
  placed.push(withPort('x2', { hostPort: 8080, hostIP: '10.0.0.2' }, { node: 'b' }));
  assert.deepEqual(schedulePod(withPort('p', { hostPort: 8080 }), nodes, PlacementCounts.of(placed)), {
    unschedulable: "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports.",
  });
  // Another address on b, another protocol on a: no collision.
  assert.deepEqual(schedulePod(withPort('p', { hostPort: 8080, hostIP: '10.0.0.3' }), [node('b')], PlacementCounts.of(placed)), { node: 'b' });
  assert.deepEqual(schedulePod(withPort('p', { hostPort: 8080, protocol: 'UDP' }), [node('a')], PlacementCounts.of(placed)), { node: 'a' });
  // A finished pod and a pod leaving the counts free the port.
  assert.deepEqual(schedulePod(withPort('p', { hostPort: 9090 }), [node('a')], PlacementCounts.of([withPort('done', { hostPort: 9090 }, { node: 'a', phase: 'Succeeded' })])), { node: 'a' });
  const counts = PlacementCounts.of(placed);
  counts.add(placementOf(placed[0], 'a'), -1);
  assert.deepEqual(schedulePod(withPort('p', { hostPort: 8080 }), [node('a')], counts), { node: 'a' });
});

test('resources: a node whose pods\' requests leave too little is filtered with "Insufficient <resource>", one reason per resource lacking, as upstream\'s NodeResourcesFit', () => {
  const sized = (name: string, allocatable: Record<string, string>): Node => ({ ...node(name), status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: { pods: '110', ...allocatable } } });
  const requesting = (name: string, requests: Record<string, string>, o: { node?: string; phase?: string; deleting?: boolean } = {}): Pod => {
    const p = pod(name, o);
    p.spec.containers = [{ name: 'c', resources: { requests } }];
    return p;
  };
  const nodes = [sized('a', { cpu: '2', memory: '2Gi' }), sized('b', { cpu: '4', memory: '1Gi' })];
  const placed = [requesting('x1', { cpu: '1500m' }, { node: 'a' }), requesting('x2', { cpu: '3', memory: '512Mi' }, { node: 'b' })];
  assert.deepEqual(schedulePod(requesting('p', { cpu: '500m' }), nodes, PlacementCounts.of(placed)), { node: 'a' });
  assert.deepEqual(schedulePod(requesting('p', { cpu: '1' }), nodes, PlacementCounts.of(placed)), { node: 'b' });
  assert.deepEqual(schedulePod(requesting('p', { cpu: '1', memory: '1Gi' }), nodes, PlacementCounts.of(placed)), {
    unschedulable: '0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.',
  });
  assert.deepEqual(schedulePod(requesting('p', { cpu: '5', memory: '3Gi' }), nodes, PlacementCounts.of(placed)), {
    unschedulable: '0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory.',
  });
  // A pod requesting nothing needs only a slot; an extended resource no node advertises fits nowhere.
  assert.deepEqual(schedulePod(pod('p'), [nodes[0]], PlacementCounts.of([requesting('x', { cpu: '2' }, { node: 'a' })])), { node: 'a' });
  assert.deepEqual(schedulePod(requesting('p', { 'example.com/gpu': '1' }), nodes, PlacementCounts.of([])), { unschedulable: '0/2 nodes are available: 2 Insufficient example.com/gpu.' });
  // Finished pods free their requests, terminating ones hold them; a pod leaving the counts frees them.
  assert.deepEqual(schedulePod(requesting('p', { cpu: '2' }), [nodes[0]], PlacementCounts.of([requesting('done', { cpu: '2' }, { node: 'a', phase: 'Succeeded' })])), { node: 'a' });
  assert.deepEqual(schedulePod(requesting('p', { cpu: '2' }), [nodes[0]], PlacementCounts.of([requesting('going', { cpu: '1' }, { node: 'a', deleting: true })])), {
    unschedulable: '0/1 nodes are available: 1 Insufficient cpu.',
  });
  const counts = PlacementCounts.of(placed);
  counts.add(placementOf(placed[0], 'a'), -1);
  assert.deepEqual(Object.fromEntries(counts.requestedOn('a')), {});
  assert.deepEqual(Object.fromEntries(counts.requestedOn('b')), { cpu: 3000, memory: 512 * 2 ** 20 });
  assert.deepEqual(schedulePod(requesting('p', { cpu: '2' }), [nodes[0]], counts), { node: 'a' });
  // Pod slot and resources are one filter: both reasons count.
  assert.deepEqual(schedulePod(requesting('p', { cpu: '3' }), [sized('c', { cpu: '2', pods: '0' })], PlacementCounts.of([])), { unschedulable: '0/1 nodes are available: 1 Insufficient cpu, 1 Too many pods.' });
});
