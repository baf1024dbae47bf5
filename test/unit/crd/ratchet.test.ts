// Validation ratcheting without a server: schema errors and CEL rule failures of parts unchanged
// from the old object are dropped on update, with upstream's correlation (properties, map keys,
// list-type map keys, unlisted lists by index; set and atomic lists never), while changed parts,
// new parts, creates and transition rules are still checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateAgainstSchema } from '../../../src/api/crd/schema/validate.js';
import { compileSchemaRules, validateRules } from '../../../src/api/crd/cel/rules.js';
import { unchanged } from '../../../src/api/crd/ratchet.js';
import type { JSONSchemaProps } from '../../../src/api/crd/types.js';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 3 },
        other: { type: 'string' },
        labels: { type: 'object', additionalProperties: { type: 'string', pattern: '^[a-z]+$' } },
        ports: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer', maximum: 100 } } },
        },
        byIndex: { type: 'array', items: { type: 'integer', maximum: 10 } },
        tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string', maxLength: 2 } },
      },
    },
  },
};

function fields(obj: object, old?: object): string[] {
  return validateAgainstSchema(schema, obj, '', old && { value: old }).map((e) => e.field);
}

test('schema errors of unchanged fields are dropped on update, not on create or when the field changes', () => {
  const old = { spec: { name: 'toolong', other: 'a' } };
  assert.deepEqual(fields({ spec: { name: 'toolong', other: 'a' } }), ['spec.name']);
  assert.deepEqual(fields({ spec: { name: 'toolong', other: 'b' } }, old), []);
  assert.deepEqual(fields({ spec: { name: 'alsotoolong', other: 'a' } }, old), ['spec.name']);
  assert.deepEqual(fields({ spec: { name: 'ok', other: 'a' } }, old), []);
});

test('map keys, list-type map items and unlisted list items correlate; set items do not', () => {
  const old = {
    spec: {
      labels: { a: 'BAD', b: 'x' },
      ports: [
        { name: 'http', port: 500 },
        { name: 'dns', port: 53 },
      ],
      byIndex: [50, 1],
      tags: ['long', 'x'],
    },
  };
  // reordered map-list items still correlate by key; an added bad item is checked
  const next = {
    spec: {
      labels: { a: 'BAD', b: 'y', c: 'ALSO' },
      ports: [
        { name: 'dns', port: 54 },
        { name: 'http', port: 500 },
        { name: 'new', port: 700 },
      ],
      byIndex: [50, 2],
      tags: ['long', 'y'],
    },
  };
  assert.deepEqual(fields(next, old), ['spec.labels.c', 'spec.ports[2].port', 'spec.tags[0]']);
  // as upstream: set items never correlate, so a bad set item fails even when nothing changed,
  // while the other unchanged bad values ratchet
  assert.deepEqual(fields(old, old), ['spec.tags[0]']);
  const { tags: _tags, ...noTags } = old.spec;
  assert.deepEqual(fields({ spec: noTags }, { spec: noTags }), []);
});

test('unchanged() follows upstream: numbers, nulls, nested maps; a non-empty set list never counts as unchanged', () => {
  assert.equal(unchanged(undefined, { a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), true);
  assert.equal(unchanged(undefined, { a: 1 }, { a: 1, b: null }), false);
  assert.equal(unchanged(undefined, null, null), true);
  assert.equal(unchanged({ type: 'array', 'x-kubernetes-list-type': 'set' }, ['a'], ['a']), false);
  assert.equal(unchanged({ type: 'array', 'x-kubernetes-list-type': 'set' }, [], []), true);
});

test('CEL rule failures ratchet on unchanged values; transition rules and changed values are still checked', () => {
  const s: JSONSchemaProps = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          host: { type: 'string', 'x-kubernetes-validations': [{ rule: '!format.dns1123Label().validate(self).hasValue()', message: 'host must be a DNS label' }] },
          other: { type: 'string' },
          mode: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'mode is immutable' }, { rule: "self != 'off'", message: 'mode is not off' }] },
          items: { type: 'array', items: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self < 10', message: 'small' }] } },
        },
      },
    },
  };
  const { tree, errors } = compileSchemaRules(s);
  assert.deepEqual(errors, []);
  const old = { spec: { host: 'Not_A_Label', other: 'a', mode: 'off', items: [50] } };
  const msgs = (obj: object, o?: object) => validateRules(tree, obj as Record<string, unknown>, o as Record<string, unknown> | undefined).map((e) => `${e.field}: ${e.message}`);
  assert.deepEqual(msgs(old), ['spec.host: Invalid value: "string": host must be a DNS label', 'spec.mode: Invalid value: "string": mode is not off', 'spec.items[0]: Invalid value: "integer": small']);
  assert.deepEqual(msgs({ spec: { ...old.spec, other: 'b' } }, old), []);
  assert.deepEqual(msgs({ spec: { ...old.spec, host: 'Still_Bad' } }, old), ['spec.host: Invalid value: "string": host must be a DNS label']);
  assert.deepEqual(msgs({ spec: { ...old.spec, items: [50, 60] } }, old), ['spec.items[1]: Invalid value: "integer": small']);
  assert.deepEqual(msgs({ spec: { ...old.spec, mode: 'on' } }, old), ['spec.mode: Invalid value: "string": mode is immutable']);
});

test('a root marked changed (its metadata changed) does not ratchet its own errors; its unchanged children still do', () => {
  const s: JSONSchemaProps = { type: 'object', required: ['spec'], properties: { spec: { type: 'object', properties: { name: { type: 'string', maxLength: 1 } } }, note: { type: 'string' } } };
  const old = { note: 'x', spec: { name: 'long' } };
  assert.deepEqual(validateAgainstSchema(s, { note: 'x', spec: { name: 'long' } }, '', { value: old, changed: true }).map((e) => e.field), []);
  assert.deepEqual(validateAgainstSchema(s, { note: 'x' }, '', { value: { note: 'x' }, changed: true }).map((e) => e.field), ['spec']);
  assert.deepEqual(validateAgainstSchema(s, { note: 'x' }, '', { value: { note: 'x' } }).map((e) => e.field), []);
});
