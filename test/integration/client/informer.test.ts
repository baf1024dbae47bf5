// flatnet's own informer against the real API server: it sees every add, update and delete,
// and stopping it (which aborts its watch) does not crash the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../../support/server.js';
import { Informer } from '../../../src/client/informer.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { eventually } from '../../support/lab.js';

/** Polls `check` every 10 ms until it holds (20 s at most). */
const waitFor = (check: () => boolean, what: string): Promise<boolean> => eventually(what, check, 20_000, 10);

test('informer sees every change and stops cleanly', async (t) => {
  const server = await startTestServer({ store: 'memory', controllers: false });
  t.after(() => server.stop());
  const seen: string[] = [];
  const informer = new Informer<KubeObject>(server.client, R.configmaps, { namespace: 'default' });
  informer.addHandlers({
    add: (o) => seen.push(`add ${o.metadata.name}`),
    update: (o) => seen.push(`update ${o.metadata.name} ${(o.data as Record<string, string>).k}`),
    delete: (o) => seen.push(`delete ${o.metadata.name}`),
  });
  await informer.start();
  const cm = await server.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1', namespace: 'default' }, data: { k: '1' } });
  await server.client.update(R.configmaps, { ...cm, data: { k: '2' } });
  await server.client.delete(R.configmaps, 'default', 'c1');
  await waitFor(() => seen.length >= 3, 'three events');
  assert.deepEqual(seen, ['add c1', 'update c1 2', 'delete c1']);
  assert.equal(informer.list().length, 0);

  let uncaught: unknown;
  const onUncaught = (err: unknown) => (uncaught = err);
  process.on('uncaughtException', onUncaught);
  t.after(() => process.off('uncaughtException', onUncaught));
  informer.stop();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(uncaught, undefined, `stopping the informer threw: ${String(uncaught)}`);
});
