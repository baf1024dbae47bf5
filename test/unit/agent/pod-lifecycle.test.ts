// The pod lifecycle state machine: every event in every reachable state, the named scenarios
// (a deletion during the set-up, a finished pod, a second deletion), and seeded random event
// sequences checked against the invariants: one operation at a time, one tear-down, nothing after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialLifecycleState, transition, type PodLifecycleAction, type PodLifecycleEvent, type PodLifecycleState } from '../../../src/agent/pod-lifecycle.js';
import { prng as rng } from '../../support/prng.js';

const EVENTS: PodLifecycleEvent[] = [
  { type: 'sync' },
  { type: 'finished' },
  { type: 'delete', graceSeconds: 30, confirm: true },
  { type: 'delete', graceSeconds: 0, confirm: false },
  { type: 'operationDone' },
];

const key = (s: PodLifecycleState) => JSON.stringify(s);
const types = (actions: readonly PodLifecycleAction[]) => actions.map((a) => a.type);
const OPERATIONS = new Set(['setUp', 'release', 'tearDown']);

/** Every state reachable from the initial one. */
function reachableStates(): PodLifecycleState[] {
  const seen = new Map<string, PodLifecycleState>();
  const queue = [initialLifecycleState()];
  while (queue.length > 0) {
    const s = queue.pop()!;
    if (seen.has(key(s))) continue;
    seen.set(key(s), s);
    for (const e of EVENTS) queue.push(transition(s, e).state);
  }
  return [...seen.values()];
}

function run(events: PodLifecycleEvent[], from = initialLifecycleState()): { state: PodLifecycleState; actions: string[] } {
  let state = from;
  const actions: string[] = [];
  for (const e of events) {
    const r = transition(state, e);
    state = r.state;
    actions.push(...types(r.actions));
  }
  return { state, actions };
}

test('the reachable states are few and each is consistent', () => {
  const states = reachableStates();
  assert.ok(states.length > 5 && states.length < 60, `${states.length} states`);
  for (const s of states) {
    if (s.phase === 'syncing') assert.notEqual(s.busy, 'tearDown', key(s));
    if (s.phase === 'terminated') assert.equal(s.busy, 'none', key(s));
    if (s.busy === 'setUp' || s.busy === 'release') assert.ok(s.setUpStarted, key(s));
    if (s.busy === 'release') assert.ok(s.released, key(s));
  }
});

test('every event in every state: at most one operation in flight, and nothing after the tear-down', () => {
  for (const s of reachableStates()) {
    for (const e of EVENTS) {
      const { state, actions } = transition(s, e);
      const ops = actions.filter((a) => OPERATIONS.has(a.type));
      const where = `${key(s)} + ${JSON.stringify(e)} -> ${JSON.stringify(actions)}`;
      assert.ok(ops.length <= 1, where);
      // A new operation starts only when none runs, or as the one that ran returns.
      if (ops.length === 1) assert.ok(s.busy === 'none' || e.type === 'operationDone', where);
      if (ops.length === 1) assert.equal(state.busy, ops[0].type, where);
      // An operation that runs is never forgotten about.
      if (s.busy !== 'none' && e.type !== 'operationDone') assert.equal(state.busy, s.busy, where);
      // Once terminating, no set-up or release starts; once terminated, nothing at all.
      if (s.phase !== 'syncing') assert.ok(!actions.some((a) => a.type === 'setUp' || a.type === 'release'), where);
      if (s.phase === 'terminated') assert.deepEqual(actions, [], where);
      if (s.phase === 'terminated') assert.deepEqual(state, s, where);
      // Phases only move forward.
      const order = { syncing: 0, terminating: 1, terminated: 2 };
      assert.ok(order[state.phase] >= order[s.phase], where);
      // A deletion always leaves syncing.
      if (e.type === 'delete') assert.notEqual(state.phase, 'syncing', where);
      // The set-up is told to stop when a deletion arrives during it.
      if (e.type === 'delete' && s.phase === 'syncing' && s.busy === 'setUp') assert.deepEqual(types(actions), ['cancelSetUp'], where);
      // forget only with the move to terminated, and confirmDeletion only before forget.
      if (actions.some((a) => a.type === 'forget')) assert.equal(state.phase, 'terminated', where);
      if (state.phase === 'terminated' && s.phase !== 'terminated') assert.deepEqual(types(actions).slice(-1), ['forget'], where);
      // An operationDone with nothing in flight changes nothing.
      if (e.type === 'operationDone' && s.busy === 'none') assert.deepEqual({ state, actions }, { state: s, actions: [] }, where);
    }
  }
});

test('a pod first synced sets up once; later syncs do nothing', () => {
  assert.deepEqual(run([{ type: 'sync' }]).actions, ['setUp']);
  assert.deepEqual(run([{ type: 'sync' }, { type: 'sync' }, { type: 'operationDone' }, { type: 'sync' }]).actions, ['setUp']);
});

