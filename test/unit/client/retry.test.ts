// The client's retries (retry.ts, as client-go's rest.Request retries) against servers in this
// process that answer on cue, over HTTP/1.1 and over HTTP/2: an answer 429 or 5xx with
// Retry-After is sent again (any verb) after that many seconds; without Retry-After it reaches the
// caller at once (a PodDisruptionBudget's refusal of an eviction); a GET whose connection was reset
// is sent again, a POST is not (the server may have done it); 10 retries at most; a client closed
// while a request waits ends the wait; a GET on an HTTP/2 connection the health check closes
// (a server gone silent) is sent again on a new one. The wait is one millisecond per second of
// Retry-After here (the option tests set), so nothing waits for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo, type Socket } from 'node:net';
import { ApiError, KubeClient } from '../../../src/client/client.js';
import { healthCheck } from '../../../src/client/h2-sessions.js';
import { CONNECTION_ERROR_WAIT_SECONDS, MAX_RETRIES, isConnectionLost, nextRetry, retryAfterSeconds } from '../../../src/client/retry.js';
import type { ClusterConnection } from '../../../src/client/kubeconfig.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { selfSignedCertificate } from '../../support/certificates.js';

const { certPem, keyPem } = selfSignedCertificate(['127.0.0.1']);

/** What the server does with a request: answer, reset the connection, or never answer. */
type Action = { status: number; retryAfter?: string } | 'reset' | 'silent';
/** The action for a request, given how many with the same method and path came before it. */
type Script = (method: string, path: string, before: number) => Action;

interface ScriptedServer {
  connection: ClusterConnection;
  /** `METHOD path` of every request the server received, in order. */
  seen: string[];
  port: number;
  close(): Promise<void>;
}

const configMap = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { k: name } });

function bodyFor(method: string, path: string, status: number): string {
  if (status >= 300) return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: status, reason: status === 429 ? 'TooManyRequests' : 'InternalError', message: `scripted ${status}` });
  if (method === 'GET' && path.endsWith('/configmaps')) return JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items: [] });
  return JSON.stringify(configMap(path.split('/').pop()!.split('?')[0]));
}

/** Counts the request and answers the action for it. */
function decide(script: Script, seen: string[], method: string, path: string): Action {
  const key = `${method} ${path}`;
  const before = seen.filter((s) => s === key).length;
  seen.push(key);
  return script(method, path, before);
}

function track(server: net.Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
  });
  return sockets;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function closeServer(server: net.Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Plain HTTP: the client speaks HTTP/1.1 over kept-alive connections. */
async function http1Server(script: Script): Promise<ScriptedServer> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const action = decide(script, seen, method, path);
    if (action === 'reset') return void req.socket.resetAndDestroy();
    if (action === 'silent') return;
    req.resume();
    req.on('end', () => {
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
      if (action.retryAfter !== undefined) headers['retry-after'] = action.retryAfter;
      res.writeHead(action.status, headers);
      res.end(bodyFor(method, path, action.status));
    });
  });
  const sockets = track(server);
  const port = await listen(server);
  return { connection: { server: `http://127.0.0.1:${port}` }, seen, port, close: () => closeServer(server, sockets) };
}

/** HTTPS with a token: the client speaks HTTP/2, every request a stream on its pool's session. */
async function http2Server(script: Script): Promise<ScriptedServer> {
  const seen: string[] = [];
  const server = http2.createSecureServer({ cert: certPem, key: keyPem });
  const sockets = track(server);
  server.on('sessionError', () => {});
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const method = String(headers[':method']);
    const path = String(headers[':path']);
    const action = decide(script, seen, method, path);
    // The TCP connection under the session (the only one open to this server) is reset.
    if (action === 'reset') return void [...sockets].forEach((s) => s.resetAndDestroy());
    if (action === 'silent') return;
    stream.resume();
    stream.on('end', () => {
      const h: http2.OutgoingHttpHeaders = { ':status': action.status, 'content-type': 'application/json' };
      if (action.retryAfter !== undefined) h['retry-after'] = action.retryAfter;
      stream.respond(h);
      stream.end(bodyFor(method, path, action.status));
    });
  });
  const port = await listen(server);
  return { connection: { server: `https://127.0.0.1:${port}`, ca: Buffer.from(certPem), token: 'token' }, seen, port, close: () => closeServer(server, sockets) };
}

