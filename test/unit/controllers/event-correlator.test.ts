// client-go's EventCorrelator as flatnet's recorders apply it (event-correlator.ts): repeats
// counted on the first Event by a patch, similar events combined past 10 messages in 10 minutes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/api/types.js';
import { COMBINED_PREFIX, EventCorrelator, eventKey } from '../../../src/controllers/event-correlator.js';

let seq = 0;
const event = (message: string, over: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: `p.${(++seq).toString(16)}`, namespace: 'default' },
  involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'p', uid: 'u1' },
  reason: 'FailedCreatePodSandBox',
  message,
  type: 'Warning',
  source: { component: 'kubelet', host: 'n1' },
  firstTimestamp: `2026-01-01T00:00:0${seq % 10}Z`,
  lastTimestamp: `2026-01-01T00:00:0${seq % 10}Z`,
  count: 1,
  reportingComponent: 'kubelet',
  reportingInstance: 'n1',
  ...over,
});

/** One event through the correlator as a recorder sends it, the server answering with what was written. */
function send(c: EventCorrelator, ev: KubeObject) {
  const { event: toSend, key } = c.aggregate(ev);
  const out = c.observe(toSend, key);
  c.update(key, out.event);
  return out;
}

test('the same event again patches the first: its name and firstTimestamp, count+1, the new lastTimestamp', () => {
  const c = new EventCorrelator(() => 0);
  const first = event('boom');
  assert.equal(send(c, first).patch, undefined);
  const again = event('boom');
  const second = send(c, again);
  assert.deepEqual(second.patch, { count: 2, lastTimestamp: again.lastTimestamp, message: 'boom' });
  assert.equal(second.event.metadata.name, first.metadata.name);
  assert.equal((second.event as unknown as { firstTimestamp: string }).firstTimestamp, (first as unknown as { firstTimestamp: string }).firstTimestamp);
  assert.equal(send(c, event('boom')).patch?.count, 3);
});

test('a different message, reason, type, object or source is a different event', () => {
  const c = new EventCorrelator(() => 0);
  send(c, event('boom'));
  for (const other of [
    event('bang'),
    event('boom', { reason: 'Failed' }),
    event('boom', { type: 'Normal' }),
    event('boom', { involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'p', uid: 'u2' } }),
    event('boom', { source: { component: 'kubelet', host: 'n2' } }),
  ]) {
    assert.equal(send(c, other).patch, undefined, JSON.stringify(other));
  }
  assert.notEqual(eventKey(event('a')), eventKey(event('b')));
  assert.equal(eventKey(event('a')), eventKey(event('a')));
});

test('the count goes on from what the server answered', () => {
  const c = new EventCorrelator(() => 0);
  const { event: ev, key } = c.aggregate(event('boom'));
  c.observe(ev, key);
  c.update(key, { ...ev, count: 7 } as KubeObject);
  assert.equal(send(c, event('boom')).patch?.count, 8);
});

test('10 similar events differing in message within 10 minutes: from then on one combined event counts them', () => {
  let now = 1_000_000;
  const c = new EventCorrelator(() => now);
  for (let i = 1; i <= 9; i++) {
    const out = send(c, event(`failed attempt ${i}`));
    assert.equal(out.patch, undefined);
    assert.equal((out.event as unknown as { message: string }).message, `failed attempt ${i}`);
  }
  const tenth = send(c, event('failed attempt 10'));
  assert.equal((tenth.event as unknown as { message: string }).message, `${COMBINED_PREFIX}failed attempt 10`);
  assert.equal(tenth.patch, undefined, 'the combined event is written once');
  const eleventh = send(c, event('failed attempt 11'));
  assert.deepEqual(eleventh.patch?.count, 2);
  assert.equal(eleventh.patch?.message, `${COMBINED_PREFIX}failed attempt 11`);
  assert.equal(eleventh.event.metadata.name, tenth.event.metadata.name);
  // Quiet for more than 10 minutes: a new message is itself again.
  now += 600_001;
  const later = send(c, event('failed attempt 12'));
  assert.equal((later.event as unknown as { message: string }).message, 'failed attempt 12');
});

test('the caches are bounded (4096 entries, least recently used go)', () => {
  const c = new EventCorrelator(() => 0);
  for (let i = 0; i < 5000; i++) send(c, event('x', { involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: `p${i}`, uid: `u${i}` } }));
  assert.deepEqual(c.sizes, { similar: 4096, seen: 4096, buckets: 0 });
  for (let i = 0; i < 5000; i++) c.allow(event('x', { involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: `p${i}`, uid: `u${i}` } }));
  assert.equal(c.sizes.buckets, 4096);
});

test('a source may report a burst of 25 events about one object, then one per 5 minutes; other objects and sources are not held back', () => {
  let now = 0;
  const c = new EventCorrelator(() => now);
  const allowed = (ev: KubeObject) => c.allow(c.aggregate(ev).event);
  for (let i = 1; i <= 25; i++) assert.equal(allowed(event(`attempt ${i}`)), true, `event ${i} of the burst`);
  assert.equal(allowed(event('attempt 26')), false, 'beyond the burst');
  assert.equal(allowed(event('attempt 26', { reason: 'Other', type: 'Normal' })), false, 'the bucket is per source and object, whatever the reason');
  assert.equal(allowed(event('x', { involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'q', uid: 'u9' } })), true, 'another object');
  assert.equal(allowed(event('x', { source: { component: 'kubelet', host: 'n2' } })), true, 'another source');
  now += 299_000;
  assert.equal(allowed(event('attempt 27')), false, 'not a whole token after 299 s');
  now += 1_000;
  assert.equal(allowed(event('attempt 27')), true, 'one token after 300 s');
  assert.equal(allowed(event('attempt 28')), false);
  now += 300_000 * 100;
  for (let i = 0; i < 25; i++) assert.equal(allowed(event(`later ${i}`)), true, 'the bucket refills up to the burst');
  assert.equal(allowed(event('later 25')), false, 'and no further');
});
