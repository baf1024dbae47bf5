// Node credentials over time, with the real server, the real csr-cleaner controller (its clock
// moved forward) and the real agent bootstrap code: finished CSRs are cleaned up without revoking
// the certificates they issued; deleting a Node revokes its certificates on the next request; an
// agent whose certificate is refused gets a new one with its bootstrap token (at start and while
// running), and without a usable token says why and retries with backoff instead of failing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { KubeClient } from '../../../src/client/client.js';
import { loadKubeconfig } from '../../../src/client/kubeconfig.js';
import { InformerGroup } from '../../../src/client/shared-informers.js';
import { LEDGER_NAME, LEDGER_NAMESPACE, ledgerEntries } from '../../../src/apiserver/node-identity/certificate-ledger.js';
import { CsrCleanerController } from '../../../src/controllers/csr-cleaner.js';
import { EventRecorder } from '../../../src/controllers/events.js';
import { NodeCredentialGuard, nodeClientConnection, nodeClientConnectionWithRetry, renderBootstrapKubeconfig, writePrivateFile, type NodeCredentialPaths } from '../../../src/agent/tls-bootstrap.js';
import { createLogger, type Logger } from '../../../src/util/log.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { code, flatnet } from './node-join-support.js';

const log = createLogger('test');
let s: TestServer;
let work: string;
let caPem: string;

async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${s.logs().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A bootstrap kubeconfig holding a new token (flatnet token create); the token id too. */
async function newBootstrapKubeconfig(name: string): Promise<{ path: string; tokenId: string }> {
  const created = await flatnet(['token', 'create', '--kubeconfig', s.kubeconfig, '--ttl', '1h']);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  const path = join(work, `${name}.bootstrap.kubeconfig`);
  writePrivateFile(path, renderBootstrapKubeconfig({ server: s.url, caPem, token }));
  return { path, tokenId: token.split('.')[0] };
}

function pathsOf(node: string, bootstrapKubeconfig?: string): NodeCredentialPaths {
  return { kubeconfig: join(work, node, 'kubelet.kubeconfig'), certDir: join(work, node, 'pki'), ...(bootstrapKubeconfig ? { bootstrapKubeconfig } : {}) };
}

const serialOf = (client: KubeClient) => new X509Certificate(client.connection.cert!).serialNumber.toUpperCase();

async function ledger(): Promise<ReturnType<typeof ledgerEntries>> {
  return ledgerEntries(await s.client.get(R.configmaps, LEDGER_NAMESPACE, LEDGER_NAME));
}

/** The CSR that issued the certificate with this serial, if it is still stored. */
async function csrHolding(serial: string): Promise<KubeObject | undefined> {
  for (const csr of (await s.client.list(R.certificatesigningrequests)).items) {
    const b64 = (csr.status as { certificate?: string } | undefined)?.certificate;
    if (b64 && new X509Certificate(Buffer.from(b64, 'base64')).serialNumber.toUpperCase() === serial) return csr;
  }
  return undefined;
}

function nodeObject(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name } };
}

