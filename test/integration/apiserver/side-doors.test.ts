// Side doors of a started `flatnet server`: the data directory and every file in it are private
// from their first byte (stat), TLS 1.2 offers only ECDHE with AEAD ciphers (openssl s_client),
// and a connection that never sends a request is closed by the server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;
let parent: string;
let dataDir: string;

before(async () => {
  parent = mkdtempSync(join(tmpdir(), 'flatnet-sidedoor-'));
  dataDir = join(parent, 'data');
  s = await startTestServer({ store: 'sqlite', controllers: false, dataDir, args: ['--handshake-timeout', '1s'] });
  await s.client.create(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'private', namespace: 'default' }, data: { a: 'c2VjcmV0' } } as never);
});
after(async () => {
  await s?.stop();
  rmSync(parent, { recursive: true, force: true });
});

test('the data dir is 0700 and every file the server wrote in it is 0600 (store, WAL, keys, token)', () => {
  assert.equal((statSync(dataDir).mode & 0o777).toString(8), '700');
  const files = readdirSync(dataDir);
  for (const f of ['state.db', 'state.db-wal', 'ca.key', 'apiserver.key', 'admin.token', 'admin.kubeconfig']) assert.ok(files.includes(f), `${f} in ${files.join(' ')}`);
  for (const f of files) assert.equal((statSync(join(dataDir, f)).mode & 0o777).toString(8), '600', f);
});

function sClient(args: string[]): Promise<{ code: number; out: string }> {
  const url = new URL(s.url);
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', ['s_client', '-connect', `${url.hostname}:${url.port}`, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err && (err as { code?: unknown }).code === 'ENOENT') reject(new Error('openssl is needed for this test (apt-get install openssl)'));
      else resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, out: stdout + stderr });
    });
    child.stdin?.end('');
  });
}

test('TLS 1.2 without forward secrecy (AES128-SHA) is refused; ECDHE with AES-GCM is served', async () => {
  const weak = await sClient(['-tls1_2', '-cipher', 'AES128-SHA']);
  assert.notEqual(weak.code, 0, weak.out);
  assert.match(weak.out, /handshake failure|no cipher|alert/i);
  const cbc = await sClient(['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-SHA']);
  assert.notEqual(cbc.code, 0, 'CBC suites are not offered either');
  const good = await sClient(['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256']);
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /Cipher is ECDHE-RSA-AES128-GCM-SHA256/);
});

test('a TCP connection that never starts TLS is closed by the server', async () => {
  const url = new URL(s.url);
  const socket = net.connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', () => resolve());
  });
});

test('a TLS connection that never sends a request is closed by the server', async () => {
  const url = new URL(s.url);
  const socket = tls.connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false });
  let secured = false;
  socket.once('secureConnect', () => (secured = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', () => resolve());
  });
  assert.ok(secured, 'the handshake completed before the server closed the idle connection');
});
