// The API server's listener (createServingServer) in-process, with deadlines short enough to
// watch them act: an idle HTTP/2 session gets a GOAWAY and its client carries on over a new
// connection, a session with an open stream is never idle, and close() ends every connection,
// upgraded ones (exec, attach, port-forward) included, with HTTP/2 on or off.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureServingCertificate, type ServingCertificate } from '../../../src/apiserver/tls.js';
import { createServingServer, trackConnections, type ServingServer } from '../../../src/apiserver/http2.js';
import { http2Request } from '../../support/http2-request.js';

/** Short enough to wait out in a test; the server's real idle timeout is 90 s. */
const IDLE_MS = 300;

let dir: string;
let cert: ServingCertificate;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'flatnet-h2-session-'));
  cert = ensureServingCertificate(dir, ['127.0.0.1']);
});

after(() => rmSync(dir, { recursive: true, force: true }));

interface Listening {
  server: ServingServer;
  url: string;
  port: number;
  closeConnections: () => void;
  /** Ends the answer of the request to /hold that is waiting. */
  release: () => void;
}

async function listen(useHttp2: boolean, silentSessionProbeMs?: number): Promise<Listening> {
  let release = () => {};
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/hold') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('held\n');
      release = () => res.end('released\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${req.httpVersion}\n`);
  };
  const server = createServingServer({ tls: { cert: cert.certPem + cert.caPem, key: cert.keyPem }, http2: useHttp2, firstRequestTimeoutMs: 10_000, idleTimeoutMs: IDLE_MS, silentSessionProbeMs }, handler);
  const closeConnections = trackConnections(server);
  // An upgrade (as exec's WebSocket) that stays open until its client or the server ends it.
  server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return { server, url: `https://127.0.0.1:${port}`, port, closeConnections, release: () => release() };
}

function close(l: Listening): Promise<void> {
  return new Promise((resolve) => {
    l.server.close(() => resolve());
    l.closeConnections();
  });
}

function connect(url: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, { ca: cert.caPem });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}


function goaway(session: http2.ClientHttp2Session): Promise<number> {
  return new Promise((resolve) => session.once('goaway', (code: number) => resolve(code)));
}

test('an HTTP/2 session idle past the idle timeout gets a GOAWAY (NO_ERROR) and its client goes on over a new connection', async () => {
  const l = await listen(true);
  try {
    const session = await connect(l.url);
    const away = goaway(session);
    const closed = new Promise<void>((r) => session.once('close', () => r()));
    assert.deepEqual(await http2Request(session, { ':path': '/' }), { status: 200, body: '2.0\n' });
    assert.equal(await away, http2.constants.NGHTTP2_NO_ERROR);
    await closed;
    // What a client does after a GOAWAY: its next request goes on a new connection.
    const next = await connect(l.url);
    try {
      assert.deepEqual(await http2Request(next, { ':path': '/' }), { status: 200, body: '2.0\n' });
    } finally {
      next.close();
    }
  } finally {
    await close(l);
  }
});

test('an HTTP/2 session with a stream open (a watch) is not idle however long the stream lasts; once it ends, the idle timeout runs', async () => {
  const l = await listen(true);
  try {
    const session = await connect(l.url);
    let away = false;
    const awayCode = goaway(session).then((code) => ((away = true), code));
    const stream = session.request({ ':path': '/hold' });
    let body = '';
    stream.on('data', (c: Buffer) => (body += c.toString('utf8')));
    const ended = new Promise<void>((r, j) => stream.once('end', () => r()).once('error', j));
    await new Promise<void>((r) => stream.once('response', () => r()));
    // Several idle timeouts pass while the stream is open.
    await sleep(IDLE_MS * 5);
    assert.equal(away, false, 'a session holding an open stream got a GOAWAY');
    l.release();
    await ended;
    assert.equal(body, 'held\nreleased\n');
    assert.equal(await awayCode, http2.constants.NGHTTP2_NO_ERROR);
    session.close();
  } finally {
    await close(l);
  }
});

test('a silent HTTP/2 session is asked for a PING: a client that answers keeps it, one that does not (as after a GOAWAY nghttp2 sent) is closed', async () => {
  const probeMs = 100;
  const l = await listen(true, probeMs);
  try {
    // A live client holding a quiet stream (a watch without events) answers the PINGs and keeps its session.
    const session = await connect(l.url);
    let pings = 0;
    session.on('ping', () => pings++);
    const stream = session.request({ ':path': '/hold' });
    stream.resume();
    const ended = new Promise<void>((r, j) => stream.once('end', () => r()).once('error', j));
    await new Promise<void>((r) => stream.once('response', () => r()));
    await sleep(probeMs * 10);
    assert.ok(pings > 0, 'the silent session was never pinged');
    assert.equal(session.closed || session.destroyed, false, 'a session that answers PINGs was closed');
    l.release();
    await ended;
    session.close();

    // A connection that speaks HTTP/2 but never answers a PING (as nghttp2's side of a session it
    // ended, which reads no more) is destroyed: the socket ends.
    const socket = tls.connect({ host: '127.0.0.1', port: l.port, ca: cert.caPem, ALPNProtocols: ['h2'] });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    await new Promise<void>((r) => socket.once('secureConnect', () => r()));
    const settingsAck = Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]);
    socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]), settingsAck]));
    let sawPing = false;
    socket.on('data', (c: Buffer) => (sawPing ||= c.includes(Buffer.from([0, 0, 8, 6, 0, 0, 0, 0, 0]))));
    await closed;
    assert.ok(sawPing, 'closed without a PING first');
  } finally {
    await close(l);
  }
});

test('with HTTP/2 off (--http2=false) a client offering h2 and http/1.1 gets HTTP/1.1; on, it gets h2', async () => {
  for (const [useHttp2, want] of [[false, 'http/1.1'], [true, 'h2']] as const) {
    const l = await listen(useHttp2);
    try {
      const socket = tls.connect({ host: '127.0.0.1', port: l.port, ca: cert.caPem, ALPNProtocols: ['h2', 'http/1.1'] });
      await new Promise<void>((r, j) => socket.once('secureConnect', () => r()).once('error', j));
      assert.equal(socket.alpnProtocol, want);
      socket.destroy();
    } finally {
      await close(l);
    }
  }
});

for (const useHttp2 of [true, false]) {
  test(`close() ends an upgraded connection (exec's WebSocket) and finishes, with HTTP/2 ${useHttp2 ? 'on' : 'off'}`, async () => {
    const l = await listen(useHttp2);
    // client-go asks for http/1.1 by ALPN for upgrades, as this client does.
    const socket = tls.connect({ host: '127.0.0.1', port: l.port, ca: cert.caPem, ALPNProtocols: ['http/1.1'] });
    socket.on('error', () => undefined);
    const socketClosed = new Promise<void>((r) => socket.once('close', () => r()));
    await new Promise<void>((r) => socket.once('secureConnect', () => r()));
    assert.equal(socket.alpnProtocol, 'http/1.1');
    socket.write('GET /api/v1/namespaces/default/pods/p/exec HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
    const head = await new Promise<string>((r) => socket.once('data', (c: Buffer) => r(c.toString('latin1'))));
    assert.match(head, /^HTTP\/1\.1 101 /);
    // A liveness bound, not a timing assertion: a close() that waits for the upgraded socket never finishes.
    const outcome = await Promise.race([close(l).then(() => 'closed'), sleep(30_000, 'still waiting', { ref: false })]);
    if (outcome !== 'closed') socket.destroy();
    assert.equal(outcome, 'closed', 'close() waited for the upgraded connection instead of ending it');
    await socketClosed;
  });
}
