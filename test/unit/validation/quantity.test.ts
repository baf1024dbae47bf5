import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuantity } from '../../../src/api/quantity.js';

test('quantities as requests and limits hold them: exact, JSON numbers taken as their text, upstream errors', () => {
  const table: [string | number, string | undefined][] = [
    ['100m', '0.1'],
    ['1', '1'],
    ['1.5', '1.5'],
    ['512Mi', String(512 * 2 ** 20)],
    ['2k', '2000'],
    ['1e3', '1000'],
    [250, '250'],
    [0.5, '0.5'],
    [1e21, '1000000000000000000000'],
    ['-1', '-1'],
    // A float parse gave 0.30000000000000004 for 0.1 + 0.2 and lost digits past 2^53.
    ['9007199254740993', '9007199254740993'],
    ['lots', undefined],
    ['1Xi', undefined],
    ['1.5.5', undefined],
    [' 1', undefined],
    [Number.NaN, undefined],
  ];
  const text = (q: ReturnType<typeof parseQuantity>) => {
    if ('error' in q) return undefined;
    const s = (q.digits < 0n ? -q.digits : q.digits).toString().padStart(q.scale + 1, '0');
    const whole = s.slice(0, s.length - q.scale);
    const frac = s.slice(s.length - q.scale).replace(/0+$/, '');
    return `${q.digits < 0n ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
  };
  for (const [q, v] of table) assert.equal(text(parseQuantity(q)), v, String(q));
});
