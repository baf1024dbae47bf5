// The batched UDP path (native/udp-batch: recvmmsg/sendmmsg) on real sockets: dig and dnsperf
// answered through it on IPv4 and IPv6 loopback, a queued burst read in batches of 64 with each
// reply going back to its own sender, malformed and oversized datagrams, answers that come after
// the batch, closing from inside a batch and closing the socket under it, and a socket opened
// in another network namespace and passed over IPC (`dnsb-` namespace, removed afterwards).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import { DnsHandler } from '../../../src/dns/handler.js';
import { DnsMetrics } from '../../../src/dns/metrics.js';
import { ClusterDnsModel } from '../../../src/dns/model.js';
import { slimEndpointSlice, slimService } from '../../../src/dns/objects.js';
import { BatchedUdpServer, loadUdpBatchAddon, udpHandleOf } from '../../../src/dns/native/udp-batch.js';
import { serveUdp, type UdpServing } from '../../../src/dns/transport.js';
import { bindUdp } from '../../../src/workloads/sockets.js';
import { decode, fixtureModel, queryBytes, service, slice } from '../../unit/dns/fixture.js';

const run = promisify(execFile);
const firstData = (m: Buffer) => (decode(m).answers[0] as { data?: unknown } | undefined)?.data;

function addon() {
  const { addon: a, error } = loadUdpBatchAddon();
  assert.ok(a, `the batching addon must be built for these tests (npm ci or npm run build:native): ${error}`);
  return a;
}

/** The fixture cluster plus a headless Service with 60 ready endpoints (an answer > 512 bytes). */
function model(): ClusterDnsModel {
  const m = fixtureModel();
  m.setService(slimService(service('ns1', 'many', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }))!);
  const eps = Array.from({ length: 60 }, (_, i) => ({ ip: `10.2.0.${i + 1}`, ready: true }));
  m.setEndpointSlice(slimEndpointSlice(slice('ns1', 'many-abc', 'many', eps, [{ name: 'http', protocol: 'TCP', port: 80 }]))!);
  return m;
}

function handlerFor(m = model()): DnsHandler {
  return new DnsHandler(m, { zone: 'cluster.local', ttl: 30, pods: 'insecure', ready: () => true }, new DnsMetrics());
}

async function bound(type: 'udp4' | 'udp6', host: string): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type, ipv6Only: false });
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  return s;
}

const closeSocket = (s: dgram.Socket) => new Promise<void>((r) => s.close(() => r()));

async function dig(server: string, port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('dig', [`@${server}`, '-p', String(port), '+tries=1', '+time=3', ...args], { timeout: 20_000 });
  return stdout;
}

test('dig over IPv4 and IPv6 is answered through the batched path, with TC for a big answer without EDNS', async () => {
  addon();
  const sock = await bound('udp6', '::');
  const serving: UdpServing = serveUdp(sock, handlerFor(), { io: 'batched' });
  try {
    assert.equal(serving.io, 'batched');
    const port = sock.address().port;
    const v4 = await dig('127.0.0.1', port, 'web.ns1.svc.cluster.local', 'A');
    assert.match(v4, /status: NOERROR/);
    assert.match(v4, /web\.ns1\.svc\.cluster\.local\.\s+30\s+IN\s+A\s+10\.96\.0\.20/);
    const v6 = await dig('::1', port, 'dual.ns1.svc.cluster.local', 'AAAA');
    assert.match(v6, /fd00::21/);
    const nx = await dig('::1', port, 'nope.ns1.svc.cluster.local', 'A');
    assert.match(nx, /status: NXDOMAIN/);
    // 60 A records do not fit 512 bytes: TC set, dig (+ignore) shows the cut answer's flags.
    const big = await dig('127.0.0.1', port, '+noedns', '+ignore', 'many.ns1.svc.cluster.local', 'A');
    assert.match(big, /flags: qr aa tc rd;/);
    const full = await dig('127.0.0.1', port, '+bufsize=4096', 'many.ns1.svc.cluster.local', 'A');
    assert.equal(full.match(/\tA\t10\.2\.0\./g)?.length, 60);
    assert.doesNotMatch(full, /flags: [a-z ]*tc/);
    const stats = serving.stats()!;
    assert.equal(stats.received, 5);
    assert.equal(stats.sent, 5);
  } finally {
    serving();
    await closeSocket(sock);
  }
});

