// What the csr-cleaner removes, as kube-controller-manager's csrcleaner does: a request approved,
// denied or failed more than an hour ago (by its condition's lastUpdateTime), a pending one created
// more than 24 hours ago, and one whose issued certificate has expired. Removing a CSR revokes
// nothing: node client certificates are kept in the certificate ledger
// (src/apiserver/node-identity/certificate-ledger.ts). Pure.
import { X509Certificate } from 'node:crypto';
import type { KubeObject } from '../api/types.js';

export const APPROVED_EXPIRATION_MS = 3600_000;
export const DENIED_EXPIRATION_MS = 3600_000;
export const FAILED_EXPIRATION_MS = 3600_000;
export const PENDING_EXPIRATION_MS = 24 * 3600_000;
/** How often every CSR is looked at (upstream polls hourly; a shorter period keeps the list short at no real cost). */
export const CLEANER_PERIOD_MS = 10 * 60_000;

interface Condition {
  type?: string;
  status?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

function conditionTime(c: Condition, csr: KubeObject): number {
  for (const t of [c.lastUpdateTime, c.lastTransitionTime, csr.metadata.creationTimestamp]) {
    const ms = t ? Date.parse(t) : NaN;
    if (!Number.isNaN(ms)) return ms;
  }
  return NaN;
}

function certificateExpired(b64: string, now: number): boolean {
  const pem = Buffer.from(b64, 'base64').toString('latin1');
  const certs = [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)];
  if (certs.length === 0) return false;
  try {
    return certs.some((m) => Date.parse(new X509Certificate(m[0]).validTo) <= now);
  } catch {
    return false;
  }
}

/** Why `csr` is to be removed at `now`, or undefined to keep it. */
export function csrCleanupReason(csr: KubeObject, now: Date): string | undefined {
  const t = now.getTime();
  const status = (csr.status ?? {}) as { certificate?: string; conditions?: Condition[] };
  if (status.certificate && certificateExpired(status.certificate, t)) return 'its certificate has expired';
  const conditions = status.conditions ?? [];
  const limits: [string, number][] = [
    ['Approved', APPROVED_EXPIRATION_MS],
    ['Denied', DENIED_EXPIRATION_MS],
    ['Failed', FAILED_EXPIRATION_MS],
  ];
  let decided = false;
  for (const [type, limit] of limits) {
    const c = conditions.find((x) => x.type === type && x.status === 'True');
    if (!c) continue;
    decided = true;
    if (conditionTime(c, csr) + limit < t) return `${type.toLowerCase()} more than ${limit / 3600_000}h ago`;
  }
  if (decided) return undefined;
  const created = Date.parse(csr.metadata.creationTimestamp ?? '');
  if (!Number.isNaN(created) && created + PENDING_EXPIRATION_MS < t) return `pending for more than ${PENDING_EXPIRATION_MS / 3600_000}h`;
  return undefined;
}
