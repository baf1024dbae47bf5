// The etcd cluster's own PKI for `flatnet up --ha`, kept apart from the cluster CA as kubeadm
// keeps etcd/ca: one CA, one certificate per member (serving clients and peers, and presenting
// itself to its peers, so serverAuth and clientAuth, with the member's address as its IP SAN), and
// one client certificate for the API servers. etcd runs with --client-cert-auth and
// --peer-client-cert-auth, so only holders of a certificate from this CA talk to it at all.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface EtcdPki {
  ca: PemPair;
  /** member name -> its serving and peer certificate. */
  members: Map<string, PemPair>;
  /** What the API servers present to etcd. */
  apiserverClient: PemPair;
}

const DAY_MS = 86400_000;

function keyPair(): { keyPem: string; forgeKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.PublicKey } {
  // Node makes the key natively (milliseconds); forge only builds and signs the certificates.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { keyPem: privateKey, forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

function issue(opts: { commonName: string; days: number; extensions: object[]; signer?: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } }): PemPair & { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } {
  const keys = keyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + opts.days * DAY_MS);
  const subject = [{ name: 'commonName', value: opts.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(opts.signer ? opts.signer.cert.subject.attributes : subject);
  cert.setExtensions(opts.extensions);
  cert.sign(opts.signer?.key ?? keys.forgeKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem, cert, key: keys.forgeKey };
}

/** A fresh CA and certificates for `members` (name -> IP address) and the API servers' client. */
export function createEtcdPki(members: { name: string; ip: string }[], days = 365): EtcdPki {
  const ca = issue({
    commonName: 'flatnet-etcd-ca',
    days: days * 10,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ],
  });
  const signer = { cert: ca.cert, key: ca.key };
  const out = new Map<string, PemPair>();
  for (const m of members) {
    const c = issue({
      commonName: m.name,
      days,
      signer,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
        // etcd checks a peer's client certificate against the connection's source address, and a
        // member dialing another loopback address sends from 127.0.0.1.
        { name: 'subjectAltName', altNames: [{ type: 7, ip: m.ip }, ...(m.ip.startsWith('127.') && m.ip !== '127.0.0.1' ? [{ type: 7, ip: '127.0.0.1' }] : [])] },
      ],
    });
    out.set(m.name, { certPem: c.certPem, keyPem: c.keyPem });
  }
  const client = issue({
    commonName: 'kube-apiserver-etcd-client',
    days,
    signer,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  return { ca: { certPem: ca.certPem, keyPem: ca.keyPem }, members: out, apiserverClient: { certPem: client.certPem, keyPem: client.keyPem } };
}
