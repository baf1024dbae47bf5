import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  budgetCoversPod,
  DELETION_TIMEOUT_MS,
  planBudget,
  scaledValue,
  type PodDisruptionBudget,
  type ScaleLookup,
} from '../../../src/controllers/disruption-plan.js';
import type { Pod } from '../../../src/controllers/types.js';

const NOW = Date.parse('2026-12-06T12:00:00Z');

function pod(name: string, o: { ready?: boolean; labels?: Record<string, string>; owner?: { kind: string; name: string }; terminating?: boolean; namespace?: string } = {}): Pod {
  return {
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      labels: o.labels ?? { app: 'web' },
      ownerReferences: o.owner ? [{ apiVersion: 'apps/v1', kind: o.owner.kind, name: o.owner.name, uid: `uid-${o.owner.name}`, controller: true }] : undefined,
      deletionTimestamp: o.terminating ? '2026-12-06T11:59:00Z' : undefined,
    },
    spec: { containers: [] } as unknown as Pod['spec'],
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

function pdb(spec: PodDisruptionBudget['spec'], status?: PodDisruptionBudget['status'], generation = 1): PodDisruptionBudget {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default', generation }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec }, status };
}

const scales = (replicas: Record<string, number>): ScaleLookup => ({
  scaleOf: (_ns, owner) => (owner.name in replicas ? { uid: `uid-${owner.name}`, replicas: replicas[owner.name] } : undefined),
});
const rs = { kind: 'ReplicaSet', name: 'web-abc' };

test('scaledValue rounds percentages as intstr does', () => {
  assert.equal(scaledValue(3, 10, true), 3);
  assert.equal(scaledValue('50%', 5, true), 3);
  assert.equal(scaledValue('50%', 5, false), 2);
  assert.equal(scaledValue('0%', 5, true), 0);
  assert.throws(() => scaledValue('half', 5, true), /invalid value/);
});

test('selectors: an empty selector covers the whole namespace, an absent one nothing, other namespaces never', () => {
  assert.equal(budgetCoversPod(pdb({ selector: {} }), pod('a', { labels: { x: 'y' } })), true);
  assert.equal(budgetCoversPod(pdb({ selector: null }), pod('a')), false);
  assert.equal(budgetCoversPod(pdb({}), pod('a', { namespace: 'other' })), false);
  assert.equal(budgetCoversPod(pdb({}), pod('a', { labels: { app: 'db' } })), false);
});

test('minAvailable integer: expected = matching pods, allowed = healthy - min, condition SufficientPods', () => {
  const pods = [pod('a'), pod('b'), pod('c'), pod('d', { ready: false }), pod('e', { terminating: true }), pod('x', { labels: { app: 'db' } })];
  const plan = planBudget(pdb({ minAvailable: 2 }), pods, scales({}), NOW);
  assert.equal(plan.error, undefined);
  assert.equal(plan.coveredPods, 5);
  assert.deepEqual(
    { ...plan.status, conditions: undefined },
    { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 5, conditions: undefined },
  );
  assert.deepEqual(plan.status.conditions?.map((c) => [c.type, c.status, c.reason]), [['DisruptionAllowed', 'True', 'SufficientPods']]);
});

test('maxUnavailable and percentages scale by the controllers, rounding up', () => {
  const pods = [pod('a', { owner: rs }), pod('b', { owner: rs }), pod('c', { owner: rs, ready: false })];
  const byMax = planBudget(pdb({ maxUnavailable: '34%' }), pods, scales({ 'web-abc': 4 }), NOW);
  // 34% of 4 rounds up to 2 unavailable: 2 must stay healthy, 2 are.
  assert.equal(byMax.status.expectedPods, 4);
  assert.equal(byMax.status.desiredHealthy, 2);
  assert.equal(byMax.status.disruptionsAllowed, 0);
  assert.deepEqual(byMax.status.conditions?.map((c) => [c.status, c.reason]), [['False', 'InsufficientPods']]);
  const byMin = planBudget(pdb({ minAvailable: '25%' }), pods, scales({ 'web-abc': 4 }), NOW);
  assert.equal(byMin.status.desiredHealthy, 1);
  assert.equal(byMin.status.disruptionsAllowed, 1);
});

test('a pod without a scalable controller fails the budget safe: nothing allowed, SyncFailed', () => {
  const old = { disruptionsAllowed: 2, currentHealthy: 3, desiredHealthy: 1, expectedPods: 3, observedGeneration: 1 };
  const plan = planBudget(pdb({ maxUnavailable: 1 }, old, 2), [pod('a')], scales({}), NOW);
  assert.match(plan.error!, /found no controller ref for pod "a"/);
  assert.equal(plan.status.disruptionsAllowed, 0);
  assert.equal(plan.status.observedGeneration, 2);
  assert.deepEqual(plan.status.conditions?.map((c) => [c.status, c.reason, c.message]), [['False', 'SyncFailed', 'found no controller ref for pod "a"']]);
  const ds = planBudget(pdb({ maxUnavailable: 1 }), [pod('a', { owner: { kind: 'DaemonSet', name: 'agent' } })], scales({}), NOW);
  assert.match(ds.error!, /found no controllers for pod "a"/);
});

test('recently evicted pods count as gone until the deletion timeout, then are dropped and reported', () => {
  const recent = new Date(NOW - 1000).toISOString();
  const stale = new Date(NOW - DELETION_TIMEOUT_MS - 1000).toISOString();
  const status = { disruptionsAllowed: 0, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptedPods: { a: recent, b: stale, gone: recent } };
  const plan = planBudget(pdb({ minAvailable: 2 }, status), [pod('a'), pod('b'), pod('c')], scales({}), NOW);
  assert.deepEqual(plan.status.disruptedPods, { a: recent });
  assert.equal(plan.status.currentHealthy, 2);
  assert.equal(plan.status.disruptionsAllowed, 0);
  assert.deepEqual(plan.notDeleted.map((p) => p.metadata.name), ['b']);
  assert.equal(plan.recheckAt, Date.parse(recent) + DELETION_TIMEOUT_MS);
});

test('no matching pods: nothing expected, nothing allowed', () => {
  const plan = planBudget(pdb({ minAvailable: 0 }), [], scales({}), NOW);
  assert.equal(plan.coveredPods, 0);
  assert.equal(plan.status.disruptionsAllowed, 0);
  assert.equal(plan.status.expectedPods, 0);
});

test('the condition keeps its transition time while its status holds', () => {
  const first = planBudget(pdb({ minAvailable: 1 }), [pod('a'), pod('b')], scales({}), NOW);
  const later = planBudget(pdb({ minAvailable: 1 }, first.status), [pod('a'), pod('b'), pod('c')], scales({}), NOW + 60_000);
  assert.equal(later.status.conditions![0].lastTransitionTime, first.status.conditions![0].lastTransitionTime);
  const flipped = planBudget(pdb({ minAvailable: 3 }, later.status), [pod('a'), pod('b')], scales({}), NOW + 120_000);
  assert.equal(flipped.status.conditions![0].lastTransitionTime, '2026-12-06T12:02:00Z');
});
