// Compiled pods -> the contents of nftables sets, and the fixed table those sets live in.
//
// table inet flatnet-policy (one per node namespace):
//   forward (hook forward, priority filter) sees routed and, with br_netfilter, bridged pod
//   traffic; input (hook input) sees pods talking to the node's own addresses (egress only).
//   1. ct state established,related accept           replies of allowed connections (#13)
//   2. pod addresses of this node that are not admitted get nothing and send nothing: a new pod
//      is isolated from its first packet until its policy state is in place
//   3. ip saddr @egress-isolated  jump egress-check   (source pod's egress)
//   4. ip daddr @ingress-isolated jump ingress-check  (destination pod's ingress)
//   the check chains `return` when an allow element matches, and drop otherwise.
// Traffic from the node itself to its pods leaves through the output hook: never filtered (#12).
import { intToIp } from '../linux/ipv4.js';
import type { NftTransaction } from '../linux/nft.js';
import type { Box } from './boxes.js';
import type { CompiledPod } from './compile.js';
import type { AddressRange } from './match.js';

export const POLICY_TABLE = 'flatnet-policy';

export const SET_NAMES = ['ingress-isolated', 'egress-isolated', 'ingress-allow', 'egress-allow', 'ingress-allow-any', 'egress-allow-any', 'admitted-pods'] as const;
export type PolicySetName = (typeof SET_NAMES)[number];

const SET_SPECS: Record<PolicySetName, string> = {
  'ingress-isolated': 'type ipv4_addr;',
  'egress-isolated': 'type ipv4_addr;',
  'admitted-pods': 'type ipv4_addr;',
  'ingress-allow': 'type ipv4_addr . ipv4_addr . inet_proto . inet_service; flags interval;',
  'egress-allow': 'type ipv4_addr . ipv4_addr . inet_proto . inet_service; flags interval;',
  'ingress-allow-any': 'type ipv4_addr . ipv4_addr; flags interval;',
  'egress-allow-any': 'type ipv4_addr . ipv4_addr; flags interval;',
};

/** The elements of every set, as the strings written to nft. */
export type PolicySets = Record<PolicySetName, Set<string>>;

export function emptySets(): PolicySets {
  return Object.fromEntries(SET_NAMES.map((n) => [n, new Set<string>()])) as PolicySets;
}

function rangeText(r: { lo: number; hi: number }, asAddress: boolean): string {
  const f = (n: number) => (asAddress ? intToIp(n) : String(n));
  return r.lo === r.hi ? f(r.lo) : `${f(r.lo)}-${f(r.hi)}`;
}

function boxElement(podIp: string, box: Box): string {
  return `${podIp} . ${rangeText(box.addresses, true)} . ${box.protocol.toLowerCase()} . ${rangeText(box.ports, false)}`;
}

function anyElement(podIp: string, r: AddressRange): string {
  return `${podIp} . ${rangeText(r, true)}`;
}

/** Adds one compiled pod's elements to `sets`. */
export function addPodElements(sets: PolicySets, pod: CompiledPod): void {
  if (pod.ingressIsolated) {
    sets['ingress-isolated'].add(pod.ip);
    for (const b of pod.ingress.boxes) sets['ingress-allow'].add(boxElement(pod.ip, b));
    for (const r of pod.ingress.anyProtocol) sets['ingress-allow-any'].add(anyElement(pod.ip, r));
  }
  if (pod.egressIsolated) {
    sets['egress-isolated'].add(pod.ip);
    for (const b of pod.egress.boxes) sets['egress-allow'].add(boxElement(pod.ip, b));
    for (const r of pod.egress.anyProtocol) sets['egress-allow-any'].add(anyElement(pod.ip, r));
  }
}

/** The sets for a node: its compiled pods and the pod addresses admitted so far. */
export function renderSets(pods: Iterable<CompiledPod>, admitted: Iterable<string>): PolicySets {
  const sets = emptySets();
  for (const pod of pods) addPodElements(sets, pod);
  for (const ip of admitted) sets['admitted-pods'].add(ip);
  return sets;
}

