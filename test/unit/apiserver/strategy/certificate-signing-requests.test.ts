// CertificateSigningRequest writes through the registry: the main resource, /status and /approval
// each change only what upstream 1.32 lets them, and every refusal names the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { R } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import { MemoryStore } from '../../../../src/store/index.js';
import { ApiStatusError } from '../../../../src/apiserver/errors.js';
import { Registry, type WriteContext } from '../../../../src/apiserver/registry.js';
import { createCertificateRequest, newEcdsaKey } from '../../../../src/apiserver/node-identity/pki.js';
import { certificateProblem } from '../../../../src/apiserver/strategy/certificate-signing-requests.js';
// Registers the CSR kind's create/update validation, as the server does.
import '../../../../src/apiserver/node-identity/csr-admission.js';

const r = R.certificatesigningrequests;
const ctx = (manager = 'test'): WriteContext => ({ dryRun: false, fieldValidation: 'Strict', fieldManager: manager, warnings: [] });

/** A self-signed certificate from openssl (a prerequisite: the test fails saying so when it is missing). */
function selfSignedPem(): string {
  try {
    return execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=csr-test', '-days', '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`openssl is needed to make a test certificate: ${(err as Error).message}`, { cause: err });
  }
}
const PEM = selfSignedPem();
const b64 = (s: string) => Buffer.from(s).toString('base64');

function setup(): { reg: Registry; csr: () => KubeObject } {
  const reg = new Registry(new MemoryStore());
  const request = b64(createCertificateRequest(newEcdsaKey(), 'alice', ['team']));
  reg.create(r, '', { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'alice' }, spec: { request, signerName: 'example.com/signer', usages: ['client auth'] } }, ctx());
  return { reg, csr: () => structuredClone(reg.get(r, '', 'alice').obj) };
}

function refusal(fn: () => unknown): { code: number; causes: { field?: string; message?: string }[]; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiStatusError) return { code: err.code, causes: (err.status.details?.causes ?? []) as { field?: string; message?: string }[], message: err.status.message ?? '' };
    throw err;
  }
  assert.fail('expected the write to be refused');
}

function withConditions(obj: KubeObject, conditions: Record<string, unknown>[], certificate?: string): KubeObject {
  obj.status = { ...(obj.status as object), conditions };
  if (certificate !== undefined) (obj.status as Record<string, unknown>).certificate = certificate;
  return obj;
}

const approved = { type: 'Approved', status: 'True', reason: 'ByTest', message: 'ok' };
const denied = { type: 'Denied', status: 'True', reason: 'ByTest' };

test('a create starts with an empty status whatever the body says', () => {
  const reg = new Registry(new MemoryStore());
  const request = b64(createCertificateRequest(newEcdsaKey(), 'bob', []));
  const { entry } = reg.create(r, '', { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'bob' }, spec: { request, signerName: 'example.com/s', usages: ['client auth'] }, status: { conditions: [approved], certificate: b64(PEM) } }, ctx());
  assert.deepEqual(entry.obj.status, {});
});

