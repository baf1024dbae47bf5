// Unknown fields of every built-in kind: named by path (as the strict decoder words them) and
// removed from the object, as kube-apiserver's decoder drops them for fieldValidation Warn/Ignore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES, apiVersionOf } from '../../../src/api/resources.js';
import { BUILTIN_ROOTS } from '../../../src/api/schema/builtin.js';
import { fieldsOf, schemaFor } from '../../../src/api/schema/index.js';
import { checkTyped } from '../../../src/api/schema/typed.js';

test('every built-in kind: unknown fields at the root, in metadata and in spec are reported and dropped', () => {
  let kinds = 0;
  for (const r of RESOURCES.filter((r) => BUILTIN_ROOTS[r.kind])) {
    const fields = fieldsOf(schemaFor(r));
    const obj: Record<string, unknown> = { apiVersion: apiVersionOf(r), kind: r.kind, metadata: { name: 'x', bar: 1 }, foo: { nested: true } };
    const want = ['metadata.bar', 'foo'];
    if (fields.spec?.t === 'object') {
      obj.spec = { zzz: 'y' };
      want.push('spec.zzz');
    }
    const result = checkTyped(r, obj);
    assert.equal(result.error, undefined, r.kind);
    assert.deepEqual([...result.unknown].sort(), [...want].sort(), r.kind);
    assert.equal('foo' in obj, false, r.kind);
    assert.deepEqual(obj.metadata, { name: 'x' }, r.kind);
    if (obj.spec) assert.deepEqual(obj.spec, {}, r.kind);
    kinds++;
  }
  assert.ok(kinds >= 25, `${kinds} kinds`);
});

test('unknown fields inside lists and maps are named with their index', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i', bogus: 1 }], volumes: [{ name: 'v', emptyDir: { what: 1 } }] } };
  const result = checkTyped({ kind: 'Pod' }, pod);
  assert.deepEqual(result.unknown, ['spec.containers[0].bogus', 'spec.volumes[0].emptyDir.what']);
  assert.deepEqual(pod.spec.containers[0], { name: 'c', image: 'i' });
  assert.deepEqual(pod.spec.volumes[0], { name: 'v', emptyDir: {} });
});
