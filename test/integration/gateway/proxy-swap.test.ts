// The key property: update() swaps tables while traffic flows. 250 updates a few ms apart add and
// remove unrelated routes and ports while a client sends requests without pause (HTTP/1.1
// keep-alive, new connections, h2c) and holds a WebSocket and a slow streaming response open.
// Nothing may fail, and the WebSocket and the stream must stay connected and complete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import WebSocket from 'ws';
import { GatewayProxy } from '../../../src/gateway/proxy/index.js';
import type { ProxyConfig } from '../../../src/gateway/config.js';
import { backend, entry, freePort, json, prefix, request, startEcho, startTcpEcho, vhost } from './proxy-support.js';

const SWAPS = 250;

test('250 config swaps under load: zero failed requests, WebSocket and stream survive', async (t) => {
  const [a, b, tcp] = await Promise.all([startEcho('a'), startEcho('b'), startTcpEcho('t')]);
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await Promise.all([a.close(), b.close(), tcp.close()]);
  });
  const port = await freePort();
  const extraPorts = [await freePort(), await freePort()];
  const config = (i: number): ProxyConfig => {
    const ports: ProxyConfig['ports'] = [
      {
        kind: 'http',
        port,
        hosts: [
          // Unrelated routes that come and go (with regexes compiled per config).
          ...Array.from({ length: i % 7 }, (_, k) =>
            vhost(`extra-${i}-${k}.test`, [entry({ path: { type: 'RegularExpression', value: `/x${k}/[0-9]+` }, headers: [], queryParams: [] }, [backend(b)])]),
          ),
          vhost(`gen-${i}.test`, [entry(prefix('/'), [backend(b)])]),
          vhost('*', [entry(prefix('/stream'), [backend(a)]), entry(prefix('/ws'), [backend(a, { protocol: 'ws' })]), entry(prefix('/'), [backend(a)])]),
        ],
      },
    ];
    // Ports opened and closed along the way (one HTTP, one TCP).
    if (i % 2 === 0) ports.push({ kind: 'http', port: extraPorts[0], hosts: [vhost('*', [entry(prefix('/'), [backend(b)])])] });
    if (i % 3 === 0) ports.push({ kind: 'tcp', port: extraPorts[1], backends: [backend(tcp)] });
    ports.sort((x, y) => x.port - y.port);
    return { ports };
  };
  await proxy.update(config(0));

  // The long-lived ones: a WebSocket exchanging messages, and a slow streamed response.
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/held`);
  const wsReplies: string[] = [];
  let wsClosed = false;
  ws.on('message', (d) => wsReplies.push(d.toString()));
  ws.on('close', () => (wsClosed = true));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let wsSent = 0;
  const wsTimer = setInterval(() => ws.send(`m${wsSent++}`), 10);

  const stream = new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/held/swap/15', agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
        res.on('error', reject);
      })
      .on('error', reject);
  });

  // Continuous traffic: 3 keep-alive loops, 1 new-connection loop, 1 h2c loop.
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const check = (r: { status: number; body: string }, what: string): void => {
    if (r.status === 200 && json(r as never).name === 'a') ok++;
    else failures.push(`${what}: ${r.status} ${r.body.slice(0, 80)}`);
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 3 });
  const loops = [0, 1, 2].map(async () => {
    while (running) {
      try {
        check(await request(port, '/api', { agent }), 'keep-alive');
      } catch (e) {
        failures.push(`keep-alive: ${(e as Error).message}`);
      }
    }
  });
  loops.push(
    (async () => {
      while (running) {
        try {
          check(await request(port, '/fresh', { agent: false, method: 'POST', body: 'body' }), 'new connection');
        } catch (e) {
          failures.push(`new connection: ${(e as Error).message}`);
        }
      }
    })(),
  );
  const h2 = http2.connect(`http://127.0.0.1:${port}`);
  h2.on('error', (e) => failures.push(`h2 session: ${e.message}`));
  loops.push(
    (async () => {
      while (running) {
        try {
          const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
            const s = h2.request({ ':path': '/h2', ':authority': 'any.test' });
            let status = 0;
            let body = '';
            s.on('response', (h) => (status = Number(h[':status'])));
            s.on('data', (d: Buffer) => (body += d.toString()));
            s.on('end', () => resolve({ status, body }));
            s.on('error', reject);
          });
          check(r, 'h2c');
        } catch (e) {
          failures.push(`h2c: ${(e as Error).message}`);
        }
      }
    })(),
  );

  // The swaps.
  for (let i = 1; i <= SWAPS; i++) {
    await proxy.update(config(i));
    assert.deepEqual(proxy.portErrors(), []);
    await new Promise((r) => setTimeout(r, 3));
  }
  a.release!('swap');
  const streamed = await stream;
  running = false;
  await Promise.all(loops);
  clearInterval(wsTimer);
  await new Promise((r) => setTimeout(r, 100));
  h2.close();
  agent.destroy();

  assert.deepEqual(failures, [], 'no request failed during the swaps');
  assert.ok(ok > 50, `requests kept flowing (${ok} succeeded)`);
  const chunks = /released after (\d+) chunks\n$/.exec(streamed);
  assert.ok(chunks, 'the streamed response completed after the swaps');
  assert.ok(streamed.startsWith(Array.from({ length: Number(chunks[1]) }, (_, k) => `chunk ${k}\n`).join('')), 'no chunk lost');
  assert.equal(wsClosed, false, 'the WebSocket is still open');
  assert.ok(wsSent > 20);
  assert.equal(wsReplies[0], 'hello from a /ws/held');
  assert.deepEqual(wsReplies.slice(1), Array.from({ length: wsSent }, (_, k) => `a:m${k}`), 'every WebSocket message was echoed, in order');
  ws.close();

  // The final config is the one served: its generated host routes to b, removed ports are closed.
  assert.equal(json(await request(port, '/', { headers: { host: `gen-${SWAPS}.test` } })).name, 'b');
  assert.equal((await request(port, '/', { headers: { host: `gen-${SWAPS - 1}.test` } }).then((r) => json(r).name)), 'a');
  const metrics = await proxy.metricsText();
  assert.match(metrics, new RegExp(`gateway_config_swaps_total ${SWAPS + 1}`));
  const listening = proxy.listening();
  assert.ok(listening.includes(`tcp/${port}`));
  assert.equal(listening.includes(`tcp/${extraPorts[0]}`), SWAPS % 2 === 0);
  assert.equal(listening.includes(`tcp/${extraPorts[1]}`), SWAPS % 3 === 0);
});