test('Approved and Denied are added only through /approval; /status may not add, change or remove them', () => {
  const { reg, csr } = setup();
  const viaStatus = refusal(() => reg.update(r, '', 'alice', withConditions(csr(), [approved]), ctx(), 'status'));
  assert.equal(viaStatus.code, 422);
  assert.deepEqual(viaStatus.causes.map((c) => [c.field, c.message]), [['status.conditions', 'Forbidden: updates may not add a condition of type "Approved"']]);
  const viaMain = reg.update(r, '', 'alice', withConditions(csr(), [approved]), ctx());
  assert.deepEqual(viaMain.entry.obj.status, {}, 'the main resource keeps the stored status');

  const ok = reg.update(r, '', 'alice', withConditions(csr(), [approved]), ctx('approver'), 'approval').entry.obj;
  const conds = (ok.status as { conditions: Record<string, string>[] }).conditions;
  assert.equal(conds.length, 1);
  assert.equal(conds[0].type, 'Approved');
  assert.match(conds[0].lastUpdateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(conds[0].lastTransitionTime, conds[0].lastUpdateTime);
  assert.ok((ok.metadata.managedFields as { manager: string; subresource?: string }[]).some((m) => m.manager === 'approver' && m.subresource === 'approval'));

  // A status write that drops or rewrites Approved keeps the stored one (instances stay as stored when the count matches).
  const rewritten = withConditions(csr(), [{ ...approved, reason: 'Changed' }]);
  const kept = reg.update(r, '', 'alice', rewritten, ctx(), 'status').entry.obj;
  assert.equal((kept.status as { conditions: Record<string, string>[] }).conditions[0].reason, 'ByTest');
  const removed = refusal(() => reg.update(r, '', 'alice', withConditions(csr(), []), ctx(), 'status'));
  assert.ok(removed.causes.some((c) => c.field === 'status.conditions' && c.message === 'Forbidden: updates may not remove a condition of type "Approved"'), JSON.stringify(removed.causes));
  const removedByApproval = refusal(() => reg.update(r, '', 'alice', withConditions(csr(), []), ctx(), 'approval'));
  assert.ok(removedByApproval.causes.some((c) => c.message === 'Forbidden: updates may not remove a condition of type "Approved"'));
});

test('Approved and Denied exclude each other; condition types are unique; Approved/Denied/Failed are True only', () => {
  const { reg, csr } = setup();
  const both = refusal(() => reg.update(r, '', 'alice', withConditions(csr(), [approved, denied]), ctx(), 'approval'));
  assert.deepEqual(both.causes.map((c) => [c.field, c.message]), [['status.conditions[1].type', 'Invalid value: "Denied": Approved and Denied conditions are mutually exclusive']]);
  const dup = refusal(() => reg.update(r, '', 'alice', withConditions(csr(), [approved, { ...approved }]), ctx(), 'approval'));
  assert.deepEqual(dup.causes.map((c) => [c.field, c.message]), [['status.conditions[1].type', 'Duplicate value: "Approved"']]);
  const falseStatus = refusal(() => reg.update(r, '', 'alice', withConditions(csr(), [{ type: 'Denied', status: 'False' }]), ctx(), 'approval'));
  assert.deepEqual(falseStatus.causes.map((c) => [c.field, c.message]), [['status.conditions[0].status', 'Unsupported value: "False": supported values: "True"']]);
  const noType = refusal(() => reg.update(r, '', 'alice', withConditions(csr(), [{ status: 'True' }]), ctx(), 'status'));
  assert.deepEqual(noType.causes.map((c) => [c.field, c.message]), [['status.conditions[0].type', 'Required value']]);
  const custom = reg.update(r, '', 'alice', withConditions(csr(), [{ type: 'Progressing', status: 'False' }]), ctx(), 'status').entry.obj;
  assert.equal((custom.status as { conditions: unknown[] }).conditions.length, 1, 'other types may be False');
  // Approving after denial is refused too (Denied stays; Approved would join it).
  reg.update(r, '', 'alice', withConditions(csr(), [{ type: 'Progressing', status: 'False' }, denied]), ctx(), 'approval');
  const flip = refusal(() => reg.update(r, '', 'alice', withConditions(csr(), [{ type: 'Progressing', status: 'False' }, denied, approved]), ctx(), 'approval'));
  assert.ok(flip.causes.some((c) => c.field === 'status.conditions[2].type' && /mutually exclusive/.test(c.message ?? '')));
});

test('Failed comes through /status and is never removed', () => {
  const { reg, csr } = setup();
  reg.update(r, '', 'alice', withConditions(csr(), [{ type: 'Failed', status: 'True', reason: 'SignerError' }]), ctx(), 'status');
  const gone = refusal(() => reg.update(r, '', 'alice', withConditions(csr(), []), ctx(), 'status'));
  assert.deepEqual(gone.causes.map((c) => [c.field, c.message]), [['status.conditions', 'Forbidden: updates may not remove a condition of type "Failed"']]);
});

test('status.certificate only through /status, only PEM CERTIFICATE blocks, never changed once set', () => {
  const { reg, csr } = setup();
  const viaApproval = (() => {
    const obj = csr();
    obj.status = { certificate: b64(PEM) };
    return reg.update(r, '', 'alice', obj, ctx(), 'approval').entry.obj;
  })();
  assert.equal((viaApproval.status as { certificate?: string }).certificate, undefined, 'the approval subresource keeps the stored certificate');

  const keyBlock = b64('-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n');
  const wrong = refusal(() => reg.update(r, '', 'alice', withConditions(csr(), [], keyBlock), ctx(), 'status'));
  assert.deepEqual(wrong.causes.map((c) => [c.field, c.message]), [['status.certificate', 'Invalid value: "<certificate data>": only CERTIFICATE PEM blocks are allowed, found "PRIVATE KEY"']]);
  const text = refusal(() => reg.update(r, '', 'alice', withConditions(csr(), [], b64('not a certificate')), ctx(), 'status'));
  assert.deepEqual(text.causes.map((c) => c.message), ['Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block']);
  const garbage = refusal(() => reg.update(r, '', 'alice', withConditions(csr(), [], b64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')), ctx(), 'status'));
  assert.equal(garbage.causes[0].field, 'status.certificate');

  const set = reg.update(r, '', 'alice', withConditions(csr(), [], b64(`issued for alice\n${PEM}`)), ctx('signer'), 'status').entry.obj;
  assert.equal(Buffer.from((set.status as { certificate: string }).certificate, 'base64').toString(), `issued for alice\n${PEM}`);
  const again = refusal(() => reg.update(r, '', 'alice', withConditions(csr(), [], b64(PEM + PEM)), ctx(), 'status'));
  assert.deepEqual(again.causes.map((c) => [c.field, c.message]), [['status.certificate', 'Forbidden: updates may not modify existing certificate content']]);
});

test('spec never changes through status or approval; the main resource changes metadata only', () => {
  const { reg, csr } = setup();
  const before = csr().spec;
  for (const sub of ['status', 'approval'] as const) {
    const obj = csr();
    (obj.spec as Record<string, unknown>).usages = ['server auth'];
    obj.metadata.labels = { via: sub };
    const out = reg.update(r, '', 'alice', obj, ctx(), sub).entry.obj;
    assert.deepEqual(out.spec, before);
    assert.deepEqual(out.metadata.labels, { via: sub });
  }
  const main = csr();
  (main.spec as Record<string, unknown>).signerName = 'example.com/other';
  main.metadata.annotations = { a: 'b' };
  const out = reg.update(r, '', 'alice', main, ctx()).entry.obj;
  assert.deepEqual(out.spec, before);
  assert.deepEqual(out.metadata.annotations, { a: 'b' });
});

test('certificateProblem: PEM CERTIFICATE blocks without headers, each a real certificate', () => {
  assert.equal(certificateProblem(b64(PEM)), undefined);
  assert.equal(certificateProblem(''), undefined);
  const withHeader = PEM.replace('-----BEGIN CERTIFICATE-----\n', '-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\n');
  assert.equal(certificateProblem(b64(withHeader)), 'no PEM block headers are permitted');
});

test('a create whose request has a bad signature or a key no signer certifies is refused naming spec.request', () => {
  const reg = new Registry(new MemoryStore());
  const create = (request: string) => refusal(() => reg.create(r, '', { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'carol' }, spec: { request: b64(request), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] } }, ctx()));
  const k1 = execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1', '-nodes', '-keyout', '/dev/null', '-subj', '/O=system:nodes/CN=system:node:n1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const badKey = create(k1);
  assert.equal(badKey.code, 422);
  assert.deepEqual(badKey.causes.map((c) => c.field), ['spec.request']);
  assert.match(badKey.causes[0].message ?? '', /public key: ECDSA on secp256k1 is not accepted \(ECDSA P-256, P-384 or P-521, or RSA of 2048 bits or more\)/);
  // A P-256 request whose subject was changed after it was signed.
  const der = Buffer.from(createCertificateRequest(newEcdsaKey(), 'system:node:n1', ['system:nodes']).split('\n').filter((l) => !l.startsWith('-----')).join(''), 'base64');
  der[der.indexOf(Buffer.from('n1'))] = 'm'.charCodeAt(0);
  const badSignature = create(`-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`);
  assert.deepEqual(badSignature.causes.map((c) => [c.field, c.message]), [['spec.request', 'Invalid value: []byte{...}: signature: the request is not signed by its own key']]);
});
