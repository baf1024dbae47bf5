// GatewayProxy HTTP data path over real sockets on 127.0.0.1: host and entry selection, the
// error codes (404/500/503/502/504), forwarded headers, weights, retries, h2c clients and
// h2c/gRPC-like backends with trailers, metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { GatewayProxy } from '../../../src/gateway/proxy/index.js';
import type { HttpRouteEntry } from '../../../src/gateway/config.js';
import { backend, entry, freePort, httpConfig, json, prefix, request, startEcho, startH2Echo, vhost } from './proxy-support.js';

test('routes by host and entry, answers 404/500/503/502 and forwards the right headers', async (t) => {
  const [a, b] = await Promise.all([startEcho('a'), startEcho('b')]);
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });
  const port = await freePort();
  const deadPort = await freePort();
  await proxy.update(
    httpConfig(port, [
      vhost('exact.test', [entry({ path: { type: 'Exact', value: '/one' }, headers: [], queryParams: [] }, [backend(a)])]),
      vhost('*.wild.test', [
        entry(prefix('/v2'), [backend(b)]),
        entry(prefix('/hdr', { headers: [{ type: 'Exact', name: 'x-version', value: 'two' }] }), [backend(b)]),
        entry(prefix('/hdr'), [backend(a)]),
        entry(prefix('/q', { queryParams: [{ type: 'RegularExpression', name: 'v', value: '[0-9]+' }] }), [backend(b)]),
        entry(prefix('/m', { method: 'POST' }), [backend(b)]),
        entry({ path: { type: 'RegularExpression', value: '/re/[a-z]+' }, headers: [], queryParams: [] }, [backend(b)]),
        entry(prefix('/invalid'), [backend(a, { invalid: 'Service default/missing not found' })]),
        entry(prefix('/empty'), []),
        entry(prefix('/noeps'), [backend(a, { endpoints: [] })]),
        entry(prefix('/dead'), [backend({ name: 'dead', port: deadPort })]),
        entry(prefix('/'), [backend(a)]),
      ]),
      vhost('*', [entry(prefix('/any'), [backend(a)])]),
    ]),
  );
  const get = (host: string, path: string, headers: Record<string, string> = {}, method = 'GET') => request(port, path, { method, headers: { host, ...headers } });

  assert.equal(json(await get('exact.test', '/one')).name, 'a');
  assert.equal((await get('exact.test', '/one/two')).status, 404, 'Exact does not match a longer path');
  assert.equal((await get('EXACT.test:8080', '/one')).status, 200, 'host is lower-cased and the port stripped');
  assert.equal(json(await get('x.wild.test', '/v2')).name, 'b');
  assert.equal(json(await get('x.y.wild.test', '/v2/deeper')).name, 'b', 'Gateway wildcards cover several labels');
  assert.equal(json(await get('x.wild.test', '/v2x')).name, 'a', 'prefix matches whole segments');
  assert.equal(json(await get('x.wild.test', '/hdr', { 'x-version': 'two' })).name, 'b');
  assert.equal(json(await get('x.wild.test', '/hdr', { 'x-version': 'one' })).name, 'a');
  assert.equal(json(await get('x.wild.test', '/q?v=12')).name, 'b');
  assert.equal(json(await get('x.wild.test', '/q?v=ab')).name, 'a');
  assert.equal(json(await get('x.wild.test', '/m', {}, 'POST')).name, 'b');
  assert.equal(json(await get('x.wild.test', '/re/abc')).name, 'b');
  assert.equal(json(await get('x.wild.test', '/re/abc/d')).name, 'a', 'regex is anchored at both ends');
  assert.equal((await get('wild.test', '/v2')).status, 404, 'the bare suffix is not covered by *.wild.test');
  assert.equal(json(await get('wild.test', '/any')).name, 'a', 'it falls through to `*`');
  assert.equal((await get('x.wild.test', '/invalid')).status, 500);
  assert.equal((await get('x.wild.test', '/empty')).status, 500);
  assert.equal((await get('x.wild.test', '/noeps')).status, 503);
  assert.equal((await get('x.wild.test', '/dead')).status, 502);
  assert.equal((await get('other.test', '/nothing')).status, 404);

  const echo = json(await get('x.wild.test', '/fwd?x=1', { 'x-forwarded-for': '10.1.1.1', connection: 'keep-alive, x-secret', 'x-secret': 's', 'keep-alive': 'timeout=5' }));
  assert.equal(echo.url, '/fwd?x=1');
  assert.equal(echo.headers.host, 'x.wild.test', 'the original Host is kept');
  assert.equal(echo.headers['x-forwarded-for'], '10.1.1.1, 127.0.0.1');
  assert.equal(echo.headers['x-forwarded-proto'], 'http');
  assert.equal(echo.headers['x-forwarded-host'], 'x.wild.test');
  assert.equal(echo.headers['x-secret'], undefined, 'headers named in Connection are hop-by-hop');
  assert.equal(echo.headers['keep-alive'], undefined);

  const body = 'x'.repeat(100_000);
  assert.equal(json(await get('x.wild.test', '/post', { 'content-type': 'text/plain' }, 'POST').then(() => request(port, '/post', { method: 'POST', headers: { host: 'x.wild.test' }, body }))).body, body);

  const metrics = await proxy.metricsText();
  assert.match(metrics, /gateway_requests_total\{route="HTTPRoute\/default\/r\/rule\d+",code="503"\} 1/);
  assert.match(metrics, /gateway_requests_total\{route="none",code="404"\}/);
  assert.match(metrics, /gateway_upstream_errors_total\{backend="default\/dead:80",reason="connect"\} 1/);
  assert.match(metrics, /gateway_config_swaps_total 1/);
  assert.match(metrics, /gateway_request_duration_seconds_bucket/);
});

