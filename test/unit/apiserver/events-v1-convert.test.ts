import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coreFieldSelector, fromEventsV1, toEventsV1, validateEventsV1Create, validateEventsV1Update } from '../../../src/apiserver/events-v1-convert.js';
import type { KubeObject } from '../../../src/api/types.js';

const core = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web.1', namespace: 'default' },
  involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
  reason: 'Scheduled',
  message: 'assigned',
  source: { component: 'default-scheduler' },
  firstTimestamp: '2026-12-06T12:00:00Z',
  lastTimestamp: '2026-12-06T12:00:05Z',
  count: 2,
  type: 'Normal',
  reportingComponent: 'default-scheduler',
  reportingInstance: 'default-scheduler-host',
} as unknown as KubeObject;

test('core -> events.k8s.io/v1 maps every field as upstream', () => {
  assert.deepEqual(toEventsV1(core), {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'web.1', namespace: 'default' },
    eventTime: null,
    reason: 'Scheduled',
    type: 'Normal',
    reportingInstance: 'default-scheduler-host',
    note: 'assigned',
    regarding: { kind: 'Pod', name: 'web', namespace: 'default' },
    reportingController: 'default-scheduler',
    deprecatedSource: { component: 'default-scheduler' },
    deprecatedFirstTimestamp: '2026-12-06T12:00:00Z',
    deprecatedLastTimestamp: '2026-12-06T12:00:05Z',
    deprecatedCount: 2,
  });
});

test('the round trip keeps the stored Event', () => {
  assert.deepEqual(fromEventsV1(toEventsV1(core)), core);
});

const v1 = (o: Record<string, unknown> = {}): KubeObject =>
  ({
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'e', namespace: 'team' },
    eventTime: '2026-12-06T12:00:00.000000Z',
    reportingController: 'example.com/ctl',
    reportingInstance: 'ctl-1',
    action: 'Scale',
    reason: 'Scaled',
    type: 'Normal',
    note: 'ok',
    regarding: { kind: 'Deployment', name: 'web', namespace: 'team' },
    ...o,
  }) as unknown as KubeObject;

test('events.k8s.io/v1 creates need eventTime, reporting fields, action, reason and no deprecated fields', () => {
  assert.deepEqual(validateEventsV1Create(v1()), []);
  const errs = validateEventsV1Create(v1({ reportingController: '', action: undefined, type: 'Odd', deprecatedCount: 3, series: { count: 1 } }));
  assert.equal(`${errs[0].field}: ${errs[0].message}`, 'reportingController: Required value');
  // the empty name also fails the qualified-name rules
  assert.deepEqual([...new Set(errs.map((e) => e.field))], ['reportingController', 'action', 'series.count', 'series.lastObservedTime', 'type', 'deprecatedCount']);
  assert.deepEqual(
    validateEventsV1Create(v1({ eventTime: undefined })).map((e) => e.field),
    ['eventTime'],
  );
});

test('events.k8s.io/v1 updates may change series, not the note', () => {
  const old = v1();
  assert.deepEqual(validateEventsV1Update(v1({ series: { count: 2, lastObservedTime: '2026-12-06T12:01:00.000000Z' } }), old), []);
  assert.deepEqual(validateEventsV1Update(v1({ note: 'changed' }), old).map((e) => `${e.field}: ${e.message}`), ['message: Invalid value: "changed": field is immutable']);
});

test('updates compare times as instants and objects by value, as upstream semantic equality does', () => {
  const old = v1();
  // The Python client writes back the eventTime it read as an offset time without a fraction,
  // and the regarding reference with its keys in another order.
  const rewritten = v1({ eventTime: '2026-12-06T12:00:00+00:00', regarding: { name: 'web', namespace: 'team', kind: 'Deployment', uid: '' } });
  assert.deepEqual(validateEventsV1Update(rewritten, old), []);
  assert.deepEqual(validateEventsV1Update(v1({ eventTime: '2026-12-06T13:00:00+01:00' }), old), []);
  // Another instant, even one microsecond later, is still a change.
  assert.deepEqual(
    validateEventsV1Update(v1({ eventTime: '2026-12-06T12:00:00.000001Z' }), old).map((e) => `${e.field}: ${e.message}`),
    ['eventTime: Invalid value: "2026-12-06T12:00:00.000001Z": field is immutable'],
  );
  assert.deepEqual(validateEventsV1Update(v1({ regarding: { kind: 'Deployment', name: 'other', namespace: 'team' } }), old).map((e) => e.field), ['involvedObject']);
  // Time fields keep seconds: a fraction of a second is below their precision.
  const withTimes = v1({ deprecatedFirstTimestamp: '2026-12-06T12:00:00Z' });
  assert.deepEqual(validateEventsV1Update(v1({ deprecatedFirstTimestamp: '2026-12-06T14:00:00+02:00' }), withTimes), []);
  assert.deepEqual(validateEventsV1Update(v1({ deprecatedFirstTimestamp: '2026-12-06T12:00:01Z' }), withTimes).map((e) => e.field), ['firstTimestamp']);
});

test('stored Events carry their times as Go writes them: UTC, MicroTime with six fraction digits', () => {
  const stored = fromEventsV1(v1({ eventTime: '2026-12-06T13:00:00.5+01:00', series: { count: 2, lastObservedTime: '2026-12-06T12:01:00Z' } })) as unknown as Record<string, unknown>;
  assert.equal(stored.eventTime, '2026-12-06T12:00:00.500000Z');
  assert.deepEqual(stored.series, { count: 2, lastObservedTime: '2026-12-06T12:01:00.000000Z' });
  const legacy = fromEventsV1(v1({ deprecatedLastTimestamp: '2026-12-06T12:00:05.9-00:30' })) as unknown as Record<string, unknown>;
  assert.equal(legacy.lastTimestamp, '2026-12-06T12:30:05Z');
  assert.equal((fromEventsV1(v1({ eventTime: 'not a time' })) as unknown as Record<string, unknown>).eventTime, 'not a time');
});

test('field selectors are translated to the stored names', () => {
  assert.equal(coreFieldSelector('regarding.name=web,reportingController=x,type=Normal'), 'involvedObject.name=web,reportingComponent=x,type=Normal');
});
