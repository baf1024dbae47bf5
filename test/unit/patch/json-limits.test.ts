// kube-apiserver's JSON patch limits: copy operations may grow a document by 3 MiB in all, and a
// patch may hold at most 10000 operations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_JSON_PATCH_COPY_BYTES, jsonPatch } from '../../../src/api/patch/json.js';
import { PatchError } from '../../../src/api/patch/errors.js';

test('17 copy operations doubling an object are stopped at the accumulated 3 MiB, with upstream\'s message', () => {
  const ops: unknown[] = [];
  for (let i = 0; i < 17; i++) ops.push({ op: 'copy', from: '/a', path: `/a/c${i}` });
  assert.throws(
    () => jsonPatch({ a: { seed: 'x'.repeat(100) } }, ops),
    (e: unknown) => e instanceof PatchError && e.code === 422 && /^Unable to complete the copy, the accumulated size increase of copy is \d+, exceeding the limit 3145728$/.test(e.message),
  );
});

test('copies under the limit apply', () => {
  const out = jsonPatch({ a: { v: 1 } }, [{ op: 'copy', from: '/a', path: '/b' }]) as Record<string, unknown>;
  assert.deepEqual(out, { a: { v: 1 }, b: { v: 1 } });
  assert.ok(MAX_JSON_PATCH_COPY_BYTES === 3 * 1024 * 1024);
});

test('more than 10000 operations is 413', () => {
  const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/a', value: 1 }));
  assert.throws(() => jsonPatch({ a: 1 }, ops), (e: unknown) => e instanceof PatchError && e.code === 413 && e.message === 'The allowed maximum operations in a JSON patch is 10000, got 10001');
});
