// watchUntil against the real API server: a state already there is taken from the first list, a
// later change ends the wait on its watch event, and an error from `decide`, the timeout and an
// abort each end it with their own error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../../support/server.js';
import { WatchUntilTimeout, watchUntil } from '../../../src/client/watch-until.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';

const dataOf = (o: KubeObject | undefined) => (o as { data?: Record<string, string> } | undefined)?.data;

test('watchUntil: from the list, on a later change, and its three ways to fail', async (t) => {
  const server = await startTestServer({ store: 'memory', controllers: false });
  t.after(() => server.stop());
  const client = server.client;
  const cm = await client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w1', namespace: 'default' }, data: { k: '1' } });
  const byName = { namespace: 'default', fieldSelector: 'metadata.name=w1', timeoutMs: 30_000, what: 'ConfigMap w1' };

  // Already there: the first list answers.
  assert.equal(await watchUntil(client, R.configmaps, byName, (m) => dataOf(m.get('default/w1'))?.k), '1');

  // A later change: the wait is still open when the update is written, and the watch event ends it.
  let calls = 0;
  const waiting = watchUntil(client, R.configmaps, byName, (m) => {
    calls++;
    const k = dataOf(m.get('default/w1'))?.k;
    return k === '2' ? k : undefined;
  });
  // The first list has been answered (decide ran once) before the update.
  for (let i = 0; calls === 0 && i < 500; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls, 1, 'decide runs once after the first list');
  await client.update(R.configmaps, { ...cm, data: { k: '2' } });
  assert.equal(await waiting, '2');

  // Other objects do not match the selector.
  await client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w2', namespace: 'default' }, data: { k: 'x' } });
  const seen = await watchUntil(client, R.configmaps, byName, (m) => [...m.keys()]);
  assert.deepEqual(seen, ['default/w1']);

  // An error thrown by decide rejects the wait with that error.
  await assert.rejects(watchUntil(client, R.configmaps, byName, () => {
    throw new Error('refused: the object says no');
  }), /refused: the object says no/);

  // Nothing matches within the time: WatchUntilTimeout naming what was waited for.
  await assert.rejects(watchUntil(client, R.configmaps, { ...byName, fieldSelector: 'metadata.name=absent', timeoutMs: 300, what: 'ConfigMap absent' }, (m) => (m.size > 0 ? true : undefined)), (err: Error) => {
    assert.ok(err instanceof WatchUntilTimeout, err.message);
    assert.match(err.message, /ConfigMap absent did not happen within/);
    return true;
  });

  // An abort ends the wait with the signal's reason.
  const stop = new AbortController();
  const aborted = watchUntil(client, R.configmaps, { ...byName, fieldSelector: 'metadata.name=absent', signal: stop.signal }, (m) => (m.size > 0 ? true : undefined));
  stop.abort(new Error('agent stopping'));
  await assert.rejects(aborted, /agent stopping/);
});
