// firstClusterDnsAnswer keeps starting probes while earlier ones are still out: an answer from a
// later probe is taken without waiting for an earlier one to time out; with no answer by the
// deadline it gives up once every probe is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstClusterDnsAnswer } from '../../../src/lab/dns-answer.js';

test('a later probe answers while the first is still out: its answer is taken', async () => {
  const pending: ((a: string | undefined) => void)[] = [];
  let started = 0;
  const probe = (netns: string) => {
    assert.equal(netns, 'flatnet-node-node-1');
    started++;
    if (started === 1) return new Promise<string | undefined>((resolve) => pending.push(resolve)); // a dig waiting for its 1 s timeout
    if (started === 2) return Promise.resolve(undefined); // refused: no endpoint yet
    return Promise.resolve('10.96.0.1');
  };
  const answer = await firstClusterDnsAnswer('flatnet-node-node-1', Date.now() + 60_000, probe);
  assert.equal(answer, '10.96.0.1');
  assert.equal(pending.length, 1, 'the first probe was still out when the answer came');
  pending[0](undefined);
});

test('no answer before the deadline: undefined once every probe is back', async () => {
  let started = 0;
  const answer = await firstClusterDnsAnswer('n', Date.now() + 250, () => {
    started++;
    return new Promise((resolve) => setTimeout(() => resolve(undefined), 50));
  });
  assert.equal(answer, undefined);
  assert.ok(started >= 1);
});
