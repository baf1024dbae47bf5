// A CEL rule failure that ratcheting allows is handed back (upstream answers it as a Warning
// header) instead of being dropped; a changed value's failure and a transition rule's stay errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSchemaRules, validateRules } from '../../../src/api/crd/cel/rules.js';
import type { FieldError } from '../../../src/api/validation/index.js';
import type { JSONSchemaProps } from '../../../src/api/crd/types.js';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        size: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self <= 3', message: 'size at most 3' }] },
        mode: { type: 'string', 'x-kubernetes-validations': [{ rule: "self != 'legacy' || oldSelf == 'legacy'", message: 'mode cannot become legacy' }] },
        replicas: { type: 'integer' },
      },
    },
  },
};

test('a ratcheted rule failure is returned apart from the errors', () => {
  const tree = compileSchemaRules(schema).tree;
  const old = { spec: { size: 5, mode: 'normal', replicas: 1 } };
  const ratcheted: FieldError[] = [];
  assert.deepEqual(validateRules(tree, { spec: { size: 5, mode: 'normal', replicas: 2 } }, old, false, ratcheted), []);
  assert.deepEqual(ratcheted.map((e) => `${e.field}: ${e.message}`), ['spec.size: Invalid value: "integer": size at most 3']);

  const changed: FieldError[] = [];
  const errors = validateRules(tree, { spec: { size: 6, mode: 'legacy', replicas: 2 } }, old, false, changed);
  assert.deepEqual(errors.map((e) => `${e.field}: ${e.message}`).sort(), ['spec.mode: Invalid value: "string": mode cannot become legacy', 'spec.size: Invalid value: "integer": size at most 3']);
  assert.deepEqual(changed, []);
  // On create nothing ratchets.
  const created: FieldError[] = [];
  assert.equal(validateRules(tree, { spec: { size: 5 } }, undefined, false, created).length, 1);
  assert.deepEqual(created, []);
});
