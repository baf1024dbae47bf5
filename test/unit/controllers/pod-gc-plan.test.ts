import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingNodes, orphanedPodStatus, quarantineOver } from '../../../src/controllers/pod-gc-plan.js';
import type { Pod } from '../../../src/controllers/types.js';

const pod = (name: string, nodeName?: string, phase?: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { ...(nodeName ? { nodeName } : {}) }, ...(phase ? { status: { phase } } : {}) });

test('missing nodes: only nodes pods are bound to that do not exist; first-missing times carried over; nodes back are dropped', () => {
  const pods = [pod('a', 'gone'), pod('b', 'gone'), pod('c', 'here'), pod('d'), pod('e', 'back')];
  const exists = (n: string) => n === 'here' || n === 'back';
  const m = missingNodes(pods, exists, new Map([['gone', 1000], ['back', 500]]), 5000);
  assert.deepEqual([...m], [['gone', 1000]]);
  assert.deepEqual([...missingNodes([pod('x', 'new')], () => false, m, 7000)], [['new', 7000]]);
});

test('quarantine: a node is collected only after missing for the whole quarantine (40 s by default)', () => {
  const m = new Map([['old', 0], ['recent', 30_000]]);
  assert.deepEqual(quarantineOver(m, 40_000), ['old']);
  assert.deepEqual(quarantineOver(m, 39_999), []);
  assert.deepEqual(quarantineOver(m, 70_000), ['old', 'recent']);
  assert.deepEqual(quarantineOver(m, 1_000, 1_000), ['old']);
});

test('status before the delete: Failed (a finished phase is kept) with one DisruptionTarget condition, reason DeletionByPodGC', () => {
  const running: Pod = { ...pod('a', 'gone', 'Running'), status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }, { type: 'DisruptionTarget', status: 'False' }] } };
  const s = orphanedPodStatus(running, '2026-12-07T08:00:00Z');
  assert.equal(s.phase, 'Failed');
  assert.deepEqual(s.conditions, [
    { type: 'Ready', status: 'True' },
    { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists', lastTransitionTime: '2026-12-07T08:00:00Z' },
  ]);
  assert.equal(orphanedPodStatus(pod('b', 'gone', 'Succeeded'), 'x').phase, 'Succeeded');
  assert.equal(orphanedPodStatus(pod('c', 'gone'), 'x').phase, 'Failed');
});
