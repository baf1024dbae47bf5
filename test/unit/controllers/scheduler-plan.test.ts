import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsScheduling, PlacementCounts, schedulePod } from '../../../src/controllers/scheduler-plan.js';
import type { Node, Pod } from '../../../src/controllers/types.js';

function node(name: string, o: { ready?: boolean | 'Unknown'; labels?: Record<string, string>; unschedulable?: boolean; taints?: { key: string; value?: string; effect: string }[] } = {}): Node {
  const status = o.ready === 'Unknown' ? 'Unknown' : o.ready === false ? 'False' : 'True';
  return { metadata: { name, labels: o.labels ?? { 'kubernetes.io/hostname': name } }, spec: { unschedulable: o.unschedulable, taints: o.taints }, status: { conditions: [{ type: 'Ready', status }] } };
}

function pod(name: string, o: { node?: string; owner?: string; nodeSelector?: Record<string, string>; tolerations?: Pod['spec']['tolerations'] } = {}): Pod {
  return {
    metadata: { name, namespace: 'default', ownerReferences: o.owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner, uid: o.owner, controller: true }] : undefined },
    spec: { nodeName: o.node, nodeSelector: o.nodeSelector, tolerations: o.tolerations },
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