test('dnsperf from 10 clients: every query answered through the batched path', async () => {
  addon();
  const sock = await bound('udp4', '127.0.0.1');
  const serving = serveUdp(sock, handlerFor(), { io: 'batched' });
  const dir = mkdtempSync(join(tmpdir(), 'dnsb-perf-'));
  try {
    const lines = ['web.ns1.svc.cluster.local A', 'db.ns1.svc.cluster.local A', '_http._tcp.web.ns1.svc.cluster.local SRV', 'nope.ns1.svc.cluster.local A', 'web.ns1.svc.cluster.local AAAA', 'many.ns1.svc.cluster.local A'];
    writeFileSync(join(dir, 'q'), Array.from({ length: 3000 }, (_, i) => lines[i % lines.length]).join('\n') + '\n');
    const { stdout } = await run('dnsperf', ['-s', '127.0.0.1', '-p', String(sock.address().port), '-d', join(dir, 'q'), '-n', '1', '-c', '10', '-t', '10'], { timeout: 120_000 });
    assert.match(stdout, /Queries sent:\s+3000\b/);
    assert.match(stdout, /Queries completed:\s+3000\b/, stdout);
    assert.match(stdout, /Queries lost:\s+0\b/);
    assert.match(stdout, /NOERROR 2500 \(83\.33%\), NXDOMAIN 500 \(16\.67%\)/);
    const stats = serving.stats()!;
    assert.equal(stats.received, 3000);
    assert.equal(stats.sent + stats.droppedSendBufferFull, 3000);
  } finally {
    serving();
    rmSync(dir, { recursive: true, force: true });
    await closeSocket(sock);
  }
});

test('a queued burst from IPv4 and IPv6 senders is read 64 at a time and each reply reaches its sender', async () => {
  const a = addon();
  const sock = await bound('udp6', '::');
  const port = sock.address().port;
  // Nothing reads while the burst is queued in the kernel: the batch sizes are then known.
  udpHandleOf(sock)!.recvStop!();
  const c4 = await bound('udp4', '127.0.0.1');
  const c6 = await bound('udp6', '::1');
  const got = new Map<dgram.Socket, Buffer[]>([
    [c4, []],
    [c6, []],
  ]);
  for (const [c, list] of got) c.on('message', (m) => list.push(m));
  const send = (c: dgram.Socket, msg: Buffer, host: string) => new Promise<void>((r, j) => c.send(msg, port, host, (err) => (err ? j(err) : r())));
  // 100 datagrams: 45 queries from each client (ids = sender * 1000 + i), and from c4 also 5
  // shorter than a header and 5 with QR=1 (dropped, no reply).
  for (let i = 0; i < 45; i++) {
    await send(c4, queryBytes('web.ns1.svc.cluster.local', 'A', { id: 4000 + i }), '127.0.0.1');
    await send(c6, queryBytes('dual.ns1.svc.cluster.local', 'AAAA', { id: 6000 + i }), '::1');
  }
  for (let i = 0; i < 5; i++) {
    await send(c4, Buffer.from([1, 2, 3, 4, 5]), '127.0.0.1');
    const response = queryBytes('web.ns1.svc.cluster.local', 'A', { id: 9000 + i });
    response[2] |= 0x80;
    await send(c4, response, '127.0.0.1');
  }
  const server = new BatchedUdpServer(a, sock, (msg, reply) => handlerFor().handle(msg, 'udp', reply));
  try {
    for (let i = 0; i < 200 && (got.get(c4)!.length < 45 || got.get(c6)!.length < 45); i++) await new Promise((r) => setTimeout(r, 25));
    const ids = (c: dgram.Socket) => got.get(c)!.map((m) => dnsPacket.decode(m).id!).sort((x, y) => x - y);
    assert.deepEqual(ids(c4), Array.from({ length: 45 }, (_, i) => 4000 + i));
    assert.deepEqual(ids(c6), Array.from({ length: 45 }, (_, i) => 6000 + i));
    assert.ok(got.get(c6)!.every((m) => firstData(m) === 'fd00::21'));
    const stats = server.stats();
    assert.equal(stats.received, 100);
    assert.equal(stats.batches, 2, 'a queued burst of 100 is read as 64 + 36');
    assert.equal(stats.sent, 90);
  } finally {
    server.close();
    await Promise.all([closeSocket(sock), closeSocket(c4), closeSocket(c6)]);
  }
});

