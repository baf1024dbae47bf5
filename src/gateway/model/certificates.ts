// HTTPS listener certificates: tls.certificateRefs to core Secrets of type kubernetes.io/tls whose
// tls.crt and tls.key hold a PEM certificate and its private key. A Secret in another namespace
// needs a ReferenceGrant from the Gateway to it.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KubeObject } from '../../api/types.js';
import type { Problem } from './conditions.js';
import { asRecord, asString } from './objects.js';
import type { ReferenceGrantIndex } from './referencegrant.js';
import { GATEWAY_GROUP } from './objects.js';

export interface CertificatePair {
  certPem: string;
  keyPem: string;
}

export interface CertificateResolution {
  pairs: CertificatePair[];
  problem?: Problem;
}

const pemChecks = new Map<string, string | null>();

/** Why the pair is unusable, or null. Memoized by content: certificates rarely change. */
function pemProblem(certPem: string, keyPem: string): string | null {
  const memoKey = `${certPem}\u0000${keyPem}`;
  const known = pemChecks.get(memoKey);
  if (known !== undefined) return known;
  let problem: string | null = null;
  try {
    const cert = new X509Certificate(certPem);
    const key = createPrivateKey(keyPem);
    if (!cert.checkPrivateKey(key)) problem = 'tls.key does not match the certificate in tls.crt';
  } catch (err) {
    problem = `tls.crt/tls.key are not a PEM certificate and private key (${err instanceof Error ? err.message : String(err)})`;
  }
  if (pemChecks.size > 512) pemChecks.clear();
  pemChecks.set(memoKey, problem);
  return problem;
}

function decode(data: unknown): string | undefined {
  const b64 = asString(data);
  if (b64 === undefined) return undefined;
  return Buffer.from(b64, 'base64').toString('utf8');
}

export function resolveCertificateRefs(
  gateway: { namespace: string; name: string },
  refs: unknown[],
  secrets: Map<string, KubeObject>,
  grants: ReferenceGrantIndex,
): CertificateResolution {
  const pairs: CertificatePair[] = [];
  if (refs.length === 0) {
    return { pairs, problem: { reason: 'InvalidCertificateRef', message: 'tls.certificateRefs is empty: an HTTPS listener needs a certificate' } };
  }
  for (const [i, raw] of refs.entries()) {
    const ref = asRecord(raw);
    const group = asString(ref.group) ?? '';
    const kind = asString(ref.kind) ?? 'Secret';
    const name = asString(ref.name) ?? '';
    const namespace = asString(ref.namespace) ?? gateway.namespace;
    const where = `tls.certificateRefs[${i}]`;
    if (group !== '' || kind !== 'Secret') {
      return { pairs, problem: { reason: 'InvalidCertificateRef', message: `${where}: only core Secrets are supported, not ${group || 'core'}/${kind}` } };
    }
    if (!grants.permits({ group: GATEWAY_GROUP, kind: 'Gateway', namespace: gateway.namespace }, { group: '', kind: 'Secret', namespace, name })) {
      return { pairs, problem: { reason: 'RefNotPermitted', message: `${where}: Secret ${namespace}/${name} is in another namespace and no ReferenceGrant there allows it` } };
    }
    const secret = secrets.get(`${namespace}/${name}`);
    if (!secret) return { pairs, problem: { reason: 'InvalidCertificateRef', message: `${where}: Secret ${namespace}/${name} of type kubernetes.io/tls not found` } };
    const data = asRecord(secret.data);
    const certPem = decode(data['tls.crt']);
    const keyPem = decode(data['tls.key']);
    if (!certPem || !keyPem) {
      return { pairs, problem: { reason: 'InvalidCertificateRef', message: `${where}: Secret ${namespace}/${name} lacks tls.crt or tls.key` } };
    }
    const bad = pemProblem(certPem, keyPem);
    if (bad) return { pairs, problem: { reason: 'InvalidCertificateRef', message: `${where}: Secret ${namespace}/${name}: ${bad}` } };
    pairs.push({ certPem, keyPem });
  }
  return { pairs };
}
