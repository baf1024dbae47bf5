// X.509 pieces of node identity: PKCS#10 certificate requests (made by an agent from a key that
// never leaves it), reading a request's subject and names, and issuing a certificate from the
// cluster CA for a request, as kube-controller-manager's csrsigning does. x509.ts builds, signs and
// reads them with Node's crypto. Every key flatnet makes is ECDSA P-256 (as the kubelet's and k3s's);
// requests with RSA keys (kubeadm's default) are signed too.
import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { DerError } from './der.js';
import { createCertificate, createCertificateRequest as encodeCertificateRequest, issuerFromCertificate, readCertificateRequest, type RequestContents } from './x509.js';

export interface KeyPair {
  /** The private key, PEM (SEC1). */
  keyPem: string;
}

/** An ECDSA P-256 key: generated in about a millisecond. */
export function newEcdsaKey(): KeyPair {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return { keyPem: privateKey };
}

export interface RequestedNames {
  dnsNames?: string[];
  ips?: string[];
}

/** A PEM certificate request for `commonName` in `organizations`, signed by `key`. */
export function createCertificateRequest(key: KeyPair, commonName: string, organizations: string[], names: RequestedNames = {}): string {
  return encodeCertificateRequest(createPrivateKey(key.keyPem), { commonName, organizations }, names);
}

/** What a certificate request asks for (its self-signature checked). */
export type ParsedRequest = RequestContents;

export class RequestError extends Error {}

/** Parses a PEM certificate request and checks its key and self-signature; throws RequestError naming spec.request and saying what is wrong. */
export function parseCertificateRequest(pem: string): ParsedRequest {
  try {
    return readCertificateRequest(pem);
  } catch (err) {
    const why = (err as Error).message;
    throw new RequestError(`spec.request: ${err instanceof DerError ? `not a valid PEM CERTIFICATE REQUEST: ${why}` : why}`);
  }
}

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

export type Usage = 'digital signature' | 'key encipherment' | 'client auth' | 'server auth';

/** A random positive 128-bit serial number, hex. */
export function serialNumber(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

/** A certificate for the request's subject and names, valid from now (minus 5 minutes of skew) to `notAfter`. */
export function issueCertificate(ca: CertificateAuthority, req: ParsedRequest, usages: readonly Usage[], notAfter: Date, now = new Date()): string {
  const caNotAfter = new Date(new X509Certificate(ca.certPem).validTo);
  return createCertificate(
    {
      subject: { commonName: req.commonName, organizations: req.organizations },
      publicKey: req.publicKey,
      serialHex: serialNumber(),
      notBefore: new Date(now.getTime() - 5 * 60_000),
      notAfter: notAfter.getTime() < caNotAfter.getTime() ? notAfter : caNotAfter,
      isCA: false,
      keyUsage: { digitalSignature: usages.includes('digital signature'), keyEncipherment: usages.includes('key encipherment') },
      extKeyUsage: [...(usages.includes('client auth') ? ['clientAuth' as const] : []), ...(usages.includes('server auth') ? ['serverAuth' as const] : [])],
      altNames: { dnsNames: req.dnsNames, ips: req.ips },
    },
    issuerFromCertificate(ca.certPem, ca.keyPem),
  );
}

/** Subject CN and O values, names and validity of a PEM certificate. */
export interface CertificateFacts {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ips: string[];
  notAfter: Date;
}

export function certificateFacts(pem: string): CertificateFacts {
  const x = new X509Certificate(pem);
  const subject = x.subject.split('\n');
  const commonName = subject.find((l) => l.startsWith('CN='))?.slice(3) ?? '';
  const organizations = subject.filter((l) => l.startsWith('O=')).map((l) => l.slice(2));
  const dnsNames: string[] = [];
  const ips: string[] = [];
  for (const part of (x.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) dnsNames.push(part.slice(4));
    else if (part.startsWith('IP Address:')) ips.push(part.slice(11));
  }
  return { commonName, organizations, dnsNames, ips, notAfter: new Date(x.validTo) };
}

/** Whether `certPem` was issued by the CA in `caPem` (its signature checks out). */
export function issuedBy(certPem: string, caPem: string): boolean {
  try {
    return new X509Certificate(certPem).verify(new X509Certificate(caPem).publicKey);
  } catch {
    return false;
  }
}

/** A self-contained certificate (the API server's kubelet client) signed by the CA for `commonName`. */
export function issueClientCertificate(ca: CertificateAuthority, commonName: string, organizations: string[], validDays: number): { certPem: string; keyPem: string } {
  const key = newEcdsaKey();
  const req = parseCertificateRequest(createCertificateRequest(key, commonName, organizations));
  return { certPem: issueCertificate(ca, req, ['digital signature', 'client auth'], new Date(Date.now() + validDays * 86400_000)), keyPem: key.keyPem };
}

export function isIPAddress(s: string): boolean {
  return isIP(s) !== 0;
}
