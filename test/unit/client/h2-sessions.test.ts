// The client's HTTP/2 session pool against servers in this process that misbehave on cue: a
// client closed while its connection is being opened leaves no connection; a stream beyond a
// GOAWAY's last stream is sent again on a new session while the streams the GOAWAY kept finish on
// the old one; a server that answered ALPN with http/1.1 and comes back speaking HTTP/2 is spoken
// to over HTTP/2 once the HTTP/1.1 connections have closed; the pool and the process's pool map
// keep only live sessions and pools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { KubeClient } from '../../../src/client/client.js';
import { acquirePool, releasePool } from '../../../src/client/h2-sessions.js';
import type { ClusterConnection } from '../../../src/client/kubeconfig.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject, WatchEvent } from '../../../src/api/types.js';
import { selfSignedCertificate } from '../../support/certificates.js';
import { eventually } from '../../support/lab.js';

const { certPem, keyPem } = selfSignedCertificate(['127.0.0.1']);
const emptyList = JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] });

function connectionTo(port: number, token = 'token'): ClusterConnection {
  return { server: `https://127.0.0.1:${port}`, ca: Buffer.from(certPem), token };
}

/** Polls `check` every 10 ms until it holds (20 s at most). */
const waitFor = (check: () => boolean, what: string): Promise<boolean> => eventually(what, check, 20_000, 10);

/** Listens on `port` (0: any) and answers the port; `sockets` counts the server's open TCP connections. */
async function listen(server: http2.Http2SecureServer | https.Server, port = 0): Promise<{ port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { port: (server.address() as AddressInfo).port, sockets };
}

function stop(server: http2.Http2SecureServer | https.Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

test('a client closed while its connection is being opened leaves no connection open', async (t) => {
  const server = http2.createSecureServer({ cert: certPem, key: keyPem }, (_req, res) => res.end(emptyList));
  const { port, sockets } = await listen(server);
  t.after(() => stop(server, sockets));
  const client = new KubeClient(connectionTo(port));
  const listing = client.list(R.configmaps);
  client.close();
  await assert.rejects(listing, /the client was closed/, 'the request of a client closed while connecting fails');
  await waitFor(() => sockets.size === 0, 'the server to see the connection closed');
  const pool = acquirePool(connectionTo(port));
  assert.equal(pool.size, 0, 'no session was added to the pool after the client closed');
  releasePool(pool);
});

test('GOAWAY: a stream the server never processed goes to a new session; the streams it kept finish on the old one', async (t) => {
  const server = http2.createSecureServer({ cert: certPem, key: keyPem });
  const sessions: http2.ServerHttp2Session[] = [];
  let watchStream: http2.ServerHttp2Stream | undefined;
  /** The session (0, 1) each watch came on. */
  const watchSessions: number[] = [];
  server.on('session', (s) => sessions.push(s));
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path']);
    stream.on('error', () => {}); // the stream beyond the GOAWAY's last one ends with REFUSED_STREAM
    const n = sessions.indexOf(stream.session as http2.ServerHttp2Session);
    if (path.includes('watch=true')) {
      watchSessions.push(n);
      if (n > 0) return void stream.respond({ ':status': 200, 'content-type': 'application/json' }, { endStream: true });
      watchStream = stream;
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'before', namespace: 'default' } } }) + '\n');
      return;
    }
    if (n === 0) {
      // The first session's second stream: the server ends the session without processing it.
      stream.session!.goaway(http2.constants.NGHTTP2_NO_ERROR, watchStream!.id);
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: String(n) }, items: [] }));
  });
  const { port, sockets } = await listen(server);
  t.after(() => stop(server, sockets));
  const client = new KubeClient(connectionTo(port));
  t.after(() => client.close());
  const pool = acquirePool(connectionTo(port));
  t.after(() => releasePool(pool));

  const events: WatchEvent<KubeObject>[] = [];
  const watch = client.watch(R.configmaps, { namespace: 'default' }, (ev) => events.push(ev));
  await waitFor(() => events.length === 1, 'the watch to see its first event');

  const list = await client.list(R.configmaps, { namespace: 'default' });
  assert.equal(list.metadata.resourceVersion, '1', 'the list refused by the GOAWAY was answered on the second session');
  assert.equal(sessions.length, 2);
  assert.equal(pool.size, 1, 'the GOAWAY-ing session left the pool');

  // A watch started while the first session is still open (its first watch goes on) goes to the second.
  const second = client.watch(R.configmaps, { namespace: 'default' }, () => {});
  assert.equal(await second.done, undefined);
  assert.deepEqual(watchSessions, [0, 1]);

  // The watch, below the GOAWAY's last stream, goes on over the old session.
  watchStream!.end(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'after-goaway', namespace: 'default' } } }) + '\n');
  assert.equal(await watch.done, undefined, 'the watch ended normally');
  assert.deepEqual(events.map((e) => e.object.metadata.name), ['before', 'after-goaway']);

  // A request started after the GOAWAY goes to the second session.
  const again = await client.list(R.configmaps, { namespace: 'default' });
  assert.equal(again.metadata.resourceVersion, '1');
  assert.equal(sessions.length, 2, 'no third session');
  await waitFor(() => sessions[0].closed || sessions[0].destroyed, 'the first session to close');
  assert.equal(pool.size, 1, 'only the live session is in the pool');
});

