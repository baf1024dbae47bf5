// The etcd cluster's own PKI for `flatnet up --ha`, kept apart from the cluster CA as kubeadm
// keeps etcd/ca: one CA, one certificate per member (serving clients and peers, and presenting
// itself to its peers, so serverAuth and clientAuth, with the member's address as its IP SAN), and
// one client certificate for the API servers. etcd runs with --client-cert-auth and
// --peer-client-cert-auth, so only holders of a certificate from this CA talk to it at all.
// Keys are ECDSA P-256 (SEC1 PEM, which etcd's Go TLS reads), certificates made by x509.ts.
import { createPrivateKey } from 'node:crypto';
import { newEcdsaKey, serialNumber } from '../apiserver/node-identity/pki.js';
import { createCertificate, selfIssuer, spkiOf, type CertificateTemplate, type Issuer } from '../apiserver/node-identity/x509.js';

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

type Template = Omit<CertificateTemplate, 'publicKey' | 'serialHex' | 'notBefore' | 'notAfter'>;

/** A new key and its certificate for `t`, valid for `days` (from an hour ago), signed by `issuer` or self-signed. */
function issue(t: Template, days: number, issuer?: Issuer): PemPair & { issuer: Issuer } {
  const { keyPem } = newEcdsaKey();
  const key = createPrivateKey(keyPem);
  const own = selfIssuer(t.subject, key);
  const now = Date.now();
  const certPem = createCertificate({ ...t, publicKey: spkiOf(key), serialHex: serialNumber(), notBefore: new Date(now - 3600_000), notAfter: new Date(now + days * DAY_MS) }, issuer ?? own);
  return { certPem, keyPem, issuer: own };
}

/** A fresh CA and certificates for `members` (name -> IP address) and the API servers' client. */
export function createEtcdPki(members: { name: string; ip: string }[], days = 365): EtcdPki {
  const ca = issue({ subject: { commonName: 'flatnet-etcd-ca' }, isCA: true, keyUsage: { keyCertSign: true, cRLSign: true, digitalSignature: true } }, days * 10);
  const out = new Map<string, PemPair>();
  for (const m of members) {
    // etcd checks a peer's client certificate against the connection's source address, and a
    // member dialing another loopback address sends from 127.0.0.1.
    const ips = [m.ip, ...(m.ip.startsWith('127.') && m.ip !== '127.0.0.1' ? ['127.0.0.1'] : [])];
    const c = issue({ subject: { commonName: m.name }, isCA: false, keyUsage: { digitalSignature: true }, extKeyUsage: ['serverAuth', 'clientAuth'], altNames: { ips } }, days, ca.issuer);
    out.set(m.name, { certPem: c.certPem, keyPem: c.keyPem });
  }
  const client = issue({ subject: { commonName: 'kube-apiserver-etcd-client' }, isCA: false, keyUsage: { digitalSignature: true }, extKeyUsage: ['clientAuth'] }, days, ca.issuer);
  return { ca: { certPem: ca.certPem, keyPem: ca.keyPem }, members: out, apiserverClient: { certPem: client.certPem, keyPem: client.keyPem } };
}
