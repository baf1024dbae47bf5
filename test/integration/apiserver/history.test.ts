// A server with a short watch history: watches and continue tokens older than the retained
// history get 410 Expired, as upstream answers after etcd compaction.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import { ApiError } from '../../../src/client/client.js';
import type { WatchEvent } from '../../../src/api/types.js';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'sqlite', controllers: false, args: ['--watch-history', '5'] });
});
after(async () => {
  await s?.stop();
});

const cm = (name: string, v = '1') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { v } });

test('a watch from before the retained history ends with ERROR 410 Expired', async () => {
  const start = await s.client.list(R.configmaps, { namespace: 'default' });
  for (let i = 0; i < 12; i++) await s.client.create(R.configmaps, cm(`h-${i}`));
  const events: WatchEvent[] = [];
  const h = s.client.watch(R.configmaps, { namespace: 'default', resourceVersion: start.metadata.resourceVersion, timeoutSeconds: 5 }, (ev) => events.push(ev));
  await h.done;
  assert.equal(events.length, 1);
  assert.equal(events[0].type, 'ERROR');
  const st = events[0].object as unknown as { code: number; reason: string; message: string };
  assert.equal(st.code, 410);
  assert.equal(st.reason, 'Expired');
  assert.match(st.message, /too old resource version/);
});

test('a continue token whose snapshot left the history is 410 with the upstream message', async () => {
  const page = await s.client.list(R.configmaps, { namespace: 'default', limit: 2 });
  assert.ok(page.metadata.continue);
  for (let i = 0; i < 12; i++) {
    const cur = await s.client.get(R.configmaps, 'default', `h-${i}`);
    await s.client.update(R.configmaps, { ...cur!, data: { v: '2' } });
  }
  await assert.rejects(s.client.list(R.configmaps, { namespace: 'default', limit: 2, continue: page.metadata.continue }), (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 410);
    assert.match(err.message, /^The provided continue parameter is too old to display a consistent list result/);
    return true;
  });
});

test('a continue token inside the history pages a consistent snapshot', async () => {
  const page = await s.client.list(R.configmaps, { namespace: 'default', limit: 3 });
  await s.client.create(R.configmaps, cm('zz-after-first-page'));
  const names: string[] = page.items.map((i) => i.metadata.name!);
  let cont = page.metadata.continue;
  while (cont) {
    const next = await s.client.list(R.configmaps, { namespace: 'default', limit: 3, continue: cont });
    names.push(...next.items.map((i) => i.metadata.name!));
    cont = next.metadata.continue;
  }
  assert.ok(!names.includes('zz-after-first-page'), 'an object created after the first page is not in the snapshot');
  assert.equal(names.length, 12);
});

test('the 410 for an expired continue token carries a new token that continues from the same key', async () => {
  const page = await s.client.list(R.configmaps, { namespace: 'default', limit: 2 });
  const lastOfPage = page.items[page.items.length - 1].metadata.name!;
  for (let i = 0; i < 12; i++) {
    const cur = await s.client.get(R.configmaps, 'default', `h-${i}`);
    await s.client.update(R.configmaps, { ...cur!, data: { v: `3-${i}` } });
  }
  let fresh: string | undefined;
  await assert.rejects(s.client.list(R.configmaps, { namespace: 'default', limit: 2, continue: page.metadata.continue }), (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 410);
    fresh = (err.status.metadata as { continue?: string } | undefined)?.continue;
    return true;
  });
  assert.ok(fresh, 'the 410 Status has metadata.continue');
  const rest = await s.client.list(R.configmaps, { namespace: 'default', limit: 100, continue: fresh });
  const names = rest.items.map((i) => i.metadata.name!);
  assert.ok(names.length > 0);
  assert.ok(names.every((n) => n > lastOfPage), `the new token continues after ${lastOfPage}: ${names.join(',')}`);
  assert.ok(rest.items.some((i) => (i.data as { v?: string } | undefined)?.v?.startsWith('3-')), 'the continued list is of the latest state');
});
