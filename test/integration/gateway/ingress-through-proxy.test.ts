// The Ingress translation served by the real gateway proxy on 127.0.0.1 (ports remapped from
// 80/443 to free ones) in front of real echo backends: rewrite-target with capture groups,
// ssl-redirect, TLS by SNI, canary by header and weight, CORS, app-root, body size, snippets refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { KubeObject } from '../../../src/api/types.js';
import type { ProxyConfig } from '../../../src/gateway/config.js';
import { computeIngressState } from '../../../src/gateway/ingress/state.js';
import { GatewayProxy } from '../../../src/gateway/proxy/index.js';
import { freePort, json, request, startEcho, type Backend } from './proxy-support.js';
import { ingress, rule, service, slice, tlsSecret, world } from '../../unit/gateway/ingress/fixtures.js';

const A = (name: string) => `nginx.ingress.kubernetes.io/${name}`;
let backends: Backend[] = [];
let proxy: GatewayProxy;
let httpPort = 0;
let httpsPort = 0;
let events: { name: string; reason: string; message: string }[] = [];

function serviceFor(b: Backend): KubeObject[] {
  return [service(b.name), slice(b.name, [{ ip: '127.0.0.1' }], [{ name: 'http', port: b.port }])];
}

/** The config with 80 -> httpPort and 443 -> httpsPort. */
function remap(config: ProxyConfig): ProxyConfig {
  return { ports: config.ports.map((p) => ({ ...p, port: p.port === 80 ? httpPort : p.port === 443 ? httpsPort : p.port })) };
}

before(async () => {
  backends = await Promise.all(['api', 'web', 'stable', 'preview'].map(startEcho));
  [httpPort, httpsPort] = [await freePort(), await freePort()];
  const ingresses = [
    ingress('rewrite', { rules: [rule('rw.test', ['/something(/|$)(.*)', 'ImplementationSpecific', 'api'])] }, { [A('rewrite-target')]: '/$2', [A('configuration-snippet')]: 'more_set_headers "X: y";' }),
    ingress('secure', { tls: [{ hosts: ['secure.test'], secretName: 'secure-tls' }], rules: [rule('secure.test', ['/', 'Prefix', 'web'])] }, { [A('enable-cors')]: 'true', [A('cors-allow-origin')]: 'https://ui.test' }),
    ingress('main', { rules: [rule('canary.test', ['/', 'Prefix', 'stable'])] }, { [A('app-root')]: '/home', [A('proxy-body-size')]: '1k' }),
    ingress('canary', { rules: [rule('canary.test', ['/', 'Prefix', 'preview'])] }, { [A('canary')]: 'true', [A('canary-by-header')]: 'x-canary', [A('canary-weight')]: '0' }),
  ];
  const objs = backends.flatMap(serviceFor);
  const state = computeIngressState(
    world({
      ingresses,
      services: objs.filter((o) => o.kind === 'Service'),
      endpointSlices: objs.filter((o) => o.kind === 'EndpointSlice'),
      secrets: [tlsSecret('secure-tls', ['secure.test'])],
    }),
  );
  events = state.events;
  proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  await proxy.update(remap(state.config));
});

after(async () => {
  await proxy?.close();
  await Promise.all(backends.map((b) => b.close()));
});

function httpsGet(servername: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: httpsPort, path, servername, headers: { host: servername, ...headers }, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the snippet was refused with an event; the Ingress is served', () => {
  assert.deepEqual(events.map((e) => [e.name, e.reason]), [['rewrite', 'SnippetRefused']]);
});

test('rewrite-target /$2 with the path /something(/|$)(.*) reaches the backend rewritten', async () => {
  for (const [path, expected] of [['/something', '/'], ['/something/new', '/new'], ['/SomeThing/a/b?q=1', '/a/b?q=1']] as const) {
    const r = await request(httpPort, path, { headers: { host: 'rw.test' } });
    assert.equal(r.status, 200, path);
    assert.equal(json(r).name, 'api');
    assert.equal(json(r).url, expected, path);
  }
  assert.equal((await request(httpPort, '/other', { headers: { host: 'rw.test' } })).status, 404);
});

test('a TLS host: 308 to https on HTTP, served over TLS by SNI with CORS', async () => {
  const r = await request(httpPort, '/page?x=1', { headers: { host: 'secure.test' } });
  assert.equal(r.status, 308);
  assert.equal(r.headers.location, 'https://secure.test/page?x=1');
  const s = await httpsGet('secure.test', '/page', { origin: 'https://ui.test' });
  assert.equal(s.status, 200);
  assert.equal(JSON.parse(s.body).name, 'web');
  assert.equal(s.headers['access-control-allow-origin'], 'https://ui.test');
});

test('canary by header: always -> preview, never and absent -> stable; app-root and body size of the main Ingress', async () => {
  const to = async (headers: Record<string, string>) => json(await request(httpPort, '/x', { headers: { host: 'canary.test', ...headers } })).name;
  assert.equal(await to({ 'x-canary': 'always' }), 'preview');
  assert.equal(await to({ 'x-canary': 'never' }), 'stable');
  assert.equal(await to({}), 'stable');
  const root = await request(httpPort, '/', { headers: { host: 'canary.test' } });
  assert.equal(root.status, 302);
  assert.match(String(root.headers.location), /\/home$/);
  const big = await request(httpPort, '/upload', { method: 'POST', headers: { host: 'canary.test', 'content-type': 'text/plain' }, body: 'x'.repeat(4096) });
  assert.equal(big.status, 413);
});
