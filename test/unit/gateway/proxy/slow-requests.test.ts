import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slowRequestLine } from '../../../../src/gateway/proxy/slow-requests.js';

test('a request at or over the threshold gets its phases; the accept wait is reported but not counted', () => {
  const line = slowRequestLine({ acceptedAt: 0, startedAt: 1000, dispatchedAt: 1002, upstreamConnectedAt: 1003, upstreamHeadAt: 1130, endedAt: 1131 }, 'default/r', 200, 100, 5000);
  assert.deepEqual(line, {
    level: 'warn',
    msg: 'slow request',
    route: 'default/r',
    status: 200,
    totalMs: 131,
    startedAtMs: 6000,
    acceptToHeadMs: 1000,
    routingMs: 2,
    upstreamMs: 128,
    newUpstreamConnection: true,
    responseMs: 1,
  });
});

test('the time the request waited before it was written to a connection is its own phase', () => {
  const line = slowRequestLine({ startedAt: 0, dispatchedAt: 1, upstreamWrittenAt: 91, upstreamHeadAt: 100, endedAt: 101 }, 'r', 200, 50, 0);
  assert.equal(line?.upstreamQueuedMs, 90);
  assert.equal(line?.upstreamMs, 9);
});

test('a pool that connected before the request was handed over is not a new connection', () => {
  const line = slowRequestLine({ startedAt: 10, dispatchedAt: 11, upstreamConnectedAt: 5, upstreamHeadAt: 200, endedAt: 201 }, 'r', 200, 50, 0);
  assert.equal(line?.newUpstreamConnection, false);
  assert.equal(line?.acceptToHeadMs, undefined);
});

test('a request answered by the proxy itself (404) has no upstream phases', () => {
  const line = slowRequestLine({ startedAt: 0, endedAt: 80 }, 'none', 404, 50, 0);
  assert.deepEqual(line, { level: 'warn', msg: 'slow request', route: 'none', status: 404, totalMs: 80, startedAtMs: 0 });
});

test('faster than the threshold, or the threshold 0: no line', () => {
  assert.equal(slowRequestLine({ startedAt: 0, endedAt: 49.9 }, 'r', 200, 50, 0), undefined);
  assert.equal(slowRequestLine({ startedAt: 0, endedAt: 5000 }, 'r', 200, 0, 0), undefined);
});
