// Regular expressions on RE2 semantics, as Kubernetes runs them: CEL matches() (function and
// method), find() and findAll(), and CRD schema `pattern` take RE2 syntax ((?i), \pL), refuse what
// RE2 refuses (lookaround) with Go's message at CRD write, and a pattern that backtracks
// exponentially in a JS RegExp answers at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { celEnvironment, celSource } from '../../../src/api/crd/cel/library.js';
import { validateAgainstSchema } from '../../../src/api/crd/schema/validate.js';
import { validateStructuralSchema } from '../../../src/api/crd/schema/structural.js';
import { re2FindAll } from '../../../src/api/crd/re2.js';

function run(expr: string, self: unknown = null): unknown {
  const env = celEnvironment();
  const source = celSource(expr);
  const checked = env.check(source);
  assert.ok(checked.valid, `${expr} does not compile: ${checked.error?.message}`);
  return env.evaluate(source, { self });
}

test('CEL regex functions use RE2 syntax and Go semantics', () => {
  assert.equal(run('"ABC".matches("(?i)^abc$")'), true);
  assert.equal(run('matches("ABC", "(?i)^abc$")'), true);
  assert.equal(run('self.matches("^\\\\pL+$")', 'héllo'), true);
  assert.equal(run('self.matches("^[a-z]+$")', 'héllo'), false);
  assert.equal(run('"x1y22z333".find("[0-9]+")'), '1');
  assert.deepEqual(run('"x1y22z333".findAll("[0-9]+")'), ['1', '22', '333']);
  assert.deepEqual(run('"x1y22z333".findAll("[0-9]+", 2)'), ['1', '22']);
  assert.deepEqual(re2FindAll('a*', 'baaa'), ['', 'aaa']);
  assert.throws(() => run('"a".matches("(?=a)")'), /error parsing regexp: invalid or unsupported Perl syntax: `\(\?=`/);
  // exponential for a backtracking engine; linear in RE2
  assert.equal(run(`"${'a'.repeat(64)}!".matches("^(a+)+$")`), false);
});

test('schema pattern: RE2 at CRD write and on values', () => {
  const refused = validateStructuralSchema({ type: 'object', properties: { a: { type: 'string', pattern: '^(?!x)' } } }, 'openAPIV3Schema');
  assert.ok(
    refused.some((e) => e.field === 'openAPIV3Schema.properties[a].pattern' && /must be a valid regular expression, but isn't: error parsing regexp: invalid or unsupported Perl syntax/.test(e.message)),
    JSON.stringify(refused),
  );
  const schema = { type: 'object', properties: { a: { type: 'string', pattern: '(?i)^[a-z]+$' }, b: { type: 'string', pattern: '^(a|aa)+$' } } };
  assert.deepEqual(validateStructuralSchema(schema, 'openAPIV3Schema'), []);
  assert.deepEqual(validateAgainstSchema(schema, { a: 'MiXed', b: 'aaaa' }), []);
  const bad = validateAgainstSchema(schema, { a: 'no-dash', b: `${'a'.repeat(80)}b` });
  assert.deepEqual(
    bad.map((e) => e.field),
    ['a', 'b'],
  );
  assert.match(bad[0].message, /a in body should match '\(\?i\)\^\[a-z\]\+\$'/);
});