/** A Logger that keeps what it is told (to check what an agent says), and prints it too. */
function recordingLogger(): Logger & { lines: { level: string; msg: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const make = (): Logger => ({
    debug: (msg, fields) => lines.push({ level: 'debug', msg, fields }),
    info: (msg, fields) => (lines.push({ level: 'info', msg, fields }), log.info(msg, fields)),
    warn: (msg, fields) => (lines.push({ level: 'warn', msg, fields }), log.warn(msg, fields)),
    error: (msg, fields) => (lines.push({ level: 'error', msg, fields }), log.error(msg, fields)),
    child: () => make(),
  });
  return Object.assign(make(), { lines });
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'c2-nodecred-'));
  s = await startTestServer({ store: 'sqlite', controllers: false });
  caPem = loadKubeconfig(s.kubeconfig).ca!.toString('utf8');
});
after(async () => {
  await s?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('the csr-cleaner removes finished and stale CSRs without revoking live node certificates; deleting the Node revokes them, and the agent gets a new one with its bootstrap token', async () => {
  let offsetMs = 0;
  const admin = new KubeClient(loadKubeconfig(s.kubeconfig));
  const informers = new InformerGroup(admin);
  const cleaner = new CsrCleanerController({ client: admin, informers, events: new EventRecorder(admin, 'csr-cleaner', log), log }, { now: () => new Date(Date.now() + offsetMs), periodMs: 3600_000 });
  await informers.start();
  cleaner.start();
  const bootstrap = await newBootstrapKubeconfig('c1');
  const conn = await nodeClientConnection('c1', pathsOf('c1', bootstrap.path), log);
  const node = new KubeClient(conn);
  try {
    const first = serialOf(node);
    assert.equal(await code(node.request('GET', '/api/v1/nodes/c1')), 404, 'the new certificate authenticates');
    const created = await node.create(R.nodes, nodeObject('c1'));
    const uid1 = created.metadata.uid!;
    await eventually('the certificate bound to its Node in the ledger', async () => (await ledger()).get(first)?.nodeUID === uid1);
    const firstCsr = await csrHolding(first);
    assert.ok(firstCsr, 'the issuing CSR is stored');
    // A request nobody will sign (another signer): pending.
    await s.kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'someone-else' }, spec: { request: (firstCsr.spec as { request: string }).request, signerName: 'example.com/team', usages: ['client auth'] } }));

    // Two hours later: the approved, issued CSR is removed, the pending one stays; the certificate still works.
    offsetMs = 2 * 3600_000;
    cleaner.resync();
    await eventually('the issued CSR removed', async () => !(await s.client.get(R.certificatesigningrequests, undefined, firstCsr.metadata.name!)));
    assert.ok(await s.client.get(R.certificatesigningrequests, undefined, 'someone-else'), 'a pending CSR stays for a day');
    assert.equal(await code(node.request('GET', '/api/v1/nodes/c1')), 200, 'the certificate outlives its CSR');
    assert.ok((await ledger()).has(first), 'and its ledger entry');
    // A day later the pending one goes too.
    offsetMs = 25 * 3600_000;
    cleaner.resync();
    await eventually('the pending CSR removed', async () => !(await s.client.get(R.certificatesigningrequests, undefined, 'someone-else')));
    offsetMs = 0;

    // Deleting the Node revokes its certificate on the next request.
    await s.kubectlOk(['delete', 'node', 'c1']);
    assert.equal(await code(node.request('GET', '/api/v1/nodes/c1')), 401, 'revoked with its Node');
    await eventually('the revoked entry dropped from the ledger', async () => !(await ledger()).has(first));

    // As if the agent had rotated before: its kubeconfig names a rotated pair, now revoked too.
    const { kubeconfig, certDir } = pathsOf('c1');
    const rotated = 'kubelet-client-20260101T000000000Z';
    for (const ext of ['crt', 'key']) copyFileSync(join(certDir, `kubelet-client.${ext}`), join(certDir, `${rotated}.${ext}`));
    writePrivateFile(kubeconfig, readFileSync(kubeconfig, 'utf8').replace(/kubelet-client\.(crt|key)/g, `${rotated}.$1`));

    // The running agent notices, gets a new certificate with its bootstrap token and goes on.
    const agentLog = recordingLogger();
    let renewed = 0;
    const guard = new NodeCredentialGuard('c1', node, pathsOf('c1', bootstrap.path), agentLog, { periodMs: 3600_000, onRenewed: () => renewed++ });
    await guard.checkNow();
    guard.stop();
    assert.equal(renewed, 1, agentLog.lines.map((l) => l.msg).join('\n'));
    const second = serialOf(node);
    assert.notEqual(second, first);
    assert.ok(agentLog.lines.some((l) => l.level === 'warn' && /refuses the node client certificate \(401 Unauthorized\): it was revoked/.test(l.msg)), 'the agent says why');
    assert.deepEqual(readdirSync(certDir).filter((f) => f.startsWith('kubelet-client')).sort(), ['kubelet-client.crt', 'kubelet-client.key'], 'the revoked rotated pair is deleted with the new one in use');
    assert.equal(await code(node.request('GET', '/api/v1/nodes/c1')), 404, 'the new certificate authenticates');
    const uid2 = (await node.create(R.nodes, nodeObject('c1'))).metadata.uid!;
    assert.notEqual(uid2, uid1);
    await eventually('the new certificate bound to the new Node', async () => (await ledger()).get(second)?.nodeUID === uid2);
    assert.equal(await code(node.request('GET', '/api/v1/nodes/c1')), 200);
  } finally {
    node.close();
    cleaner.stop();
    informers.stop();
    admin.close();
  }
});