test('malformed and oversized datagrams: FORMERR or dropped, and the server goes on answering', async () => {
  const a = addon();
  const sock = await bound('udp4', '127.0.0.1');
  const handler = handlerFor();
  const server = new BatchedUdpServer(a, sock, (msg, reply) => handler.handle(msg, 'udp', reply));
  const client = await bound('udp4', '127.0.0.1');
  const replies: Buffer[] = [];
  client.on('message', (m) => replies.push(m));
  const port = sock.address().port;
  const send = (msg: Buffer) => new Promise<void>((r) => client.send(msg, port, '127.0.0.1', () => r()));
  try {
    // Two questions: FORMERR. 5000 bytes: longer than a slot, dropped. Then a good query.
    const two = Buffer.from(queryBytes('web.ns1.svc.cluster.local', 'A', { id: 77 }));
    two[5] = 2;
    await send(two);
    await send(Buffer.alloc(5000, 0x41));
    await send(queryBytes('web.ns1.svc.cluster.local', 'A', { id: 78 }));
    for (let i = 0; i < 200 && replies.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(replies.length, 2);
    const byId = new Map(replies.map((m) => [dnsPacket.decode(m).id, m]));
    assert.equal(byId.get(77)![3] & 0x0f, 1, 'FORMERR for two questions');
    assert.equal(firstData(byId.get(78)!), '10.96.0.20');
    const stats = server.stats();
    assert.equal(stats.cutOff, 1);
    assert.equal(stats.received, 3);
  } finally {
    server.close();
    await Promise.all([closeSocket(sock), closeSocket(client)]);
  }
});

test('an answer given after its batch left goes alone to the right sender, with the query bytes intact', async () => {
  const a = addon();
  const sock = await bound('udp6', '::');
  const handler = handlerFor();
  // Every query is answered 50 ms later (as a forwarded name is), after later batches reused
  // the receive buffer.
  const server = new BatchedUdpServer(a, sock, (msg, reply) => setTimeout(() => handler.handle(msg, 'udp', reply), 50));
  const c4 = await bound('udp4', '127.0.0.1');
  const c6 = await bound('udp6', '::1');
  const r4: Buffer[] = [];
  const r6: Buffer[] = [];
  c4.on('message', (m) => r4.push(m));
  c6.on('message', (m) => r6.push(m));
  const port = sock.address().port;
  try {
    for (let i = 0; i < 20; i++) {
      c4.send(queryBytes('web.ns1.svc.cluster.local', 'A', { id: 100 + i }), port, '127.0.0.1');
      c6.send(queryBytes('nope.ns1.svc.cluster.local', 'A', { id: 200 + i }), port, '::1');
    }
    for (let i = 0; i < 200 && (r4.length < 20 || r6.length < 20); i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(r4.map((m) => dnsPacket.decode(m).id).sort((x, y) => x! - y!), Array.from({ length: 20 }, (_, i) => 100 + i));
    assert.ok(r4.every((m) => firstData(m) === '10.96.0.20'));
    assert.deepEqual(r6.map((m) => dnsPacket.decode(m).id).sort((x, y) => x! - y!), Array.from({ length: 20 }, (_, i) => 200 + i));
    assert.ok(r6.every((m) => decode(m).rcode === 'NXDOMAIN'));
  } finally {
    server.close();
    await Promise.all([closeSocket(sock), closeSocket(c4), closeSocket(c6)]);
  }
});

/** The socket inode behind a descriptor, and how many of our descriptors refer to it. */
const socketInode = (fd: number) => readlinkSync(`/proc/self/fd/${fd}`);
const descriptorsOf = (inode: string) =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === inode;
    } catch {
      return false;
    }
  }).length;