test('timeouts give 504 and retries re-send to a healthy attempt', async (t) => {
  const a = await startEcho('a');
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await a.close();
  });
  const port = await freePort();
  const deadPort = await freePort();
  const retrying: HttpRouteEntry = entry(prefix('/fail-until'), [backend(a)], { retry: { attempts: 2, codes: [500, 503], backoffMs: 5 } });
  await proxy.update(
    httpConfig(port, [
      vhost('*', [
        // The request timeout leaves room for a 1 ms answer on a loaded machine.
        entry(prefix('/delay'), [backend(a)], { timeouts: { requestMs: 1000 } }),
        entry(prefix('/backend-delay'), [backend(a)], { timeouts: { backendRequestMs: 100 }, filters: [{ type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/delay' } }] }),
        entry(prefix('/status'), [backend(a)], { retry: { attempts: 2, codes: [503], backoffMs: 1 } }),
        retrying,
        entry(prefix('/mixed'), [backend({ name: 'dead', port: deadPort }, { endpoints: [{ address: '127.0.0.1', port: deadPort }, { address: '127.0.0.1', port: a.port }] })], {
          retry: { attempts: 1, codes: [], backoffMs: 0 },
        }),
      ]),
    ]),
  );
  assert.equal((await request(port, '/delay/2000')).status, 504);
  assert.equal((await request(port, '/delay/1')).status, 200, 'a 1 ms answer within the 1 s request timeout passes');
  assert.equal((await request(port, '/backend-delay/2000')).status, 504);
  // Two resets then success: three attempts in all, the body re-sent each time.
  const r = await request(port, '/fail-until/k1/2', { method: 'POST', body: 'payload' });
  assert.equal(r.status, 200);
  assert.equal(json(r).body, 'payload');
  assert.equal(a.seen.filter((s) => s.url === '/fail-until/k1/2').length, 3);
  // Three resets: attempts exhausted -> 502.
  assert.equal((await request(port, '/fail-until/k2/3')).status, 502);
  // A listed code is retried; the last answer is passed on.
  const before = a.seen.length;
  assert.equal((await request(port, '/status/503')).status, 503);
  assert.equal(a.seen.length - before, 3);
  // Round robin over a dead and a live endpoint: the retry reaches the live one every time.
  for (let i = 0; i < 6; i++) assert.equal((await request(port, '/mixed')).status, 200);
});

test('weights split traffic (statistically) and weight 0 gets nothing', async (t) => {
  const [a, b, c] = await Promise.all([startEcho('a'), startEcho('b'), startEcho('c')]);
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  });
  const port = await freePort();
  await proxy.update(httpConfig(port, [vhost('*', [entry(prefix('/'), [backend(a, { weight: 70 }), backend(b, { weight: 30 }), backend(c, { weight: 0 })])])]));
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
  const N = 600;
  for (let i = 0; i < N; i += 20) {
    const batch = await Promise.all(Array.from({ length: 20 }, () => request(port, '/')));
    for (const r of batch) counts[json(r).name]++;
  }
  assert.equal(counts.c, 0);
  assert.ok(Math.abs(counts.a / N - 0.7) < 0.1, `a got ${counts.a}/${N}`);
  assert.ok(Math.abs(counts.b / N - 0.3) < 0.1, `b got ${counts.b}/${N}`);
});

