import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PatchError, applyJsonPatch, applyMergePatch } from '../../../src/api/patch/index.js';

test('JSON merge patch: the RFC 7386 appendix examples', () => {
  const table: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [original, patch, expected] of table) assert.deepEqual(applyMergePatch(original, patch), expected, JSON.stringify([original, patch]));
});

test('merge patch does not modify its inputs', () => {
  const original = { spec: { replicas: 1, template: { a: 1 } } };
  const patch = { spec: { replicas: 3 } };
  applyMergePatch(original, patch);
  assert.deepEqual(original, { spec: { replicas: 1, template: { a: 1 } } });
});

test('JSON patch: all six operations, pointer escaping, arrays', () => {
  const doc = { metadata: { labels: { 'app.kubernetes.io/name': 'web', 'a~b': 'x' } }, spec: { replicas: 1, ports: [{ port: 80 }, { port: 81 }] } };
  const out = applyJsonPatch(doc, [
    { op: 'test', path: '/spec/replicas', value: 1 },
    { op: 'replace', path: '/spec/replicas', value: 3 },
    { op: 'add', path: '/spec/ports/-', value: { port: 82 } },
    { op: 'add', path: '/spec/ports/0', value: { port: 79 } },
    { op: 'remove', path: '/spec/ports/1' },
    { op: 'copy', from: '/metadata/labels/app.kubernetes.io~1name', path: '/metadata/labels/copy' },
    { op: 'move', from: '/metadata/labels/a~0b', path: '/metadata/labels/moved' },
    { op: 'add', path: '/metadata/annotations', value: { note: 'n' } },
  ]);
  assert.deepEqual(out, {
    metadata: { labels: { 'app.kubernetes.io/name': 'web', copy: 'web', moved: 'x' }, annotations: { note: 'n' } },
    spec: { replicas: 3, ports: [{ port: 79 }, { port: 81 }, { port: 82 }] },
  });
  assert.equal(doc.spec.replicas, 1, 'input untouched');
});

test('JSON patch errors name the operation and path', () => {
  const doc = { spec: { replicas: 1, ports: [{ port: 80 }] } };
  const table: [unknown, RegExp, number][] = [
    [[{ op: 'test', path: '/spec/replicas', value: 2 }], /^testing value \/spec\/replicas failed: test failed$/, 422],
    [[{ op: 'replace', path: '/spec/nope', value: 2 }], /^replace operation does not apply: doc is missing key: \/spec\/nope: missing value$/, 422],
    [[{ op: 'remove', path: '/spec/ports/3' }], /^remove operation does not apply: doc is missing path: "\/spec\/ports\/3": missing value$/, 422],
    [[{ op: 'add', path: '/spec/x/y', value: 1 }], /^add operation does not apply: doc is missing path: "\/spec\/x\/y": missing value$/, 422],
    [[{ op: 'move', from: '/spec/none', path: '/spec/a' }], /^move operation does not apply: doc is missing from path: \/spec\/none: missing value$/, 422],
    [[{ op: 'copy', from: '/spec/none', path: '/spec/a' }], /^copy operation does not apply/, 422],
    [[{ op: 'frobnicate', path: '/spec' }], /^Unexpected kind: frobnicate$/, 400],
    [{ op: 'add' }, /must be a JSON array/, 400],
    [[{ op: 'add', path: '/spec/a' }], /has no "value"/, 400],
    [[{ op: 'add', path: 'spec', value: 1 }], /JSON pointer must be empty or start with a "\/"/, 422],
  ];
  for (const [ops, message, code] of table) {
    assert.throws(
      () => applyJsonPatch(doc, ops),
      (e: unknown) => e instanceof PatchError && message.test(e.message) && e.code === code,
      JSON.stringify(ops),
    );
  }
  // a failing test operation leaves nothing half-applied (the input is never modified)
  assert.throws(() => applyJsonPatch(doc, [{ op: 'replace', path: '/spec/replicas', value: 9 }, { op: 'test', path: '/spec/replicas', value: 1 }]));
  assert.equal(doc.spec.replicas, 1);
});
