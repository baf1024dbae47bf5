// x-kubernetes-validations compiled and evaluated without a server: messages, reasons, fieldPath,
// messageExpression, transition rules and their correlation, typed values, the Kubernetes
// extension functions, compile errors and the cost bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSchemaRules, validateRules } from '../../../src/api/crd/cel/rules.js';
import type { JSONSchemaProps } from '../../../src/api/crd/types.js';

const schema: JSONSchemaProps = {
  type: 'object',
  'x-kubernetes-validations': [{ rule: 'self.spec.replicas <= self.spec.maxReplicas', message: 'replicas must not exceed maxReplicas' }],
  properties: {
    spec: {
      type: 'object',
      properties: {
        replicas: { type: 'integer' },
        maxReplicas: { type: 'integer' },
        ratio: { type: 'number', 'x-kubernetes-validations': [{ rule: 'self < 1.0' }] },
        name: { type: 'string', 'x-kubernetes-validations': [{ rule: "self.startsWith('w-')", messageExpression: "'name ' + self + ' must start with w-'" }] },
        mode: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'mode is immutable', reason: 'FieldValueForbidden' }] },
        since: { type: 'string', format: 'date-time', 'x-kubernetes-validations': [{ rule: "self > timestamp('2020-01-01T00:00:00Z')" }] },
        tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-validations': [{ rule: 'self.all(t, t.size() <= 5)', message: 'tags are at most 5 characters' }] },
        ports: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: {
            type: 'object',
            properties: { name: { type: 'string' }, weight: { type: 'integer' } },
            'x-kubernetes-validations': [{ rule: 'self.weight >= oldSelf.weight', message: 'weight may only grow', fieldPath: '.weight' }],
          },
        },
        labels: { type: 'object', additionalProperties: { type: 'string', 'x-kubernetes-validations': [{ rule: "self.lowerAscii() == self && self.replace('-', '') != ''", reason: 'FieldValueRequired', message: 'lower case' }] } },
        start: { type: 'string', 'x-kubernetes-validations': [{ rule: 'oldSelf.hasValue() || self == "new"', optionalOldSelf: true, message: 'a new start is "new"' }] },
      },
    },
  },
};

function compiled() {
  const c = compileSchemaRules(schema);
  assert.deepEqual(c.errors, []);
  return c.tree;
}

const base = { spec: { replicas: 2, maxReplicas: 3, ratio: 0.5, name: 'w-a', mode: 'fast', since: '2024-01-01T00:00:00Z', tags: ['ab'], ports: [{ name: 'http', weight: 2 }], labels: { a: 'x' } } };
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

test('a valid object passes every rule; each rule names its node, message and reason when it fails', () => {
  const tree = compiled();
  assert.deepEqual(validateRules(tree, clone(base)), []);
  const bad = clone(base) as any;
  bad.spec.replicas = 4;
  bad.spec.ratio = 1.5;
  bad.spec.name = 'x';
  bad.spec.since = '2019-01-01T00:00:00Z';
  bad.spec.tags = ['toolong'];
  bad.spec.labels = { a: 'X' };
  assert.deepEqual(validateRules(tree, bad), [
    { type: 'FieldValueInvalid', field: '<nil>', message: 'Invalid value: "object": replicas must not exceed maxReplicas' },
    { type: 'FieldValueInvalid', field: 'spec.ratio', message: 'Invalid value: "number": failed rule: self < 1.0' },
    { type: 'FieldValueInvalid', field: 'spec.name', message: 'Invalid value: "string": name x must start with w-' },
    { type: 'FieldValueInvalid', field: 'spec.since', message: "Invalid value: \"string\": failed rule: self > timestamp('2020-01-01T00:00:00Z')" },
    { type: 'FieldValueInvalid', field: 'spec.tags', message: 'Invalid value: "array": tags are at most 5 characters' },
    { type: 'FieldValueRequired', field: 'spec.labels[a]', message: 'Required value: lower case' },
  ]);
});

test('transition rules run on update only, against the correlated old value', () => {
  const tree = compiled();
  const next = clone(base) as any;
  next.spec.mode = 'slow';
  assert.deepEqual(validateRules(tree, next), [], 'a create has no oldSelf: the transition rule does not run');
  assert.deepEqual(validateRules(tree, next, clone(base)), [{ type: 'FieldValueForbidden', field: 'spec.mode', message: 'Forbidden: mode is immutable' }]);
  // list-type map items correlate by key, whatever their order; a new key has no old value.
  const grown = clone(base) as any;
  grown.spec.ports = [{ name: 'new', weight: 0 }, { name: 'http', weight: 1 }];
  assert.deepEqual(validateRules(tree, grown, clone(base)), [{ type: 'FieldValueInvalid', field: 'spec.ports[1].weight', message: 'Invalid value: "object": weight may only grow' }]);
});