test('HTTP/1.1 fallback: once its HTTP/1.1 connections closed, a server that now speaks HTTP/2 is spoken to over HTTP/2', async (t) => {
  const versions: string[] = [];
  const answer = (req: { httpVersion: string }, res: { setHeader(n: string, v: string): void; end(b: string): void }) => {
    versions.push(req.httpVersion);
    res.setHeader('content-type', 'application/json');
    res.end(emptyList);
  };
  const h1 = https.createServer({ cert: certPem, key: keyPem }, answer);
  const first = await listen(h1);
  t.after(() => stop(h1, first.sockets));
  const client = new KubeClient(connectionTo(first.port));
  t.after(() => client.close());
  const pool = acquirePool(connectionTo(first.port));
  t.after(() => releasePool(pool));

  await client.list(R.configmaps);
  await client.list(R.configmaps);
  assert.deepEqual(versions, ['1.1', '1.1']);
  assert.equal(pool.http1, true);

  // The server restarts, now with HTTP/2: its HTTP/1.1 connections close.
  await stop(h1, first.sockets);
  await waitFor(() => !pool.http1, 'the client to see its HTTP/1.1 connections closed');
  const h2 = http2.createSecureServer({ cert: certPem, key: keyPem, allowHTTP1: true }, answer);
  const second = await listen(h2, first.port);
  t.after(() => stop(h2, second.sockets));
  await client.list(R.configmaps);
  await client.list(R.configmaps);
  assert.deepEqual(versions, ['1.1', '1.1', '2.0', '2.0'], 'the requests after the restart went over HTTP/2');
  assert.equal(second.sockets.size, 1, 'over one connection');
});

test('the pool map keeps a pool only while a client uses it', () => {
  const a = acquirePool(connectionTo(1, 'a'));
  const b = acquirePool(connectionTo(1, 'b'));
  assert.equal(a, b, 'clients with the same server and TLS identity share one pool whatever their token');
  const other = acquirePool({ ...connectionTo(1), insecureSkipTLSVerify: true });
  assert.notEqual(other, a, 'another TLS identity has its own pool');
  releasePool(other);
  releasePool(a);
  assert.equal(acquirePool(connectionTo(1)), b, 'still in use by one');
  releasePool(b);
  releasePool(b);
  const fresh = acquirePool(connectionTo(1));
  assert.notEqual(fresh, a, 'released by every user, the pool left the map: a new user gets a new one');
  releasePool(fresh);
});
