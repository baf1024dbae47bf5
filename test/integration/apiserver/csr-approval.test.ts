// CertificateSigningRequest approval and status through the real kubectl against a real server:
// `kubectl certificate approve|deny` go through the approval subresource (served and listed in
// discovery); a /status write may not add Approved or Denied; status.certificate is set once,
// through /status, as PEM CERTIFICATE blocks; every refusal is a 422 naming the field and leaves
// the stored object as it was.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startTestServer, type TestServer } from '../../support/server.js';
import { createCertificateRequest, newEcdsaKey } from '../../../src/apiserver/node-identity/pki.js';
import type { KubeObject } from '../../../src/api/types.js';

let s: TestServer;
const b64 = (t: string) => Buffer.from(t).toString('base64');

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: false });
});
after(async () => {
  await s?.stop();
});

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await s.kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function createCsr(name: string): Promise<void> {
  const request = b64(createCertificateRequest(newEcdsaKey(), name, ['team']));
  await kubectlOk(['create', '-f', '-'], JSON.stringify({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name }, spec: { request, signerName: 'example.com/team-signer', usages: ['client auth'] } }));
}

interface Csr {
  metadata: { resourceVersion: string };
  status?: { conditions?: { type: string; status: string; reason?: string }[]; certificate?: string };
}
async function getCsr(name: string): Promise<Csr> {
  return JSON.parse(await kubectlOk(['get', 'csr', name, '-o', 'json'])) as Csr;
}

