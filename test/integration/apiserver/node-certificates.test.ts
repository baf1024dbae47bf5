// Node client certificates after the join, with the real server: a running agent's rotation (a
// new ECDSA key and CSR made with the current certificate, files 0600 in the 0700 cert dir, the
// kubeconfig pointed at them, the open client switched without a restart, older pairs deleted), and revocation:
// deleting the CSR that issued a certificate revokes nothing (CSRs are requests, cleaned up after
// an hour); removing the certificate's entry from the ledger ConfigMap makes the very next request
// with it 401, while the rotated certificate keeps working; the ledger outlives a server restart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import { KubeClient } from '../../../src/client/client.js';
import { loadKubeconfig } from '../../../src/client/kubeconfig.js';
import { nodeClientConnection, renderBootstrapKubeconfig, writePrivateFile } from '../../../src/agent/tls-bootstrap.js';
import { startCertificateRotation } from '../../../src/agent/cert-rotation.js';
import { createLogger } from '../../../src/util/log.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { code, flatnet } from './node-join-support.js';

const log = createLogger('test');
let s: TestServer;
let work: string;

/** The stored CSR that holds the certificate with this serial. */
async function csrOf(serial: string): Promise<string> {
  const list = await s.client.list(R.certificatesigningrequests);
  for (const csr of list.items) {
    const b64 = (csr.status as { certificate?: string } | undefined)?.certificate;
    if (b64 && new X509Certificate(Buffer.from(b64, 'base64')).serialNumber === serial) return csr.metadata.name!;
  }
  throw new Error(`no CSR holds certificate ${serial}`);
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'engb-nodecert-'));
  s = await startTestServer({ store: 'sqlite', controllers: false });
});
after(async () => {
  await s?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('a running agent rotates its client certificate through a new CSR and switches to it; a ledger entry removed revokes its certificate at once, a CSR deleted does not', async () => {
  const created = await flatnet(['token', 'create', '--kubeconfig', s.kubeconfig, '--ttl', '1h']);
  assert.equal(created.code, 0, created.stderr);
  const caPem = loadKubeconfig(s.kubeconfig).ca!.toString('utf8');
  const bootstrap = join(work, 'bootstrap.kubeconfig');
  writePrivateFile(bootstrap, renderBootstrapKubeconfig({ server: s.url, caPem, token: created.stdout.trim() }));
  const dir = join(work, 'r1');
  const kubeconfig = join(dir, 'kubelet.kubeconfig');
  const certDir = join(dir, 'pki');
  const conn = await nodeClientConnection('r1', { kubeconfig, bootstrapKubeconfig: bootstrap, certDir }, log);
  const client = new KubeClient(conn);
  try {
    const first = new X509Certificate(conn.cert!);
    const firstKey = readFileSync(join(certDir, 'kubelet-client.key'));
    const firstCsr = await csrOf(first.serialNumber);
    // A node may read its own Node; it does not exist yet: 404 is an authenticated, authorized answer.
    const ownNode = () => code(client.request('GET', '/api/v1/nodes/r1'));
    assert.equal(await ownNode(), 404);
    // A watch the agent holds open: rotation closes it so it reconnects with the new certificate.
    const watch = client.watch(R.configmaps, { namespace: 'default' }, () => undefined);

    const rotator = startCertificateRotation('r1', client, kubeconfig, certDir, log);
    assert.ok(rotator, 'a node certificate connection gets a rotator');
    rotator.stop(); // the scheduled rotation is 70-90% of a year away; rotate now instead
    await rotator.rotateNow();

    const second = new X509Certificate(client.connection.cert!);
    assert.notEqual(second.serialNumber, first.serialNumber, 'a new certificate');
    assert.equal(second.subject, first.subject);
    assert.notEqual(second.publicKey.export({ type: 'spki', format: 'pem' }), first.publicKey.export({ type: 'spki', format: 'pem' }), 'for a new key');
    const secondCsr = await csrOf(second.serialNumber);
    assert.notEqual(secondCsr, firstCsr);
    const csr = await s.client.get(R.certificatesigningrequests, undefined, secondCsr);
    assert.equal((csr!.spec as { username?: string }).username, 'system:node:r1', 'asked for with the node certificate (a renewal), not the bootstrap token');
    // An ECDSA P-256 key, with the kubelet's usages for a non-RSA key.
    assert.equal(second.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.deepEqual((csr!.spec as { usages?: string[] }).usages, ['digital signature', 'client auth']);
    assert.ok(await watch.done.then(() => true), 'the old connection was closed');

    // The kubeconfig names the new pair, files 0600 in a 0700 dir, and a fresh load uses it.
    const reloaded = loadKubeconfig(kubeconfig);
    assert.equal(new X509Certificate(reloaded.cert!).serialNumber, second.serialNumber);
    assert.equal(statSync(certDir).mode & 0o777, 0o700);
    for (const f of readFileSync(kubeconfig, 'utf8').matchAll(/client-(?:certificate|key): (\S+)/g)) assert.equal(statSync(f[1]).mode & 0o777, 0o600, f[1]);
    assert.equal(statSync(kubeconfig).mode & 0o777, 0o600);
    // Only the pair in use is left: the bootstrap pair is gone, and so are an earlier rotation's pair and a crash's temporary file.
    const inUse = () => [...readFileSync(kubeconfig, 'utf8').matchAll(/client-(?:certificate|key): (\S+)/g)].map((m) => basename(m[1])).sort();
    assert.deepEqual(readdirSync(certDir).sort(), inUse());
    writePrivateFile(join(certDir, 'kubelet-client-20260101T000000000Z.crt'), first.toString());
    writePrivateFile(join(certDir, 'kubelet-client-20260101T000000000Z.key.0a1b2c3d.tmp'), 'half a key');
    const secondFiles = inUse();
    await rotator.rotateNow();
    assert.deepEqual(readdirSync(certDir).sort(), inUse());
    assert.equal(inUse().filter((f) => secondFiles.includes(f)).length, 0, 'the second pair was replaced');
    const third = new X509Certificate(client.connection.cert!);
    assert.match(execFileSync('openssl', ['x509', '-noout', '-text'], { input: third.toString(), encoding: 'utf8' }), /Subject: CN ?= ?system:node:r1, O ?= ?system:nodes[\s\S]*NIST CURVE: P-256/);

    // Deleting CSRs revokes nothing; removing a ledger entry revokes that certificate alone.
    const oldClient = new KubeClient({ ...conn, cert: Buffer.from(first.toString()), key: firstKey });
    try {
      await s.client.delete(R.certificatesigningrequests, undefined, firstCsr);
      await s.client.delete(R.certificatesigningrequests, undefined, secondCsr);
      assert.equal(await code(oldClient.request('GET', '/api/v1/nodes/r1')), 404, 'the first certificate outlives its CSR');
      assert.equal(await ownNode(), 404, 'so does the rotated one');
      await s.kubectlOk(['-n', 'kube-system', 'patch', 'configmap', 'flatnet-node-client-certificates', '--type=merge', '-p', JSON.stringify({ data: { [first.serialNumber]: null } })]);
      assert.equal(await code(oldClient.request('GET', '/api/v1/nodes/r1')), 401, 'revoked: the next request is 401');
    } finally {
      oldClient.close();
    }
    assert.equal(await ownNode(), 404, 'the rotated certificate still works');

    // The ledger is stored: after a restart the revoked certificate stays refused and the other works.
    await s.restart();
    const again = new KubeClient({ ...conn, cert: Buffer.from(first.toString()), key: firstKey });
    try {
      assert.equal(await code(again.request('GET', '/api/v1/nodes/r1')), 401, 'still revoked after a restart');
    } finally {
      again.close();
    }
    assert.equal(await ownNode(), 404, 'the rotated certificate works after a restart');

    // Revoking the certificate in use: 401 on the next request, on a connection opened before.
    await s.kubectlOk(['-n', 'kube-system', 'patch', 'configmap', 'flatnet-node-client-certificates', '--type=merge', '-p', JSON.stringify({ data: { [third.serialNumber]: null } })]);
    assert.equal(await ownNode(), 401);
  } finally {
    client.close();
  }
});
