// Custom resource schemas: validation messages and field paths, pruning of unknown fields,
// defaulting, and the structural-schema rules a CRD's openAPIV3Schema must follow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateAgainstSchema } from '../../../src/api/crd/schema/validate.js';
import { pruneUnknownFields } from '../../../src/api/crd/schema/prune.js';
import { applySchemaDefaults } from '../../../src/api/crd/schema/default.js';
import { validateStructuralSchema } from '../../../src/api/crd/schema/structural.js';
import type { JSONSchemaProps } from '../../../src/api/crd/types.js';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['size'],
      properties: {
        size: { type: 'string', enum: ['small', 'large'] },
        replicas: { type: 'integer', minimum: 0, maximum: 10, default: 1 },
        ratio: { type: 'number', minimum: 0, exclusiveMinimum: true },
        name: { type: 'string', minLength: 2, maxLength: 5, pattern: '^[a-z]+$' },
        port: { 'x-kubernetes-int-or-string': true },
        when: { type: 'string', format: 'date-time' },
        addr: { type: 'string', format: 'ipv4' },
        tags: { type: 'array', maxItems: 2, items: { type: 'string' } },
        ports: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer', default: 80 } } },
        },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'object', properties: { a: { type: 'string' } } } } },
        template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', properties: { x: { type: 'string' } } } } },
        optional: { type: 'string', nullable: true },
      },
    },
  },
};

function errorsOf(spec: Record<string, unknown>) {
  return validateAgainstSchema(schema, { apiVersion: 'demo/v1', kind: 'W', spec }).map((e) => `${e.type} ${e.field}: ${e.message}`);
}

test('a valid object has no errors', () => {
  assert.deepEqual(errorsOf({ size: 'small', replicas: 3, ratio: 0.5, name: 'ab', port: 'http', when: '2024-01-02T03:04:05Z', addr: '10.0.0.1', tags: ['a'], optional: null }), []);
  assert.deepEqual(errorsOf({ size: 'large', port: 8080 }), []);
});

test('type errors name the field and both types, as upstream words them', () => {
  assert.deepEqual(errorsOf({ size: 'small', replicas: 'three' }), ['FieldValueTypeInvalid spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"']);
  assert.deepEqual(errorsOf({ size: 'small', replicas: 1.5 }), ['FieldValueTypeInvalid spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"']);
  assert.deepEqual(errorsOf({ size: 'small', port: true }), ['FieldValueTypeInvalid spec.port: Invalid value: "boolean": spec.port in body must be of type integer-or-string: "boolean"']);
  assert.deepEqual(errorsOf({ size: 'small', tags: 'a' }), ['FieldValueTypeInvalid spec.tags: Invalid value: "string": spec.tags in body must be of type array: "string"']);
});

test('required, enum, bounds, lengths, pattern and formats', () => {
  assert.deepEqual(errorsOf({}), ['FieldValueRequired spec.size: Required value']);
  assert.deepEqual(errorsOf({ size: 'huge' }), ['FieldValueNotSupported spec.size: Unsupported value: "huge": supported values: "small", "large"']);
  assert.deepEqual(errorsOf({ size: 'small', replicas: 11 }), ['FieldValueInvalid spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10']);
  assert.deepEqual(errorsOf({ size: 'small', replicas: -1 }), ['FieldValueInvalid spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0']);
  assert.deepEqual(errorsOf({ size: 'small', ratio: 0 }), ['FieldValueInvalid spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0']);
  assert.deepEqual(errorsOf({ size: 'small', name: 'a' }), ['FieldValueInvalid spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long']);
  assert.deepEqual(errorsOf({ size: 'small', name: 'abcdef' }), ['FieldValueTooLong spec.name: Too long: may not be more than 5 bytes']);
  assert.deepEqual(errorsOf({ size: 'small', name: 'AB' }), ["FieldValueInvalid spec.name: Invalid value: \"AB\": spec.name in body should match '^[a-z]+$'"]);
  assert.deepEqual(errorsOf({ size: 'small', when: 'yesterday' }), ['FieldValueInvalid spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"']);
  assert.deepEqual(errorsOf({ size: 'small', addr: '10.0.0.300' }), ['FieldValueInvalid spec.addr: Invalid value: "10.0.0.300": spec.addr in body must be of type ipv4: "10.0.0.300"']);
  assert.deepEqual(errorsOf({ size: 'small', tags: ['a', 'b', 'c'] }), ['FieldValueTooMany spec.tags: Too many: 3: must have at most 2 items']);
});

