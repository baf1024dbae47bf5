// Watch semantics over the wire: initial events, selectors (leaving the selection is DELETED),
// bookmarks, timeoutSeconds, 410 for versions beyond the retained history, Table events.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import type { KubeObject, WatchEvent } from '../../../src/api/types.js';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: false, args: ['--bookmark-interval', '300ms'] });
  await s.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'w' } });
});
after(async () => {
  await s?.stop();
});

function cm(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'w', labels }, data: { a: '1' } };
}

/** Collects the events of a watch that the server ends after `seconds`. */
function collect(query: string, seconds: number, accept = 'application/json'): { events: Promise<WatchEvent[]> } {
  const url = new URL(s.url);
  const ca = readFileSync(join(s.dataDir, 'ca.crt'));
  const token = readFileSync(join(s.dataDir, 'admin.token'), 'utf8').trim();
  const events = new Promise<WatchEvent[]>((resolve, reject) => {
    const req = https.request(
      { host: url.hostname, port: url.port, path: `/api/v1/namespaces/w/configmaps?watch=true&timeoutSeconds=${seconds}&${query}`, ca, headers: { authorization: `Bearer ${token}`, accept } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => {
          assert.equal(res.statusCode, 200);
          assert.ok(body === '' || body.endsWith('\n'), 'every event ends with a newline');
          resolve(body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as WatchEvent));
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
  return { events };
}

const summary = (evs: WatchEvent[]) => evs.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${e.object.metadata.name}`);

test('without a resourceVersion a watch starts with ADDED for what exists, then follows changes', async () => {
  await s.client.create(R.configmaps, cm('first'));
  const w = collect('', 2);
  await new Promise((r) => setTimeout(r, 300));
  await s.client.create(R.configmaps, cm('second'));
  assert.deepEqual(summary(await w.events), ['ADDED first', 'ADDED second']);
});

test('a label-selected watch sees objects enter and leave the selection', async () => {
  const list = await s.client.list(R.configmaps, { namespace: 'w' });
  const w = collect(`labelSelector=team%3Dblue&resourceVersion=${list.metadata.resourceVersion}`, 2);
  await new Promise((r) => setTimeout(r, 300));
  await s.client.create(R.configmaps, cm('sel', { team: 'red' }));
  await s.client.patch(R.configmaps, 'w', 'sel', { metadata: { labels: { team: 'blue' } } }, 'merge');
  await s.client.patch(R.configmaps, 'w', 'sel', { data: { a: '2' } }, 'merge');
  await s.client.patch(R.configmaps, 'w', 'sel', { metadata: { labels: { team: 'green' } } }, 'merge');
  const evs = await w.events;
  assert.deepEqual(summary(evs), ['ADDED sel', 'MODIFIED sel', 'DELETED sel']);
  const deleted = evs.find((e) => e.type === 'DELETED')!;
  assert.equal(deleted.object.metadata.labels?.team, 'blue', 'DELETED carries the last matching content');
});

test('bookmarks arrive when asked for, with a resourceVersion a watch can resume from', async () => {
  const evs = await collect('allowWatchBookmarks=true&resourceVersion=0', 1).events;
  const bookmarks = evs.filter((e) => e.type === 'BOOKMARK');
  assert.ok(bookmarks.length >= 1, `expected a bookmark in ${JSON.stringify(evs.map((e) => e.type))}`);
  assert.equal(bookmarks[0].object.kind, 'ConfigMap');
  assert.match(bookmarks[0].object.metadata.resourceVersion!, /^\d+$/);
  const none = await collect('resourceVersion=0', 1).events;
  assert.equal(none.filter((e) => e.type === 'BOOKMARK').length, 0);
});

test('a resourceVersion from the future ends in an ERROR event: 504 Too large resource version, as upstream', async () => {
  const evs = await collect('resourceVersion=99999999', 5).events;
  assert.equal(evs.length, 1);
  assert.equal(evs[0].type, 'ERROR');
  const st = evs[0].object as unknown as { code: number; reason: string; message: string; details: { causes: { reason: string }[] } };
  assert.equal(st.code, 504);
  assert.equal(st.reason, 'Timeout');
  assert.match(st.message, /^Too large resource version: 99999999, current: \d+$/);
  assert.equal(st.details.causes[0].reason, 'ResourceVersionTooLarge');
});

test('Table watches send rows (kubectl get -w)', async () => {
  const list = await s.client.list(R.configmaps, { namespace: 'w' });
  const w = collect(`resourceVersion=${list.metadata.resourceVersion}`, 2, 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json');
  await new Promise((r) => setTimeout(r, 300));
  await s.client.create(R.configmaps, cm('tabled'));
  const evs = await w.events;
  assert.equal(evs.length, 1);
  const table = evs[0].object as unknown as { kind: string; rows: { cells: unknown[]; object: { metadata: { name: string } } }[] };
  assert.equal(table.kind, 'Table');
  assert.equal(table.rows[0].cells[0], 'tabled');
  assert.equal(table.rows[0].object.metadata.name, 'tabled');
});
