// spec.tls of an Ingress -> certificates for port 443. The Secret lives in the Ingress's
// namespace, is of type kubernetes.io/tls and holds base64 PEM in tls.crt and tls.key; the key
// must belong to the certificate. A bad or missing Secret is a problem to report: the host is still
// served, without that certificate (a TLS handshake for its name then fails).
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KubeObject } from '../../api/types.js';
import type { TlsCertificate } from '../config.js';
import { asArray, asRecord, asString, keyOf, namespaceOf } from '../model/objects.js';
import { normalizeIngressHost } from './hosts.js';

export interface IngressTlsEntry {
  /** Normalized hosts; empty = the Ingress's default certificate. */
  hosts: string[];
  secretName?: string;
}

export function ingressTlsEntries(ingress: KubeObject): IngressTlsEntry[] {
  return asArray(asRecord(ingress.spec).tls).map((t) => {
    const r = asRecord(t);
    const hosts = asArray(r.hosts).filter((h): h is string => typeof h === 'string' && h.trim() !== '').map(normalizeIngressHost);
    return { hosts, secretName: asString(r.secretName) };
  });
}

/** The PEM pair of a kubernetes.io/tls Secret, or an Error saying what is wrong with it. */
export function tlsSecretPems(secret: KubeObject | undefined, namespace: string, name: string): { certPem: string; keyPem: string } | Error {
  if (!secret) return new Error(`TLS Secret ${namespace}/${name} does not exist`);
  if (asString(secret.type) !== 'kubernetes.io/tls') return new Error(`Secret ${namespace}/${name} is of type ${asString(secret.type) ?? 'Opaque'}, not kubernetes.io/tls`);
  const data = asRecord(secret.data);
  const decode = (k: string) => {
    const v = asString(data[k]);
    return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
  };
  const certPem = decode('tls.crt');
  const keyPem = decode('tls.key');
  if (!certPem || !keyPem) return new Error(`Secret ${namespace}/${name} lacks ${!certPem ? 'tls.crt' : 'tls.key'}`);
  try {
    const cert = new X509Certificate(certPem);
    const key = createPrivateKey(keyPem);
    if (!cert.checkPrivateKey(key)) return new Error(`Secret ${namespace}/${name}: tls.key does not belong to the certificate in tls.crt`);
  } catch (err) {
    return new Error(`Secret ${namespace}/${name} holds no valid PEM certificate and key: ${(err as Error).message}`);
  }
  return { certPem, keyPem };
}

export class SecretIndex {
  private readonly byKey: Map<string, KubeObject>;
  private readonly cache = new Map<string, { certPem: string; keyPem: string } | Error>();
  constructor(secrets: readonly KubeObject[]) {
    this.byKey = new Map(secrets.map((s) => [keyOf(s), s]));
  }
  pems(namespace: string, name: string): { certPem: string; keyPem: string } | Error {
    const key = `${namespace}/${name}`;
    let v = this.cache.get(key);
    if (!v) {
      v = tlsSecretPems(this.byKey.get(key), namespace, name);
      this.cache.set(key, v);
    }
    return v;
  }
}

/**
 * The certificate of one tls entry (hostnames: its hosts, or `*` when it lists none), or the
 * problem when its Secret is unusable.
 */
export function tlsCertificate(secrets: SecretIndex, ingress: KubeObject, entry: IngressTlsEntry): TlsCertificate | Error {
  if (!entry.secretName) return new Error('a tls entry names no secretName');
  const pems = secrets.pems(namespaceOf(ingress), entry.secretName);
  if (pems instanceof Error) return pems;
  return { hostnames: entry.hosts.length > 0 ? entry.hosts : ['*'], ...pems };
}
