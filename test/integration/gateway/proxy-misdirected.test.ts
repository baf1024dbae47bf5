// 421 Misdirected Request on a TLS port: the SNI chose one listener, the Host belongs to another
// (HTTP/1.1 and HTTP/2, including a request over a connection coalesced for another name).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import { GatewayProxy } from '../../../src/gateway/proxy/index.js';
import { backend, entry, freePort, prefix, selfSigned, startEcho, vhost } from './proxy-support.js';

const echoName = (r: { body: string }) => (JSON.parse(r.body) as { name: string }).name;

const certDefault = selfSigned(['default.test']);
const certSecond = selfSigned(['second.test']);

function h1(port: number, servername: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/x', servername, headers: { host }, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Two requests on one HTTP/2 connection made for `servername`, with the given authorities. */
async function h2(port: number, servername: string, authorities: string[]): Promise<number[]> {
  const session = http2.connect(`https://127.0.0.1:${port}`, { servername, rejectUnauthorized: false });
  try {
    const statuses: number[] = [];
    for (const authority of authorities) {
      statuses.push(
        await new Promise<number>((resolve, reject) => {
          const s = session.request({ ':path': '/x', ':authority': authority });
          let status = 0;
          s.on('response', (h) => (status = Number(h[':status'])));
          s.on('error', reject);
          s.resume();
          s.on('end', () => resolve(status));
        }),
      );
    }
    return statuses;
  } finally {
    session.close();
  }
}

test('a Host served by another HTTPS listener than the SNI gets 421; the same listener is routed (or 404)', async (t) => {
  const a = await startEcho('a');
  const b = await startEcho('b');
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });
  const port = await freePort();
  await proxy.update({
    ports: [
      {
        kind: 'http',
        port,
        tls: { certificates: [{ hostnames: ['second.test'], ...certSecond }, { hostnames: ['*'], ...certDefault }], passthrough: [], listenerHostnames: ['second.test', '*'] },
        hosts: [vhost('second.test', [entry(prefix('/'), [backend(b)])]), vhost('first.test', [entry(prefix('/'), [backend(a)])])],
      },
    ],
  });
  assert.equal(echoName(await h1(port, 'first.test', 'first.test')), 'a');
  assert.equal(echoName(await h1(port, 'second.test', 'second.test:443')), 'b');
  assert.equal((await h1(port, 'first.test', 'second.test')).status, 421);
  assert.equal((await h1(port, 'second.test', 'first.test')).status, 421);
  assert.equal((await h1(port, 'second.test', 'unknown.test')).status, 421, 'unknown.test belongs to the catch-all listener');
  assert.equal((await h1(port, 'first.test', 'unknown.test')).status, 404, 'same listener, no route');
  assert.deepEqual(await h2(port, 'first.test', ['first.test', 'second.test', 'unknown.test']), [200, 421, 404]);
  assert.deepEqual(await h2(port, 'second.test', ['second.test', 'first.test']), [200, 421]);
});

test('without listener hostnames (Ingress ports) nothing is misdirected', async (t) => {
  const a = await startEcho('a');
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await a.close();
  });
  const port = await freePort();
  await proxy.update({ ports: [{ kind: 'http', port, tls: { certificates: [{ hostnames: ['*'], ...certDefault }], passthrough: [] }, hosts: [vhost('*', [entry(prefix('/'), [backend(a)])])] }] });
  assert.equal(echoName(await h1(port, 'first.test', 'second.test')), 'a');
});
