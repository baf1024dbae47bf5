// The client over HTTP/2 against the real API server: every request and watch of the process (two
// clients with the same credentials included) shares one TLS connection; a server restart drops
// the dead session and the watches come back on a new one; a 401 (whose connection the server
// ends with GOAWAY) leaves the next request working; a server with --http2=false is spoken to over
// HTTP/1.1, one connection per watch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startTestServer } from '../../support/server.js';
import { ApiError, KubeClient } from '../../../src/client/client.js';
import { loadKubeconfig } from '../../../src/client/kubeconfig.js';
import { Informer } from '../../../src/client/informer.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';

/** This process's established TCP connections to `url`'s port, from `ss`. */
function connectionsTo(url: string): number {
  const port = new URL(url).port;
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', 'dst', `127.0.0.1:${port}`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(`pid=${process.pid},`)).length;
}

function waitFor(check: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - started > 20_000) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

const configMap = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', labels: { set: name.split('-')[0] } }, data: { k: name } });

async function watchesAndWrites(url: string, kubeconfig: string, prefix: string): Promise<{ clients: KubeClient[]; informers: Informer<KubeObject>[] }> {
  const clients = [new KubeClient(loadKubeconfig(kubeconfig)), new KubeClient(loadKubeconfig(kubeconfig))];
  const informers = [R.configmaps, R.secrets, R.services, R.serviceaccounts, R.endpoints].map((r, i) => new Informer<KubeObject>(clients[i % 2], r, { namespace: 'default' }));
  await Promise.all(informers.map((inf) => inf.start()));
  await Promise.all(Array.from({ length: 30 }, (_, i) => clients[i % 2].create(R.configmaps, configMap(`${prefix}-${i}`))));
  await waitFor(() => informers[0].list().filter((o) => o.metadata.name?.startsWith(prefix)).length === 30, `the informer to see 30 ${prefix} ConfigMaps (at ${url})`);
  return { clients, informers };
}

test('HTTP/2: one connection per process and credentials; restart, 401 and GOAWAY', async (t) => {
  const server = await startTestServer({ store: 'memory', controllers: false });
  t.after(() => server.stop());
  const { clients, informers } = await watchesAndWrites(server.url, server.kubeconfig, 'h2');
  t.after(() => {
    for (const inf of informers) inf.stop();
    for (const c of clients) c.close();
  });
  // server.client (the same credentials) has been used too; all of it is one connection.
  await server.client.list(R.configmaps, { namespace: 'default' });
  assert.equal(connectionsTo(server.url), 1, 'five watches and 30 writes from two clients with the same credentials share one connection');

  // More than the connection's whole receive window (16 MiB) flows down the ConfigMap watch while
  // other requests share the connection: the watch is read as it arrives, so none of them waits.
  const big = 'x'.repeat(900 * 1024);
  const bigOnes = (async () => {
    for (let i = 0; i < 24; i++) await clients[0].create(R.configmaps, { ...configMap(`big-${i}`), data: { k: big } });
  })();
  for (let i = 0; i < 10; i++) assert.equal((await clients[1].list(R.configmaps, { namespace: 'default', labelSelector: 'set=h2' })).items.length, 30);
  await bigOnes;
  await waitFor(() => informers[0].list().filter((o) => o.metadata.name?.startsWith('big-')).length === 24, 'the informer to see 24 ConfigMaps of 900 KiB');
  assert.equal(connectionsTo(server.url), 1, 'still one connection');

  // Three lists of 21 MiB at once: the server refuses a stream while a session holds more unsent
  // answers than its memory limit (ENHANCE_YOUR_CALM); the client sends it again on another session.
  const lists = await Promise.all([0, 1, 2].map(() => clients[1].list(R.configmaps, { namespace: 'default', labelSelector: 'set=big' })));
  for (const l of lists) assert.equal(l.items.length, 24);

  // A request without valid credentials gets its 401, the server ends that session with GOAWAY,
  // and the next one (and the one after) still gets an answer on a new session.
  const refused = new KubeClient({ ...loadKubeconfig(server.kubeconfig), token: 'not-a-token' });
  t.after(() => refused.close());
  for (let i = 0; i < 3; i++) {
    await assert.rejects(refused.list(R.configmaps, { namespace: 'default' }), (err) => err instanceof ApiError && err.code === 401, `request ${i + 1} with a bad token answers 401`);
  }

  // The server restarts: the session dies, and the watches resume on a new one.
  await server.restart();
  await server.client.create(R.configmaps, configMap('after-restart'));
  await waitFor(() => informers[0].list().some((o) => o.metadata.name === 'after-restart'), 'the informer to see a ConfigMap made after the restart');
  await waitFor(() => connectionsTo(server.url) === 1, 'one connection after the restart');
});

test('HTTP/1.1: a server with --http2=false is spoken to over HTTP/1.1', async (t) => {
  const server = await startTestServer({ store: 'memory', controllers: false, args: ['--http2=false'] });
  t.after(() => server.stop());
  const { clients, informers } = await watchesAndWrites(server.url, server.kubeconfig, 'h1');
  t.after(() => {
    for (const inf of informers) inf.stop();
    for (const c of clients) c.close();
  });
  assert.ok(connectionsTo(server.url) >= 5, `each of five watches has its own connection over HTTP/1.1 (saw ${connectionsTo(server.url)})`);
});
