import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProbeState, probeTiming } from '../../../src/agent/probe-state.js';
import { RestartBackoff, shouldRestart } from '../../../src/agent/backoff.js';

test('timing defaults are the kubelet defaults', () => {
  assert.deepEqual(probeTiming({}, 'readiness'), { initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, failureThreshold: 3, successThreshold: 1 });
  assert.equal(probeTiming({ successThreshold: 3 }, 'liveness').successThreshold, 1, 'liveness must use 1');
  assert.equal(probeTiming({ initialDelaySeconds: 5, periodSeconds: 2 }, 'startup').initialDelayMs, 5000);
});

test('readiness starts failed, needs successThreshold successes, and failureThreshold failures to flip back', () => {
  const p = new ProbeState('readiness', { successThreshold: 2, failureThreshold: 2 });
  assert.equal(p.result, false);
  assert.equal(p.record(true), 'unchanged');
  assert.equal(p.record(true), 'succeeded');
  assert.equal(p.record(false), 'unchanged');
  assert.equal(p.record(true), 'unchanged', 'a success resets the failure count');
  assert.equal(p.record(false), 'unchanged');
  assert.equal(p.record(false), 'failed');
  assert.equal(p.result, false);
  assert.equal(p.record(false), 'unchanged', 'already failed');
});

test('liveness starts succeeded and reports failure every failureThreshold failures', () => {
  const p = new ProbeState('liveness', { failureThreshold: 2 });
  assert.equal(p.result, true);
  assert.equal(p.record(false), 'unchanged');
  assert.equal(p.record(false), 'failed');
  assert.equal(p.record(false), 'unchanged');
  assert.equal(p.record(false), 'failed');
  p.reset();
  assert.equal(p.result, true);
});

test('restart back-off: immediate, then 10s doubling to 5 minutes; reset after a long run', () => {
  const b = new RestartBackoff();
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map(() => b.next(100)), [0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  assert.equal(b.next(11 * 60_000), 0);
  assert.equal(b.next(100), 10_000);
});

test('restartPolicy decides restarts', () => {
  assert.equal(shouldRestart('Always', 0), true);
  assert.equal(shouldRestart('OnFailure', 0), false);
  assert.equal(shouldRestart('OnFailure', 1), true);
  assert.equal(shouldRestart('Never', 1), false);
});