const transports = { 'HTTP/1.1': http1Server, 'HTTP/2': http2Server };

const LIST = '/api/v1/namespaces/default/configmaps';
const ONE = `${LIST}/one`;

test('the policy: client-go conditions, cap and waits', () => {
  assert.equal(retryAfterSeconds('1'), 1);
  assert.equal(retryAfterSeconds(' 0 '), 0);
  assert.equal(retryAfterSeconds(['3', '4']), 3);
  assert.equal(retryAfterSeconds('-2'), 0, 'a negative Retry-After waits nothing');
  assert.equal(retryAfterSeconds('Wed, 21 Oct 2015 07:28:00 GMT'), undefined, 'a date is not understood, as in client-go');
  assert.equal(retryAfterSeconds('1.5'), undefined);
  assert.equal(retryAfterSeconds(undefined), undefined);

  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
    assert.deepEqual(nextRetry(method, { status: 429, retryAfter: '2' }, 0, MAX_RETRIES)?.waitSeconds, 2, `${method} 429 with Retry-After`);
    assert.equal(nextRetry(method, { status: 503, retryAfter: '0' }, 0, MAX_RETRIES)?.waitSeconds, 0, `${method} 503 with Retry-After`);
    assert.equal(nextRetry(method, { status: 429 }, 0, MAX_RETRIES), undefined, `${method} 429 without Retry-After`);
  }
  assert.equal(nextRetry('GET', { status: 409, retryAfter: '1' }, 0, MAX_RETRIES), undefined, 'only 429 and 5xx');
  assert.equal(nextRetry('GET', { status: 200, retryAfter: '1' }, 0, MAX_RETRIES), undefined);
  assert.equal(nextRetry('GET', { status: 429, retryAfter: '1' }, MAX_RETRIES - 1, MAX_RETRIES)?.waitSeconds, 1, 'the tenth retry');
  assert.equal(nextRetry('GET', { status: 429, retryAfter: '1' }, MAX_RETRIES, MAX_RETRIES), undefined, 'no eleventh');
  assert.equal(MAX_RETRIES, 10);

  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  assert.equal(nextRetry('GET', { error: reset }, 0, MAX_RETRIES)?.waitSeconds, CONNECTION_ERROR_WAIT_SECONDS);
  assert.equal(CONNECTION_ERROR_WAIT_SECONDS, 1);
  assert.match(nextRetry('GET', { error: reset }, 0, MAX_RETRIES)!.reason, /retry 1 after a connection error: read ECONNRESET/);
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) assert.equal(nextRetry(method, { error: reset }, 0, MAX_RETRIES), undefined, `${method} is not sent again after a reset`);
  assert.ok(isConnectionLost(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })));
  assert.ok(isConnectionLost(Object.assign(new Error('the health check closed it'), { connectionLost: true })));
  assert.ok(!isConnectionLost(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), 'a refused connection is not retried (client-go neither)');
  assert.ok(!isConnectionLost(Object.assign(new Error('aborted'), { code: 'ECONNRESET', answered: true })), 'a failure while the answer is read is final');
  assert.ok(!isConnectionLost(new Error('certificate has expired')));
  assert.ok(!isConnectionLost(undefined));
});

