// X.509 pieces of node identity: PKCS#10 certificate requests (made by an agent from a key that
// never leaves it), reading a request's subject and names, and issuing a certificate from the
// cluster CA for a request, as kube-controller-manager's csrsigning does. node-forge builds and
// signs; Node's crypto generates keys. Keys are RSA 2048 (node-forge signs RSA only).
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

export interface KeyPair {
  keyPem: string;
  publicKey: forge.pki.PublicKey;
  privateKey: forge.pki.rsa.PrivateKey;
}

export function newRsaKey(): KeyPair {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return fromKeyPem(privateKey);
}

export function fromKeyPem(keyPem: string): KeyPair {
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  return { keyPem, privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

export interface RequestedNames {
  dnsNames?: string[];
  ips?: string[];
}

/** A PEM certificate request for `commonName` in `organizations`, signed by `key`. */
export function createCertificateRequest(key: KeyPair, commonName: string, organizations: string[], names: RequestedNames = {}): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = key.publicKey;
  csr.setSubject([{ name: 'commonName', value: commonName }, ...organizations.map((o) => ({ name: 'organizationName', value: o }))]);
  const altNames = [...(names.dnsNames ?? []).map((value) => ({ type: 2, value })), ...(names.ips ?? []).map((ip) => ({ type: 7, ip }))];
  if (altNames.length > 0) csr.setAttributes([{ name: 'extensionRequest', extensions: [{ name: 'subjectAltName', altNames }] }]);
  csr.sign(key.privateKey, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

/** What a certificate request asks for. */
export interface ParsedRequest {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ips: string[];
  /** Names of other kinds (email, URI): never signed for nodes. */
  otherNames: string[];
  publicKey: forge.pki.PublicKey;
}

export class RequestError extends Error {}

/** Parses and verifies (self-signature) a PEM certificate request; throws RequestError saying what is wrong. */
export function parseCertificateRequest(pem: string): ParsedRequest {
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(pem);
  } catch (err) {
    throw new RequestError(`spec.request: not a PEM CERTIFICATE REQUEST with an RSA key (${(err as Error).message})`);
  }
  if (!csr.verify()) throw new RequestError('spec.request: the request is not signed by its own key');
  const attrs = csr.subject.attributes;
  const commonName = String(attrs.find((a) => a.name === 'commonName')?.value ?? '');
  const organizations = attrs.filter((a) => a.name === 'organizationName').map((a) => String(a.value));
  const dnsNames: string[] = [];
  const ips: string[] = [];
  const otherNames: string[] = [];
  const ext = csr.getAttribute({ name: 'extensionRequest' }) as { extensions?: { name: string; altNames?: { type: number; value?: string; ip?: string }[] }[] } | null;
  for (const e of ext?.extensions ?? []) {
    if (e.name !== 'subjectAltName') continue;
    for (const n of e.altNames ?? []) {
      if (n.type === 2 && n.value) dnsNames.push(n.value);
      else if (n.type === 7 && n.ip) ips.push(n.ip);
      else otherNames.push(n.value ?? String(n.type));
    }
  }
  return { commonName, organizations, dnsNames, ips, otherNames, publicKey: csr.publicKey! };
}

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

export type Usage = 'digital signature' | 'key encipherment' | 'client auth' | 'server auth';

function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

/** A certificate for the request's subject and names, valid from now (minus 5 minutes of skew) to `notAfter`. */
export function issueCertificate(ca: CertificateAuthority, req: ParsedRequest, usages: readonly Usage[], notAfter: Date, now = new Date()): string {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = req.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
  cert.validity.notAfter = notAfter.getTime() < caCert.validity.notAfter.getTime() ? notAfter : caCert.validity.notAfter;
  cert.setSubject([{ name: 'commonName', value: req.commonName }, ...req.organizations.map((o) => ({ name: 'organizationName', value: o }))]);
  cert.setIssuer(caCert.subject.attributes);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: usages.includes('digital signature'), keyEncipherment: usages.includes('key encipherment'), critical: true },
    { name: 'extKeyUsage', clientAuth: usages.includes('client auth'), serverAuth: usages.includes('server auth') },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ];
  const altNames = [...req.dnsNames.map((value) => ({ type: 2, value })), ...req.ips.map((ip) => ({ type: 7, ip }))];
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  cert.setExtensions(extensions);
  cert.sign(caKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
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
  const key = newRsaKey();
  const req = parseCertificateRequest(createCertificateRequest(key, commonName, organizations));
  return { certPem: issueCertificate(ca, req, ['digital signature', 'key encipherment', 'client auth'], new Date(Date.now() + validDays * 86400_000)), keyPem: key.keyPem };
}

export function isIPAddress(s: string): boolean {
  return isIP(s) !== 0;
}
