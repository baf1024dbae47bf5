// CertificateSigningRequests (upstream pkg/registry/certificates and pkg/apis/certificates/
// validation, 1.32): the main resource changes metadata only (spec and status stay); /status
// changes status but never spec nor the Approved/Denied conditions, and is the only way to set
// status.certificate (PEM CERTIFICATE blocks only, never changed once set); /approval changes the
// conditions only. Approved and Denied exclude each other, Approved/Denied/Failed are status True
// only and are never removed, a condition type appears once. What a stored object already breaks
// (both Approved and Denied, duplicate or empty types, a certificate that is not PEM) is tolerated
// on its updates, as upstream tolerates existing data.
import { X509Certificate } from 'node:crypto';
import type { ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import type { FieldError } from '../../api/validation/index.js';
import * as field from '../../api/validation/errors.js';
import * as validation from '../../api/validation/index.js';
import { clone, deepEqual } from '../objects.js';
import { defaultStrategy } from './default.js';
import { statusUpdateResetting } from './status.js';
import type { ResourceStrategy, UpdateSubresource } from './types.js';

interface Condition {
  type?: string;
  status?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}
interface CsrStatus {
  conditions?: Condition[];
  certificate?: string;
}

const APPROVAL_TYPES = ['Approved', 'Denied'] as const;
/** Condition types that may only be True, and that no update may remove. */
const TRUE_ONLY_TYPES = new Set(['Approved', 'Denied', 'Failed']);
const ALL_STATUS_VALUES = ['False', 'True', 'Unknown'];

function statusOf(obj: KubeObject): CsrStatus {
  const s = obj.status;
  return s && typeof s === 'object' && !Array.isArray(s) ? (s as CsrStatus) : {};
}

function conditionsOf(obj: KubeObject): Condition[] {
  const c = statusOf(obj).conditions;
  return Array.isArray(c) ? c.filter((x) => x !== null && typeof x === 'object') : [];
}

function ofType(obj: KubeObject, type: string): Condition[] {
  return conditionsOf(obj).filter((c) => c.type === type);
}

function certificateOf(obj: KubeObject): string {
  return typeof statusOf(obj).certificate === 'string' ? (statusOf(obj).certificate as string) : '';
}

function nowTime(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * populateConditionTimestamps: a condition without lastUpdateTime gets now; one without
 * lastTransitionTime keeps the stored one of its type when its status did not change, else now.
 */
export function populateConditionTimestamps(next: KubeObject, old: KubeObject, now = nowTime()): void {
  const before = conditionsOf(old);
  for (const c of conditionsOf(next)) {
    c.lastUpdateTime ??= now;
    if (c.lastTransitionTime === undefined || c.lastTransitionTime === null) {
      const prior = before.find((o) => o.type === c.type);
      c.lastTransitionTime = prior && prior.status === c.status && prior.lastTransitionTime ? prior.lastTransitionTime : now;
    }
  }
}

/** /status: spec stays; the stored Approved and Denied instances replace the request's when it has as many. */
export const csrStatusUpdate = statusUpdateResetting(['spec'], (next, old) => {
  const conds = conditionsOf(next);
  for (const type of APPROVAL_TYPES) {
    const stored = ofType(old, type);
    const at = conds.map((c, i) => (c.type === type ? i : -1)).filter((i) => i >= 0);
    if (stored.length === at.length) at.forEach((i, k) => (conds[i] = clone(stored[k])));
  }
  if (conds.length > 0) (next.status as CsrStatus).conditions = conds;
  populateConditionTimestamps(next, old);
});

/** /approval: the request's conditions on the stored spec and status (the certificate stays). */
export const csrApprovalUpdate = statusUpdateResetting(['spec'], (next, old) => {
  populateConditionTimestamps(next, old);
  const conditions = statusOf(next).conditions;
  const status: CsrStatus = clone(statusOf(old));
  if (conditions === undefined) delete status.conditions;
  else status.conditions = conditions;
  next.status = status as Record<string, unknown>;
});

/** validateCertificate: one or more PEM blocks, each a CERTIFICATE without headers holding a parseable X.509 certificate. */
export function certificateProblem(base64: string): string | undefined {
  if (base64 === '') return undefined;
  const pem = Buffer.from(base64, 'base64').toString('latin1');
  const blockRe = /-----BEGIN ([^-\r\n]*)-----\r?\n([\s\S]*?)-----END \1-----/g;
  let blocks = 0;
  for (let m = blockRe.exec(pem); m; m = blockRe.exec(pem)) {
    if (m[1] !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found ${JSON.stringify(m[1])}`;
    if (/^[^\r\n]*:/m.test(m[2])) return 'no PEM block headers are permitted';
    const der = Buffer.from(m[2].replace(/\s+/g, ''), 'base64');
    try {
      new X509Certificate(der);
    } catch {
      return 'x509: malformed certificate';
    }
    blocks++;
  }
  return blocks === 0 ? 'must contain at least one CERTIFICATE PEM block' : undefined;
}

function hasDuplicateTypes(obj: KubeObject): boolean {
  const types = conditionsOf(obj).map((c) => c.type);
  return new Set(types).size !== types.length;
}

/** validateConditions, with what the stored object already breaks tolerated. */
function validateConditions(next: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const allowEmptyType = old !== undefined && conditionsOf(old).some((c) => !c.type);
  const allowBoth = old !== undefined && ofType(old, 'Approved').length > 0 && ofType(old, 'Denied').length > 0;
  const allowDuplicates = old !== undefined && hasDuplicateTypes(old);
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  conditionsOf(next).forEach((c, i) => {
    const at = field.path('status', 'conditions').index(i);
    if (!c.type && !allowEmptyType) errs.push(field.required(at.child('type')));
    const allowed = TRUE_ONLY_TYPES.has(c.type ?? '') ? ['True'] : ALL_STATUS_VALUES;
    if (!c.status) errs.push(field.required(at.child('status')));
    else if (!allowed.includes(c.status)) errs.push(field.notSupported(at.child('status'), c.status, allowed));
    if (!allowBoth) {
      if (c.type === 'Approved') {
        approved = true;
        if (denied) errs.push(field.invalid(at.child('type'), c.type, 'Approved and Denied conditions are mutually exclusive'));
      } else if (c.type === 'Denied') {
        denied = true;
        if (approved) errs.push(field.invalid(at.child('type'), c.type, 'Approved and Denied conditions are mutually exclusive'));
      }
    }
    if (!allowDuplicates) {
      if (seen.has(c.type ?? '')) errs.push(field.duplicate(at.child('type'), c.type ?? ''));
      seen.add(c.type ?? '');
    }
  });
  return errs;
}

/** The status rules of an update through `subresource` (undefined: the main resource). */
export function validateCsrStatusUpdate(next: KubeObject, old: KubeObject, subresource: UpdateSubresource | undefined): FieldError[] {
  const errs = validateConditions(next, old);
  const conditions = field.path('status', 'conditions');
  for (const type of ['Approved', 'Denied', 'Failed']) {
    if (ofType(next, type).length < ofType(old, type).length) errs.push(field.forbidden(conditions, `updates may not remove a condition of type ${JSON.stringify(type)}`));
  }
  if (subresource !== 'approval') {
    for (const type of APPROVAL_TYPES) {
      const before = ofType(old, type);
      const after = ofType(next, type);
      if (after.length > before.length) errs.push(field.forbidden(conditions, `updates may not add a condition of type ${JSON.stringify(type)}`));
      else if (after.length === before.length && !deepEqual(before, after)) errs.push(field.forbidden(conditions, `updates may not modify a condition of type ${JSON.stringify(type)}`));
    }
  }
  const cert = certificateOf(next);
  const oldCert = certificateOf(old);
  if (cert !== oldCert) {
    const certificate = field.path('status', 'certificate');
    if (subresource !== 'status') errs.push(field.forbidden(certificate, 'updates may not set certificate content'));
    else if (oldCert !== '') errs.push(field.forbidden(certificate, 'updates may not modify existing certificate content'));
    else if (certificateProblem(oldCert) === undefined) {
      const problem = certificateProblem(cert);
      if (problem) errs.push(field.invalidRendered(certificate, '"<certificate data>"', problem));
    }
  }
  return errs;
}

export const certificateSigningRequestStrategy: ResourceStrategy = {
  ...defaultStrategy,
  // The main resource changes metadata only.
  prepareForUpdate(_r: ResourceInfo, next: KubeObject, old: KubeObject) {
    for (const key of ['spec', 'status'] as const) {
      if (old[key] === undefined) delete next[key];
      else next[key] = clone(old[key]);
    }
  },
  prepareForStatusUpdate: csrStatusUpdate,
  prepareForApprovalUpdate: csrApprovalUpdate,
  validateUpdate(r, next, old, subresource) {
    return [...validation.validateUpdate(r, next, old), ...validateCsrStatusUpdate(next, old, subresource)];
  },
};