test('errors inside lists and maps carry the index or key in the path', () => {
  assert.deepEqual(errorsOf({ size: 'small', ports: [{ name: 'a' }, { port: 1 }] }), ['FieldValueRequired spec.ports[1].name: Required value']);
  assert.deepEqual(errorsOf({ size: 'small', ports: [{ name: 'a' }, { name: 'a' }] }), ['FieldValueDuplicate spec.ports[1]: Duplicate value: {"name":"a"}']);
  assert.deepEqual(errorsOf({ size: 'small', labels: { team: 5 } }), ['FieldValueTypeInvalid spec.labels.team: Invalid value: "integer": spec.labels.team in body must be of type string: "integer"']);
});

test('embedded resources need apiVersion and kind', () => {
  assert.deepEqual(errorsOf({ size: 'small', template: { spec: {} } }), ['FieldValueRequired spec.template.apiVersion: Required value: must not be empty', 'FieldValueRequired spec.template.kind: Required value: must not be empty']);
  assert.deepEqual(errorsOf({ size: 'small', template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} } }), []);
});

test('pruning drops unknown fields (with their paths) and keeps preserved, embedded and root type meta', () => {
  const obj: Record<string, unknown> = {
    apiVersion: 'demo/v1',
    kind: 'W',
    metadata: { name: 'w', labels: { a: 'b' } },
    bogus: 1,
    spec: {
      size: 'small',
      unknown: { deep: true },
      ports: [{ name: 'a', junk: 1 }],
      labels: { free: 'x' },
      extra: { anything: [1, 2], known: { a: 'x', b: 'dropped' } },
      template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { x: 'y', z: 'dropped' }, other: 1 },
    },
  };
  const pruned = pruneUnknownFields(obj, schema);
  assert.deepEqual(pruned.sort(), ['bogus', 'spec.extra.known.b', 'spec.ports[0].junk', 'spec.template.other', 'spec.template.spec.z', 'spec.unknown'].sort());
  assert.deepEqual(obj, {
    apiVersion: 'demo/v1',
    kind: 'W',
    metadata: { name: 'w', labels: { a: 'b' } },
    spec: {
      size: 'small',
      ports: [{ name: 'a' }],
      labels: { free: 'x' },
      extra: { anything: [1, 2], known: { a: 'x' } },
      template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { x: 'y' } },
    },
  });
});

test('defaulting fills missing fields (inside list items too) and replaces nulls of non-nullable fields', () => {
  const obj: Record<string, unknown> = { spec: { size: 'small', ports: [{ name: 'a' }, { name: 'b', port: 81 }], replicas: null, optional: null, name: null } };
  applySchemaDefaults(obj, schema);
  assert.deepEqual(obj, { spec: { size: 'small', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81 }], replicas: 1, optional: null } });
  const empty: Record<string, unknown> = { spec: { size: 'large' } };
  applySchemaDefaults(empty, schema);
  assert.equal((empty.spec as { replicas: number }).replicas, 1);
});

test('structural schema rules', () => {
  const at = 'spec.versions[0].schema.openAPIV3Schema';
  const msgs = (s: JSONSchemaProps) => validateStructuralSchema(s, at).map((e) => `${e.field}: ${e.message}`);
  assert.deepEqual(msgs(schema), []);
  assert.deepEqual(msgs({ type: 'string' }), [`${at}.type: Invalid value: "string": must be object at the root`]);
  assert.deepEqual(msgs({ type: 'object', properties: { spec: { properties: { a: { type: 'string' } } } } }), [`${at}.properties[spec].type: Required value: must not be empty for specified object fields`]);
  assert.deepEqual(msgs({ type: 'object', properties: { spec: { type: 'array' } } }), [`${at}.properties[spec].items: Required value: must be specified`]);
  assert.deepEqual(msgs({ type: 'object', properties: { spec: { type: 'object', properties: {}, additionalProperties: { type: 'string' } } } }), [
    `${at}.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
  ]);
  assert.deepEqual(msgs({ type: 'object', properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } } }), [`${at}.properties[metadata].properties[labels]: Forbidden: must not be specified`]);
  assert.deepEqual(msgs({ type: 'object', properties: { a: { type: 'string', pattern: '([' } } }).length, 1);
  assert.deepEqual(msgs({ type: 'object', properties: { a: { type: 'integer', minimum: 1, default: 0 } } }), [`${at}.properties[a].default: Invalid value: 0: ${at}.properties[a].default in body should be greater than or equal to 1`]);
  assert.deepEqual(msgs({ type: 'object', properties: { a: { type: 'array', 'x-kubernetes-list-type': 'map', items: { type: 'object' } } } }), [`${at}.properties[a].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map`]);
  assert.deepEqual(msgs({ type: 'object', properties: { a: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }), []);
});
