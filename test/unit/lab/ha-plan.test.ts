import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planLab } from '../../../src/lab/plan.js';
import { planHaLab, SECOND_API_PORT } from '../../../src/lab/ha-plan.js';
import { createEtcdPki } from '../../../src/lab/ha-etcd-pki.js';
import { serverOfIdentity } from '../../../src/lab/ha-status.js';

const base = () => planLab({ nodes: 2, overlay: 'vxlan', proxyMode: 'nftables', cniPlugins: 'flatnet', dataDir: '/d' });

test('ha plan: three etcd members on root-namespace loopback, TLS with client certificates on client and peer listeners', () => {
  const p = planHaLab(base());
  const etcd = p.processes.filter((x) => x.program);
  assert.deepEqual(etcd.map((x) => x.name), ['etcd-1', 'etcd-2', 'etcd-3']);
  assert.deepEqual(p.ha!.etcd.members.map((m) => [m.clientUrl, m.peerUrl, m.dataDir]), [
    ['https://127.0.0.21:2379', 'https://127.0.0.21:2380', '/d/etcd/etcd-1'],
    ['https://127.0.0.22:2379', 'https://127.0.0.22:2380', '/d/etcd/etcd-2'],
    ['https://127.0.0.23:2379', 'https://127.0.0.23:2380', '/d/etcd/etcd-3'],
  ]);
  for (const e of etcd) {
    const flag = (f: string) => e.args[e.args.indexOf(f) + 1];
    assert.ok(e.args.includes('--client-cert-auth') && e.args.includes('--peer-client-cert-auth'), e.name);
    assert.equal(flag('--trusted-ca-file'), '/d/etcd/pki/ca.crt');
    assert.equal(flag('--peer-trusted-ca-file'), '/d/etcd/pki/ca.crt');
    assert.equal(flag('--cert-file'), `/d/etcd/pki/${e.name}.crt`);
    assert.equal(flag('--key-file'), `/d/etcd/pki/${e.name}.key`);
    // Every URL it listens on is https:// on a loopback address: no pod or node namespace reaches it.
    for (const f of ['--listen-client-urls', '--listen-peer-urls']) assert.match(flag(f), /^https:\/\/127\.0\.0\.\d+:\d+$/);
    assert.equal(flag('--initial-cluster'), 'etcd-1=https://127.0.0.21:2380,etcd-2=https://127.0.0.22:2380,etcd-3=https://127.0.0.23:2380');
    assert.equal(e.netns, undefined);
    assert.equal(e.log, `/d/logs/${e.name}.log`);
  }
});

test('ha plan: two API servers on etcd over TLS with separate data dirs and ports; agents get both URLs; the plain plan is untouched', () => {
  const plain = base();
  const plainCopy = structuredClone(plain);
  const p = planHaLab(plain);
  assert.deepEqual(plain, plainCopy, 'planHaLab does not change the plain plan');
  const servers = p.processes.filter((x) => x.name.startsWith('server'));
  assert.deepEqual(servers.map((s) => s.name), ['server', 'server-2']);
  assert.equal(p.processes[0].name, 'server', 'the first server stays first (up reads its log)');
  const flag = (args: string[], f: string) => args[args.indexOf(f) + 1];
  assert.equal(flag(servers[0].args, '--data-dir'), '/d');
  assert.equal(flag(servers[1].args, '--data-dir'), '/d/servers/server-2');
  assert.equal(flag(servers[0].args, '--listen'), '127.0.0.1:6443');
  assert.equal(flag(servers[1].args, '--listen'), `127.0.0.1:${SECOND_API_PORT}`);
  for (const s of servers) {
    assert.equal(flag(s.args, '--store'), 'etcd');
    assert.equal(flag(s.args, '--etcd-servers'), 'https://127.0.0.21:2379,https://127.0.0.22:2379,https://127.0.0.23:2379');
    assert.equal(flag(s.args, '--etcd-cafile'), '/d/etcd/pki/ca.crt');
    assert.equal(flag(s.args, '--etcd-certfile'), '/d/etcd/pki/apiserver-etcd-client.crt');
    assert.equal(flag(s.args, '--etcd-keyfile'), '/d/etcd/pki/apiserver-etcd-client.key');
  }
  // The second server starts after the first has bootstrapped the cluster (it writes its kubeconfig last).
  assert.equal(servers[0].waitForFile, undefined);
  assert.equal(servers[1].waitForFile, '/d/admin.kubeconfig');
  const agents = p.processes.filter((x) => x.name.startsWith('agent-'));
  assert.equal(agents.length, 2);
  for (const a of agents) assert.equal(flag(a.args, '--server'), 'https://172.18.0.1:6443,https://172.18.0.1:6444');
  assert.deepEqual(p.ha!.apiBridges, [{ netns: 'flatnet-lab', host: '172.18.0.1', port: 6444, target: { host: '127.0.0.1', port: 6444 } }]);
  assert.equal(p.ha!.servers[1].kubeconfig, '/d/servers/server-2/admin.kubeconfig');
});

