// Sockets created inside a network namespace and used from this process: a TCP server, a UDP
// socket and a TCP client, all talking inside a namespace that this process is not in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { once } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import { connectInNetns, listenInNetns, NetnsSocketError, stopNetnsBrokers } from '../../../src/linux/netns-socket.js';
import { requireRoot } from '../../support/prerequisites.js';

const ns = `flatnet-t-lead-${process.pid}`;

test('sockets inside a network namespace', async (t) => {
  requireRoot('a network namespace, and entering it to open sockets');
  execFileSync('ip', ['netns', 'add', ns]);
  t.after(() => {
    stopNetnsBrokers();
    execFileSync('ip', ['netns', 'del', ns]);
  });
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  execFileSync('ip', ['-n', ns, 'addr', 'add', '10.123.0.1/32', 'dev', 'lo']);

  await t.test('a TCP server in the namespace answers a client in the namespace', async () => {
    const server = await listenInNetns(ns, { host: '10.123.0.1', port: 8080, type: 'tcp' });
    server.on('connection', (s) => s.end(`hello ${s.remoteAddress}`));
    const client = await connectInNetns(ns, '10.123.0.1', 8080);
    client.resume();
    const chunks: Buffer[] = [];
    client.on('data', (c) => chunks.push(c));
    await once(client, 'end');
    assert.equal(Buffer.concat(chunks).toString(), 'hello 10.123.0.1');
    server.close();
  });

  await t.test('a UDP socket bound in the namespace', async () => {
    const sock = await listenInNetns(ns, { host: '10.123.0.1', port: 5353, type: 'udp4' });
    sock.on('message', (msg, rinfo) => sock.send(Buffer.concat([Buffer.from('echo '), msg]), rinfo.port, rinfo.address));
    // Async: this process answers, so it must not block while the client waits.
    const { stdout } = await promisify(execFile)('ip', ['netns', 'exec', ns, 'bash', '-c', 'exec 3<>/dev/udp/10.123.0.1/5353; printf hi >&3; timeout 2 head -c 7 <&3']);
    assert.equal(stdout, 'echo hi');
    sock.close();
  });

  // The native dial (an IP literal) and the broker's (a host name, resolved inside) answer the same
  // socket: one that starts flowing when a consumer listens for 'data', as Node's HTTP client and
  // the BGP session do without calling resume(). A socket left explicitly paused never answers them.
  await t.test('a client that only listens for data is answered, over the native dial and the broker alike', { timeout: 20_000 }, async () => {
    const server = await listenInNetns(ns, { host: '::', port: 8081, type: 'tcp' });
    const web = http.createServer((req, res) => res.end(`hello ${req.socket.remoteAddress}`));
    server.on('connection', (s) => web.emit('connection', s));
    t.after(() => server.close());
    const get = (sock: net.Socket) =>
      new Promise<string>((resolve, reject) => {
        const req = http.request({ path: '/', createConnection: () => sock }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end();
      });
    assert.equal(await get(await connectInNetns(ns, '10.123.0.1', 8081)), 'hello ::ffff:10.123.0.1');
    assert.match(await get(await connectInNetns(ns, 'localhost', 8081)), /^hello (::1|::ffff:127\.0\.0\.1)$/);
    const raw = await connectInNetns(ns, '10.123.0.1', 8081);
    raw.on('data', () => undefined);
    raw.end('GET / HTTP/1.0\r\n\r\n');
    await once(raw, 'end');
  });

  await t.test('errors keep their code', async () => {
    await assert.rejects(connectInNetns(ns, '10.123.0.1', 9), (err: unknown) => err instanceof NetnsSocketError && err.code === 'ECONNREFUSED');
    await assert.rejects(listenInNetns(ns, { host: '10.9.9.9', port: 80, type: 'tcp' }), (err: unknown) => err instanceof NetnsSocketError && err.code === 'EADDRNOTAVAIL');
  });
});
