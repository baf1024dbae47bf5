// BGPPeer objects (flatnet.dev/v1, cluster-scoped, served from the CustomResourceDefinition in
// crd.ts) -> the sessions one node opens. A peer applies to the nodes its `spec.nodeSelector`
// (a metav1.LabelSelector) selects; no selector means every node. A peer with a password names a
// Secret key (password.ts): `resolvePasswords` fills in the keys once the agent has read the Secrets. Pure.
import type { KubeObject } from '../../api/types.js';
import { labelSelectorMatches, type LabelSelector } from '../../api/label-selector.js';
import { ipToInt } from '../../linux/ipv4.js';
import type { PeerConfig } from './speaker.js';
import { passwordFromSecret, passwordProblem, passwordSecretRef, type PasswordSecretRef } from './password.js';

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

/** A peer a node should have, its password still a Secret reference. */
export type WantedPeer = Omit<PeerConfig, 'password'> & { name: string; passwordRef?: PasswordSecretRef };

export interface NodePeers {
  peers: WantedPeer[];
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
  return passwordProblem(spec.password);
}

/** The peers of the node labelled `nodeLabels`, sorted by address; one session per address. */
export function peersForNode(objects: readonly KubeObject[], nodeLabels: Record<string, string> | undefined): NodePeers {
  const byAddress = new Map<string, WantedPeer>();
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
    const passwordRef = passwordSecretRef(spec!.password);
    byAddress.set(address, { name: obj.metadata.name ?? '', address, asn: spec!.peerASN as number, ...(spec!.port !== undefined ? { port: spec!.port as number } : {}), ...(passwordRef ? { passwordRef } : {}) });
  }
  return { peers: [...byAddress.values()].sort((a, b) => ipToInt(a.address) - ipToInt(b.address)), invalid };
}

/**
 * The sessions of `wanted` with their passwords read from the Secrets `secret` returns by name; a
 * peer whose Secret or key is missing or unusable opens no session and is reported instead.
 */
export function resolvePasswords(wanted: readonly WantedPeer[], secret: (name: string) => KubeObject | undefined): { peers: PeerConfig[]; invalid: NodePeers['invalid'] } {
  const peers: PeerConfig[] = [];
  const invalid: NodePeers['invalid'] = [];
  for (const { name, passwordRef, ...config } of wanted) {
    if (!passwordRef) {
      peers.push(config);
      continue;
    }
    const got = passwordFromSecret(secret(passwordRef.name), passwordRef);
    if ('problem' in got) invalid.push({ name, message: got.problem });
    else peers.push({ ...config, password: got.password });
  }
  return { peers, invalid };
}

/** Whether two peer lists open the same sessions. */
export function samePeer(a: PeerConfig, b: PeerConfig): boolean {
  return a.address === b.address && a.asn === b.asn && (a.port ?? 179) === (b.port ?? 179) && a.password === b.password;
}