test('a removed port stops accepting while its stream and WebSocket finish; kind changes reopen; busy ports are reported', async (t) => {
  const [a, tcp] = await Promise.all([startEcho('a'), startTcpEcho('t')]);
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  const busy = http.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const busyPort = (busy.address() as net.AddressInfo).port;
  t.after(async () => {
    await proxy.close();
    await Promise.all([a.close(), tcp.close()]);
    if (busy.listening) await new Promise((r) => busy.close(r));
  });
  const main = await freePort();
  const extra = await freePort();
  const httpPort = (p: number): ProxyConfig['ports'][number] => ({ kind: 'http', port: p, hosts: [vhost('*', [entry(prefix('/'), [backend(a)])])] });
  await proxy.update({ ports: [httpPort(main), httpPort(extra), httpPort(busyPort)] });
  assert.deepEqual(
    proxy.portErrors().map((e) => [e.port, e.protocol]),
    [[busyPort, 'tcp']],
  );
  assert.match(proxy.portErrors()[0].error, /EADDRINUSE/);
  assert.equal(json(await request(main, '/')).name, 'a', 'the other ports serve');

  const ws = new WebSocket(`ws://127.0.0.1:${extra}/ws`);
  const replies: string[] = [];
  ws.on('message', (d) => replies.push(d.toString()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const stream = new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: extra, path: '/held/removed/10', agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
  await new Promise((r) => setTimeout(r, 50));

  await proxy.update({ ports: [httpPort(main)] });
  await assert.rejects(request(extra, '/', { agent: false }), /ECONNREFUSED/, 'the removed port stops accepting');
  ws.send('still there');
  await new Promise<void>((resolve) => ws.once('message', () => resolve()));
  assert.equal(replies.at(-1), 'a:still there', 'the WebSocket on the removed port keeps working');
  a.release!('removed');
  assert.match(await stream, /released after \d+ chunks\n$/, 'the stream on the removed port completes');
  ws.close();

  // The same port as TCP: reopened with the new kind.
  await proxy.update({ ports: [httpPort(main), { kind: 'tcp', port: extra, backends: [backend(tcp)] }] });
  const reply = await new Promise<string>((resolve, reject) => {
    const s = net.connect(extra, '127.0.0.1', () => s.end('raw'));
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
  assert.equal(reply, 't:raw');
  // The busy port is retried by the next update once it is free.
  await new Promise((r) => busy.close(r));
  await proxy.update({ ports: [httpPort(main), httpPort(busyPort)] });
  assert.deepEqual(proxy.portErrors(), []);
  assert.equal(json(await request(busyPort, '/')).name, 'a');
});
