// The max-in-flight limits' pure logic: which requests count against which limit (upstream's
// read-only verbs and long-running check), slots taken and given back, system:masters served when
// full, 0 as no limit, the flag values, and the peak the gauge reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MaxInFlight, parseInflightLimit, requestKind } from '../../../src/apiserver/max-inflight.js';

test('get, list and watch are read-only; every other verb is mutating', () => {
  for (const verb of ['get', 'list']) assert.equal(requestKind({ resourceRequest: true, verb }), 'readOnly', verb);
  for (const verb of ['create', 'update', 'patch', 'delete', 'deletecollection', 'options']) assert.equal(requestKind({ resourceRequest: true, verb }), 'mutating', verb);
  assert.equal(requestKind({ resourceRequest: true, verb: 'get', subresource: 'status' }), 'readOnly');
  assert.equal(requestKind({ resourceRequest: true, verb: 'create', subresource: 'eviction' }), 'mutating');
  // Non-resource paths carry the lowercased method: HEAD is not one of the read-only verbs upstream.
  assert.equal(requestKind({ resourceRequest: false, verb: 'get' }), 'readOnly');
  assert.equal(requestKind({ resourceRequest: false, verb: 'head' }), 'mutating');
  assert.equal(requestKind({ resourceRequest: false, verb: 'post' }), 'mutating');
});

test('watches, proxy and the streaming subresources are long-running and never counted', () => {
  assert.equal(requestKind({ resourceRequest: true, verb: 'watch' }), undefined);
  assert.equal(requestKind({ resourceRequest: true, verb: 'proxy' }), undefined);
  for (const subresource of ['exec', 'attach', 'portforward', 'proxy', 'log']) {
    assert.equal(requestKind({ resourceRequest: true, verb: 'get', subresource }), undefined, subresource);
    assert.equal(requestKind({ resourceRequest: true, verb: 'create', subresource }), undefined, subresource);
  }
  // Only on resource requests: a non-resource path is long-running only when it streams.
  assert.equal(requestKind({ resourceRequest: false, verb: 'get' }), 'readOnly');
  assert.equal(requestKind({ resourceRequest: false, verb: 'get', streaming: true }), undefined);
});

test('slots are taken up to the limit, refused past it, and come back once each', () => {
  const limits = new MaxInFlight({ readOnly: 2, mutating: 1 });
  const a = limits.take('readOnly', false);
  const b = limits.take('readOnly', false);
  assert.ok(a && b);
  assert.equal(limits.take('readOnly', false), undefined);
  assert.equal(limits.inFlight('readOnly'), 2);
  // The kinds are counted apart.
  const m = limits.take('mutating', false);
  assert.ok(m);
  assert.equal(limits.take('mutating', false), undefined);
  a();
  a();
  assert.equal(limits.inFlight('readOnly'), 1, 'a second release of the same slot gives nothing back');
  const c = limits.take('readOnly', false);
  assert.ok(c);
  assert.equal(limits.take('readOnly', false), undefined);
  b();
  c();
  m();
  assert.equal(limits.inFlight('readOnly'), 0);
  assert.equal(limits.inFlight('mutating'), 0);
});

test('system:masters takes a free slot, and is served without one when none is free', () => {
  const limits = new MaxInFlight({ readOnly: 1, mutating: 1 });
  const admin = limits.take('readOnly', true);
  assert.ok(admin);
  assert.equal(limits.inFlight('readOnly'), 1, 'a free slot is taken, as upstream');
  assert.equal(limits.take('readOnly', false), undefined);
  const over = limits.take('readOnly', true);
  assert.ok(over, 'served when full');
  assert.equal(limits.inFlight('readOnly'), 1);
  over();
  assert.equal(limits.inFlight('readOnly'), 1, 'a request served without a slot gives none back');
  admin();
  assert.equal(limits.inFlight('readOnly'), 0);
});

test('a limit of 0 counts nothing of its kind', () => {
  const limits = new MaxInFlight({ readOnly: 0, mutating: 1 });
  for (let i = 0; i < 1000; i++) assert.ok(limits.take('readOnly', false));
  assert.equal(limits.inFlight('readOnly'), 0);
  assert.ok(limits.take('mutating', false));
  assert.equal(limits.take('mutating', false), undefined);
});

test('the gauge reports the most in flight at once over the last second, as upstream', () => {
  let now = 0;
  const limits = new MaxInFlight({ readOnly: 10, mutating: 10 }, () => now);
  const releases = [1, 2, 3].map(() => limits.take('readOnly', false)!);
  releases[0]();
  releases[1]();
  assert.equal(limits.inFlight('readOnly'), 1);
  assert.equal(limits.recentPeak('readOnly'), 3);
  now = 1500;
  assert.equal(limits.recentPeak('readOnly'), 3, 'the previous second peaked at 3');
  now = 2600;
  assert.equal(limits.recentPeak('readOnly'), 1, 'then only one was held');
  now = 10_000;
  assert.equal(limits.recentPeak('readOnly'), 1, 'one held through idle seconds');
  releases[2]();
  now = 20_000;
  assert.equal(limits.recentPeak('readOnly'), 0);
  assert.equal(limits.recentPeak('mutating'), 0);
});

test('the flag values are whole numbers, 0 or more, and a bad one names its flag', () => {
  assert.equal(parseInflightLimit('max-requests-inflight', '400'), 400);
  assert.equal(parseInflightLimit('max-requests-inflight', '0'), 0);
  for (const bad of ['-1', '1.5', 'ten', '', '1e3', '99999999999999999999']) {
    assert.throws(() => parseInflightLimit('max-mutating-requests-inflight', bad), /^Error: --max-mutating-requests-inflight must be a whole number of requests, 0 or more \(0: no limit\), not /, bad);
  }
});
