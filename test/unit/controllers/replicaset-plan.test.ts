import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planReplicaSet, podFromTemplate, deletionOrder } from '../../../src/controllers/replicaset-plan.js';
import type { Pod, ReplicaSet } from '../../../src/controllers/types.js';

const rs: ReplicaSet = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'web-abc', namespace: 'default', uid: 'uid-rs', generation: 3 },
  spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
};

function pod(name: string, o: { ready?: boolean; node?: string; phase?: string; owner?: string; readySince?: string; terminating?: boolean } = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      labels: { app: 'web' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: o.owner ?? 'uid-rs', controller: true }],
      ...(o.terminating ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: { nodeName: o.node },
    status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: o.readySince ?? '2026-01-01T00:00:00Z' }] },
  };
}

test('creates the missing pods; pods of others and terminating ones do not count', () => {
  const plan = planReplicaSet(rs, [pod('a', { ready: true, node: 'n' }), pod('x', { owner: 'other' }), pod('t', { terminating: true })], Date.now());
  assert.equal(plan.create, 2);
  assert.deepEqual(plan.status, { replicas: 1, fullyLabeledReplicas: 1, readyReplicas: 1, availableReplicas: 1, observedGeneration: 3 });
});

test('deletes unscheduled, then not-ready pods first', () => {
  const pods = [pod('ready1', { ready: true, node: 'n' }), pod('pending', {}), pod('notready', { node: 'n' }), pod('ready2', { ready: true, node: 'n' }), pod('ready3', { ready: true, node: 'n' })];
  const plan = planReplicaSet({ ...rs, spec: { ...rs.spec, replicas: 2 } }, pods, Date.now());
  assert.deepEqual(plan.delete.map((p) => p.metadata.name), ['pending', 'notready', 'ready3']);
  assert.ok(deletionOrder(pods[1]!, pods[0]!) < 0);
});

test('minReadySeconds: ready pods become available later and the plan asks to look again', () => {
  const now = Date.parse('2026-01-01T00:00:05Z');
  const plan = planReplicaSet({ ...rs, spec: { ...rs.spec, minReadySeconds: 10 } }, [pod('a', { ready: true, node: 'n', readySince: '2026-01-01T00:00:00Z' })], now);
  assert.equal(plan.status.readyReplicas, 1);
  assert.equal(plan.status.availableReplicas, 0);
  assert.equal(plan.recheckAfterMs, 5000);
});

test('pods from the template are named <rs>-<random 5> and controlled by the ReplicaSet', () => {
  const p = podFromTemplate(rs);
  assert.match(p.metadata.name!, /^web-abc-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.deepEqual(p.metadata.labels, { app: 'web' });
  assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'uid-rs', controller: true, blockOwnerDeletion: true }]);
});
