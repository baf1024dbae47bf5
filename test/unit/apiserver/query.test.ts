// Query parameters as kube-apiserver's parameter codec reads them, the legacy watch paths, and
// the nesting-depth scan that runs before a body is parsed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TIMER_MS, parseByteSize, queryBool, queryInt, watchTimeoutMs } from '../../../src/apiserver/query.js';
import { ApiStatusError } from '../../../src/apiserver/errors.js';
import { parseRoute } from '../../../src/apiserver/routes.js';
import { jsonNestsDeeperThan, valueNestsDeeperThan } from '../../../src/apiserver/body.js';

const q = (s: string) => new URLSearchParams(s);

test('booleans: false only when absent, "0" or "false" in any case (apimachinery Convert_Slice_string_To_bool)', () => {
  for (const v of ['true', 'True', 'TRUE', '1', 't', 'yes', '']) assert.equal(queryBool(q(`watch=${v}`), 'watch'), true, v);
  for (const v of ['false', 'False', 'FALSE', '0']) assert.equal(queryBool(q(`watch=${v}`), 'watch'), false, v);
  assert.equal(queryBool(q(''), 'watch'), false);
});

test('integers are strconv.ParseInt: 400 with its message otherwise', () => {
  assert.equal(queryInt(q('timeoutSeconds=30'), 'timeoutSeconds'), 30);
  assert.equal(queryInt(q('timeoutSeconds=-1'), 'timeoutSeconds'), -1);
  assert.equal(queryInt(q(''), 'timeoutSeconds'), undefined);
  assert.throws(() => queryInt(q('timeoutSeconds=abc'), 'timeoutSeconds'), (e: unknown) => e instanceof ApiStatusError && e.code === 400 && e.message === 'strconv.ParseInt: parsing "abc": invalid syntax');
  assert.throws(() => queryInt(q('limit=1.5'), 'limit'), /invalid syntax/);
  assert.throws(() => queryInt(q('limit=99999999999999999999'), 'limit'), /value out of range/);
});

test('watch timeouts: 0 or none is the server default (30-60 min), huge values are capped for Node timers', () => {
  assert.equal(watchTimeoutMs(0, () => 0), 1800_000);
  assert.equal(watchTimeoutMs(undefined, () => 0.5), 2700_000);
  assert.equal(watchTimeoutMs(5), 5000);
  assert.equal(watchTimeoutMs(2147484), MAX_TIMER_MS);
  assert.equal(watchTimeoutMs(Number.MAX_SAFE_INTEGER), MAX_TIMER_MS);
});

test('byte sizes for --watch-history-bytes', () => {
  assert.equal(parseByteSize('64Mi'), 64 * 1024 * 1024);
  assert.equal(parseByteSize('100M'), 100e6);
  assert.equal(parseByteSize('4096'), 4096);
  assert.equal(parseByteSize('lots'), undefined);
});

test('legacy watch paths are watches of the collection, with the name for one object', () => {
  assert.deepEqual(
    (({ kind, namespace, name, watch }) => ({ kind, namespace, name, watch }))(parseRoute('/api/v1/watch/namespaces/default/pods/web') as { kind: string; namespace?: string; name?: string; watch?: boolean }),
    { kind: 'resource', namespace: 'default', name: 'web', watch: true },
  );
  const all = parseRoute('/apis/apps/v1/watch/deployments');
  assert.ok(all.kind === 'resource' && all.watch && all.r.plural === 'deployments' && all.name === undefined);
  assert.equal(parseRoute('/api/v1/watch/namespaces/default/pods/web/status').kind, 'notfound');
  assert.equal(parseRoute('/api/v1/watch').kind, 'notfound');
});

test('nesting depth is measured before parsing, ignoring brackets inside strings', () => {
  assert.equal(jsonNestsDeeperThan(Buffer.from('[[[]]]'), 3), false);
  assert.equal(jsonNestsDeeperThan(Buffer.from('[[[[]]]]'), 3), true);
  assert.equal(jsonNestsDeeperThan(Buffer.from('{"a":"[[[[[\\"[[["}'), 1), false);
  assert.equal(valueNestsDeeperThan({ a: [{ b: 1 }] }, 3), false);
  assert.equal(valueNestsDeeperThan({ a: [{ b: {} }] }, 3), true);
});
