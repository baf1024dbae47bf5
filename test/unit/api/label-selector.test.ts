import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLabelSelector, labelSelectorIsEmpty, labelSelectorMatches } from '../../../src/api/label-selector.js';

const labels = { app: 'web', tier: 'front', env: 'prod' };

test('an empty selector matches everything, including no labels', () => {
  assert.equal(labelSelectorMatches({}, labels), true);
  assert.equal(labelSelectorMatches({}, undefined), true);
  assert.equal(labelSelectorIsEmpty({ matchLabels: {}, matchExpressions: [] }), true);
  assert.equal(labelSelectorIsEmpty({ matchLabels: { a: 'b' } }), false);
});

test('matchLabels needs every pair', () => {
  assert.equal(labelSelectorMatches({ matchLabels: { app: 'web' } }, labels), true);
  assert.equal(labelSelectorMatches({ matchLabels: { app: 'web', tier: 'back' } }, labels), false);
  assert.equal(labelSelectorMatches({ matchLabels: { missing: '' } }, labels), false);
});

const cases: [string, { key: string; operator: string; values?: string[] }, boolean][] = [
  ['In with the value', { key: 'app', operator: 'In', values: ['db', 'web'] }, true],
  ['In without the value', { key: 'app', operator: 'In', values: ['db'] }, false],
  ['In on a missing key', { key: 'zone', operator: 'In', values: ['a'] }, false],
  ['NotIn with the value', { key: 'env', operator: 'NotIn', values: ['prod'] }, false],
  ['NotIn without the value', { key: 'env', operator: 'NotIn', values: ['dev'] }, true],
  ['NotIn on a missing key', { key: 'zone', operator: 'NotIn', values: ['a'] }, true],
  ['Exists on a present key', { key: 'tier', operator: 'Exists' }, true],
  ['Exists on a missing key', { key: 'zone', operator: 'Exists' }, false],
  ['DoesNotExist on a missing key', { key: 'zone', operator: 'DoesNotExist' }, true],
  ['DoesNotExist on a present key', { key: 'tier', operator: 'DoesNotExist' }, false],
];
for (const [name, req, want] of cases) {
  test(`matchExpressions: ${name}`, () => assert.equal(labelSelectorMatches({ matchExpressions: [req] }, labels), want));
}

test('matchLabels and matchExpressions are ANDed', () => {
  assert.equal(labelSelectorMatches({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }, labels), true);
  assert.equal(labelSelectorMatches({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] }, labels), false);
});

test('a requirement with an unknown operator selects nothing (validation rejects it earlier)', () => {
  assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'app', operator: 'Equals', values: ['web'] }] }, labels), false);
});

test('text form', () => {
  assert.equal(formatLabelSelector({}), '<none>');
  assert.equal(
    formatLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'a', operator: 'In', values: ['y', 'x'] }, { key: 'b', operator: 'DoesNotExist' }] }),
    'a in (x,y),app=web,!b',
  );
});
