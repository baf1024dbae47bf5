import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideEviction, MAX_DISRUPTED_PODS } from '../../../src/apiserver/eviction-plan.js';
import type { PodDisruptionBudget } from '../../../src/controllers/disruption-plan.js';
import type { Pod } from '../../../src/controllers/types.js';

const NOW = Date.parse('2026-12-06T12:00:00Z');

function pod(o: { phase?: string; ready?: boolean; terminating?: boolean; labels?: Record<string, string> } = {}): Pod {
  return {
    metadata: { name: 'web-1', namespace: 'default', resourceVersion: '42', labels: o.labels ?? { app: 'web' }, deletionTimestamp: o.terminating ? '2026-12-06T12:00:30Z' : undefined },
    spec: { containers: [] } as unknown as Pod['spec'],
    status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

function budget(name: string, status: Partial<NonNullable<PodDisruptionBudget['status']>>, spec: PodDisruptionBudget['spec'] = {}, generation = 1): PodDisruptionBudget {
  return {
    metadata: { name, namespace: 'default', generation },
    spec: { selector: { matchLabels: { app: 'web' } }, ...spec },
    status: { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 3, desiredHealthy: 3, expectedPods: 3, ...status },
  };
}

const opts = { now: NOW, dryRun: false };

test('terminal, pending and terminating pods are deleted without asking a budget', () => {
  const strict = [budget('b', {})];
  for (const p of [pod({ phase: 'Succeeded' }), pod({ phase: 'Failed' }), pod({ phase: 'Pending' }), pod({ terminating: true })]) {
    assert.equal(decideEviction(p, strict, opts).kind, 'delete');
  }
});

test('no budget: delete; two budgets: refused as upstream (500)', () => {
  assert.equal(decideEviction(pod(), [budget('other', {}, { selector: { matchLabels: { app: 'db' } } })], opts).kind, 'delete');
  assert.deepEqual(decideEviction(pod(), [budget('a', { disruptionsAllowed: 1 }), budget('b', { disruptionsAllowed: 1 })], opts), { kind: 'multipleBudgets' });
});

test('a budget with no disruption left answers 429 with the DisruptionBudget cause', () => {
  assert.deepEqual(decideEviction(pod(), [budget('web', { currentHealthy: 2, desiredHealthy: 2 })], opts), {
    kind: 'tooManyRequests',
    budget: 'web',
    cause: 'The disruption budget web needs 2 healthy pods and has 2 currently',
    retryAfterSeconds: 0,
  });
});

test('a budget the controller has not seen yet asks to retry in 10s', () => {
  const d = decideEviction(pod(), [budget('web', { disruptionsAllowed: 5 }, {}, 2)], opts);
  assert.equal(d.kind, 'tooManyRequests');
  assert.equal(d.kind === 'tooManyRequests' && d.retryAfterSeconds, 10);
});

test('an allowed eviction takes one disruption and records the pod; a dry run records nothing', () => {
  const d = decideEviction(pod(), [budget('web', { disruptionsAllowed: 1, disruptedPods: { old: '2026-12-06T11:59:00Z' } })], opts);
  assert.equal(d.kind, 'take');
  if (d.kind !== 'take') return;
  assert.equal(d.status.disruptionsAllowed, 0);
  assert.deepEqual(d.status.disruptedPods, { old: '2026-12-06T11:59:00Z', 'web-1': '2026-12-06T12:00:00Z' });
  assert.deepEqual(d.status.conditions?.map((c) => [c.status, c.reason]), [['False', 'InsufficientPods']]);
  const dry = decideEviction(pod(), [budget('web', { disruptionsAllowed: 2 })], { now: NOW, dryRun: true });
  assert.equal(dry.kind === 'take' && dry.status.disruptionsAllowed, 1);
  assert.equal(dry.kind === 'take' && dry.status.disruptedPods, undefined);
});

test('unhealthy pods: AlwaysAllow deletes them, IfHealthyBudget only while the budget is met', () => {
  const unready = pod({ ready: false });
  const always = decideEviction(unready, [budget('web', { currentHealthy: 0, desiredHealthy: 3 }, { unhealthyPodEvictionPolicy: 'AlwaysAllow' })], opts);
  assert.deepEqual(always, { kind: 'delete', why: 'the pod is not ready and the budget always allows evicting unhealthy pods', requireResourceVersion: '42' });
  assert.equal(decideEviction(unready, [budget('web', { currentHealthy: 3, desiredHealthy: 3 })], opts).kind, 'delete');
  assert.equal(decideEviction(unready, [budget('web', { currentHealthy: 2, desiredHealthy: 3 })], opts).kind, 'tooManyRequests');
});

test('a negative allowance or too many unconfirmed evictions is forbidden', () => {
  assert.equal(decideEviction(pod(), [budget('web', { disruptionsAllowed: -1 })], opts).kind, 'forbidden');
  const many = Object.fromEntries(Array.from({ length: MAX_DISRUPTED_PODS + 1 }, (_, i) => [`p${i}`, '2026-12-06T11:59:00Z']));
  assert.equal(decideEviction(pod(), [budget('web', { disruptionsAllowed: 3, disruptedPods: many })], opts).kind, 'forbidden');
});
