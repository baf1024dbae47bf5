// The ledger of node client certificates: the ConfigMap kube-system/flatnet-node-client-certificates
// holds one entry per certificate the signer issued to a node (key: its serial number in upper-case
// hex; value: JSON {node, notAfter, csr, nodeUID?}). A certificate naming a node identity
// authenticates only while its entry is there and, once the entry is bound to a Node (nodeUID),
// while that very Node exists. So:
//   - deleting a CertificateSigningRequest never revokes anything (CSRs are requests, cleaned up
//     after an hour as kube-controller-manager's csrcleaner does);
//   - deleting a Node revokes every certificate bound to it (the csr-cleaner controller then drops
//     their entries);
//   - one certificate is revoked by removing its key from the ConfigMap.
// Pure functions here; the writers are csr-signer.ts (server) and the csr-cleaner controller.
import type { KubeObject } from '../../api/types.js';

export const LEDGER_NAMESPACE = 'kube-system';
export const LEDGER_NAME = 'flatnet-node-client-certificates';

export interface LedgerEntry {
  /** The node named by the certificate (CN system:node:<node>). */
  node: string;
  /** The certificate's notAfter (RFC 3339). */
  notAfter: string;
  /** The CertificateSigningRequest that issued it (it may since have been cleaned up). */
  csr?: string;
  /** The uid of the Node the certificate is bound to; unset until that Node exists. */
  nodeUID?: string;
}

function parseEntry(value: unknown): LedgerEntry | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const e = JSON.parse(value) as Partial<LedgerEntry>;
    if (typeof e.node !== 'string' || typeof e.notAfter !== 'string' || Number.isNaN(Date.parse(e.notAfter))) return undefined;
    return { node: e.node, notAfter: e.notAfter, ...(typeof e.csr === 'string' ? { csr: e.csr } : {}), ...(typeof e.nodeUID === 'string' ? { nodeUID: e.nodeUID } : {}) };
  } catch {
    return undefined;
  }
}

/** serial -> entry, for the well-formed entries of the ledger ConfigMap (a malformed entry authenticates nothing). */
export function ledgerEntries(cm: KubeObject | undefined): Map<string, LedgerEntry> {
  const out = new Map<string, LedgerEntry>();
  const data = (cm as { data?: Record<string, unknown> } | undefined)?.data ?? {};
  for (const [serial, value] of Object.entries(data)) {
    const e = parseEntry(value);
    if (e) out.set(serial.toUpperCase(), e);
  }
  return out;
}

export function encodeEntry(e: LedgerEntry): string {
  return JSON.stringify(e);
}

/** A new ledger ConfigMap holding `entries`. */
export function ledgerConfigMap(entries: ReadonlyMap<string, LedgerEntry>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: LEDGER_NAME, namespace: LEDGER_NAMESPACE },
    data: Object.fromEntries([...entries].map(([serial, e]) => [serial, encodeEntry(e)])),
  };
}

/** Whether the certificate with this serial may authenticate: its entry exists and, when bound, its Node (same uid) exists. */
export function ledgerAllows(entries: ReadonlyMap<string, LedgerEntry>, nodeUIDs: ReadonlyMap<string, string>, serial: string): boolean {
  const e = entries.get(serial.toUpperCase());
  if (!e) return false;
  return e.nodeUID === undefined || nodeUIDs.get(e.node) === e.nodeUID;
}

/**
 * The JSON merge patch that brings the ledger up to date with the Nodes that exist (name -> uid)
 * at `now`: binds unbound entries to their existing Node, drops entries whose Node is gone or was
 * recreated (revoked) and entries past notAfter (expired). null when nothing changes.
 */
export function ledgerPatch(entries: ReadonlyMap<string, LedgerEntry>, nodeUIDs: ReadonlyMap<string, string>, now: Date): { data: Record<string, string | null> } | null {
  const data: Record<string, string | null> = {};
  for (const [serial, e] of entries) {
    const uid = nodeUIDs.get(e.node);
    if (Date.parse(e.notAfter) <= now.getTime()) data[serial] = null;
    else if (e.nodeUID !== undefined && e.nodeUID !== uid) data[serial] = null;
    else if (e.nodeUID === undefined && uid !== undefined) data[serial] = encodeEntry({ ...e, nodeUID: uid });
  }
  return Object.keys(data).length > 0 ? { data } : null;
}
