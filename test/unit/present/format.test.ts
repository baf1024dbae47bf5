import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, formatLabels } from '../../../src/apiserver/present/tables/format.js';
import { formatLabelSelector, labelSelectorString as selectorString } from '../../../src/api/label-selector.js';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

test('humanDuration follows upstream HumanDuration', () => {
  const cases: [number, string][] = [
    [-3 * s, '<invalid>'],
    [-1 * s, '0s'],
    [0, '0s'],
    [5 * s, '5s'],
    [119 * s, '119s'],
    [2 * m, '2m'],
    [3 * m + 2 * s, '3m2s'],
    [9 * m + 59 * s, '9m59s'],
    [10 * m + 30 * s, '10m'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [5 * h + 3 * m, '5h3m'],
    [8 * h + 10 * m, '8h'],
    [47 * h, '47h'],
    [2 * d, '2d'],
    [2 * d + 3 * h, '2d3h'],
    [8 * d + 3 * h, '8d'],
    [400 * d, '400d'],
    [730 * d, '2y'],
    [740 * d, '2y10d'],
    [3000 * d, '8y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}ms`);
});

test('label selectors print like selector.String()', () => {
  assert.equal(formatLabelSelector({}), '<none>');
  assert.equal(selectorString({ matchLabels: { b: '2', a: '1' } }), 'a=1,b=2');
  assert.equal(
    selectorString({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['fe', 'be'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'zone', operator: 'Exists' },
      ],
    }),
    'app=web,!canary,env notin (prod),tier in (be,fe),zone',
  );
  assert.equal(selectorString({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }), '<invalid>');
  assert.equal(formatLabels({}), '<none>');
  assert.equal(formatLabels({ z: '1', a: '' }), 'a=,z=1');
});
