import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_DOWN_MS, MIN_DOWN_MS, chooseServer, initialStates, markFailed, markHealthy, parseServerList } from '../../../src/agent/server-selection.js';

test('--server lists: https URLs, trailing slashes dropped, errors name the flag and the value', () => {
  assert.deepEqual(parseServerList('https://172.18.0.2:6443/, https://172.18.0.3:6443'), ['https://172.18.0.2:6443', 'https://172.18.0.3:6443']);
  assert.deepEqual(parseServerList('https://[fd00::1]:6443'), ['https://[fd00::1]:6443']);
  assert.throws(() => parseServerList(''), /--server needs at least one URL/);
  assert.throws(() => parseServerList('http://10.0.0.1:6443'), /--server: "http:\/\/10.0.0.1:6443" must be an https:\/\/ URL/);
  assert.throws(() => parseServerList('10.0.0.1:6443,https://a:1'), /must be an https|not a URL/);
  assert.throws(() => parseServerList('https://a:1/api'), /must not have a path/);
  assert.throws(() => parseServerList('https://a:1,https://a:1/'), /listed twice/);
});

test('the agent sticks to a working server and moves to the next one when it fails', () => {
  let s = initialStates(['https://a:1', 'https://b:1', 'https://c:1']);
  const now = 1_000_000;
  assert.equal(chooseServer(s, 0, now), 0);
  assert.equal(chooseServer(s, 1, now), 1, 'the server in use is kept while it works, even if it is not the first');
  s = [markFailed(s[0], now), s[1], s[2]];
  assert.equal(chooseServer(s, 0, now), 1, 'a failed server is skipped in favour of the next one');
  s = [s[0], markFailed(s[1], now), s[2]];
  assert.equal(chooseServer(s, 0, now), 2);
  assert.equal(chooseServer(s, 1, now), 2);
  // Once its back-off ends, a failed server is eligible again (the first in order from `current`).
  assert.equal(chooseServer(s, 0, now + MIN_DOWN_MS), 0);
  s = [markHealthy(s[0]), s[1], s[2]];
  assert.deepEqual(s[0], { url: 'https://a:1', failures: 0, downUntil: 0 });
});

test('with every server down, the one whose back-off ends first is tried; back-off doubles up to a cap', () => {
  const now = 5_000;
  let a = initialStates(['https://a:1'])[0];
  const downs: number[] = [];
  for (let k = 0; k < 8; k++) {
    a = markFailed(a, now);
    downs.push(a.downUntil - now);
  }
  assert.deepEqual(downs, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.equal(downs.at(-1), MAX_DOWN_MS);
  const b = markFailed(initialStates(['https://b:1'])[0], now);
  assert.equal(chooseServer([a, b], 0, now), 1, 'b comes back sooner than a');
  assert.equal(chooseServer([b, a], 1, now), 0);
  assert.throws(() => chooseServer([], 0, now), /no API servers/);
});
