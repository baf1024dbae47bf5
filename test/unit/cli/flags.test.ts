// flatnet's flag parser: boolean flags with their defaults (flatnet server --http2 is on unless
// --http2=false), and the values Go's flags accept for them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags, UsageError } from '../../../src/cli/flags.js';

test('a boolean listed by name is false unless given; one with a default keeps it unless given', () => {
  const spec = { values: { listen: '127.0.0.1:6443' }, booleans: { http2: true, verbose: false } };
  assert.deepEqual(parseFlags([], spec).booleans, { http2: true, verbose: false });
  assert.deepEqual(parseFlags(['--http2=false', '--verbose'], spec).booleans, { http2: false, verbose: true });
  assert.deepEqual(parseFlags(['--http2'], spec).booleans, { http2: true, verbose: false });
  assert.deepEqual(parseFlags(['--ha'], { booleans: ['ha'] }).booleans, { ha: true });
  assert.deepEqual(parseFlags([], { booleans: ['ha'] }).booleans, { ha: false });
});

test('a boolean takes the values strconv.ParseBool does, and anything else is an error naming the flag', () => {
  const spec = { booleans: { http2: true } };
  for (const v of ['false', 'False', 'FALSE', 'f', 'F', '0']) assert.equal(parseFlags([`--http2=${v}`], spec).booleans.http2, false, v);
  for (const v of ['true', 'True', 'TRUE', 't', 'T', '1']) assert.equal(parseFlags([`--http2=${v}`], spec).booleans.http2, true, v);
  for (const v of ['no', 'off', '', 'yes']) {
    assert.throws(() => parseFlags([`--http2=${v}`], spec), (err: Error) => err instanceof UsageError && err.message === `flag --http2 takes true or false, not ${JSON.stringify(v)}`);
  }
});

test('a name inherited by every object is not a flag', () => {
  assert.throws(() => parseFlags(['--constructor'], { booleans: { http2: true } }), /unknown flag --constructor \(known flags: --http2\)/);
});