for (const [name, start] of Object.entries(transports)) {
  test(`${name}: 429 and 503 with Retry-After are sent again, any verb; without it the answer is final`, async (t) => {
    const server = await start((method, path, before) => {
      if (path.startsWith(`${LIST}?`) || path === LIST) {
        if (method === 'POST') return before === 0 ? { status: 429, retryAfter: '1' } : { status: 201 };
        return before === 0 ? { status: 429, retryAfter: '1' } : before === 1 ? { status: 503, retryAfter: '0' } : { status: 200 };
      }
      if (path.startsWith('/api/v1/namespaces/default/pods/')) return { status: 429 }; // an eviction the budget refuses
      if (path === ONE) return method === 'PUT' ? { status: 500 } : { status: 429 };
      return { status: 404 };
    });
    t.after(() => server.close());
    const client = new KubeClient(server.connection, { retry: { secondMs: 1 } });
    t.after(() => client.close());

    const list = await client.list(R.configmaps, { namespace: 'default' });
    assert.equal(list.metadata.resourceVersion, '7');
    assert.deepEqual(server.seen, [`GET ${LIST}`, `GET ${LIST}`, `GET ${LIST}`], 'after 429 Retry-After: 1 and 503 Retry-After: 0');

    server.seen.length = 0;
    await client.create(R.configmaps, configMap('made'));
    assert.deepEqual(server.seen, [`POST ${LIST}`, `POST ${LIST}`], 'a POST answered 429 with Retry-After was not processed: sent again');

    server.seen.length = 0;
    const eviction = client.request('POST', '/api/v1/namespaces/default/pods/p/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p' } });
    await assert.rejects(eviction, (err: unknown) => err instanceof ApiError && err.code === 429);
    await assert.rejects(client.get(R.configmaps, 'default', 'one'), (err: unknown) => err instanceof ApiError && err.code === 429);
    await assert.rejects(client.update(R.configmaps, { ...configMap('one') }), (err: unknown) => err instanceof ApiError && err.code === 500);
    assert.deepEqual(server.seen, ['POST /api/v1/namespaces/default/pods/p/eviction', `GET ${ONE}`, `PUT ${ONE}`], 'once each: no Retry-After, no retry');
  });

  test(`${name}: a GET whose connection is reset is sent again; a POST is not`, async (t) => {
    const server = await start((method, path, before) => {
      if (method === 'GET') return before === 0 ? 'reset' : { status: 200 };
      if (method === 'POST') return 'reset';
      return { status: 404 };
    });
    t.after(() => server.close());
    const client = new KubeClient(server.connection, { retry: { secondMs: 1 } });
    t.after(() => client.close());

    const one = await client.get(R.configmaps, 'default', 'one');
    assert.equal(one?.metadata.name, 'one');
    assert.deepEqual(server.seen, [`GET ${ONE}`, `GET ${ONE}`]);

    server.seen.length = 0;
    await assert.rejects(client.create(R.configmaps, configMap('made')), (err: NodeJS.ErrnoException) => {
      assert.match(err.message, new RegExp(`^POST ${LIST}: `));
      assert.doesNotMatch(err.message, /retr/);
      return true;
    });
    assert.deepEqual(server.seen, [`POST ${LIST}`], 'the server saw the POST once');
  });

  test(`${name}: at most 10 retries (maxRetries sets fewer)`, async (t) => {
    const server = await start((method, path) => (path === ONE ? 'reset' : { status: 429, retryAfter: '0' }));
    t.after(() => server.close());
    const client = new KubeClient(server.connection, { retry: { secondMs: 1 } });
    t.after(() => client.close());

    await assert.rejects(client.list(R.configmaps, { namespace: 'default' }), (err: unknown) => err instanceof ApiError && err.code === 429);
    assert.equal(server.seen.length, 1 + MAX_RETRIES, 'throttled: 11 tries');

    server.seen.length = 0;
    await assert.rejects(client.get(R.configmaps, 'default', 'one'), (err: NodeJS.ErrnoException) => {
      assert.match(err.message, new RegExp(`^GET ${ONE}: .*\\(after 10 retries\\)$`));
      assert.equal(err.code, name === 'HTTP/1.1' ? 'ECONNRESET' : err.code, 'the code is kept');
      return true;
    });
    // Over HTTP/1.1 the first try goes on the connection the lists kept alive, and its reset is
    // taken for the server's closing of an idle connection: the GET goes at once on a new one (Go's
    // transport does so below client-go), then the 10 retries; every reset closes its connection.
    assert.equal(server.seen.length, 1 + MAX_RETRIES + (name === 'HTTP/1.1' ? 1 : 0), 'reset every time: 11 tries, and the kept-alive retry');

    const few = new KubeClient(server.connection, { retry: { secondMs: 1, maxRetries: 2 } });
    t.after(() => few.close());
    server.seen.length = 0;
    await assert.rejects(few.list(R.configmaps, { namespace: 'default' }), (err: unknown) => err instanceof ApiError && err.code === 429);
    assert.equal(server.seen.length, 3);
  });

  test(`${name}: a client closed while a request waits to be sent again ends the wait`, async (t) => {
    const server = await start(() => ({ status: 429, retryAfter: '3600' }));
    t.after(() => server.close());
    const client = new KubeClient(server.connection, { retry: { secondMs: 1000 } });
    const listing = client.list(R.configmaps, { namespace: 'default' });
    while (client.waitingToRetry === 0) await new Promise((r) => setTimeout(r, 5));
    client.close();
    await assert.rejects(listing, new RegExp(`^Error: GET ${LIST}: the client was closed while the request waited to be sent again$`));
    assert.equal(client.waitingToRetry, 0);
    assert.equal(server.seen.length, 1);
  });
}

