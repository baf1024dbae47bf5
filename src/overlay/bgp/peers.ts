// BGPPeer objects (flatnet.dev/v1, cluster-scoped, served from the CustomResourceDefinition in
// crd.ts) -> the sessions one node opens. A peer applies to the nodes its `spec.nodeSelector`
// (a metav1.LabelSelector) selects; no selector means every node. Pure.
import type { KubeObject } from '../../api/types.js';
import { labelSelectorMatches, type LabelSelector } from '../../api/label-selector.js';
import { ipToInt } from '../../linux/ipv4.js';
import type { PeerConfig } from './speaker.js';
import { MAX_PASSWORD_BYTES } from './md5-connect.js';

export const BGP_GROUP = 'flatnet.dev';
export const BGP_VERSION = 'v1';
/** The private 2-byte ASN flatnet's nodes use unless told otherwise (Calico's default too). */
export const DEFAULT_NODE_ASN = 64512;

export interface BgpPeerSpec {
  peerAddress?: unknown;
  peerASN?: unknown;
  port?: unknown;
  password?: unknown;
  nodeSelector?: LabelSelector;
}

export interface NodePeers {
  peers: PeerConfig[];
  /** BGPPeers that cannot be used, with the field at fault. */
  invalid: { name: string; message: string }[];
}

const isAsn = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 4294967295;

/** The reason `spec` cannot be used, naming the field, or undefined. */
export function bgpPeerProblem(spec: BgpPeerSpec | undefined): string | undefined {
  if (!spec) return 'spec: Required value';
  if (typeof spec.peerAddress !== 'string') return 'spec.peerAddress: Required value: an IPv4 address';
  try {
    ipToInt(spec.peerAddress);
  } catch {
    return `spec.peerAddress: Invalid value: "${spec.peerAddress}": not an IPv4 address`;
  }
  if (!isAsn(spec.peerASN)) return `spec.peerASN: Invalid value: ${JSON.stringify(spec.peerASN)}: must be an integer from 1 to 4294967295`;
  if (spec.port !== undefined && !(Number.isInteger(spec.port) && (spec.port as number) >= 1 && (spec.port as number) <= 65535)) {
    return `spec.port: Invalid value: ${JSON.stringify(spec.port)}: must be from 1 to 65535`;
  }
  if (spec.password !== undefined) {
    if (typeof spec.password !== 'string' || spec.password.length === 0) return 'spec.password: Invalid value: must be a non-empty string';
    const bytes = Buffer.byteLength(spec.password, 'utf8');
    if (bytes > MAX_PASSWORD_BYTES) return `spec.password: Too long: ${bytes} bytes, the TCP MD5 key may have at most ${MAX_PASSWORD_BYTES}`;
  }
  return undefined;
}

/** The peers of the node labelled `nodeLabels`, sorted by address; one session per address. */
export function peersForNode(objects: readonly KubeObject[], nodeLabels: Record<string, string> | undefined): NodePeers {
  const byAddress = new Map<string, PeerConfig>();
  const invalid: NodePeers['invalid'] = [];
  for (const obj of [...objects].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))) {
    const spec = obj.spec as BgpPeerSpec | undefined;
    const problem = bgpPeerProblem(spec);
    if (problem) {
      invalid.push({ name: obj.metadata.name ?? '', message: problem });
      continue;
    }
    if (!labelSelectorMatches(spec!.nodeSelector ?? {}, nodeLabels ?? {})) continue;
    const address = spec!.peerAddress as string;
    if (byAddress.has(address)) {
      invalid.push({ name: obj.metadata.name ?? '', message: `spec.peerAddress: Duplicate value: "${address}" is already a peer of this node` });
      continue;
    }
    byAddress.set(address, { address, asn: spec!.peerASN as number, ...(spec!.port !== undefined ? { port: spec!.port as number } : {}), ...(spec!.password !== undefined ? { password: spec!.password as string } : {}) });
  }
  return { peers: [...byAddress.values()].sort((a, b) => ipToInt(a.address) - ipToInt(b.address)), invalid };
}

/** Whether two peer lists open the same sessions. */
export function samePeer(a: PeerConfig, b: PeerConfig): boolean {
  return a.address === b.address && a.asn === b.asn && (a.port ?? 179) === (b.port ?? 179) && a.password === b.password;
}
