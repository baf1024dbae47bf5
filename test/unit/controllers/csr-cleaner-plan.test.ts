// Which CertificateSigningRequests the csr-cleaner removes, and when (csrcleaner's rules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/api/types.js';
import { csrCleanupReason } from '../../../src/controllers/csr-cleaner-plan.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateRequest, issueCertificate, newEcdsaKey, parseCertificateRequest } from '../../../src/apiserver/node-identity/pki.js';
import { ensureServingCertificate, loadCertificateAuthority } from '../../../src/apiserver/tls.js';

const t0 = new Date('2026-12-07T00:00:00Z');
const at = (hours: number) => new Date(t0.getTime() + hours * 3600_000);

function csr(conditions: { type: string; lastUpdateTime?: string }[], certificate?: string): KubeObject {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: 'x', creationTimestamp: t0.toISOString() },
    spec: {},
    status: { conditions: conditions.map((c) => ({ status: 'True', ...c })), ...(certificate ? { certificate } : {}) },
  };
}

test('pending: kept for 24 hours', () => {
  assert.equal(csrCleanupReason(csr([]), at(23)), undefined);
  assert.match(csrCleanupReason(csr([]), at(25))!, /pending/);
});

test('approved, denied or failed: kept for an hour after the decision', () => {
  for (const type of ['Approved', 'Denied', 'Failed']) {
    const decided = csr([{ type, lastUpdateTime: at(5).toISOString() }]);
    assert.equal(csrCleanupReason(decided, at(5.5)), undefined, type);
    assert.match(csrCleanupReason(decided, at(6.5))!, new RegExp(type.toLowerCase()), type);
  }
  // A decided request is not "pending" however old it is: its decision's time counts.
  assert.equal(csrCleanupReason(csr([{ type: 'Approved', lastUpdateTime: at(30).toISOString() }]), at(30.5)), undefined);
});

test('issued certificate expired: removed at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'c2-csrclean-'));
  ensureServingCertificate(dir, ['localhost']); // makes the cluster CA in dir, as the server does
  const ca = loadCertificateAuthority(dir);
  rmSync(dir, { recursive: true, force: true });
  const key = newEcdsaKey();
  const req = parseCertificateRequest(createCertificateRequest(key, 'system:node:n1', ['system:nodes']));
  const pem = issueCertificate(ca, req, ['digital signature', 'client auth'], at(0.5), t0);
  const issued = csr([{ type: 'Approved', lastUpdateTime: t0.toISOString() }], Buffer.from(pem).toString('base64'));
  assert.equal(csrCleanupReason(issued, at(0.25)), undefined);
  assert.match(csrCleanupReason(issued, at(0.75))!, /certificate has expired/);
});
