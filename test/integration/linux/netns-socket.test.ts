// Sockets created inside a network namespace and used from this process: a TCP server, a UDP
// socket and a TCP client, all talking inside a namespace that this process is not in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { once } from 'node:events';
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

  await t.test('errors keep their code', async () => {
    await assert.rejects(connectInNetns(ns, '10.123.0.1', 9), (err: unknown) => err instanceof NetnsSocketError && err.code === 'ECONNREFUSED');
    await assert.rejects(listenInNetns(ns, { host: '10.9.9.9', port: 80, type: 'tcp' }), (err: unknown) => err instanceof NetnsSocketError && err.code === 'EADDRNOTAVAIL');
  });
});
