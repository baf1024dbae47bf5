// The cluster CA and the API server's serving certificate, generated on first start and kept in
// the data directory. The serving certificate is re-issued by the same CA when the wanted
// subject alternative names (an --advertise-address, say) are not all in it.
import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { isIP } from 'node:net';
import { issueClientCertificate } from './node-identity/pki.js';

/**
 * kube-apiserver's TLS defaults: TLS 1.2 and 1.3 only, and for TLS 1.2 only ECDHE key exchange
 * with AES-GCM or ChaCha20-Poly1305 (forward secrecy and AEAD; no RSA key exchange, no CBC).
 */
export const TLS_SERVING_OPTIONS = {
  minVersion: 'TLSv1.2' as const,
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
};

export interface ServingCertificate {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** Names every flatnet API server certificate carries, plus the extra hosts asked for. */
export function servingNames(extraHosts: string[], kubernetesServiceIP = '10.96.0.1'): string[] {
  const names = ['127.0.0.1', 'localhost', kubernetesServiceIP, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  for (const h of extraHosts) if (h && h !== '0.0.0.0' && h !== '::' && !names.includes(h)) names.push(h);
  return names;
}

function newKeyPair(): { privatePem: string; publicKey: forge.pki.PublicKey; privateKey: forge.pki.PrivateKey } {
  // Node generates the RSA key natively (milliseconds); forge only builds and signs certificates.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privatePem: privateKey, privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

function createCA(): { certPem: string; keyPem: string } {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86400_000);
  const subject = [{ name: 'commonName', value: 'flatnet-ca' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privatePem };
}

function createServingCert(ca: { certPem: string; keyPem: string }, names: string[]): { certPem: string; keyPem: string } {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem) as forge.pki.rsa.PrivateKey;
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 5 * 365 * 86400_000);
  cert.setSubject([{ name: 'commonName', value: 'kube-apiserver' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privatePem };
}

function certificateNames(certPem: string): string[] {
  const cert = forge.pki.certificateFromPem(certPem);
  const ext = cert.getExtension('subjectAltName') as { altNames?: { type: number; value?: string; ip?: string }[] } | undefined;
  return (ext?.altNames ?? []).map((a) => (a.type === 7 ? (a.ip ?? '') : (a.value ?? '')));
}

/** Loads or creates ca.crt/ca.key/apiserver.crt/apiserver.key in `dataDir`. */
export function ensureServingCertificate(dataDir: string, names: string[]): ServingCertificate {
  const caCrt = join(dataDir, 'ca.crt');
  const caKey = join(dataDir, 'ca.key');
  const crt = join(dataDir, 'apiserver.crt');
  const key = join(dataDir, 'apiserver.key');
  let ca: { certPem: string; keyPem: string };
  if (existsSync(caCrt) && existsSync(caKey)) {
    ca = { certPem: readFileSync(caCrt, 'utf8'), keyPem: readFileSync(caKey, 'utf8') };
  } else {
    ca = createCA();
    writeFileSync(caKey, ca.keyPem, { mode: 0o600 });
    writeFileSync(caCrt, ca.certPem);
  }
  if (existsSync(crt) && existsSync(key)) {
    const certPem = readFileSync(crt, 'utf8');
    const have = new Set(certificateNames(certPem));
    if (names.every((n) => have.has(n))) return { caPem: ca.certPem, certPem, keyPem: readFileSync(key, 'utf8') };
  }
  const serving = createServingCert(ca, names);
  writeFileSync(key, serving.keyPem, { mode: 0o600 });
  writeFileSync(crt, serving.certPem);
  return { caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem };
}

/** The cluster CA's certificate and key (created by ensureServingCertificate). */
export function loadCertificateAuthority(dataDir: string): { certPem: string; keyPem: string } {
  return { certPem: readFileSync(join(dataDir, 'ca.crt'), 'utf8'), keyPem: readFileSync(join(dataDir, 'ca.key'), 'utf8') };
}

/** The CN agents' kubelet endpoints accept (kubeadm's apiserver-kubelet-client). */
export const KUBELET_CLIENT_COMMON_NAME = 'kube-apiserver-kubelet-client';

/**
 * The certificate the API server presents to agents (logs, exec, attach, port-forward), kept as
 * apiserver-kubelet-client.{crt,key}; re-issued when missing, expiring within 30 days, or from
 * another CA. It names no group: on the API server itself it can do nothing.
 */
export function ensureKubeletClientCertificate(dataDir: string, ca: { certPem: string; keyPem: string }): { certPem: string; keyPem: string } {
  const crt = join(dataDir, 'apiserver-kubelet-client.crt');
  const key = join(dataDir, 'apiserver-kubelet-client.key');
  if (existsSync(crt) && existsSync(key)) {
    const certPem = readFileSync(crt, 'utf8');
    const x = new X509Certificate(certPem);
    if (x.verify(new X509Certificate(ca.certPem).publicKey) && Date.parse(x.validTo) > Date.now() + 30 * 86400_000) return { certPem, keyPem: readFileSync(key, 'utf8') };
  }
  const issued = issueClientCertificate(ca, KUBELET_CLIENT_COMMON_NAME, [], 365);
  writeFileSync(key, issued.keyPem, { mode: 0o600 });
  writeFileSync(crt, issued.certPem, { mode: 0o600 });
  return issued;
}
