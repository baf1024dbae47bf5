// The netns-ops addon against the real kernel: a pod's network namespace (lo up) and UTS
// namespace (its hostname) made by this process's thread, sockets opened inside a namespace this
// process is not in, errors with their errno names, and this thread back in its own namespaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type net from 'node:net';
import type dgram from 'node:dgram';
import { connectNatively, listenNatively, loadNetnsOps, netnsDirShared, sharedMountPoint } from '../../../src/runtime/netns-ops.js';
import { requireRoot } from '../../support/prerequisites.js';

const run = promisify(execFile);

test('sharedMountPoint reads the propagation of a mount point from mountinfo', () => {
  const info = [
    '22 1 0:21 / /run rw,nosuid shared:5 - tmpfs tmpfs rw',
    '700 22 0:21 /netns /run/netns rw,nosuid shared:320 - tmpfs tmpfs rw',
    '701 22 0:4 net:[4026532] /run/netns/a rw shared:321 - nsfs nsfs rw',
    '702 22 0:30 / /run/private rw - tmpfs tmpfs rw',
  ].join('\n');
  assert.equal(sharedMountPoint(info, '/run/netns'), true);
  assert.equal(sharedMountPoint(info, '/run/private'), false);
  assert.equal(sharedMountPoint(info, '/run/absent'), false);
});

test('pod namespaces and sockets through the netns-ops addon', async (t) => {
  requireRoot('creating network and UTS namespaces');
  const { addon, error } = loadNetnsOps();
  assert.ok(addon, `the netns-ops addon is needed (${error}); build it with npm run build:native`);
  // `ip netns add` makes /run/netns the shared mount the addon's pins rely on.
  const pinned = `d1ops-pin-${process.pid}`;
  execFileSync('ip', ['netns', 'add', pinned]);
  const ns = `d1ops-${process.pid}`;
  const nsPath = `/run/netns/${ns}`;
  const dir = mkdtempSync(join(tmpdir(), 'd1ops-'));
  const uts = join(dir, 'uts');
  t.after(() => {
    execFileSync('umount', [uts], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
    for (const n of [ns, pinned]) execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
  });
  const ownNet = readlinkSync('/proc/thread-self/ns/net');
  const ownUts = readlinkSync('/proc/thread-self/ns/uts');
  assert.equal(netnsDirShared(), true, '/run/netns is a shared mount after ip netns add');

  await t.test('createNetns pins a new namespace with lo up', async () => {
    addon.createNetns(nsPath);
    const { stdout } = await run('ip', ['-n', ns, '-o', 'link', 'show', 'lo']);
    assert.match(stdout, /<LOOPBACK,UP,LOWER_UP>/);
    assert.notEqual(statSync(nsPath).ino, statSync('/proc/thread-self/ns/net').ino, 'a namespace of its own');
    assert.equal(readlinkSync('/proc/thread-self/ns/net'), ownNet, 'the thread is back in its own namespace');
    assert.throws(() => addon.createNetns(nsPath), (err: NodeJS.ErrnoException) => err.code === 'EEXIST');
  });

  await t.test('createUts holds the hostname; this process keeps its own', async () => {
    writeFileSync(uts, '');
    addon.createUts(uts, 'd1-pod-host');
    const { stdout } = await run('nsenter', [`--uts=${uts}`, 'hostname']);
    assert.equal(stdout.trim(), 'd1-pod-host');
    assert.notEqual(hostname(), 'd1-pod-host');
    assert.equal(readlinkSync('/proc/thread-self/ns/uts'), ownUts);
  });

  await t.test('linkUp sets an interface up inside the namespace; a missing one names ENODEV', async () => {
    await run('ip', ['-n', ns, 'link', 'add', 'd1a', 'type', 'veth', 'peer', 'name', 'd1b']);
    addon.linkUp(nsPath, 'd1a');
    const { stdout } = await run('ip', ['-n', ns, '-o', 'link', 'show', 'd1a']);
    assert.match(stdout, /[<,]UP[,>]/);
    assert.throws(() => addon.linkUp(nsPath, 'nope0'), (err: NodeJS.ErrnoException) => err.code === 'ENODEV');
  });

  await t.test('a TCP listener (dual-stack) and a UDP socket in the namespace serve clients there', async () => {
    await run('ip', ['-n', ns, 'addr', 'add', '10.124.0.1/32', 'dev', 'lo']);
    const server = (await listenNatively(ns, { host: '::', port: 8080, type: 'tcp' })) as net.Server;
    t.after(() => server.close());
    server.on('connection', (s) => s.end(`hello ${s.remoteAddress}`));
    const { stdout } = await run('ip', ['netns', 'exec', ns, 'timeout', '10', 'bash', '-c', 'exec 3<>/dev/tcp/10.124.0.1/8080; cat <&3']);
    assert.equal(stdout, 'hello ::ffff:10.124.0.1');
    const sock = (await listenNatively(ns, { host: '10.124.0.1', port: 5353, type: 'udp4' })) as dgram.Socket;
    t.after(() => sock.close());
    sock.on('message', (msg, rinfo) => sock.send(Buffer.concat([Buffer.from('echo '), msg]), rinfo.port, rinfo.address));
    const udp = await run('ip', ['netns', 'exec', ns, 'bash', '-c', 'exec 3<>/dev/udp/10.124.0.1/5353; printf hi >&3; timeout 5 head -c 7 <&3']);
    assert.equal(udp.stdout, 'echo hi');
    // A connection dialed from inside the namespace (a probe from the node's namespace) reaches the listener there.
    const dialed = await connectNatively(ns, '10.124.0.1', 8080, 5000)!;
    dialed.resume();
    const greeting = await new Promise<string>((resolve) => {
      let text = '';
      dialed.on('data', (c: Buffer) => (text += c.toString()));
      dialed.on('end', () => resolve(text));
    });
    assert.equal(greeting, 'hello ::ffff:10.124.0.1');
  });

  await t.test('errors carry the errno name', async () => {
    const busy = (await listenNatively(ns, { host: '0.0.0.0', port: 8081, type: 'tcp' })) as net.Server;
    await assert.rejects(listenNatively(ns, { host: '0.0.0.0', port: 8081, type: 'tcp' })!, (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE');
    busy.close();
    await assert.rejects(listenNatively(ns, { host: '10.9.9.9', port: 80, type: 'tcp' })!, (err: NodeJS.ErrnoException) => err.code === 'EADDRNOTAVAIL');
    await assert.rejects(listenNatively('d1ops-absent', { host: '0.0.0.0', port: 80, type: 'tcp' })!, (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
    assert.equal(listenNatively(ns, { host: 'localhost', port: 80, type: 'tcp' }), undefined, 'a host name is left to the broker');
    await assert.rejects(connectNatively(ns, '10.124.0.1', 8099, 5000)!, (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
    assert.equal(connectNatively(ns, 'localhost', 80, 5000), undefined, 'a host name is left to the broker');
    // libuv would name a zone's interface in this thread's namespace, not the socket's.
    assert.equal(connectNatively(ns, 'fe80::1%eth0', 80, 5000), undefined, 'a zoned address is left to the broker');
    assert.equal(listenNatively(ns, { host: 'fe80::1%eth0', port: 80, type: 'tcp' }), undefined, 'a zoned address is left to the broker');
    assert.equal(readlinkSync('/proc/thread-self/ns/net'), ownNet);
    assert.ok(existsSync(nsPath));
  });
});
