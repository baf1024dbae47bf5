import assert from 'node:assert/strict';
import test from 'node:test';
import { nowSecondTimestamp, secondTimestamp } from '../../../src/api/meta-time.js';
import { timestamp } from '../../../src/apiserver/objects.js';

test('secondTimestamp writes RFC 3339 to the second', () => {
  assert.equal(secondTimestamp(new Date(Date.UTC(2026, 11, 7, 8, 5, 9, 987))), '2026-12-07T08:05:09Z');
  assert.equal(timestamp(new Date(Date.UTC(1999, 0, 2, 3, 4, 5))), '1999-01-02T03:04:05Z');
});

test('nowSecondTimestamp is the current second, read anew on every call', () => {
  for (let i = 0; i < 2000; i++) {
    const before = secondTimestamp(new Date());
    const now = nowSecondTimestamp();
    const after = secondTimestamp(new Date());
    assert.ok(now === before || now === after, `${now} is neither ${before} nor ${after}`);
    assert.match(timestamp(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }
});

test('nowSecondTimestamp follows the clock into the next second', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 11, 7, 8, 5, 9, 999) });
  assert.equal(nowSecondTimestamp(), '2026-12-07T08:05:09Z');
  t.mock.timers.tick(1);
  assert.equal(nowSecondTimestamp(), '2026-12-07T08:05:10Z');
  t.mock.timers.tick(999);
  assert.equal(nowSecondTimestamp(), '2026-12-07T08:05:10Z');
  t.mock.timers.tick(1);
  assert.equal(timestamp(), '2026-12-07T08:05:11Z');
});
