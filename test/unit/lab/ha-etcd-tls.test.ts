// The HA lab's etcd security, against a real etcd (Debian's etcd-server) run with the lab's PKI and
// flags: a client without a certificate, or with one from another CA, is refused at the TLS
// handshake; the API servers' client certificate is accepted, and the etcd store works through it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEtcdPki } from '../../../src/lab/ha-etcd-pki.js';
import { ETCD_BINARY, etcdArgs, type HaEtcdMember, type HaPlan } from '../../../src/lab/ha-plan.js';
import { writeEtcdPki } from '../../../src/lab/ha-prepare.js';
import { etcdMemberStatus } from '../../../src/lab/ha-status.js';
import { openEtcdStore, parseEtcdServers } from '../../../src/store/index.js';
import { readFileSync } from 'node:fs';

// A loopback address no lab uses (the lab's members are 127.0.0.21-23).
const IP = '127.0.0.41';
let dir: string;
let child: ChildProcess | undefined;
let ha: HaPlan;
let member: HaEtcdMember;
const output: string[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, IP, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function health(tls: { ca: string; cert?: string; key?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${member.clientUrl}/health`, { ...tls, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

before(async () => {
  if (!existsSync(ETCD_BINARY)) throw new Error(`${ETCD_BINARY} is missing: this test needs a real etcd (apt-get install etcd-server, or run scripts/ensure-deps)`);
  dir = mkdtempSync(join(tmpdir(), 'flatnet-ha-etcd-'));
  const [client, peer] = [await freePort(), await freePort()];
  const pki = join(dir, 'etcd', 'pki');
  member = { name: 'etcd-1', ip: IP, clientUrl: `https://${IP}:${client}`, peerUrl: `https://${IP}:${peer}`, dataDir: join(dir, 'etcd', 'etcd-1'), certFile: join(pki, 'etcd-1.crt'), keyFile: join(pki, 'etcd-1.key') };
  ha = {
    etcd: { members: [member], dir: join(dir, 'etcd'), pkiDir: pki, caFile: join(pki, 'ca.crt'), clientCertFile: join(pki, 'client.crt'), clientKeyFile: join(pki, 'client.key') },
    servers: [],
    apiBridges: [],
  };
  writeEtcdPki(ha);
  child = spawn(ETCD_BINARY, etcdArgs(member, [member], ha.etcd.caFile), { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
  const ca = readFileSync(ha.etcd.caFile, 'utf8');
  const auth = { ca, cert: readFileSync(ha.etcd.clientCertFile, 'utf8'), key: readFileSync(ha.etcd.clientKeyFile, 'utf8') };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`etcd exited before serving:\n${output.join('')}`);
    if ((await health(auth).catch(() => '')).includes('"health":"true"')) break;
    if (i > 300) throw new Error(`etcd did not become healthy within 30 s:\n${output.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  if (child?.pid && child.exitCode === null) {
    const gone = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the etcd PKI is private: keys 0600 in 0700 directories', () => {
  for (const d of [ha.etcd.dir, ha.etcd.pkiDir]) assert.equal(statSync(d).mode & 0o777, 0o700, d);
  for (const f of [member.keyFile, ha.etcd.clientKeyFile, member.certFile, ha.etcd.caFile]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
});

test('etcd refuses clients without a certificate or with one from another CA, and accepts the API servers\' certificate', async () => {
  const ca = readFileSync(ha.etcd.caFile, 'utf8');
  await assert.rejects(health({ ca }), (err: Error) => {
    assert.match(err.message, /certificate|handshake|socket hang up|ECONNRESET|alert/i);
    return true;
  });
  const stranger = createEtcdPki([{ name: 'x', ip: IP }]).apiserverClient;
  await assert.rejects(health({ ca, cert: stranger.certPem, key: stranger.keyPem }), /certificate|handshake|socket hang up|ECONNRESET|alert/i);
  assert.match(await health({ ca, cert: readFileSync(ha.etcd.clientCertFile, 'utf8'), key: readFileSync(ha.etcd.clientKeyFile, 'utf8') }), /"health":"true"/);
  const status = await etcdMemberStatus(ha, member);
  assert.equal(status.healthy, true, status.detail);
  assert.equal(status.leader, true, 'a single member leads');
  assert.match(status.detail, /^etcd 3\.\d+\.\d+, raft term [1-9]\d* index [1-9]\d*, db [1-9]\d* KiB$/);
});

test('the etcd store talks to etcd over TLS with the client certificate (--etcd-cafile/--etcd-certfile/--etcd-keyfile)', async () => {
  assert.throws(() => parseEtcdServers(member.clientUrl), /TLS to etcd needs --etcd-cafile, --etcd-certfile and --etcd-keyfile/);
  assert.throws(() => parseEtcdServers('http://127.0.0.1:2379', true), /must be https:\/\/ with --etcd-cafile/);
  assert.deepEqual(parseEtcdServers(member.clientUrl, true), [member.clientUrl]);
  const tls = { caPem: readFileSync(ha.etcd.caFile, 'utf8'), certPem: readFileSync(ha.etcd.clientCertFile, 'utf8'), keyPem: readFileSync(ha.etcd.clientKeyFile, 'utf8') };
  const store = await openEtcdStore({ endpoints: [member.clientUrl], prefix: '/ha-tls-test', tls });
  try {
    const created = store.create('/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'over-tls', namespace: 'default' }, data: { a: '1' } });
    assert.equal(store.get('/configmaps', 'default', 'over-tls')?.rev, created.rev);
  } finally {
    store.close();
  }
  // Without the client certificate the store does not start.
  const stranger = createEtcdPki([{ name: 'x', ip: IP }]).apiserverClient;
  await assert.rejects(openEtcdStore({ endpoints: [member.clientUrl], prefix: '/ha-tls-test', timeoutMs: 3000, tls: { ...tls, certPem: stranger.certPem, keyPem: stranger.keyPem } }));
});
