import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ordinalOf, planStatefulSet, statefulSetPod, statefulSetRevision, type StatefulSet } from '../../../src/controllers/statefulset-plan.js';
import type { Pod } from '../../../src/controllers/types.js';

function sts(spec: Partial<StatefulSet['spec']> = {}, status?: StatefulSet['status']): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-sts', generation: 2 },
    spec: {
      replicas: 3,
      serviceName: 'nginx',
      selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1' }] } },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

/** A pod as the controller made it, then Running and Ready (or not) as a kubelet reports it. */
function pod(set: StatefulSet, ord: number, o: { ready?: boolean; phase?: string; revision?: string; terminating?: boolean } = {}): Pod {
  const p = statefulSetPod(set, ord, o.revision);
  p.metadata.uid = `uid-${p.metadata.name}`;
  if (o.terminating) p.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  p.status = { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] };
  return p;
}

const names = (plan: ReturnType<typeof planStatefulSet>) => plan.actions.map((a) => ('create' in a ? `+${a.create.metadata.name}` : `-${a.delete.metadata.name}`));
const now = Date.parse('2026-06-01T00:00:00Z');

test('pods are <name>-<ordinal> with stable network identity and the StatefulSet labels', () => {
  const s = sts({ volumeClaimTemplates: [{ metadata: { name: 'www' } }] });
  const p = statefulSetPod(s, 1);
  assert.equal(p.metadata.name, 'web-1');
  assert.equal(p.spec.hostname, 'web-1');
  assert.equal(p.spec.subdomain, 'nginx');
  assert.deepEqual(p.metadata.labels, {
    app: 'nginx',
    'controller-revision-hash': statefulSetRevision(s),
    'statefulset.kubernetes.io/pod-name': 'web-1',
    'apps.kubernetes.io/pod-index': '1',
  });
  assert.match(statefulSetRevision(s), /^web-[a-z0-9]+$/);
  assert.deepEqual(p.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]), [['StatefulSet', 'web', 'uid-sts', true]]);
  assert.deepEqual((p.spec as { volumes?: unknown[] }).volumes, [{ name: 'www', emptyDir: {} }]);
  assert.equal(ordinalOf('web', 'web-12'), 12);
  assert.equal(ordinalOf('web', 'web-01'), undefined);
  assert.equal(ordinalOf('web', 'webx-1'), undefined);
});

test('OrderedReady creates one pod at a time, each after the one before is Running and Ready', () => {
  const s = sts();
  assert.deepEqual(names(planStatefulSet(s, [], now)), ['+web-0']);
  assert.deepEqual(names(planStatefulSet(s, [pod(s, 0, { ready: false })], now)), []);
  assert.deepEqual(names(planStatefulSet(s, [pod(s, 0, { phase: 'Pending', ready: false })], now)), []);
  assert.deepEqual(names(planStatefulSet(s, [pod(s, 0)], now)), ['+web-1']);
  assert.deepEqual(names(planStatefulSet(s, [pod(s, 0), pod(s, 1)], now)), ['+web-2']);
  const done = planStatefulSet(s, [pod(s, 0), pod(s, 1), pod(s, 2)], now);
  assert.deepEqual(names(done), []);
  assert.deepEqual(
    [done.status.replicas, done.status.readyReplicas, done.status.currentReplicas, done.status.updatedReplicas, done.status.availableReplicas, done.status.observedGeneration],
    [3, 3, 3, 3, 3, 2],
  );
  assert.equal(done.status.currentRevision, statefulSetRevision(s));
  assert.equal(done.status.updateRevision, statefulSetRevision(s));
});

test('Parallel creates and deletes all at once', () => {
  const s = sts({ podManagementPolicy: 'Parallel' });
  assert.deepEqual(names(planStatefulSet(s, [], now)), ['+web-0', '+web-1', '+web-2']);
  const down = sts({ podManagementPolicy: 'Parallel', replicas: 1 });
  assert.deepEqual(names(planStatefulSet(down, [pod(s, 0), pod(s, 1, { ready: false }), pod(s, 2)], now)), ['-web-2', '-web-1']);
});

test('scaling down removes the highest ordinal first, one at a time, only while the rest are healthy', () => {
  const s = sts({ replicas: 1 });
  const pods = [pod(s, 0), pod(s, 1), pod(s, 2)];
  assert.deepEqual(names(planStatefulSet(s, pods, now)), ['-web-2']);
  assert.deepEqual(names(planStatefulSet(s, [pod(s, 0), pod(s, 1), pod(s, 2, { terminating: true })], now)), []);
  assert.deepEqual(names(planStatefulSet(s, [pod(s, 0, { ready: false }), pod(s, 1), pod(s, 2)], now)), []);
});