export interface TableOptions {
  /** The node's pod CIDR (e.g. 10.244.1.0/24): its addresses must be admitted to talk. */
  podCIDR: string;
  /** The bridge address inside podCIDR (the node itself), never subject to admission. */
  gateway: string;
}

const CHUNK = 500;

/** Element statements of at most CHUNK elements each (keeps every nft input line short). */
function addChunked(tx: NftTransaction, op: 'add' | 'delete', set: PolicySetName, elements: string[]): void {
  for (let i = 0; i < elements.length; i += CHUNK) {
    const part = elements.slice(i, i + CHUNK);
    if (op === 'add') tx.addElements('inet', POLICY_TABLE, set, part);
    else tx.deleteElements('inet', POLICY_TABLE, set, part);
  }
}

/** Adds the statements that (re)create the whole table atomically with `sets` as its content. */
export function renderTable(tx: NftTransaction, opts: TableOptions, sets: PolicySets): NftTransaction {
  const t = POLICY_TABLE;
  tx.deleteTableIfExists('inet', t);
  tx.addTable('inet', t);
  for (const name of SET_NAMES) {
    tx.addSet('inet', t, name, SET_SPECS[name]);
    addChunked(tx, 'add', name, [...sets[name]]);
  }
  tx.addChain('inet', t, 'egress-check');
  tx.addRule('inet', t, 'egress-check', 'ip saddr . ip daddr . meta l4proto . th dport @egress-allow return');
  tx.addRule('inet', t, 'egress-check', 'ip saddr . ip daddr @egress-allow-any return');
  tx.addRule('inet', t, 'egress-check', 'counter drop comment "egress not allowed by any NetworkPolicy"');
  tx.addChain('inet', t, 'ingress-check');
  tx.addRule('inet', t, 'ingress-check', 'ip daddr . ip saddr . meta l4proto . th dport @ingress-allow return');
  tx.addRule('inet', t, 'ingress-check', 'ip daddr . ip saddr @ingress-allow-any return');
  tx.addRule('inet', t, 'ingress-check', 'counter drop comment "ingress not allowed by any NetworkPolicy"');
  tx.addChain('inet', t, 'forward', { type: 'filter', hook: 'forward', priority: 'filter', policy: 'accept' });
  tx.addRule('inet', t, 'forward', 'ct state established,related accept');
  tx.addRule('inet', t, 'forward', `ip daddr ${opts.podCIDR} ip daddr != ${opts.gateway} ip daddr != @admitted-pods counter drop comment "pod not admitted yet"`);
  tx.addRule('inet', t, 'forward', `ip saddr ${opts.podCIDR} ip saddr != ${opts.gateway} ip saddr != @admitted-pods counter drop comment "pod not admitted yet"`);
  tx.addRule('inet', t, 'forward', 'ip saddr @egress-isolated jump egress-check');
  tx.addRule('inet', t, 'forward', 'ip daddr @ingress-isolated jump ingress-check');
  tx.addChain('inet', t, 'input', { type: 'filter', hook: 'input', priority: 'filter', policy: 'accept' });
  tx.addRule('inet', t, 'input', 'ct state established,related accept');
  tx.addRule('inet', t, 'input', `ip saddr ${opts.podCIDR} ip saddr != ${opts.gateway} ip saddr != @admitted-pods counter drop comment "pod not admitted yet"`);
  tx.addRule('inet', t, 'input', 'ip saddr @egress-isolated jump egress-check');
  return tx;
}

/** Adds the element changes that turn `from` into `to` (deletes first, so replaced boxes never overlap). */
export function renderSetDiff(tx: NftTransaction, from: PolicySets, to: PolicySets): { added: number; deleted: number } {
  let added = 0;
  let deleted = 0;
  for (const name of SET_NAMES) {
    const gone = [...from[name]].filter((e) => !to[name].has(e));
    deleted += gone.length;
    addChunked(tx, 'delete', name, gone);
  }
  for (const name of SET_NAMES) {
    const fresh = [...to[name]].filter((e) => !from[name].has(e));
    added += fresh.length;
    addChunked(tx, 'add', name, fresh);
  }
  return { added, deleted };
}
