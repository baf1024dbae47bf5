// Revocation of node client certificates. A certificate naming a node identity (CN system:node:*
// or group system:nodes) authenticates only while the CertificateSigningRequest that issued it is
// stored with that certificate: deleting the node's CSR (`kubectl delete csr NAME`) revokes the
// certificate on the next request, on every API server (each one follows the CSRs through the
// store's watch). The lifetime of a certificate is still bounded by its own notAfter, which the TLS
// layer checks; agents rotate well before it (src/agent/cert-rotation.ts).
import { X509Certificate } from 'node:crypto';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { Store } from '../store/types.js';
import { storeKey } from './registry.js';
import { GROUP_NODES, NODE_USER_PREFIX } from './node-identity/csr-decision.js';

/** The serial numbers (upper-case hex, as OpenSSL prints them) of the certificates in a CSR's status. */
export function issuedSerials(csr: KubeObject): string[] {
  const b64 = (csr.status as { certificate?: unknown } | undefined)?.certificate;
  if (typeof b64 !== 'string' || b64 === '') return [];
  const pem = Buffer.from(b64, 'base64').toString('latin1');
  const serials: string[] = [];
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)) {
    try {
      serials.push(new X509Certificate(m[0]).serialNumber.toUpperCase());
    } catch {
      // validation keeps malformed certificates out of status; nothing to index
    }
  }
  return serials;
}

/** Whether a certificate's subject names a node identity (what the Node authorizer trusts). */
export function isNodeIdentity(commonName: string, organizations: readonly string[]): boolean {
  return commonName.startsWith(NODE_USER_PREFIX) || organizations.includes(GROUP_NODES);
}

/** serial -> CSR name, for every certificate held by a stored CSR, kept current by a store watch. */
export class IssuedCertificates {
  private readonly bySerial = new Map<string, string>();
  private readonly byCsr = new Map<string, string[]>();
  private readonly stop: () => void;

  constructor(store: Store) {
    const key = storeKey(R.certificatesigningrequests);
    this.stop = store.watch(key, store.revision, (ev) => {
      if (ev.type === 'DELETED') this.forget(ev.entry.name);
      else this.record(ev.entry.name, ev.entry.obj);
    });
    for (const e of store.list(key).entries) this.record(e.name, e.obj);
  }

  close(): void {
    this.stop();
  }

  /** Whether a stored CSR holds the certificate with this serial. */
  has(serial: string): boolean {
    return this.bySerial.has(serial.toUpperCase());
  }

  private record(name: string, csr: KubeObject): void {
    this.forget(name);
    const serials = issuedSerials(csr);
    if (serials.length === 0) return;
    this.byCsr.set(name, serials);
    for (const s of serials) this.bySerial.set(s, name);
  }

  private forget(name: string): void {
    for (const s of this.byCsr.get(name) ?? []) if (this.bySerial.get(s) === name) this.bySerial.delete(s);
    this.byCsr.delete(name);
  }
}
