// The proxy's "slow request" log line, through a real proxy and backend: a request at or over the
// threshold is logged with its route, status and phases, and says whether it had to open a new
// upstream connection; the threshold 0 logs nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { GatewayProxy } from '../../../src/gateway/proxy/index.js';
import type { SlowRequestLine } from '../../../src/gateway/proxy/slow-requests.js';
import { backend, entry, freePort, httpConfig, prefix, request, vhost } from './proxy-support.js';

const DELAY_MS = 150;

/** A backend that answers after DELAY_MS and counts the connections it accepted. */
async function slowBackend(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  const server = http.createServer((_req, res) => setTimeout(() => res.end('ok'), DELAY_MS));
  server.keepAliveTimeout = 600_000;
  server.on('connection', () => accepted++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

async function setUp(t: { after: (f: () => Promise<void>) => void }, slowRequestMs: number) {
  const be = await slowBackend();
  const lines: object[] = [];
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1', slowRequestMs, log: (l) => lines.push(l) });
  t.after(async () => {
    await proxy.close();
    await be.close();
  });
  const port = await freePort();
  await proxy.update(httpConfig(port, [vhost('slow.test', [entry(prefix('/'), [backend({ name: 'slow', port: be.port })])])]));
  const slowLines = () => lines.filter((l): l is SlowRequestLine & { component: string } => (l as { msg?: string }).msg === 'slow request');
  return { be, port, slowLines };
}

test('requests at or over the threshold are logged with their phases and whether they opened an upstream connection', async (t) => {
  const { be, port, slowLines } = await setUp(t, DELAY_MS / 2);
  // Each on a new client connection; the upstream connection is pooled.
  for (let i = 0; i < 2; i++) assert.equal((await request(port, '/', { headers: { host: 'slow.test' }, agent: false })).status, 200);
  assert.equal((await request(port, '/', { headers: { host: 'other.test' }, agent: false })).status, 404);
  assert.equal(be.accepted(), 1, 'both requests went over one upstream connection');

  const logged = slowLines();
  assert.equal(logged.length, 2, `two slow requests logged: ${JSON.stringify(logged)}`);
  for (const l of logged) {
    assert.equal(l.level, 'warn');
    assert.equal(l.component, 'gateway-proxy');
    assert.equal(l.status, 200);
    assert.match(l.route, /./);
    for (const f of ['totalMs', 'startedAtMs', 'acceptToHeadMs', 'routingMs', 'upstreamQueuedMs', 'upstreamMs', 'responseMs'] as const) assert.equal(typeof l[f], 'number', f);
    assert.ok(l.totalMs >= DELAY_MS / 2);
  }
  assert.equal(logged[0].newUpstreamConnection, true, 'the first request opened the pool\'s connection');
  assert.equal(logged[1].newUpstreamConnection, false, 'the second reused it');
});

test('the threshold 0 logs no slow request', async (t) => {
  const { port, slowLines } = await setUp(t, 0);
  assert.equal((await request(port, '/', { headers: { host: 'slow.test' }, agent: false })).status, 200);
  assert.deepEqual(slowLines(), []);
});