test('ha plan: the lease holder identity names the server by its listen address', () => {
  const servers = planHaLab(base()).ha!.servers;
  assert.equal(serverOfIdentity(servers, 'host_127.0.0.1:6444_0b7c')?.name, 'server-2');
  assert.equal(serverOfIdentity(servers, 'host_127.0.0.1:6443_0b7c')?.name, 'server');
  assert.equal(serverOfIdentity(servers, 'host_0b7c'), undefined);
});

test('etcd pki: member certificates serve and authenticate peers for their address, the API servers get a client-only certificate, all from one CA', () => {
  const pki = createEtcdPki([{ name: 'etcd-1', ip: '127.0.0.21' }, { name: 'etcd-2', ip: '127.0.0.22' }]);
  const ca = new X509Certificate(pki.ca.certPem);
  assert.ok(ca.ca);
  for (const [name, pair] of pki.members) {
    const c = new X509Certificate(pair.certPem);
    assert.ok(c.verify(ca.publicKey), `${name} is signed by the etcd CA`);
    assert.ok(c.checkPrivateKey(createPrivateKey(pair.keyPem)));
    assert.ok(c.checkIP(name === 'etcd-1' ? '127.0.0.21' : '127.0.0.22'));
    assert.equal(c.checkIP(name === 'etcd-1' ? '127.0.0.22' : '127.0.0.21'), undefined, 'a member certificate names only its own address (and 127.0.0.1, the source of loopback peer connections)');
    assert.deepEqual(c.keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.equal(c.ca, false);
  }
  const client = new X509Certificate(pki.apiserverClient.certPem);
  assert.ok(client.verify(ca.publicKey));
  assert.deepEqual(client.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  assert.match(client.subject, /CN=kube-apiserver-etcd-client/);
  // ECDSA P-256 keys (etcd's Go TLS reads SEC1 PEM), and openssl reads and verifies every certificate for its purpose.
  const dir = mkdtempSync(join(tmpdir(), 'etcd-pki-test-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), pki.ca.certPem);
    const check = (name: string, pair: { certPem: string; keyPem: string }, purposes: string[]) => {
      assert.equal(createPrivateKey(pair.keyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1', name);
      assert.match(pair.keyPem, /^-----BEGIN EC PRIVATE KEY-----/, name);
      writeFileSync(join(dir, `${name}.crt`), pair.certPem);
      assert.match(execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(dir, `${name}.crt`)], { encoding: 'utf8' }), /Signature Algorithm: ecdsa-with-SHA256[\s\S]*NIST CURVE: P-256/, name);
      for (const purpose of purposes) assert.match(execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', purpose, join(dir, `${name}.crt`)], { encoding: 'utf8' }), /OK/, `${name} ${purpose}`);
    };
    check('ca', pki.ca, []);
    for (const [name, pair] of pki.members) check(name, pair, ['sslserver', 'sslclient']);
    check('client', pki.apiserverClient, ['sslclient']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // A fresh PKI is a different CA: certificates of one lab are worthless against another.
  const other = createEtcdPki([{ name: 'etcd-1', ip: '127.0.0.21' }]);
  assert.equal(new X509Certificate(other.apiserverClient.certPem).verify(ca.publicKey), false);
});