test('an agent whose certificate was revoked while it was down starts with a new one from its bootstrap token; without a usable token it says why and retries with backoff', async () => {
  const bootstrap = await newBootstrapKubeconfig('c2');
  const paths = pathsOf('c2', bootstrap.path);
  const first = new X509Certificate((await nodeClientConnection('c2', paths, log)).cert!).serialNumber.toUpperCase();
  const revoke = (serial: string) => s.kubectlOk(['-n', LEDGER_NAMESPACE, 'patch', 'configmap', LEDGER_NAME, '--type=merge', '-p', JSON.stringify({ data: { [serial]: null } })]);
  await revoke(first);

  // "Restarted": the kubeconfig on disk names a certificate the server now refuses.
  const conn = await nodeClientConnection('c2', paths, log);
  const node = new KubeClient(conn);
  const second = serialOf(node);
  try {
    assert.notEqual(second, first, 'a new certificate from the bootstrap token');
    assert.equal(await code(node.request('GET', '/api/v1/nodes/c2')), 404);
  } finally {
    node.close();
  }

  // Revoked again, and the bootstrap token deleted: no crash, a clear error, retries with backoff.
  await revoke(second);
  await s.kubectlOk(['-n', 'kube-system', 'delete', 'secret', `bootstrap-token-${bootstrap.tokenId}`]);
  const agentLog = recordingLogger();
  const waits: number[] = [];
  const stopAfterTwo = async (ms: number) => {
    waits.push(ms);
    if (waits.length === 2) throw new Error('enough retries seen');
  };
  await assert.rejects(nodeClientConnectionWithRetry('c2', paths, agentLog, stopAfterTwo), /enough retries seen/);
  assert.deepEqual(waits, [5000, 10000], 'backoff doubles');
  const errors = agentLog.lines.filter((l) => l.level === 'error');
  assert.equal(errors.length, 2);
  assert.match(String(errors[0].fields?.err), /bootstrap token of .*c2\.bootstrap\.kubeconfig was refused \(401 Unauthorized\): it has expired or was deleted/);

  // Without a bootstrap kubeconfig at all: the cause names the certificate and how to join again.
  const noBootstrap = recordingLogger();
  waits.length = 0;
  await assert.rejects(nodeClientConnectionWithRetry('c2', pathsOf('c2'), noBootstrap, stopAfterTwo), /enough retries seen/);
  assert.match(String(noBootstrap.lines.find((l) => l.level === 'error')?.fields?.err), /refuses the client certificate of .*\(401 Unauthorized\): it was revoked .* no --bootstrap-kubeconfig was given/);

  // A running agent in the same state keeps going and retries with backoff.
  const running = new KubeClient(loadKubeconfig(paths.kubeconfig));
  const guardLog = recordingLogger();
  const guard = new NodeCredentialGuard('c2', running, paths, guardLog, { periodMs: 3600_000 });
  try {
    await guard.checkNow();
    await guard.checkNow();
    const failures = guardLog.lines.filter((l) => l.level === 'error');
    assert.equal(failures.length, 2);
    assert.deepEqual(failures.map((l) => l.fields?.inMs), [5000, 10000]);
    assert.match(String(failures[0].fields?.err), /bootstrap token .* was refused \(401 Unauthorized\)/);
  } finally {
    guard.stop();
    running.close();
  }
});
