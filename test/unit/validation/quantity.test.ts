import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuantity } from '../../../src/api/validation/quantity.js';

test('quantities', () => {
  const table: [unknown, number | undefined][] = [
    ['100m', 0.1],
    ['1', 1],
    ['1.5', 1.5],
    ['512Mi', 512 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['2k', 2000],
    ['1e3', 1000],
    [250, 250],
    ['-1', -1],
    ['lots', undefined],
    ['1Xi', undefined],
    [null, undefined],
  ];
  for (const [q, v] of table) assert.equal(parseQuantity(q), v, String(q));
});