test('optionalOldSelf rules also run on create, with an empty oldSelf', () => {
  const tree = compiled();
  const created = clone(base) as any;
  created.spec.start = 'old';
  assert.deepEqual(validateRules(tree, created), [{ type: 'FieldValueInvalid', field: 'spec.start', message: 'Invalid value: "string": a new start is "new"' }]);
  created.spec.start = 'new';
  assert.deepEqual(validateRules(tree, created), []);
  const updated = clone(created);
  updated.spec.start = 'later';
  assert.deepEqual(validateRules(tree, updated, created), []);
});

test('integer fields are CEL ints: arithmetic with int literals works; an evaluation error names the rule', () => {
  const s: JSONSchemaProps = { type: 'object', properties: { n: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self + 1 > 2' }] }, m: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, 'x-kubernetes-validations': [{ rule: 'self.missing == 1' }] } } };
  const { tree, errors } = compileSchemaRules(s);
  assert.deepEqual(errors, []);
  assert.deepEqual(validateRules(tree, { n: 2 }), []);
  assert.deepEqual(validateRules(tree, { n: 1 }), [{ type: 'FieldValueInvalid', field: 'n', message: 'Invalid value: "integer": failed rule: self + 1 > 2' }]);
  const [e] = validateRules(tree, { m: {} });
  assert.equal(e.field, 'm');
  assert.match(e.message, /^Invalid value: "object": rule evaluation error: .*missing/);
});

test('the Kubernetes extension functions', () => {
  const rules = [
    "self.s.replace('a', 'b') == 'bbc'",
    "self.s.replace('a', 'x', 1) == 'xac'",
    "self.s.find('[c]+') == 'c'",
    "self.s.findAll('[a-c]').size() == 3",
    "self.s.charAt(2) == 'c'",
    "self.s.reverse() == 'caa'",
    'self.l.isSorted() && self.l.sum() == 6 && self.l.min() == 1 && self.l.max() == 3',
    'self.l.indexOf(2) == 1 && self.l.lastIndexOf(9) == -1',
    "isURL('https://example.com/x') && !isURL('not a url')",
  ];
  const s: JSONSchemaProps = { type: 'object', properties: { s: { type: 'string' }, l: { type: 'array', items: { type: 'integer' } } }, 'x-kubernetes-validations': rules.map((rule) => ({ rule })) };
  const { tree, errors } = compileSchemaRules(s);
  assert.deepEqual(errors, []);
  assert.deepEqual(validateRules(tree, { s: 'aac', l: [1, 2, 3] }), []);
});

test('compile errors name the rule; oldSelf under an uncorrelatable list is refused', () => {
  const s: JSONSchemaProps = {
    type: 'object',
    properties: {
      a: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self +' }, { rule: 'self.nosuch()' }, { rule: 'self.size()' }, { rule: '' }, { rule: 'true', reason: 'Nope', messageExpression: '1' }] },
      list: { type: 'array', items: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] } },
      o: { type: 'object', properties: { x: { type: 'string' } }, 'x-kubernetes-validations': [{ rule: 'true', fieldPath: '.y' }, { rule: 'true', fieldPath: "['x']" }] },
    },
  };
  const { errors } = compileSchemaRules(s, 'spec.versions[0].schema.openAPIV3Schema');
  const at = 'spec.versions[0].schema.openAPIV3Schema.properties';
  assert.deepEqual(
    errors.map((e) => [e.type, e.field]),
    [
      ['FieldValueInvalid', `${at}[a].x-kubernetes-validations[0].rule`],
      ['FieldValueInvalid', `${at}[a].x-kubernetes-validations[1].rule`],
      ['FieldValueInvalid', `${at}[a].x-kubernetes-validations[2].rule`],
      ['FieldValueRequired', `${at}[a].x-kubernetes-validations[3].rule`],
      ['FieldValueNotSupported', `${at}[a].x-kubernetes-validations[4].reason`],
      ['FieldValueInvalid', `${at}[a].x-kubernetes-validations[4].messageExpression`],
      ['FieldValueInvalid', `${at}[list].items.x-kubernetes-validations[0].rule`],
      ['FieldValueInvalid', `${at}[o].x-kubernetes-validations[0].fieldPath`],
    ],
  );
  assert.match(errors[0].message, /compilation failed: /);
  assert.match(errors[2].message, /must evaluate to a bool/);
  assert.match(errors[6].message, /oldSelf cannot be used on the uncorrelatable portion/);
});

test('a rule whose cost on the given value exceeds the limit is refused without running it', () => {
  const s: JSONSchemaProps = { type: 'object', properties: { l: { type: 'array', items: { type: 'integer' }, 'x-kubernetes-validations': [{ rule: 'self.all(a, self.all(b, self.all(c, a + b + c >= 0)))' }] } } };
  const { tree } = compileSchemaRules(s);
  assert.deepEqual(validateRules(tree, { l: [1, 2, 3] }), []);
  const big = { l: Array.from({ length: 500 }, (_, i) => i) };
  const [e, ...rest] = validateRules(tree, big);
  assert.equal(rest.length, 0);
  assert.equal(e.field, 'l');
  assert.match(e.message, /exceed the cost limit/);
});

test('a schema without rules compiles to nothing', () => {
  assert.equal(compileSchemaRules({ type: 'object', properties: { a: { type: 'string' } } }).tree, undefined);
});