/** PUT of `obj` to /apis/certificates.k8s.io/v1/certificatesigningrequests/<name>/<sub>: exit code and output. */
async function putRaw(name: string, sub: string, obj: unknown) {
  return s.kubectl(['replace', '--raw', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}/${sub}`, '-f', '-'], JSON.stringify(obj));
}

test('discovery lists certificatesigningrequests/approval', async () => {
  const list = JSON.parse(await kubectlOk(['get', '--raw', '/apis/certificates.k8s.io/v1'])) as { resources: { name: string; verbs: string[] }[] };
  const approval = list.resources.find((r) => r.name === 'certificatesigningrequests/approval');
  assert.ok(approval, JSON.stringify(list.resources.map((r) => r.name)));
  assert.deepEqual([...approval.verbs].sort(), ['get', 'patch', 'update']);
});

test('kubectl certificate approve and deny go through /approval', async () => {
  await createCsr('approve-me');
  await kubectlOk(['certificate', 'approve', 'approve-me']);
  const approved = await getCsr('approve-me');
  assert.deepEqual(approved.status?.conditions?.map((c) => [c.type, c.status, c.reason]), [['Approved', 'True', 'KubectlApprove']]);

  await createCsr('deny-me');
  await kubectlOk(['certificate', 'deny', 'deny-me']);
  assert.deepEqual((await getCsr('deny-me')).status?.conditions?.map((c) => [c.type, c.reason]), [['Denied', 'KubectlDeny']]);

  // Denying an approved request (kubectl refuses it itself, so raw): Approved and Denied exclude each other (422 naming the condition).
  const current = await getCsr('approve-me');
  const both = await putRaw('approve-me', 'approval', { ...current, status: { conditions: [...(current.status?.conditions ?? []), { type: 'Denied', status: 'True', reason: 'Late' }] } });
  assert.notEqual(both.code, 0);
  assert.match(both.stderr, /status\.conditions\[1\]\.type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive/);
  assert.deepEqual((await getCsr('approve-me')).status?.conditions?.map((c) => c.type), ['Approved']);
});

test('a /status write may not add Approved; the certificate is set once through /status, PEM CERTIFICATE blocks only', async () => {
  await createCsr('signed');
  const stored = await getCsr('signed');
  const viaStatus = await putRaw('signed', 'status', { ...stored, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Sneaky' }] } });
  assert.notEqual(viaStatus.code, 0);
  assert.match(viaStatus.stderr, /status\.conditions: Forbidden: updates may not add a condition of type "Approved"/);
  assert.equal((await getCsr('signed')).metadata.resourceVersion, stored.metadata.resourceVersion, 'nothing stored');

  const viaApproval = await putRaw('signed', 'approval', { ...stored, status: { certificate: b64('x') } });
  assert.equal(viaApproval.code, 0, viaApproval.stderr);
  assert.equal((await getCsr('signed')).status?.certificate, undefined, 'the approval subresource does not set the certificate');

  const key = await putRaw('signed', 'status', { ...(await getCsr('signed')), status: { certificate: b64('-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n') } });
  assert.notEqual(key.code, 0);
  assert.match(key.stderr, /status\.certificate: Invalid value: "<certificate data>": only CERTIFICATE PEM blocks are allowed, found "RSA PRIVATE KEY"/);

  let pem: string;
  try {
    pem = execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=signed', '-days', '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`openssl is needed to make a test certificate: ${(err as Error).message}`, { cause: err });
  }
  const ok = await putRaw('signed', 'status', { ...(await getCsr('signed')), status: { certificate: b64(pem) } });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(Buffer.from((await getCsr('signed')).status?.certificate ?? '', 'base64').toString(), pem);
  const again = await putRaw('signed', 'status', { ...(await getCsr('signed')), status: { certificate: b64(pem + pem) } });
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /status\.certificate: Forbidden: updates may not modify existing certificate content/);
});

test('approving needs `approve` on the signer (signers, by name or <domain>/*), as the CertificateApproval plugin', async () => {
  await createCsr('needs-signer');
  await kubectlOk(['create', 'serviceaccount', 'approver', '-n', 'default']);
  const role = (name: string, rules: unknown[]) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules });
  const binding = (name: string) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects: [{ kind: 'ServiceAccount', name: 'approver', namespace: 'default' }] });
  await kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [role('csr-approval', [{ apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['get', 'list'] }, { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'], verbs: ['update'] }]), binding('csr-approval')] }));
  const as = ['--as', 'system:serviceaccount:default:approver'];
  const refused = await s.kubectl(['certificate', 'approve', 'needs-signer', ...as]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /certificatesigningrequests\.certificates\.k8s\.io "needs-signer" is forbidden: user not permitted to approve requests with signerName "example\.com\/team-signer"/);
  assert.equal((await getCsr('needs-signer')).status?.conditions, undefined, 'nothing stored');

  await kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [role('team-signer-approve', [{ apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['example.com/*'], verbs: ['approve'] }]), binding('team-signer-approve')] }));
  await kubectlOk(['certificate', 'approve', 'needs-signer', ...as]);
  assert.deepEqual((await getCsr('needs-signer')).status?.conditions?.map((c) => c.type), ['Approved']);
});

test('/approval takes server-side apply and merge, JSON and strategic merge patches, as upstream', async () => {
  const { R } = await import('../../../src/api/resources.js');
  const csr = R.certificatesigningrequests;
  type Managed = { manager: string; operation: string; subresource?: string; fieldsV1?: { 'f:status'?: Record<string, unknown> } };
  type Stored = KubeObject & { spec: { signerName: string }; status?: Csr['status'] };

  await createCsr('apply-approve');
  const applied = await s.client.patch<Stored>(
    csr,
    undefined,
    'apply-approve',
    { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'apply-approve' }, spec: { signerName: 'example.com/other' }, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'ApplyApprove', message: 'by apply' }], certificate: b64('not mine to set') } },
    'apply',
    { subresource: 'approval', fieldManager: 'approver' },
  );
  assert.deepEqual(applied.status?.conditions?.map((c) => [c.type, c.status, c.reason]), [['Approved', 'True', 'ApplyApprove']]);
  assert.equal(applied.spec.signerName, 'example.com/team-signer', 'the approval subresource leaves the spec');
  assert.equal(applied.status?.certificate, undefined, 'and the certificate');
  const mine = (applied.metadata.managedFields as Managed[] | undefined)?.find((m) => m.manager === 'approver');
  assert.equal(mine?.operation, 'Apply');
  assert.equal(mine?.subresource, 'approval');
  assert.ok(mine?.fieldsV1?.['f:status']?.['f:conditions'], JSON.stringify(mine));
  assert.equal(mine?.fieldsV1?.['f:status']?.['f:certificate'], undefined, 'the manager does not own the certificate');
  assert.equal((await getCsr('apply-approve')).status?.conditions?.[0]?.reason, 'ApplyApprove', 'stored');

  // Applying again as another manager that changes the condition conflicts unless forced.
  const conflicting = { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'apply-approve' }, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Other' }] } };
  await assert.rejects(s.client.patch(csr, undefined, 'apply-approve', conflicting, 'apply', { subresource: 'approval', fieldManager: 'second' }), (err: Error & { code?: number }) => {
    assert.equal(err.code, 409, String(err));
    assert.match(err.message, /conflict with "approver" with subresource "approval"/);
    return true;
  });

  await createCsr('merge-deny');
  const merged = await s.client.patch<Stored>(csr, undefined, 'merge-deny', { status: { conditions: [{ type: 'Denied', status: 'True', reason: 'MergeDeny' }] } }, 'merge', { subresource: 'approval' });
  assert.deepEqual(merged.status?.conditions?.map((c) => [c.type, c.reason]), [['Denied', 'MergeDeny']]);

  await createCsr('json-approve');
  const jsonPatched = await s.client.patch<Stored>(csr, undefined, 'json-approve', [{ op: 'add', path: '/status/conditions', value: [{ type: 'Approved', status: 'True', reason: 'JsonApprove' }] }], 'json', { subresource: 'approval' });
  assert.deepEqual(jsonPatched.status?.conditions?.map((c) => [c.type, c.reason]), [['Approved', 'JsonApprove']]);

  await createCsr('smp-approve');
  const smp = await s.client.patch<Stored>(csr, undefined, 'smp-approve', { status: { conditions: [{ type: 'Approved', status: 'True', reason: 'SmpApprove' }] } }, 'strategic', { subresource: 'approval' });
  assert.deepEqual(smp.status?.conditions?.map((c) => [c.type, c.reason]), [['Approved', 'SmpApprove']]);

  // The approval rules hold for every patch type: Approved and Denied exclude each other (422, nothing stored).
  const before = await getCsr('smp-approve');
  await assert.rejects(
    s.client.patch(csr, undefined, 'smp-approve', { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'smp-approve' }, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'SmpApprove' }, { type: 'Denied', status: 'True', reason: 'Late' }] } }, 'apply', { subresource: 'approval', fieldManager: 'late', force: true }),
    (err: Error & { code?: number }) => {
      assert.equal(err.code, 422, String(err));
      assert.match(err.message, /Approved and Denied conditions are mutually exclusive/);
      return true;
    },
  );
  assert.equal((await getCsr('smp-approve')).metadata.resourceVersion, before.metadata.resourceVersion, 'nothing stored');
});
