// Every HTTP filter through GatewayProxy over real sockets: header modifiers (request, response,
// per backend), redirects, URL rewrites, mirrors, CORS (preflight and actual), source ranges,
// body size limits and cookie affinity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { GatewayProxy } from '../../../src/gateway/proxy/index.js';
import { backend, entry, freePort, httpConfig, json, prefix, request, startEcho, until, vhost } from './proxy-support.js';

test('header modifiers, redirects and rewrites', async (t) => {
  const [a, b] = await Promise.all([startEcho('a'), startEcho('b')]);
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await Promise.all([a.close(), b.close()]);
  });
  const port = await freePort();
  await proxy.update(
    httpConfig(port, [
      vhost('*', [
        entry(prefix('/headers'), [backend(a, { filters: [{ type: 'RequestHeaderModifier', set: [['X-Backend-Set', 'yes']], add: [], remove: [] }] })], {
          filters: [
            { type: 'RequestHeaderModifier', set: [['X-Set', 'set-value']], add: [['X-Add', 'add-appends-values']], remove: ['X-Remove'] },
            { type: 'ResponseHeaderModifier', set: [['X-Resp-Set', 'r']], add: [['X-Backend', 'added']], remove: ['Content-Type'] },
          ],
        }),
        entry(prefix('/redirect-host'), [], { filters: [{ type: 'RequestRedirect', hostname: 'example.org', statusCode: 301 }] }),
        entry(prefix('/redirect-scheme'), [], { filters: [{ type: 'RequestRedirect', scheme: 'https', statusCode: 302 }] }),
        entry(prefix('/redirect-port'), [], { filters: [{ type: 'RequestRedirect', port: 8443, scheme: 'https', statusCode: 308 }] }),
        entry(prefix('/redirect-path'), [], { filters: [{ type: 'RequestRedirect', path: { type: 'ReplacePrefixMatch', value: '/new' }, statusCode: 302 }] }),
        entry(prefix('/full'), [backend(b)], { filters: [{ type: 'URLRewrite', hostname: 'rewritten.test', path: { type: 'ReplaceFullPath', value: '/replaced' } }] }),
        entry(prefix('/prefix/'), [backend(b)], { filters: [{ type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/' } }] }),
        entry(prefix('/swap'), [backend(b)], { filters: [{ type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/other/' } }] }),
        entry(prefix('/regex'), [backend(b)], { filters: [{ type: 'URLRewrite', path: { type: 'RegexReplace', pattern: '/regex/([a-z]+)/(.*)', replacement: '/$2/$1' } }] }),
      ]),
    ]),
  );
  const r = await request(port, '/headers', { headers: { host: 'h.test', 'x-set': 'old', 'x-add': 'some-other-value', 'x-remove': 'gone' } });
  const e = json(r);
  assert.equal(e.headers['x-set'], 'set-value');
  assert.equal(e.headers['x-add'], 'some-other-value,add-appends-values');
  assert.equal(e.headers['x-remove'], undefined);
  assert.equal(e.headers['x-backend-set'], 'yes', 'backendRef filters apply when that backend is chosen');
  assert.equal(r.headers['x-resp-set'], 'r');
  assert.equal(r.headers['x-backend'], 'a,added');
  assert.equal(r.headers['content-type'], undefined);

  const host = { host: 'h.test:' + port };
  let x = await request(port, '/redirect-host/p?q=1', { headers: host });
  assert.equal(x.status, 301);
  assert.equal(x.headers.location, `http://example.org:${port}/redirect-host/p?q=1`);
  x = await request(port, '/redirect-scheme', { headers: host });
  assert.equal(x.status, 302);
  assert.equal(x.headers.location, 'https://h.test/redirect-scheme', 'scheme change: the new default port, omitted');
  x = await request(port, '/redirect-port', { headers: host });
  assert.equal(x.status, 308);
  assert.equal(x.headers.location, 'https://h.test:8443/redirect-port');
  x = await request(port, '/redirect-path/a/b', { headers: host });
  assert.equal(x.headers.location, `http://h.test:${port}/new/a/b`);

  let echo = json(await request(port, '/full/x?k=v', { headers: { host: 'orig.test' } }));
  assert.equal(echo.url, '/replaced?k=v');
  assert.equal(echo.headers.host, 'rewritten.test');
  assert.equal(json(await request(port, '/prefix/one/two')).url, '/one/two');
  assert.equal(json(await request(port, '/prefix')).url, '/');
  assert.equal(json(await request(port, '/swap/x')).url, '/other/x');
  assert.equal(json(await request(port, '/swap')).url, '/other');
  echo = json(await request(port, '/regex/abc/rest/of?z=1'));
  assert.equal(echo.url, '/rest/of/abc?z=1');
});

test('mirror copies the request (with body) and never affects the response', async (t) => {
  const [a, m] = await Promise.all([startEcho('a'), startEcho('m')]);
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await Promise.all([a.close(), m.close()]);
  });
  const port = await freePort();
  const deadPort = await freePort();
  await proxy.update(
    httpConfig(port, [
      vhost('*', [
        entry(prefix('/mirror'), [backend(a)], { filters: [{ type: 'RequestMirror', backend: backend(m), percent: 100 }] }),
        entry(prefix('/dead-mirror'), [backend(a)], { filters: [{ type: 'RequestMirror', backend: backend({ name: 'dead', port: deadPort }), percent: 100 }] }),
        entry(prefix('/half'), [backend(a)], { filters: [{ type: 'RequestMirror', backend: backend(m), percent: 50 }] }),
      ]),
    ]),
  );
  const r = await request(port, '/mirror/1', { method: 'POST', body: 'copy me', headers: { 'x-id': '7' } });
  assert.equal(json(r).name, 'a');
  await until(() => m.seen.length === 1, 'the mirrored request');
  assert.equal(m.seen[0].url, '/mirror/1');
  assert.equal(m.seen[0].body, 'copy me');
  assert.equal(m.seen[0].headers['x-id'], '7');
  assert.equal((await request(port, '/dead-mirror')).status, 200, 'a dead mirror does not matter');
  const before = m.seen.length;
  for (let i = 0; i < 200; i++) await request(port, '/half');
  await until(() => m.seen.filter((s) => s.url === '/half').length >= 60, 'about half of /half mirrored');
  const mirrored = m.seen.length - before;
  assert.ok(mirrored > 60 && mirrored < 140, `50% sampling mirrored ${mirrored}/200`);
});

test('CORS preflight and actual requests, source ranges, body limit, affinity cookie', async (t) => {
  const [a, b] = await Promise.all([startEcho('a'), startEcho('b')]);
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await Promise.all([a.close(), b.close()]);
  });
  const port = await freePort();
  const two = backend(a, { name: 'default/ab:80', endpoints: [{ address: '127.0.0.1', port: a.port }, { address: '127.0.0.1', port: b.port }] });
  await proxy.update(
    httpConfig(port, [
      vhost('*', [
        entry(prefix('/cors'), [backend(a)], {
          filters: [
            {
              type: 'CORS',
              allowOrigins: ['https://app.example.com', 'https://*.example.org'],
              allowMethods: ['GET', 'PUT'],
              allowHeaders: ['x-custom'],
              exposeHeaders: ['x-backend'],
              allowCredentials: true,
              maxAgeSeconds: 600,
            },
          ],
        }),
        entry(prefix('/denied'), [backend(a)], { filters: [{ type: 'SourceRange', allow: [], deny: ['127.0.0.0/8'] }] }),
        entry(prefix('/allowed'), [backend(a)], { filters: [{ type: 'SourceRange', allow: ['10.0.0.0/8', '127.0.0.1/32'], deny: [] }] }),
        entry(prefix('/not-allowed'), [backend(a)], { filters: [{ type: 'SourceRange', allow: ['10.0.0.0/8', 'fd00::/8'], deny: [] }] }),
        entry(prefix('/small'), [backend(a)], { maxBodyBytes: 10 }),
        entry(prefix('/sticky'), [two], { affinityCookie: { name: 'route', maxAgeSeconds: 60 } }),
        entry(prefix('/spread'), [two]),
      ]),
    ]),
  );
  const pre = await request(port, '/cors', { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'PUT' } });
  assert.equal(pre.status, 200);
  assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.equal(pre.headers['access-control-allow-methods'], 'GET, PUT');
  assert.equal(pre.headers['access-control-allow-headers'], 'x-custom');
  assert.equal(pre.headers['access-control-allow-credentials'], 'true');
  assert.equal(pre.headers['access-control-max-age'], '600');
  assert.equal(a.seen.length, 0, 'the preflight is answered by the proxy');
  const wild = await request(port, '/cors', { method: 'OPTIONS', headers: { origin: 'https://x.y.example.org', 'access-control-request-method': 'GET' } });
  assert.equal(wild.headers['access-control-allow-origin'], 'https://x.y.example.org');
  const foreign = await request(port, '/cors', { headers: { origin: 'https://evil.test' } });
  assert.equal(foreign.headers['access-control-allow-origin'], undefined);
  const actual = await request(port, '/cors', { headers: { origin: 'https://app.example.com' } });
  assert.equal(actual.status, 200);
  assert.equal(actual.headers['access-control-allow-origin'], 'https://app.example.com');
  assert.equal(actual.headers['access-control-expose-headers'], 'x-backend');

  assert.equal((await request(port, '/denied')).status, 403);
  assert.equal((await request(port, '/allowed')).status, 200);
  assert.equal((await request(port, '/not-allowed')).status, 403);

  assert.equal((await request(port, '/small', { method: 'POST', body: 'x'.repeat(11), agent: false })).status, 413);
  assert.equal((await request(port, '/small', { method: 'POST', body: 'x'.repeat(10) })).status, 200);
  const chunked = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/small', method: 'POST', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.write('x'.repeat(8));
    req.end('x'.repeat(8));
  });
  assert.equal(chunked, 413, 'a chunked body past the limit');

  const first = await request(port, '/sticky', { agent: false });
  const cookie = String(first.headers['set-cookie']?.[0] ?? '');
  assert.match(cookie, /^route=[A-Za-z0-9_-]+; Path=\/; Max-Age=60; HttpOnly$/);
  const pinnedTo = json(first).name;
  for (let i = 0; i < 6; i++) {
    const r = await request(port, '/sticky', { headers: { cookie: `other=1; ${cookie.split(';')[0]}` } });
    assert.equal(json(r).name, pinnedTo, 'the cookie pins the endpoint');
    assert.equal(r.headers['set-cookie'], undefined, 'no new cookie while pinned');
  }
  const spread = new Set<string>();
  for (let i = 0; i < 4; i++) spread.add(json(await request(port, '/spread')).name);
  assert.deepEqual([...spread].sort(), ['a', 'b'], 'without the cookie endpoints go round robin');
});
