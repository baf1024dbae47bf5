// The client over HTTP/2 against the real API server: every request and watch of the process (two
// clients with the same credentials included) shares one TLS connection; a server restart drops
// the dead session and the watches come back on a new one; a 401 (whose connection the server
// ends with GOAWAY) leaves the next request working; a server that goes silent without closing the
// connection (a network cut) is found by the client's PING and the watches resume on a new
// connection; a server with --http2=false is spoken to over HTTP/1.1, one connection per watch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { startTestServer } from '../../support/server.js';
import { ApiError, KubeClient } from '../../../src/client/client.js';
import { loadKubeconfig } from '../../../src/client/kubeconfig.js';
import { healthCheck } from '../../../src/client/h2-sessions.js';
import { Informer } from '../../../src/client/informer.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { eventually } from '../../support/lab.js';

/** This process's established TCP connections to `url`'s port, from `ss`. */
function connectionsTo(url: string): number {
  const port = new URL(url).port;
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', 'dst', `127.0.0.1:${port}`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(`pid=${process.pid},`)).length;
}

/** Polls `check` every 10 ms until it holds (20 s at most). */
const waitFor = (check: () => boolean, what: string): Promise<boolean> => eventually(what, check, 20_000, 10);

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

/**
 * A TCP relay to `port` whose open connections can be cut silently: cut() stops carrying bytes on
 * them both ways without closing either side (no FIN, no RST, as a pulled cable), while new
 * connections are relayed as before.
 */
async function silenceableRelay(port: number): Promise<{ url: string; accepted: () => number; cut: () => void; close: () => void }> {
  const pairs: [net.Socket, net.Socket][] = [];
  const cutOff: net.Socket[] = [];
  let accepted = 0;
  const relay = net.createServer((downstream) => {
    accepted++;
    const upstream = net.connect(port, '127.0.0.1');
    downstream.pipe(upstream).pipe(downstream);
    for (const s of [downstream, upstream]) s.on('error', () => {});
    pairs.push([downstream, upstream]);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `https://127.0.0.1:${(relay.address() as net.AddressInfo).port}`,
    accepted: () => accepted,
    cut() {
      for (const [down, up] of pairs.splice(0)) {
        down.unpipe(up);
        up.unpipe(down);
        down.pause();
        up.pause();
        cutOff.push(down, up);
      }
    },
    close() {
      for (const s of [...cutOff, ...pairs.flat()]) s.destroy();
      relay.close();
    },
  };
}

test('a server gone silent: the client PINGs it, closes the connection and the watch resumes on a new one', async (t) => {
  // Short health-check timings so the test need not wait client-go's 45 s; the behaviour is the same.
  const saved = { ...healthCheck };
  Object.assign(healthCheck, { readIdleTimeoutMs: 1000, pingTimeoutMs: 1000 });
  t.after(() => Object.assign(healthCheck, saved));
  const server = await startTestServer({ store: 'memory', controllers: false });
  t.after(() => server.stop());
  const relay = await silenceableRelay(Number(new URL(server.url).port));
  t.after(() => relay.close());
  const client = new KubeClient({ ...loadKubeconfig(server.kubeconfig), server: relay.url });
  const informer = new Informer<KubeObject>(client, R.configmaps, { namespace: 'default' });
  t.after(() => {
    informer.stop();
    client.close();
  });
  await informer.start();
  await server.client.create(R.configmaps, configMap('cut-before'));
  await waitFor(() => informer.get('default', 'cut-before') !== undefined, 'the informer to see a ConfigMap made before the cut');
  assert.equal(relay.accepted(), 1, 'the list and the watch share one connection');

  relay.cut();
  await server.client.create(R.configmaps, configMap('cut-after'));
  await waitFor(() => informer.get('default', 'cut-after') !== undefined, 'the informer to see a ConfigMap made after the cut (its watch resumed on a new connection)');
  assert.equal(relay.accepted(), 2, 'the client opened one new connection');
  const list = await client.list(R.configmaps, { namespace: 'default', labelSelector: 'set=cut' });
  assert.deepEqual(list.items.map((o) => o.metadata.name).sort(), ['cut-after', 'cut-before'], 'requests go to the new connection');
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
