import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unschedulableTaints, UNSCHEDULABLE_TAINT_KEY } from '../../../src/controllers/scheduler-unschedulable-taint-plan.js';
import { nodeMisfit } from '../../../src/controllers/scheduler-plan.js';
import type { Node, Pod } from '../../../src/controllers/types.js';

const node = (spec: Node['spec']): Node => ({ metadata: { name: 'n1' }, spec, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
const other = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };

test('a cordoned node gets the unschedulable taint, other taints kept', () => {
  assert.deepEqual(unschedulableTaints(node({ unschedulable: true, taints: [other] })), [other, { key: UNSCHEDULABLE_TAINT_KEY, effect: 'NoSchedule' }]);
});

test('uncordoning removes only that taint; agreeing nodes need nothing', () => {
  assert.deepEqual(unschedulableTaints(node({ taints: [other, { key: UNSCHEDULABLE_TAINT_KEY, effect: 'NoSchedule' }] })), [other]);
  assert.equal(unschedulableTaints(node({})), undefined);
  assert.equal(unschedulableTaints(node({ unschedulable: true, taints: [{ key: UNSCHEDULABLE_TAINT_KEY, effect: 'NoSchedule' }] })), undefined);
});

test('the scheduler keeps new pods off a cordoned node unless they tolerate the taint', () => {
  const cordoned = node({ unschedulable: true, taints: [{ key: UNSCHEDULABLE_TAINT_KEY, effect: 'NoSchedule' }] });
  const plain: Pod = { metadata: { name: 'p', namespace: 'default' }, spec: {} as Pod['spec'] };
  assert.equal(nodeMisfit(plain, cordoned), 'node(s) were unschedulable');
  const tolerant: Pod = { ...plain, spec: { tolerations: [{ key: UNSCHEDULABLE_TAINT_KEY, operator: 'Exists', effect: 'NoSchedule' }] } as Pod['spec'] };
  assert.equal(nodeMisfit(tolerant, cordoned), undefined);
});
