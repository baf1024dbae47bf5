// CertificateSigningRequest on create, as upstream's strategy and validation: the requestor fields
// (spec.username, uid, groups, extra) are the authenticated user's, never what the body says; the
// request must be a PEM certificate request, the signer a qualified name, the usages known ones,
// expirationSeconds at least 600; the spec never changes after create.
import type { KubeObject } from '../../api/types.js';
import type { FieldError } from '../../api/validation/index.js';
import { registerKindRules } from '../../api/validation/kinds.js';
import { nameIsDNSSubdomain } from '../../api/validation/meta.js';
import type { RequestUser } from '../authorize.js';
import { MIN_CERTIFICATE_SECONDS, type CsrSpec } from './csr-decision.js';
import { RequestError, parseCertificateRequest } from './pki.js';

const KNOWN_USAGES = new Set([
  'signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment', 'cert sign', 'crl sign',
  'encipher only', 'decipher only', 'any', 'server auth', 'client auth', 'code signing', 'email protection', 's/mime', 'ipsec end system',
  'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing', 'microsoft sgc', 'netscape sgc',
]);
const SIGNER_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export function validateCsr(csr: KubeObject): FieldError[] {
  const spec = (csr.spec ?? {}) as CsrSpec;
  const errs: FieldError[] = [];
  if (typeof spec.request !== 'string' || spec.request === '') errs.push({ type: 'FieldValueRequired', field: 'spec.request', message: 'Required value' });
  else {
    try {
      parseCertificateRequest(Buffer.from(spec.request, 'base64').toString('utf8'));
    } catch (err) {
      const why = err instanceof RequestError ? err.message.replace(/^spec\.request: /, '') : 'invalid';
      errs.push({ type: 'FieldValueInvalid', field: 'spec.request', message: `Invalid value: []byte{...}: ${why}` });
    }
  }
  if (typeof spec.signerName !== 'string' || spec.signerName === '') errs.push({ type: 'FieldValueRequired', field: 'spec.signerName', message: 'Required value' });
  else if (!SIGNER_RE.test(spec.signerName)) errs.push({ type: 'FieldValueInvalid', field: 'spec.signerName', message: `Invalid value: ${JSON.stringify(spec.signerName)}: must be a fully qualified domain and path of the form 'example.com/signer-name'` });
  if (!Array.isArray(spec.usages) || spec.usages.length === 0) errs.push({ type: 'FieldValueRequired', field: 'spec.usages', message: 'Required value' });
  else {
    spec.usages.forEach((u, i) => {
      if (!KNOWN_USAGES.has(u)) errs.push({ type: 'FieldValueNotSupported', field: `spec.usages[${i}]`, message: `Unsupported value: ${JSON.stringify(u)}` });
    });
  }
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds !== null && (typeof spec.expirationSeconds !== 'number' || spec.expirationSeconds < MIN_CERTIFICATE_SECONDS)) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', message: `Invalid value: ${JSON.stringify(spec.expirationSeconds)}: may not specify a duration less than 600 seconds (10 minutes)` });
  }
  return errs;
}

export function validateCsrUpdate(csr: KubeObject, old: KubeObject): FieldError[] {
  if (JSON.stringify(csr.spec ?? {}) !== JSON.stringify(old.spec ?? {})) return [{ type: 'FieldValueInvalid', field: 'spec', message: 'Invalid value: field is immutable' }];
  return [];
}

registerKindRules('CertificateSigningRequest', { name: nameIsDNSSubdomain, create: validateCsr, update: validateCsrUpdate });

/** Sets the requestor of a new request to the user who sends it (mutates `obj`). */
export function stampRequestor(user: RequestUser, obj: KubeObject): void {
  const spec = (obj.spec ??= {}) as CsrSpec;
  spec.username = user.username;
  spec.groups = [...(user.groups ?? [])];
  if (user.uid) spec.uid = user.uid;
  else delete spec.uid;
  if (user.extra && Object.keys(user.extra).length > 0) spec.extra = user.extra;
  else delete spec.extra;
}
