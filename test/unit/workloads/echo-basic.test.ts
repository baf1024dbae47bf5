// echo-basic: the pure parts (Go durations and header names, the echo body, the mux, retries) and the
// real servers on loopback ports (HTTP/1.1, h2c, HTTPS, WebSocket), driven by real clients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { canonicalHeaderName, echoSetHeaders, goHeaders, parseGoDuration, parseRetryParams, RetryLedger, routeEcho, runEchoBasic } from '../../../src/workloads/echo-basic.js';
import { findBuiltinImage } from '../../../src/workloads/images.js';
import { WorkloadStartError, type WorkloadContext } from '../../../src/workloads/workload.js';

test('Go durations', () => {
  assert.equal(parseGoDuration('1s'), 1000);
  assert.equal(parseGoDuration('500ms'), 500);
  assert.equal(parseGoDuration('1m30s'), 90_000);
  assert.equal(parseGoDuration('1.5h'), 5_400_000);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('10us'), 0.01);
  assert.equal(parseGoDuration('1'), undefined);
  assert.equal(parseGoDuration('soon'), undefined);
  assert.equal(parseGoDuration(''), undefined);
});

test("Go's canonical header names and http.Header", () => {
  assert.equal(canonicalHeaderName('x-forwarded-for'), 'X-Forwarded-For');
  assert.equal(canonicalHeaderName('USER-AGENT'), 'User-Agent');
  assert.equal(canonicalHeaderName('x_under'), 'X_under');
  assert.equal(canonicalHeaderName('bad header'), 'bad header');
  assert.deepEqual(goHeaders(['Host', 'a.example', 'version', 'one', 'VERSION', 'two', 'transfer-encoding', 'chunked', ':path', '/']), { Version: ['one', 'two'] });
});

test('X-Echo-Set-Header becomes response headers', () => {
  assert.deepEqual(echoSetHeaders(['X-Header-Set-1:set-val-1, X-Header-Set-2: set-val-2']), [
    ['X-Header-Set-1', 'set-val-1'],
    ['X-Header-Set-2', 'set-val-2'],
  ]);
  assert.deepEqual(echoSetHeaders(['A:1,A:2', 'b:3']), [
    ['A', '1,2'],
    ['b', '3'],
  ]);
  assert.deepEqual(echoSetHeaders(['']), []);
});

test("the mux: health, status, retry, ws, everything else echoes", () => {
  assert.deepEqual(routeEcho('/health'), { kind: 'health' });
  assert.deepEqual(routeEcho('/status/418'), { kind: 'status', code: 418 });
  assert.deepEqual(routeEcho('/status/41'), { kind: 'bad-status' });
  assert.deepEqual(routeEcho('/status/200?x=1'), { kind: 'bad-status' });
  assert.deepEqual(routeEcho('/retry/code-500-attempts-3?uuid=a'), { kind: 'retry' });
  assert.deepEqual(routeEcho('/retryable'), { kind: 'echo' });
  assert.deepEqual(routeEcho('//ws'), { kind: 'websocket' });
  assert.deepEqual(routeEcho('/healthz'), { kind: 'echo' });
});

test('retry parameters and the per-uuid ledger', () => {
  assert.deepEqual(parseRetryParams(new URLSearchParams('uuid=u&succeedAfter=2&responseCode=500&delayRetry=10ms')), { uuid: 'u', succeedAfter: 2, responseCode: 500, delayRetryMs: 10 });
  assert.match(parseRetryParams(new URLSearchParams('succeedAfter=2')) as string, /"uuid"/);
  assert.match(parseRetryParams(new URLSearchParams('uuid=u&succeedAfter=x')) as string, /"succeedAfter"/);
  assert.match(parseRetryParams(new URLSearchParams('uuid=u&responseCode=abc')) as string, /"responseCode"/);
  const ledger = new RetryLedger(2);
  assert.deepEqual([ledger.attempt('a', 2), ledger.attempt('a', 2), ledger.attempt('a', 2)], [true, true, false]);
  assert.equal(ledger.attempt('b', 0), false);
  ledger.attempt('c', 5);
  ledger.attempt('d', 5); // evicts the oldest
  assert.equal(ledger.attempt('a', 2), true, 'an evicted uuid starts over');
});

