// WebSocket upgrades through the proxy (on every backend protocol), TCP ports (half-close) and
// UDP ports (per-client sessions), each against real servers on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import WebSocket from 'ws';
import { GatewayProxy } from '../../../src/gateway/proxy/index.js';
import { backend, entry, freePort, httpConfig, prefix, startEcho, startTcpEcho, startUdpEcho, until, vhost } from './proxy-support.js';

function wsRoundTrip(url: string, headers: Record<string, string> = {}): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const got: string[] = [];
    ws.on('message', (d) => {
      got.push(d.toString());
      if (got.length === 1) ws.send('ping');
      else ws.close();
    });
    ws.on('close', () => resolve(got));
    ws.on('error', reject);
  });
}

test('WebSocket upgrades are proxied on every backend protocol', async (t) => {
  const a = await startEcho('a');
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await a.close();
  });
  const port = await freePort();
  const deadPort = await freePort();
  await proxy.update(
    httpConfig(port, [
      vhost('*', [
        entry(prefix('/ws'), [backend(a, { protocol: 'ws' })]),
        entry(prefix('/h2c'), [backend(a, { protocol: 'h2c' })], { filters: [{ type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/rewritten' } }] }),
        entry(prefix('/plain'), [backend(a)]),
        entry(prefix('/dead'), [backend({ name: 'dead', port: deadPort })]),
      ]),
    ]),
  );
  assert.deepEqual(await wsRoundTrip(`ws://127.0.0.1:${port}/ws/chat`), ['hello from a /ws/chat', 'a:ping']);
  assert.deepEqual(await wsRoundTrip(`ws://127.0.0.1:${port}/h2c/x`), ['hello from a /rewritten/x', 'a:ping']);
  assert.deepEqual(await wsRoundTrip(`ws://127.0.0.1:${port}/plain`), ['hello from a /plain', 'a:ping']);
  await assert.rejects(wsRoundTrip(`ws://127.0.0.1:${port}/dead`), /502/);
  await assert.rejects(wsRoundTrip(`ws://127.0.0.1:${port}/nothing`), /404/);
});

test('an upgraded backend that answers a lot and closes at once: a client that reads late still gets every byte', async (t) => {
  const answer = Buffer.alloc(1 << 20, 'x');
  let backendClosed = false;
  const backendServer = net.createServer((c) => {
    c.on('close', () => (backendClosed = true));
    c.once('data', () => {
      c.write('HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: raw\r\n\r\n');
      c.end(answer);
    });
  });
  await new Promise<void>((r) => backendServer.listen(0, '127.0.0.1', r));
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await new Promise((r) => backendServer.close(r));
  });
  const port = await freePort();
  await proxy.update(httpConfig(port, [vhost('*', [entry(prefix('/'), [backend({ name: 'burst', port: (backendServer.address() as net.AddressInfo).port })])])]));
  const client = net.connect({ host: '127.0.0.1', port });
  await new Promise((r) => client.once('connect', r));
  client.write('GET /burst HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: raw\r\n\r\n');
  client.pause();
  // Until the proxy has taken the whole answer from the backend and seen it close.
  await until(() => backendClosed, 'the backend connection closes');
  const received: Buffer[] = [];
  client.on('data', (c: Buffer) => received.push(c));
  client.resume();
  await new Promise((r) => client.once('close', r));
  const all = Buffer.concat(received);
  const body = all.subarray(all.indexOf('\r\n\r\n') + 4);
  assert.match(all.subarray(0, 40).toString(), /^HTTP\/1.1 101/);
  assert.equal(body.length, answer.length);
});

test('TCP port: weighted backends, both directions, half-close passed on; no backend closes', async (t) => {
  const [x, y] = await Promise.all([startTcpEcho('x'), startTcpEcho('y')]);
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await Promise.all([x.close(), y.close()]);
  });
  const port = await freePort();
  const empty = await freePort();
  await proxy.update({
    ports: [
      { kind: 'tcp', port, backends: [backend(x, { weight: 1 }), backend(y, { weight: 1 })] },
      { kind: 'tcp', port: empty, backends: [] },
    ],
  });
  const exchange = (p: number, msg: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = net.connect(p, '127.0.0.1', () => s.end(msg));
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString()));
      s.on('close', () => resolve(out));
      s.on('error', reject);
    });
  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const reply = await exchange(port, `m${i}`);
    assert.match(reply, new RegExp(`^[xy]:m${i}$`), 'the reply arrives after our FIN');
    seen.add(reply[0]);
  }
  assert.deepEqual([...seen].sort(), ['x', 'y']);
  assert.equal(await exchange(empty, 'hello'), '', 'no backend: closed at once');
});

test('UDP port: a session per client, replies come back, idle sessions end', async (t) => {
  const [u, v] = await Promise.all([startUdpEcho('u'), startUdpEcho('v')]);
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await Promise.all([u.close(), v.close()]);
  });
  const port = await freePort();
  await proxy.update({ ports: [{ kind: 'udp', port, backends: [backend(u), backend(v, { weight: 0 })] }] });
  const client = (): Promise<{ send: (m: string) => Promise<string>; close: () => void }> =>
    new Promise((resolve) => {
      const s = dgram.createSocket('udp4');
      s.bind(0, '127.0.0.1', () =>
        resolve({
          send: (m) =>
            new Promise((r) => {
              s.once('message', (d) => r(d.toString()));
              s.send(m, port, '127.0.0.1');
            }),
          close: () => s.close(),
        }),
      );
    });
  const c1 = await client();
  const c2 = await client();
  t.after(() => {
    c1.close();
    c2.close();
  });
  const r1 = await c1.send('one');
  const r1b = await c1.send('two');
  const r2 = await c2.send('three');
  // u answers "u:<msg>:<source port of the session socket>": one session socket per client.
  const [, m1, p1] = r1.split(':');
  const [, , p1b] = r1b.split(':');
  const [, m2, p2] = r2.split(':');
  assert.equal(m1, 'one');
  assert.equal(m2, 'three');
  assert.equal(p1, p1b, 'the same client keeps its session');
  assert.notEqual(p1, p2, 'another client gets another session');
  const metrics = await proxy.metricsText();
  assert.match(metrics, new RegExp(`gateway_active_connections\\{port="udp/${port}"\\} 2`));
});

test('UDP sessions close after the idle time', async (t) => {
  const u = await startUdpEcho('u');
  const { UdpPortListener } = await import('../../../src/gateway/proxy/udp.js');
  const { RoundRobin } = await import('../../../src/gateway/proxy/balance.js');
  const { ProxyMetrics } = await import('../../../src/gateway/proxy/metrics.js');
  const port = await freePort();
  const listener = new UdpPortListener({ kind: 'udp', port, route: 'none', backends: [backend(u)] }, '127.0.0.1', new RoundRobin(), new ProxyMetrics(), () => undefined, 200);
  await listener.open();
  t.after(async () => {
    listener.close();
    await u.close();
  });
  const s = dgram.createSocket('udp4');
  t.after(() => s.close());
  const reply = new Promise<string>((r) => s.once('message', (d) => r(d.toString())));
  s.send('hi', port, '127.0.0.1');
  assert.match(await reply, /^u:hi:/);
  assert.equal(listener.sessionCount(), 1);
  await until(() => listener.sessionCount() === 0, 'the idle session to end');
});