test('a deleted or failed pod comes back under the same name', () => {
  const s = sts();
  assert.deepEqual(names(planStatefulSet(s, [pod(s, 0), pod(s, 2)], now)), ['+web-1']);
  assert.deepEqual(names(planStatefulSet(s, [pod(s, 0), pod(s, 1, { phase: 'Failed' }), pod(s, 2)], now)), ['-web-1']);
  // A pod of that name still terminating is waited for.
  assert.deepEqual(names(planStatefulSet(s, [pod(s, 0), pod(s, 1, { terminating: true }), pod(s, 2)], now)), []);
});

test('RollingUpdate replaces the highest out-of-date ordinal first, down to the partition', () => {
  const old = sts();
  const oldRev = statefulSetRevision(old);
  const updated = sts(
    { template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] } } },
    { replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3, currentRevision: oldRev, updateRevision: oldRev },
  );
  const newRev = statefulSetRevision(updated);
  assert.notEqual(newRev, oldRev);
  const oldPods = [0, 1, 2].map((i) => pod(old, i));
  let plan = planStatefulSet(updated, oldPods, now);
  assert.deepEqual(names(plan), ['-web-2']);
  assert.equal(plan.status.currentRevision, oldRev);
  assert.equal(plan.status.updateRevision, newRev);
  // web-2 came back at the new revision but is not Ready yet: wait.
  plan = planStatefulSet(updated, [oldPods[0]!, oldPods[1]!, pod(updated, 2, { ready: false })], now);
  assert.deepEqual(names(plan), []);
  plan = planStatefulSet(updated, [oldPods[0]!, oldPods[1]!, pod(updated, 2)], now);
  assert.deepEqual(names(plan), ['-web-1']);
  assert.deepEqual([plan.status.currentReplicas, plan.status.updatedReplicas], [2, 1]);
  // All updated and ready: the update revision becomes current.
  plan = planStatefulSet(updated, [0, 1, 2].map((i) => pod(updated, i)), now);
  assert.deepEqual(names(plan), []);
  assert.equal(plan.status.currentRevision, newRev);
  assert.equal(plan.status.currentReplicas, 3);
  // With partition 2 only web-2 is replaced.
  const partitioned = { ...updated, spec: { ...updated.spec, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } } };
  assert.deepEqual(names(planStatefulSet(partitioned, [oldPods[0]!, oldPods[1]!, pod(updated, 2)], now)), []);
});

test('OnDelete replaces nothing by itself; a deleted pod returns at the new revision', () => {
  const old = sts();
  const s = sts({ updateStrategy: { type: 'OnDelete' }, template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] } } }, {
    replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 0, availableReplicas: 3, currentRevision: statefulSetRevision(old),
  });
  const oldPods = [0, 1, 2].map((i) => pod(old, i));
  assert.deepEqual(names(planStatefulSet(s, oldPods, now)), []);
  const plan = planStatefulSet(s, [oldPods[0]!, oldPods[2]!], now);
  assert.deepEqual(names(plan), ['+web-1']);
  const created = (plan.actions[0] as { create: Pod }).create;
  assert.equal(created.metadata.labels?.['controller-revision-hash'], statefulSetRevision(s));
});

test('pods owned by others and a StatefulSet being deleted', () => {
  const s = sts();
  const foreign = pod(s, 0);
  foreign.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'other', controller: true }];
  assert.deepEqual(names(planStatefulSet(s, [foreign], now)), ['+web-0']);
  const gone = { ...s, metadata: { ...s.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
  assert.deepEqual(names(planStatefulSet(gone, [], now)), []);
});

test('during a partitioned RollingUpdate, a pod below the partition is recreated from the current revision', () => {
  const old = sts();
  const updated = sts(
    { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }, template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] } } },
    { replicas: 3, readyReplicas: 3, currentReplicas: 2, updatedReplicas: 1, availableReplicas: 3, currentRevision: statefulSetRevision(old) },
  );
  const plan = planStatefulSet(updated, [pod(old, 0), pod(updated, 2)], now, old.spec.template);
  const created = (plan.actions[0] as { create: Pod }).create;
  assert.equal(created.metadata.name, 'web-1');
  assert.equal(created.metadata.labels?.['controller-revision-hash'], statefulSetRevision(old));
  assert.equal(created.spec.containers?.[0]?.image, 'nginx:1');
  // At or above the partition, the update revision.
  const top = (planStatefulSet(updated, [pod(old, 0), pod(old, 1)], now, old.spec.template).actions[0] as { create: Pod }).create;
  assert.equal(top.spec.containers?.[0]?.image, 'nginx:2');
});
