import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../../src/controllers/queue.js';
import { Expectations } from '../../../src/controllers/expectations.js';
import { createLogger } from '../../../src/util/log.js';

const log = createLogger('test');

test('keys added while waiting run once; a key added while running runs again; failures retry', async () => {
  const runs: string[] = [];
  let failOnce = true;
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const q = new WorkQueue(
    't',
    async (key) => {
      runs.push(key);
      if (key === 'slow' && runs.filter((k) => k === 'slow').length === 1) await gate;
      if (key === 'flaky' && failOnce) {
        failOnce = false;
        throw new Error('conflict');
      }
    },
    log,
    { baseDelayMs: 1 },
  );
  q.add('a');
  q.add('a');
  q.add('a');
  q.start();
  q.add('slow');
  q.add('slow'); // while running: once more afterwards
  q.add('flaky');
  release();
  await q.idle();
  await new Promise((r) => setTimeout(r, 30));
  await q.idle();
  assert.deepEqual(runs.filter((k) => k === 'a'), ['a']);
  assert.deepEqual(runs.filter((k) => k === 'slow'), ['slow', 'slow']);
  assert.deepEqual(runs.filter((k) => k === 'flaky'), ['flaky', 'flaky']);
  q.stop();
});

test('expectations hold until the cache shows the writes', () => {
  const e = new Expectations();
  const cache = new Map<string, any>();
  e.expect('svc', 'ns/a', 'create');
  e.expect('svc', 'ns/b', 'update', '5');
  cache.set('ns/b', { metadata: { resourceVersion: '5' } });
  assert.equal(e.satisfied('svc', (k) => cache.get(k)), false);
  cache.set('ns/a', { metadata: { resourceVersion: '6' } });
  assert.equal(e.satisfied('svc', (k) => cache.get(k)), false);
  cache.set('ns/b', { metadata: { resourceVersion: '7' } });
  assert.equal(e.satisfied('svc', (k) => cache.get(k)), true);
  e.expect('svc', 'ns/a', 'delete');
  assert.equal(e.satisfied('svc', (k) => cache.get(k)), false);
  cache.delete('ns/a');
  assert.equal(e.satisfied('svc', (k) => cache.get(k)), true);
});