test('h2c clients (prior knowledge) and HTTP/1.1 share a port; h2c and gRPC backends pass trailers', async (t) => {
  const [a, g] = await Promise.all([startEcho('a'), startH2Echo('g')]);
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await Promise.all([a.close(), g.close()]);
  });
  const port = await freePort();
  await proxy.update(
    httpConfig(port, [
      vhost('*', [entry(prefix('/grpc.Echo'), [backend(g, { protocol: 'grpc' })]), entry(prefix('/h2'), [backend(g, { protocol: 'h2c' })]), entry(prefix('/'), [backend(a)])]),
    ]),
  );
  assert.equal(json(await request(port, '/h1')).name, 'a');
  const client = http2.connect(`http://127.0.0.1:${port}`);
  t.after(() => client.close());
  const call = (path: string, body?: string): Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: string }> =>
    new Promise((resolve, reject) => {
      const s = client.request({ ':method': body ? 'POST' : 'GET', ':path': path, ':authority': 'svc.test', 'content-type': 'application/grpc', te: 'trailers' }, { endStream: !body });
      let headers: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders = {};
      let data = '';
      s.on('response', (h) => (headers = h));
      s.on('trailers', (h) => (trailers = h));
      s.on('data', (d: Buffer) => (data += d.toString()));
      s.on('end', () => resolve({ headers, trailers, body: data }));
      s.on('error', reject);
      if (body) s.end(body);
    });
  const plain = await call('/h2c-plain-to-h1');
  assert.equal(plain.headers[':status'], 200);
  assert.equal((JSON.parse(plain.body) as { name: string }).name, 'a', 'an h2c client reaches an HTTP/1.1 backend');
  const grpc = await call('/grpc.Echo/Say', 'hello');
  assert.equal(grpc.headers[':status'], 200);
  assert.equal(grpc.trailers['grpc-status'], '0');
  assert.equal(grpc.trailers['grpc-message'], 'ok from g');
  const echoed = JSON.parse(grpc.body) as { body: string; headers: Record<string, string> };
  assert.equal(echoed.body, 'hello');
  assert.equal(echoed.headers[':authority'], 'svc.test');
  assert.equal(echoed.headers.te, 'trailers');
  const posted = await new Promise<string>((resolve, reject) => {
    const s = client.request({ ':method': 'POST', ':path': '/h1-post', ':authority': 'svc.test' });
    let d = '';
    s.on('data', (c: Buffer) => (d += c.toString()));
    s.on('end', () => resolve(d));
    s.on('error', reject);
    s.end('h2 body to an h1 backend');
  });
  assert.equal((JSON.parse(posted) as { body: string }).body, 'h2 body to an h1 backend');
  const h2 = await call('/h2/x');
  assert.equal(h2.trailers['grpc-status'], '0');
  assert.equal(g.seen.length, 2);
});

test('garbage from clients never breaks the proxy', async (t) => {
  const a = await startEcho('a');
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await a.close();
  });
  const port = await freePort();
  await proxy.update(httpConfig(port, [vhost('*', [entry(prefix('/'), [backend(a)])])]));
  const raw = (data: string | Buffer): Promise<string> =>
    new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.end(data));
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString()));
      s.on('close', () => resolve(out));
      s.on('error', () => resolve(out));
    });
  assert.match(await raw('GARBAGE\r\n\r\n'), /^HTTP\/1.1 400/);
  assert.match(await raw(`GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(70_000)}\r\n\r\n`), /^HTTP\/1.1 431/);
  await raw(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x04garbage-frames'));
  await raw(Buffer.alloc(5000, 0x16));
  assert.equal(json(await request(port, '/still-alive')).name, 'a');
});

test('a part of the config that cannot be used is reported and the rest is served', async (t) => {
  const a = await startEcho('a');
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await a.close();
  });
  const port = await freePort();
  await proxy.update(
    httpConfig(port, [
      vhost('*', [
        entry({ path: { type: 'RegularExpression', value: '/bad/(' }, headers: [], queryParams: [] }, [backend(a)]),
        entry(prefix('/range'), [backend(a)], { filters: [{ type: 'SourceRange', allow: ['not-a-cidr'], deny: [] }] }),
        entry(prefix('/'), [backend(a)]),
      ]),
    ]),
  );
  const problems = proxy.configProblems();
  assert.equal(problems.length, 2);
  assert.match(problems[0], /ports\[0\]\.hosts\[0\]\.entries\[0\]\.match\.path: invalid regular expression/);
  assert.match(problems[1], /ports\[0\]\.hosts\[0\]\.entries\[1\]\.filters\[0\]\.allow\[0\]: "not-a-cidr" is not an IP address or CIDR/);
  assert.equal(json(await request(port, '/bad/(')).name, 'a', 'the dropped entry does not match; the next one does');
  assert.equal((await request(port, '/range')).status, 200);
});