test('a deletion during the set-up cancels it, waits for it to return, then tears down once and confirms', () => {
  const during = run([{ type: 'sync' }, { type: 'delete', graceSeconds: 30, confirm: true }]);
  assert.deepEqual(during.actions, ['setUp', 'cancelSetUp']);
  assert.equal(during.state.phase, 'terminating');
  assert.equal(during.state.busy, 'setUp');
  const r1 = transition(during.state, { type: 'operationDone' });
  assert.deepEqual(r1.actions, [{ type: 'tearDown', graceSeconds: 30 }]);
  const r2 = transition(r1.state, { type: 'operationDone' });
  assert.deepEqual(types(r2.actions), ['confirmDeletion', 'forget']);
  assert.equal(r2.state.phase, 'terminated');
});

test('a deletion of an idle pod tears down at once, with its grace period', () => {
  const r = run([{ type: 'sync' }, { type: 'operationDone' }]);
  const d = transition(r.state, { type: 'delete', graceSeconds: 5, confirm: true });
  assert.deepEqual(d.actions, [{ type: 'tearDown', graceSeconds: 5 }]);
});

test('a deletion before any set-up still tears down (a record of an earlier run may exist)', () => {
  const r = run([{ type: 'delete', graceSeconds: 0, confirm: false }, { type: 'operationDone' }]);
  assert.deepEqual(r.actions, ['tearDown', 'forget']);
});

test('a second deletion while waiting shortens the grace; while tearing down it changes nothing but the confirmation', () => {
  const waiting = run([{ type: 'sync' }, { type: 'delete', graceSeconds: 30, confirm: true }, { type: 'delete', graceSeconds: 0, confirm: false }]);
  assert.equal(waiting.state.graceSeconds, 0);
  assert.equal(waiting.state.confirmDeletion, true);
  assert.deepEqual(transition(waiting.state, { type: 'operationDone' }).actions, [{ type: 'tearDown', graceSeconds: 0 }]);
  const tearing = run([{ type: 'sync' }, { type: 'operationDone' }, { type: 'delete', graceSeconds: 0, confirm: false }, { type: 'delete', graceSeconds: 30, confirm: true }]);
  assert.deepEqual(tearing.actions, ['setUp', 'tearDown']);
  assert.equal(tearing.state.confirmDeletion, true);
  assert.deepEqual(types(transition(tearing.state, { type: 'operationDone' }).actions), ['confirmDeletion', 'forget']);
});

test('a finished pod releases its sandbox once, after the set-up returned, and the tear-down follows a release in flight', () => {
  const early = run([{ type: 'sync' }, { type: 'finished' }]);
  assert.deepEqual(early.actions, ['setUp']);
  const released = transition(early.state, { type: 'operationDone' });
  assert.deepEqual(types(released.actions), ['release']);
  assert.deepEqual(run([{ type: 'finished' }, { type: 'operationDone' }, { type: 'finished' }], released.state).actions, []);
  const deleted = run([{ type: 'delete', graceSeconds: 30, confirm: true }], released.state);
  assert.deepEqual(deleted.actions, []);
  assert.deepEqual(types(transition(deleted.state, { type: 'operationDone' }).actions), ['tearDown']);
  assert.deepEqual(run([{ type: 'finished' }]).actions, [], 'nothing to release before a set-up');
});

test('random event sequences (seeded): operations never overlap, the tear-down runs once and comes last', (t) => {
  const seed = Number(process.env.LIFECYCLE_SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`LIFECYCLE_SEED=${seed}`);
  const random = rng(seed);
  for (let i = 0; i < 2000; i++) {
    let state = initialLifecycleState();
    let inFlight: string | undefined;
    const log: string[] = [];
    let tearDowns = 0;
    let confirmedOrForgotten = 0;
    for (let n = 0; n < 12; n++) {
      // The driver sends operationDone only when an operation runs.
      const candidates = EVENTS.filter((e) => e.type !== 'operationDone' || inFlight);
      const e = candidates[Math.floor(random() * candidates.length)];
      const r = transition(state, e);
      log.push(`${JSON.stringify(e)} -> ${JSON.stringify(r.actions)}`);
      if (e.type === 'operationDone') inFlight = undefined;
      for (const a of r.actions) {
        if (OPERATIONS.has(a.type)) {
          assert.equal(inFlight, undefined, `seed ${seed}: overlapping operations\n${log.join('\n')}`);
          assert.equal(confirmedOrForgotten, 0, `seed ${seed}: an operation after forget\n${log.join('\n')}`);
          inFlight = a.type;
        }
        if (a.type === 'tearDown') tearDowns++;
        if (a.type === 'forget') confirmedOrForgotten++;
      }
      state = r.state;
    }
    assert.ok(tearDowns <= 1, `seed ${seed}: ${tearDowns} tear-downs\n${log.join('\n')}`);
    if (state.phase === 'terminated') assert.equal(tearDowns, 1, `seed ${seed}\n${log.join('\n')}`);
  }
});
