import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPodDisruptionBudget, validatePodDisruptionBudget, validatePodDisruptionBudgetUpdate } from '../../../src/api/validation/policy.js';
import type { KubeObject } from '../../../src/api/types.js';

const pdb = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'x' }, spec, status });
const fields = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);

test('valid budgets pass', () => {
  for (const spec of [{ minAvailable: 2 }, { maxUnavailable: '30%' }, { minAvailable: '100%', selector: { matchLabels: { app: 'web' } } }, { selector: {} }, { maxUnavailable: 0, unhealthyPodEvictionPolicy: 'AlwaysAllow' }]) {
    assert.deepEqual(validatePodDisruptionBudget(pdb(spec)), [], JSON.stringify(spec));
  }
});

test('minAvailable and maxUnavailable together are refused', () => {
  assert.deepEqual(fields(validatePodDisruptionBudget(pdb({ minAvailable: 1, maxUnavailable: 1 }))), ['spec: Invalid value: {minAvailable: 1, maxUnavailable: 1}: minAvailable and maxUnavailable cannot be both set']);
});

test('bad int-or-percent values name the field', () => {
  assert.deepEqual(fields(validatePodDisruptionBudget(pdb({ minAvailable: -1 }))), ['spec.minAvailable: Invalid value: -1: must be greater than or equal to 0']);
  assert.deepEqual(fields(validatePodDisruptionBudget(pdb({ maxUnavailable: '120%' }))), ['spec.maxUnavailable: Invalid value: "120%": must not be greater than 100%']);
  assert.deepEqual(fields(validatePodDisruptionBudget(pdb({ maxUnavailable: 'lots' }))), ['spec.maxUnavailable: Invalid value: "lots": must be an integer or percentage (e.g \'5%\')']);
});

test('selector and unhealthyPodEvictionPolicy are checked', () => {
  assert.deepEqual(fields(validatePodDisruptionBudget(pdb({ selector: { matchExpressions: [{ key: 'app', operator: 'Near' }] } }))), [
    'spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator',
  ]);
  assert.deepEqual(fields(validatePodDisruptionBudget(pdb({ unhealthyPodEvictionPolicy: 'Sometimes' }))), [
    'spec.unhealthyPodEvictionPolicy: Unsupported value: "Sometimes": supported values: "AlwaysAllow", "IfHealthyBudget"',
  ]);
});

test('status counts may not go negative', () => {
  assert.deepEqual(fields(validatePodDisruptionBudgetUpdate(pdb({ minAvailable: 1 }, { disruptionsAllowed: -1, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 }))), [
    'status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0',
  ]);
});

test('a new budget shows zero status counts, as upstream serializes them', () => {
  const obj = pdb({ minAvailable: 1 }) as unknown as Record<string, any>;
  defaultPodDisruptionBudget(obj);
  assert.deepEqual(obj.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
  const kept = pdb({}, { disruptionsAllowed: 2, currentHealthy: 3, desiredHealthy: 1, expectedPods: 3 }) as unknown as Record<string, any>;
  defaultPodDisruptionBudget(kept);
  assert.equal(kept.status.disruptionsAllowed, 2);
});
