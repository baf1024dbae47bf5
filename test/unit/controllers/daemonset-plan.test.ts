import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonPod, daemonSetRevision, nodeOfDaemonPod, planDaemonSet, shouldRunOn, type DaemonSet } from '../../../src/controllers/daemonset-plan.js';
import type { Node, Pod } from '../../../src/controllers/types.js';

function ds(spec: Partial<DaemonSet['spec']> = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'kube-system', uid: 'uid-ds', generation: 1 },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'busybox' }] } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      ...spec,
    },
  };
}

function node(name: string, o: { labels?: Record<string, string>; ready?: boolean; unschedulable?: boolean; taints?: NonNullable<Node['spec']>['taints'] } = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } },
    spec: { unschedulable: o.unschedulable, taints: o.taints },
    status: { conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

let seq = 0;
function pod(set: DaemonSet, nodeName: string, o: { ready?: boolean; phase?: string; bound?: boolean } = {}): Pod {
  const p = daemonPod(set, nodeName);
  p.metadata.uid = `uid-${++seq}`;
  p.metadata.creationTimestamp = new Date(Date.parse('2026-01-01T00:00:00Z') + seq * 1000).toISOString();
  if (o.bound !== false) p.spec.nodeName = nodeName;
  p.status = { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] };
  return p;
}

const now = Date.parse('2026-06-01T00:00:00Z');

test('a daemon pod is placed by a required node affinity on metadata.name and tolerates what daemons tolerate', () => {
  const p = daemonPod(ds(), 'n1');
  assert.deepEqual(p.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, {
    nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }],
  });
  assert.equal(p.spec.nodeName, undefined);
  assert.equal(nodeOfDaemonPod(p), 'n1');
  assert.deepEqual(p.spec.tolerations?.map((t) => `${t.key}:${t.effect}`), [
    'node.kubernetes.io/not-ready:NoExecute',
    'node.kubernetes.io/unreachable:NoExecute',
    'node.kubernetes.io/disk-pressure:NoSchedule',
    'node.kubernetes.io/memory-pressure:NoSchedule',
    'node.kubernetes.io/pid-pressure:NoSchedule',
    'node.kubernetes.io/unschedulable:NoSchedule',
  ]);
  assert.equal(p.metadata.labels?.['controller-revision-hash'], daemonSetRevision(ds()));
  assert.equal(p.metadata.labels?.['pod-template-generation'], '1');
  assert.match(p.metadata.name!, /^agent-[a-z0-9]{5}$/);
});

test('which nodes: nodeSelector, taints and tolerations; cordoned nodes still get daemons', () => {
  const set = ds({ template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a' }], nodeSelector: { role: 'edge' } } } });
  assert.equal(shouldRunOn(set, node('n1', { labels: { role: 'edge' } })), true);
  assert.equal(shouldRunOn(set, node('n2')), false);
  assert.equal(shouldRunOn(ds(), node('n3', { unschedulable: true })), true);
  assert.equal(shouldRunOn(ds(), node('n4', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })), false);
  const tolerant = ds({ template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a' }], tolerations: [{ key: 'dedicated', operator: 'Exists' }] } } });
  assert.equal(shouldRunOn(tolerant, node('n4', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })), true);
});

test('one pod per eligible node; extra, failed and misplaced pods go', () => {
  const set = ds();
  const nodes = [node('n1'), node('n2'), node('n3')];
  let plan = planDaemonSet(set, nodes, [], now);
  assert.deepEqual(plan.create, ['n1', 'n2', 'n3']);
  assert.equal(plan.status.desiredNumberScheduled, 3);
  assert.equal(plan.status.currentNumberScheduled, 0);

  const a = pod(set, 'n1');
  const dup = pod(set, 'n1');
  const failed = pod(set, 'n2', { phase: 'Failed' });
  const stray = pod(set, 'gone');
  plan = planDaemonSet(set, nodes, [a, dup, failed, stray, pod(set, 'n3', { bound: false, ready: false, phase: 'Pending' })], now);
  assert.deepEqual(plan.create, ['n2']);
  assert.deepEqual(plan.delete.map((p) => p.metadata.uid).sort(), [dup.metadata.uid, failed.metadata.uid, stray.metadata.uid].sort());
  assert.deepEqual(
    [plan.status.desiredNumberScheduled, plan.status.currentNumberScheduled, plan.status.numberReady, plan.status.numberAvailable, plan.status.numberUnavailable, plan.status.updatedNumberScheduled],
    [3, 2, 1, 1, 2, 2],
  );
  // A node that is not Ready keeps its pod but gets no new one.
  plan = planDaemonSet(set, [node('n1', { ready: false }), node('n2', { ready: false })], [pod(set, 'n1')], now);
  assert.deepEqual(plan.create, []);
  assert.deepEqual(plan.delete, []);
});

test('RollingUpdate replaces at most maxUnavailable available pods at a time; OnDelete waits for deletions', () => {
  const old = ds();
  const nodes = [node('n1'), node('n2'), node('n3')];
  const oldPods = nodes.map((n) => pod(old, n.metadata.name!));
  const updated = ds({ template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'busybox:2' }] } } });
  let plan = planDaemonSet(updated, nodes, oldPods, now);
  assert.equal(plan.delete.length, 1);
  assert.equal(plan.status.updatedNumberScheduled, 0);
  // One node is already without an available pod: nothing more is taken down.
  const fresh = pod(updated, 'n1', { ready: false });
  plan = planDaemonSet(updated, nodes, [fresh, oldPods[1]!, oldPods[2]!], now);
  assert.deepEqual(plan.delete, []);
  // maxUnavailable 100% replaces all at once.
  const all = ds({ ...updated.spec, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%' } } });
  assert.equal(planDaemonSet(all, nodes, oldPods, now).delete.length, 3);
  const onDelete = ds({ ...updated.spec, updateStrategy: { type: 'OnDelete' } });
  assert.deepEqual(planDaemonSet(onDelete, nodes, oldPods, now).delete, []);
  const back = planDaemonSet(onDelete, nodes, [oldPods[0]!, oldPods[1]!], now);
  assert.deepEqual(back.create, ['n3']);
});
