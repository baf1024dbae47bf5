// The driver of the pod lifecycles: operations of one pod never overlap, a deletion during the
// set-up waits for it (and cancels it), and each pod's tear-down runs once; pods do not wait
// for each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PodLifecycles, type PodLifecycleHandlers } from '../../../src/agent/pod-lifecycle-driver.js';

interface Gate {
  promise: Promise<void>;
  open(): void;
}
function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

function recorder(setUpGates: Map<string, Gate>) {
  const log: string[] = [];
  const running = new Set<string>();
  const op = (uid: string, name: string, wait?: Promise<void>) => async () => {
    assert.ok(!running.has(uid), `${name} of ${uid} overlaps another operation`);
    running.add(uid);
    log.push(`${uid}:${name}:start`);
    await (wait ?? Promise.resolve());
    log.push(`${uid}:${name}:end`);
    running.delete(uid);
  };
  const handlers: PodLifecycleHandlers = {
    setUp: (uid) => op(uid, 'setUp', setUpGates.get(uid)?.promise)(),
    release: (uid) => op(uid, 'release')(),
    cancelSetUp: (uid) => void log.push(`${uid}:cancel`),
    tearDown: (uid, grace) => op(uid, `tearDown(${grace})`)(),
    confirmDeletion: async (uid) => void log.push(`${uid}:confirm`),
    forget: (uid) => void log.push(`${uid}:forget`),
    failed: (uid, action, err) => void log.push(`${uid}:${action} failed: ${err.message}`),
  };
  return { log, handlers };
}

test('a deletion during the set-up cancels it, waits for it to end, tears down once, confirms, forgets', async () => {
  const gates = new Map([['a', gate()]]);
  const { log, handlers } = recorder(gates);
  const d = new PodLifecycles(handlers);
  d.send('a', { type: 'sync' });
  d.send('a', { type: 'delete', graceSeconds: 30, confirm: true });
  d.send('a', { type: 'delete', graceSeconds: 0, confirm: false });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ['a:setUp:start', 'a:cancel'], 'the tear-down waits for the set-up');
  gates.get('a')!.open();
  await d.settled();
  assert.deepEqual(log, ['a:setUp:start', 'a:cancel', 'a:setUp:end', 'a:tearDown(0):start', 'a:tearDown(0):end', 'a:confirm', 'a:forget']);
  assert.equal(d.state('a'), undefined);
  assert.equal(d.size, 0);
});

test('events other than sync for a pod never seen do nothing', async () => {
  const { log, handlers } = recorder(new Map());
  const d = new PodLifecycles(handlers);
  d.send('x', { type: 'delete', graceSeconds: 0, confirm: false });
  d.send('x', { type: 'finished' });
  d.send('x', { type: 'operationDone' });
  await d.settled();
  assert.deepEqual(log, []);
});

test('pods are independent: one pod stuck in its set-up does not hold another one back', async () => {
  const gates = new Map([['slow', gate()]]);
  const { log, handlers } = recorder(gates);
  const d = new PodLifecycles(handlers);
  d.send('slow', { type: 'sync' });
  d.send('fast', { type: 'sync' });
  d.send('fast', { type: 'finished' });
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  d.send('fast', { type: 'delete', graceSeconds: 1, confirm: true });
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(log.filter((l) => l.startsWith('fast')), ['fast:setUp:start', 'fast:setUp:end', 'fast:release:start', 'fast:release:end', 'fast:tearDown(1):start', 'fast:tearDown(1):end', 'fast:confirm', 'fast:forget']);
  assert.deepEqual(log.filter((l) => l.startsWith('slow')), ['slow:setUp:start']);
  gates.get('slow')!.open();
  await d.settled();
});

test('an operation that throws is logged and the machine moves on', async () => {
  const { log, handlers } = recorder(new Map());
  const d = new PodLifecycles({ ...handlers, setUp: () => Promise.reject(new Error('CNI ADD failed')) });
  d.send('p', { type: 'sync' });
  d.send('p', { type: 'delete', graceSeconds: 0, confirm: true });
  await d.settled();
  assert.deepEqual(log, ['p:cancel', 'p:setUp failed: CNI ADD failed', 'p:tearDown(0):start', 'p:tearDown(0):end', 'p:confirm', 'p:forget']);
});