test('echo-basic is a built-in image under its registry names', () => {
  for (const ref of ['registry.k8s.io/gateway-api/echo-basic:v1.5.1', 'gcr.io/k8s-staging-gateway-api/echo-basic:v20240412-v1.0.0-394-g40c666fd', 'registry.k8s.io/gateway-api/conformance/echo-basic:v0.1.0', 'gcr.io/k8s-staging-ingressconformance/echoserver:v20210908-4e4c9d6']) {
    assert.equal(findBuiltinImage(ref)?.name, 'echo-basic', ref);
  }
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function startContext(env: Record<string, string>, lines: string[]): WorkloadContext {
  return { netns: '', podIP: '127.0.0.1', hostname: 'h', namespace: 'ctx-ns', podName: 'ctx-pod', args: [], env, ports: [], stdout: (t) => lines.push(t), stderr: () => undefined };
}

test('echo-basic serves the echo, special paths, h2c, HTTPS and WebSocket on real sockets', async (t) => {
  const [httpPort, h2cPort, httpsPort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'echo-basic-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=echo.example', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const lines: string[] = [];
  const env = {
    HTTP_PORT: String(httpPort),
    H2C_PORT: String(h2cPort),
    HTTPS_PORT: String(httpsPort),
    TLS_SERVER_CERT: join(dir, 'cert.pem'),
    TLS_SERVER_PRIVKEY: join(dir, 'key.pem'),
    POD_NAME: 'infra-backend-v1-abc',
    NAMESPACE: 'gateway-conformance-infra',
    SERVICE_NAME: 'infra-backend-v1',
  };
  const workload = await runEchoBasic(startContext(env, lines));
  t.after(() => workload.stop());

  await t.test('JSON echo with Go header names, the request URI and the pod identity', async () => {
    const a = await get(httpPort, '/some/path?x=1&y=two', { 'x-echo-set-header': 'X-Resp-A:a1,X-Resp-B: b1', version: 'one', 'User-Agent': 'test' });
    assert.equal(a.status, 200);
    assert.equal(a.headers['content-type'], 'application/json');
    assert.equal(a.headers['x-content-type-options'], 'nosniff');
    assert.equal(a.headers['x-resp-a'], 'a1');
    assert.equal(a.headers['x-resp-b'], 'b1');
    const body = JSON.parse(a.body);
    assert.equal(body.path, '/some/path?x=1&y=two');
    assert.equal(body.host, `127.0.0.1:${httpPort}`);
    assert.equal(body.method, 'GET');
    assert.equal(body.proto, 'HTTP/1.1');
    assert.deepEqual(body.headers.Version, ['one']);
    assert.deepEqual(body.headers['User-Agent'], ['test']);
    assert.equal(body.headers.Host, undefined);
    assert.equal(body.namespace, 'gateway-conformance-infra');
    assert.equal(body.pod, 'infra-backend-v1-abc');
    assert.equal(body.service, 'infra-backend-v1');
    assert.equal(body.ingress, '');
    assert.equal(body.httpPort, String(httpPort));
    assert.equal(body.tls, undefined);
    assert.ok(lines.some((l) => /^Echoing back request made to \/some\/path\?x=1&y=two to client \(127\.0\.0\.1:\d+\)\n$/.test(l)), lines.join(''));
    const post = JSON.parse((await get(httpPort, '/p', {}, 'POST')).body);
    assert.equal(post.method, 'POST');
  });

  await t.test('/health, /status/NNN and ?delay', async () => {
    assert.deepEqual([(await get(httpPort, '/health')).body, (await get(httpPort, '/health')).status], ['OK', 200]);
    assert.equal((await get(httpPort, '/status/503')).status, 503);
    assert.equal((await get(httpPort, '/status/302')).status, 302);
    assert.equal((await get(httpPort, '/status/abc')).status, 400);
    const started = Date.now();
    const delayed = await get(httpPort, '/slow?delay=300ms');
    assert.equal(delayed.status, 200);
    assert.ok(Date.now() - started >= 290, 'the answer waited for the delay');
    const bad = await get(httpPort, '/slow?delay=forever');
    assert.equal(bad.status, 500);
    assert.match(JSON.parse(bad.body).message, /invalid duration/);
  });

  await t.test('/retry fails the first succeedAfter attempts of a uuid, with the code or a reset', async () => {
    const path = '/retry/code-500?uuid=u1&succeedAfter=2&responseCode=500';
    assert.deepEqual([(await get(httpPort, path)).status, (await get(httpPort, path)).status, (await get(httpPort, path)).status], [500, 500, 200]);
    assert.equal(JSON.parse((await get(httpPort, path)).body).path, path);
    await assert.rejects(get(httpPort, '/retry?uuid=u2&succeedAfter=1'), /ECONNRESET|socket hang up/);
    assert.equal((await get(httpPort, '/retry?uuid=u2&succeedAfter=1')).status, 200);
    assert.equal((await get(httpPort, '/retry?succeedAfter=1')).status, 400);
  });

  await t.test('h2c: HTTP/2 with prior knowledge echoes with proto HTTP/2.0; HTTP/1 gets 400', async () => {
    const session = http2.connect(`http://127.0.0.1:${h2cPort}`);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = session.request({ ':path': '/h2c?z=1', ':authority': 'h2c.example', 'x-test': 'v' });
        let data = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => (data += c));
        req.on('end', () => resolve(data));
        req.on('error', reject);
      });
      const echo = JSON.parse(body);
      assert.equal(echo.proto, 'HTTP/2.0');
      assert.equal(echo.path, '/h2c?z=1');
      assert.equal(echo.host, 'h2c.example');
      assert.deepEqual(echo.headers['X-Test'], ['v']);
    } finally {
      session.close();
    }
    const h1 = await get(h2cPort, '/');
    assert.equal(h1.status, 400);
    assert.equal(h1.body, 'Expected h2c request');
  });

  await t.test('HTTPS: TLS details in the echo', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: httpsPort, path: '/tls', servername: 'echo.example', rejectUnauthorized: false, agent: false }, (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve(data));
      });
      req.on('error', reject);
      req.end();
    });
    const echo = JSON.parse(body);
    assert.equal(echo.tls.serverName, 'echo.example');
    assert.match(echo.tls.version, /^TLSv1\.[23]$/);
    assert.match(echo.tls.cipherSuite, /^TLS_/);
  });

  await t.test('/ws echoes WebSocket messages', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const echoed = await new Promise<string>((resolve) => {
      ws.once('message', (data) => resolve(String(data)));
      ws.send('hello over ws');
    });
    assert.equal(echoed, 'hello over ws');
    ws.close();
    assert.equal((await get(httpPort, '/ws')).status, 400, 'a plain GET of /ws is not an upgrade');
  });
});

test('echo-basic names the bad env field', async () => {
  await assert.rejects(runEchoBasic(startContext({ HTTP_PORT: 'eighty' }, [])), (err: Error) => err instanceof WorkloadStartError && /HTTP_PORT/.test(err.message));
  const port = await freePort();
  await assert.rejects(
    runEchoBasic(startContext({ HTTP_PORT: String(port), H2C_PORT: String(await freePort()), TLS_SERVER_CERT: '/nonexistent/cert.pem', TLS_SERVER_PRIVKEY: '/nonexistent/key.pem' }, [])),
    (err: Error) => err instanceof WorkloadStartError && /TLS_SERVER_CERT/.test(err.message),
  );
});
