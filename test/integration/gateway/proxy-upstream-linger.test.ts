// Upstream connections outlive a config that briefly drops their endpoint: a route deleted and
// created again (the only route to a Service) reuses the pooled connection instead of opening a
// new one; once the linger time passes, the connection is closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { GatewayProxy } from '../../../src/gateway/proxy/index.js';
import type { ProxyConfig } from '../../../src/gateway/config.js';
import { backend, entry, freePort, httpConfig, prefix, request, until, vhost } from './proxy-support.js';

/** A backend that counts the TCP connections it accepted and knows which are still open. */
async function countingBackend(): Promise<{ port: number; accepted: () => number; open: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = http.createServer((_req, res) => res.end('ok'));
  server.keepAliveTimeout = 600_000;
  server.on('connection', (s: net.Socket) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    open: () => sockets.size,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

async function setUp(t: { after: (f: () => Promise<void>) => void }, retiredLingerMs: number) {
  const be = await countingBackend();
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1', retiredLingerMs });
  t.after(async () => {
    await proxy.close();
    await be.close();
  });
  const port = await freePort();
  const b = { name: 'target', port: be.port };
  // A fresh config object each time, as the proxy gets from its watch.
  const withRoute = (): ProxyConfig => httpConfig(port, [vhost('probe.test', [entry(prefix('/'), [backend(b)])])]);
  const withoutRoute = (): ProxyConfig => httpConfig(port, []);
  // Every client request on a new connection, as a new client would.
  const get = () => request(port, '/', { headers: { host: 'probe.test' }, agent: false });
  return { be, proxy, withRoute, withoutRoute, get };
}

test('a route deleted and created again reuses the upstream connection of its endpoint', async (t) => {
  const { be, proxy, withRoute, withoutRoute, get } = await setUp(t, 600_000);
  await proxy.update(withRoute());
  assert.equal((await get()).status, 200);
  assert.equal(be.accepted(), 1);

  await proxy.update(withoutRoute());
  assert.equal((await get()).status, 404);
  await proxy.update(withRoute());
  assert.equal((await get()).status, 200);
  assert.equal(be.accepted(), 1, 'the second first request went over the connection the first one opened');
  assert.equal(be.open(), 1);
});

test('the upstream connections of an endpoint that stays out of the config are closed after the linger time', async (t) => {
  const { be, proxy, withRoute, withoutRoute, get } = await setUp(t, 50);
  await proxy.update(withRoute());
  assert.equal((await get()).status, 200);
  assert.equal(be.open(), 1);

  await proxy.update(withoutRoute());
  await until(() => be.open() === 0, 'the retired pool closing its connection', 30_000);
  await proxy.update(withRoute());
  assert.equal((await get()).status, 200);
  assert.equal(be.accepted(), 2, 'a new connection after the old pool was closed');
});

