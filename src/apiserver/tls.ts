// The cluster CA and the API server's serving certificate, generated on first start and kept in
// the data directory. The serving certificate is re-issued by the same CA when the wanted
// subject alternative names (an --advertise-address, say) are not all in it. Every file is written
// 0600 from its first byte, to a temporary name and renamed, so no reader sees half of one.
import { X509Certificate, createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateFacts, issueClientCertificate, newEcdsaKey, serialNumber } from './node-identity/pki.js';
import { altNamesOf, createCertificate, issuerFromCertificate, selfIssuer, spkiOf } from './node-identity/x509.js';

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

/** The CA, the serving and the kubelet-client keys are ECDSA P-256 (as k3s's; kubeadm's default is RSA 2048): about 1 ms each to make. */
function newKey(): { keyPem: string; key: KeyObject } {
  const keyPem = newEcdsaKey().keyPem;
  return { keyPem, key: createPrivateKey(keyPem) };
}

function createCA(): { certPem: string; keyPem: string } {
  const { keyPem, key } = newKey();
  const subject = { commonName: 'flatnet-ca' };
  const certPem = createCertificate(
    { subject, publicKey: spkiOf(key), serialHex: serialNumber(), notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 10 * 365 * 86400_000), isCA: true, keyUsage: { keyCertSign: true, cRLSign: true, digitalSignature: true } },
    selfIssuer(subject, key),
  );
  return { certPem, keyPem };
}

function createServingCert(ca: { certPem: string; keyPem: string }, names: string[]): { certPem: string; keyPem: string } {
  const { keyPem, key } = newKey();
  const certPem = createCertificate(
    {
      subject: { commonName: 'kube-apiserver' },
      publicKey: spkiOf(key),
      serialHex: serialNumber(),
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + 5 * 365 * 86400_000),
      isCA: false,
      keyUsage: { digitalSignature: true },
      extKeyUsage: ['serverAuth'],
      altNames: altNamesOf(names),
    },
    issuerFromCertificate(ca.certPem, ca.keyPem),
  );
  return { certPem, keyPem };
}

function writePrivate(path: string, data: string): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
}

function certificateNames(certPem: string): string[] {
  const { dnsNames, ips } = certificateFacts(certPem);
  return [...dnsNames, ...ips];
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
    writePrivate(caKey, ca.keyPem);
    writePrivate(caCrt, ca.certPem);
  }
  if (existsSync(crt) && existsSync(key)) {
    const certPem = readFileSync(crt, 'utf8');
    const have = new Set(certificateNames(certPem));
    if (names.every((n) => have.has(n))) return { caPem: ca.certPem, certPem, keyPem: readFileSync(key, 'utf8') };
  }
  const serving = createServingCert(ca, names);
  writePrivate(key, serving.keyPem);
  writePrivate(crt, serving.certPem);
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
  writePrivate(key, issued.keyPem);
  writePrivate(crt, issued.certPem);
  return issued;
}