test('closing from inside a batch and closing the socket under it: no crash, no reply after, no descriptor left', async () => {
  const a = addon();
  const sock = await bound('udp4', '127.0.0.1');
  const port = sock.address().port;
  udpHandleOf(sock)!.recvStop!();
  const client = await bound('udp4', '127.0.0.1');
  const replies: Buffer[] = [];
  client.on('message', (m) => replies.push(m));
  for (let i = 0; i < 30; i++) await new Promise<void>((r) => client.send(queryBytes('web.ns1.svc.cluster.local', 'A', { id: i }), port, '127.0.0.1', () => r()));
  const handler = handlerFor();
  let seen = 0;
  let late: ((out: Buffer) => void) | undefined;
  const server: BatchedUdpServer = new BatchedUdpServer(a, sock, (msg, reply) => {
    seen++;
    if (seen === 5) late = reply; // answered after the close below
    else handler.handle(msg, 'udp', reply);
    if (seen === 10) server.close();
  });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(seen, 10, 'nothing is handled after close');
  assert.equal(replies.length, 0, 'the batch closed before it was sent');
  late!(Buffer.from('late'));
  // The rest of that batch was dropped with it; the dgram socket reads new datagrams again.
  const messages: Buffer[] = [];
  sock.on('message', (m) => messages.push(m));
  for (let i = 0; i < 5; i++) client.send(queryBytes('web.ns1.svc.cluster.local', 'A', { id: 100 + i }), port, '127.0.0.1');
  for (let i = 0; i < 200 && messages.length < 5; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(messages.length, 5);
  assert.equal(replies.length, 0);

  // Closing the dgram socket stops a running batched server with it and frees its descriptor.
  const sock2 = await bound('udp4', '127.0.0.1');
  const inode = socketInode(udpHandleOf(sock2)!.fd!);
  const server2 = new BatchedUdpServer(a, sock2, (msg, reply) => handler.handle(msg, 'udp', reply));
  assert.equal(descriptorsOf(inode), 2, 'the socket and the addon\'s duplicate');
  const port2 = sock2.address().port;
  client.send(queryBytes('web.ns1.svc.cluster.local', 'A', { id: 500 }), port2, '127.0.0.1');
  for (let i = 0; i < 200 && replies.length < 1; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(replies.length, 1);
  await closeSocket(sock2);
  await new Promise((r) => setTimeout(r, 50));
  client.send(queryBytes('web.ns1.svc.cluster.local', 'A', { id: 501 }), port2, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(replies.length, 1, 'no answer after the socket closed');
  assert.equal(server2.stats().received, 1);
  assert.equal(descriptorsOf(inode), 0, 'the addon\'s duplicate descriptor is closed with the socket');
  await Promise.all([closeSocket(sock), closeSocket(client)]);
});

test('a socket bound inside a network namespace and passed over IPC is served in batches', async () => {
  addon();
  assert.equal(process.getuid?.(), 0, 'this test creates a network namespace: run it as root');
  const ns = `dnsb-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  let sock: dgram.Socket | undefined;
  let serving: UdpServing | undefined;
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    sock = await bindUdp(ns, '127.0.0.1', 5353);
    serving = serveUdp(sock, handlerFor(), { io: 'batched' });
    assert.equal(serving.io, 'batched');
    const { stdout } = await run('ip', ['netns', 'exec', ns, 'dig', '@127.0.0.1', '-p', '5353', '+tries=1', '+time=3', '+short', 'web.ns1.svc.cluster.local', 'A'], { timeout: 20_000 });
    assert.equal(stdout.trim(), '10.96.0.20');
    assert.equal(serving.stats()!.received, 1);
  } finally {
    serving?.();
    if (sock) await closeSocket(sock);
    execFileSync('ip', ['netns', 'del', ns]);
  }
});

test('FLATNET_DNS_UDP_IO=dgram keeps the dgram path; auto picks the addon', async () => {
  addon();
  const sock = await bound('udp4', '127.0.0.1');
  const saved = process.env.FLATNET_DNS_UDP_IO;
  process.env.FLATNET_DNS_UDP_IO = 'dgram';
  let serving: UdpServing | undefined;
  try {
    serving = serveUdp(sock, handlerFor());
    assert.equal(serving.io, 'dgram');
    assert.equal(serving.stats(), undefined);
    assert.match(await dig('127.0.0.1', sock.address().port, 'web.ns1.svc.cluster.local', 'A'), /10\.96\.0\.20/);
    serving();
    process.env.FLATNET_DNS_UDP_IO = 'auto';
    serving = serveUdp(sock, handlerFor());
    assert.equal(serving.io, 'batched');
    assert.match(await dig('127.0.0.1', sock.address().port, 'web.ns1.svc.cluster.local', 'A'), /10\.96\.0\.20/);
    assert.equal(serving.stats()!.received, 1);
  } finally {
    if (saved === undefined) delete process.env.FLATNET_DNS_UDP_IO;
    else process.env.FLATNET_DNS_UDP_IO = saved;
    serving?.();
    await closeSocket(sock);
  }
});