/** A TCP relay to `port` whose open connections cut() silences (no byte passes either way, none closes). */
async function silenceableRelay(port: number): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const pairs: { silent: boolean; a: Socket; b: Socket }[] = [];
  const server = net.createServer((a) => {
    const b = net.connect(port, '127.0.0.1');
    const pair = { silent: false, a, b };
    pairs.push(pair);
    for (const [from, to] of [
      [a, b],
      [b, a],
    ]) {
      from.on('data', (d: Buffer) => {
        if (!pair.silent) to.write(d);
      });
      from.on('error', () => {});
      from.on('close', () => to.destroy());
    }
  });
  const relayPort = await listen(server);
  return {
    port: relayPort,
    cut: () => pairs.forEach((p) => (p.silent = true)),
    close: () => {
      for (const p of pairs) p.a.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test('HTTP/2: a GET on a session the health check closes (the server went silent) is sent again on a new one; a POST is not', async (t) => {
  const saved = { ...healthCheck };
  Object.assign(healthCheck, { readIdleTimeoutMs: 200, pingTimeoutMs: 200 });
  t.after(() => Object.assign(healthCheck, saved));
  const cut = { relay: undefined as Awaited<ReturnType<typeof silenceableRelay>> | undefined };
  const server = await http2Server((method, _path, before) => {
    if (before > 0 && method === 'GET') return { status: 200 };
    cut.relay!.cut();
    return 'silent';
  });
  t.after(() => server.close());
  const relay = await silenceableRelay(server.port);
  cut.relay = relay;
  t.after(() => relay.close());
  const client = new KubeClient({ ...server.connection, server: `https://127.0.0.1:${relay.port}` }, { retry: { secondMs: 1 } });
  t.after(() => client.close());

  const one = await client.get(R.configmaps, 'default', 'one');
  assert.equal(one?.metadata.name, 'one');
  assert.deepEqual(server.seen, [`GET ${ONE}`, `GET ${ONE}`]);

  server.seen.length = 0;
  await assert.rejects(client.create(R.configmaps, configMap('made')), /did not answer a PING/);
  assert.deepEqual(server.seen, [`POST ${LIST}`], 'the POST the server went silent on was not sent again');
});
