// Revocation of node client certificates. A certificate naming a node identity (CN system:node:*
// or group system:nodes) authenticates only while the ledger ConfigMap
// kube-system/flatnet-node-client-certificates holds its serial and, once bound, its Node exists
// (node-identity/certificate-ledger.ts): deleting the Node, or the certificate's ledger entry,
// revokes it on the next request, on every API server (each one follows the ledger and the Nodes
// through the store's watch). Deleting a CSR revokes nothing. The lifetime of a certificate is still bounded by its own notAfter, which the TLS
// layer checks; agents rotate well before it (src/agent/cert-rotation.ts).
import { X509Certificate } from 'node:crypto';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { Store } from '../store/types.js';
import { storeKey } from './registry.js';
import { GROUP_NODES, NODE_USER_PREFIX } from './node-identity/csr-decision.js';
import { LEDGER_NAME, LEDGER_NAMESPACE, type LedgerEntry, ledgerAllows, ledgerEntries } from './node-identity/certificate-ledger.js';

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

/**
 * The node client certificates that may authenticate, from the ledger ConfigMap and the Nodes
 * (certificate-ledger.ts), kept current by store watches: a certificate bound to a Node stops at
 * the next request after that Node is deleted, on every API server.
 */
export class IssuedCertificates {
  private entries = new Map<string, LedgerEntry>();
  private readonly nodeUIDs = new Map<string, string>();
  private readonly stops: (() => void)[] = [];

  constructor(store: Store) {
    const cmKey = storeKey(R.configmaps);
    const nodeKey = storeKey(R.nodes);
    const isLedger = (ns: string, name: string) => ns === LEDGER_NAMESPACE && name === LEDGER_NAME;
    this.stops.push(
      store.watch(cmKey, store.revision, (ev) => {
        if (!isLedger(ev.entry.ns, ev.entry.name)) return;
        this.entries = ev.type === 'DELETED' ? new Map() : ledgerEntries(ev.entry.obj);
      }),
      store.watch(nodeKey, store.revision, (ev) => {
        if (ev.type === 'DELETED') this.nodeUIDs.delete(ev.entry.name);
        else if (ev.entry.obj.metadata.uid) this.nodeUIDs.set(ev.entry.name, ev.entry.obj.metadata.uid);
      }),
    );
    this.entries = ledgerEntries(store.get(cmKey, LEDGER_NAMESPACE, LEDGER_NAME)?.obj);
    for (const e of store.list(nodeKey).entries) if (e.obj.metadata.uid) this.nodeUIDs.set(e.name, e.obj.metadata.uid);
  }

  close(): void {
    for (const stop of this.stops) stop();
  }

  /** Whether the node client certificate with this serial may authenticate. */
  has(serial: string): boolean {
    return ledgerAllows(this.entries, this.nodeUIDs, serial);
  }
}
