import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CronParseError, isTimeZone, mostRecentSchedule, nextAfter, parseSchedule } from '../../../src/api/cron-schedule.js';

const at = (s: string) => Date.parse(s);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString().replace('.000Z', 'Z'));
const next = (spec: string, after: string, tz?: string) => iso(nextAfter(parseSchedule(spec), at(after), tz));

test('fields: lists, ranges, steps and names', () => {
  const s = parseSchedule('0,30 9-17/4 * JAN-mar mon-FRI');
  assert.equal(s.kind, 'fields');
  if (s.kind !== 'fields') return;
  assert.deepEqual([...s.minutes], [0, 30]);
  assert.deepEqual([...s.hours], [9, 13, 17]);
  assert.deepEqual([...s.months], [1, 2, 3]);
  assert.deepEqual([...s.daysOfWeek], [1, 2, 3, 4, 5]);
  assert.equal(s.domStar, true);
  assert.equal(s.dowStar, false);
  // `n/step` runs from n to the maximum; `*/1` keeps the star, `*/2` does not.
  const t = parseSchedule('5/20 */1 */2 * *');
  if (t.kind !== 'fields') return;
  assert.deepEqual([...t.minutes], [5, 25, 45]);
  assert.equal(t.domStar, false);
});

test('next activation after an instant', () => {
  assert.equal(next('*/1 * * * *', '2026-12-06T10:00:00Z'), '2026-12-06T10:01:00Z');
  assert.equal(next('*/1 * * * *', '2026-12-06T10:00:30Z'), '2026-12-06T10:01:00Z');
  assert.equal(next('*/15 * * * *', '2026-12-06T10:50:00Z'), '2026-12-06T11:00:00Z');
  assert.equal(next('@hourly', '2026-12-06T10:00:00Z'), '2026-12-06T11:00:00Z');
  assert.equal(next('@daily', '2026-12-31T23:59:00Z'), '2027-01-01T00:00:00Z');
  assert.equal(next('@weekly', '2026-12-06T10:00:00Z'), '2026-12-13T00:00:00Z'); // 2026-12-06 is a Sunday
  assert.equal(next('@monthly', '2026-12-06T10:00:00Z'), '2027-01-01T00:00:00Z');
  assert.equal(next('@yearly', '2026-12-06T10:00:00Z'), '2027-01-01T00:00:00Z');
  assert.equal(next('0 0 29 2 *', '2026-12-06T10:00:00Z'), '2028-02-29T00:00:00Z');
  assert.equal(next('0 0 30 2 *', '2026-12-06T10:00:00Z'), undefined);
  assert.equal(next('@every 90s', '2026-12-06T10:00:00Z'), '2026-12-06T10:01:30Z');
});

test('day of month and day of week: OR when both are restricted, AND when one is *', () => {
  // The 13th or any Friday: from Monday 2026-12-07 the first is Friday 12-11.
  assert.equal(next('0 12 13 * 5', '2026-12-07T00:00:00Z'), '2026-12-11T12:00:00Z');
  assert.equal(next('0 12 13 * 5', '2026-12-11T12:00:00Z'), '2026-12-13T12:00:00Z');
  // Any day of month, Fridays only.
  assert.equal(next('0 12 * * 5', '2026-12-11T12:00:00Z'), '2026-12-18T12:00:00Z');
});

test('time zones, including the wall-clock times a daylight saving change skips', () => {
  assert.equal(next('0 9 * * *', '2026-12-06T00:00:00Z', 'Europe/Berlin'), '2026-12-06T08:00:00Z');
  assert.equal(next('0 9 * * *', '2026-07-06T00:00:00Z', 'Europe/Berlin'), '2026-07-06T07:00:00Z');
  assert.equal(next('30 9 * * *', '2026-12-06T00:00:00Z', 'Asia/Kolkata'), '2026-12-06T04:00:00Z');
  // 2026-03-29 02:30 does not exist in Berlin: the next one is the day after.
  assert.equal(next('30 2 * * *', '2026-03-28T12:00:00Z', 'Europe/Berlin'), '2026-03-30T00:30:00Z');
  assert.equal(isTimeZone('America/New_York'), true);
  assert.equal(isTimeZone('Mars/Olympus'), false);
  assert.equal(isTimeZone('Local'), false);
});

test('errors are worded as robfig/cron words them', () => {
  const cases: [string, string][] = [
    ['', 'empty spec string'],
    ['* * *', 'expected exactly 5 fields, found 3: [* * *]'],
    ['61 * * * *', 'end of range (61) above maximum (59): 61'],
    ['* * 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['5-2 * * * *', 'beginning of range (5) beyond end of range (2): 5-2'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['x * * * *', 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ['1/2/3 * * * *', 'too many slashes: 1/2/3'],
    ['@fortnightly', 'unrecognized descriptor: @fortnightly'],
    ['* * * * 7', 'end of range (7) above maximum (6): 7'],
  ];
  for (const [spec, message] of cases) assert.throws(() => parseSchedule(spec), (e: unknown) => e instanceof CronParseError && e.message === message, spec);
});

test('the most recent of the missed activations, and how many were missed', () => {
  const s = parseSchedule('*/5 * * * *');
  assert.deepEqual(mostRecentSchedule(s, at('2026-12-06T10:00:00Z'), at('2026-12-06T10:17:00Z')), { at: at('2026-12-06T10:15:00Z'), missed: 3 });
  assert.equal(mostRecentSchedule(s, at('2026-12-06T10:00:00Z'), at('2026-12-06T10:04:59Z')), undefined);
  const many = mostRecentSchedule(parseSchedule('* * * * *'), at('2026-12-01T00:00:00Z'), at('2026-12-06T10:17:30Z'))!;
  assert.equal(many.at, at('2026-12-06T10:17:00Z'));
  assert.ok(many.missed > 100);
});
