import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_TIMING,
  checkTiming,
  decideAttempt,
  leaseObject,
  leaseRecordOf,
  microTime,
  mustStepDown,
  observe,
  releasedRecord,
  type LeaseRecord,
} from '../../../src/controllers/leader-election-plan.js';

const T0 = Date.parse('2026-12-06T10:00:00.000Z');
const held = (holder: string, transitions = 0): LeaseRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTime: microTime(T0 - 60_000),
  renewTime: microTime(T0),
  leaseTransitions: transitions,
});

test('upstream defaults: 15 s lease, 10 s renew deadline, 2 s retry; bad timings are refused naming the field', () => {
  assert.deepEqual(DEFAULT_TIMING, { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
  checkTiming(DEFAULT_TIMING);
  assert.throws(() => checkTiming({ ...DEFAULT_TIMING, renewDeadlineMs: 15_000 }), /leaseDuration must be greater than renewDeadline/);
  assert.throws(() => checkTiming({ ...DEFAULT_TIMING, retryPeriodMs: 9_000 }), /renewDeadline must be greater than retryPeriod\*1.2/);
  assert.throws(() => checkTiming({ ...DEFAULT_TIMING, retryPeriodMs: 0 }), /retryPeriodMs must be a positive/);
});

test('MicroTime has microseconds and Z, as the Lease API writes it', () => {
  assert.equal(microTime(Date.parse('2026-12-06T10:00:00.123Z')), '2026-12-06T10:00:00.123000Z');
});

test('no lease: create it holding it, with no transition yet', () => {
  const a = decideAttempt('me', undefined, T0, DEFAULT_TIMING);
  assert.deepEqual(a, {
    action: 'create',
    record: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: microTime(T0), renewTime: microTime(T0), leaseTransitions: 0 },
  });
});

test('the holder renews: acquireTime and transitions stay, renewTime moves', () => {
  const seen = observe(undefined, held('me', 3), '7', T0);
  const a = decideAttempt('me', seen, T0 + 2000, DEFAULT_TIMING);
  assert.equal(a.action, 'update');
  assert.ok(a.action === 'update' && !a.takeover);
  if (a.action !== 'update') return;
  assert.equal(a.record.acquireTime, held('me').acquireTime);
  assert.equal(a.record.renewTime, microTime(T0 + 2000));
  assert.equal(a.record.leaseTransitions, 3);
});

test('a lease held by another waits a whole lease duration after it last changed, on the local clock', () => {
  const first = observe(undefined, held('other'), '7', T0);
  const a = decideAttempt('me', first, T0 + 14_999, DEFAULT_TIMING);
  assert.deepEqual(a, { action: 'wait', holder: 'other', validForMs: 1 });
  // Seeing the same record again keeps the first observation time: it expires.
  const again = observe(first, held('other'), '7', T0 + 15_000);
  assert.equal(again.observedAt, T0);
  const b = decideAttempt('me', again, T0 + 15_000, DEFAULT_TIMING);
  assert.equal(b.action, 'update');
  if (b.action !== 'update') return;
  assert.equal(b.takeover, true);
  assert.equal(b.record.holderIdentity, 'me');
  assert.equal(b.record.acquireTime, microTime(T0 + 15_000));
  assert.equal(b.record.leaseTransitions, 1);
});

test('a renew by the holder restarts the wait, whatever the holder\'s clock says', () => {
  const first = observe(undefined, held('other'), '7', T0);
  // The holder's clock is an hour behind: only the change counts.
  const renewed = observe(first, { ...held('other'), renewTime: microTime(T0 - 3_600_000) }, '8', T0 + 10_000);
  assert.equal(renewed.observedAt, T0 + 10_000);
  assert.equal(decideAttempt('me', renewed, T0 + 20_000, DEFAULT_TIMING).action, 'wait');
  assert.equal(decideAttempt('me', renewed, T0 + 25_000, DEFAULT_TIMING).action, 'update');
});

test('the holder\'s leaseDurationSeconds is what others wait', () => {
  const seen = observe(undefined, { ...held('other'), leaseDurationSeconds: 60 }, '7', T0);
  assert.equal(decideAttempt('me', seen, T0 + 30_000, DEFAULT_TIMING).action, 'wait');
});

test('a released lease (no holder) is taken at once and counts a transition', () => {
  const released = releasedRecord(held('other', 4), T0);
  assert.equal(released.holderIdentity, undefined);
  assert.equal(released.leaseDurationSeconds, 1);
  assert.equal(released.leaseTransitions, 4);
  const a = decideAttempt('me', observe(undefined, released, '9', T0), T0, DEFAULT_TIMING);
  assert.equal(a.action, 'update');
  if (a.action === 'update') assert.equal(a.record.leaseTransitions, 5);
});

test('the holder steps down when its last successful renew is renewDeadline old', () => {
  assert.equal(mustStepDown(T0, T0 + 9_999, DEFAULT_TIMING), false);
  assert.equal(mustStepDown(T0, T0 + 10_000, DEFAULT_TIMING), true);
  // It has stopped before any other candidate may take over (renewDeadline < leaseDuration).
  assert.ok(DEFAULT_TIMING.renewDeadlineMs < DEFAULT_TIMING.leaseDurationMs);
});

test('lease objects: a new one in kube-system named kube-controller-manager; an existing one keeps its metadata', () => {
  const fresh = leaseObject(undefined, held('me'));
  assert.equal(fresh.apiVersion, 'coordination.k8s.io/v1');
  assert.deepEqual(fresh.metadata, { namespace: 'kube-system', name: 'kube-controller-manager' });
  const stored = { ...fresh, metadata: { ...fresh.metadata, resourceVersion: '42', uid: 'u' } };
  const next = leaseObject(stored, releasedRecord(leaseRecordOf(stored), T0));
  assert.equal(next.metadata.resourceVersion, '42');
  assert.equal((next.spec as Record<string, unknown>).holderIdentity, undefined);
  assert.deepEqual(leaseRecordOf(stored), held('me'));
});
