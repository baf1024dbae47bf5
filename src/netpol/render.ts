// Compiled pods -> nftables state, and the transactions that create or change it.
//
// Pods whose policies allow the same thing (replicas, pods selected by the same policies) share
// one "allow class": a chain and two interval sets named after a hash of their content. A
// verdict map sends each isolated pod to its class's chain. Because a class is named by its
// content, a change never edits elements inside a class: it creates the new classes, repoints
// the pods in the maps and drops classes nobody uses — all small operations, whatever the
// total size. (Editing elements of one large concatenated interval set costs time in the
// kernel that grows with the set: deleting 1,000 elements of a 121,000-element set took 80 s.)
//
// table inet flatnet-policy (one per node namespace):
//   set admitted-pods                 pod addresses whose policy state is in place
//   map ingress-pods / egress-pods    pod address -> jump to its class chain (isolated pods only)
//   chain in-<hash> / out-<hash>      peer . protocol . port in @<chain>-ports, or peer . protocol
//                                     in @<chain>-any (rules without ports): return; else drop
//
// Every set of a class is a concatenated interval set (the `-any` set too, with the protocol
// spanning 0-255): before each batch that adds or deletes elements, nft reads every element of
// every plain (non-concatenated) interval set in the table into its cache (it merges intervals
// in userspace for those), while concatenated ones are left to the kernel. With plain `-any`
// sets, each policy change paid one listing per class (hundreds at 1,000 policies).
//   forward (hook forward, priority filter; bridged pod traffic too, via br_netfilter):
//     ct state established,related accept      replies of allowed connections (#13)
//     TCP/UDP/SCTP between IPv6 link-local addresses (bridged pods): drop (policy is IPv4)
//     not-admitted addresses of this node's pod CIDR: drop (a new pod is isolated from its
//       first packet until its state is in place)
//     ip saddr vmap @egress-pods ; ip daddr vmap @ingress-pods
//   input (hook input): the same for pods talking to the node's own addresses (egress only).
// Traffic from the node to its pods leaves through the output hook: never filtered (#12).
import { createHash } from 'node:crypto';
import { intToIp } from '../linux/ipv4.js';
import type { NftTransaction } from '../linux/nft.js';
import { logStatement } from '../flows/log-prefix.js';
import type { Box } from './boxes.js';
import type { CompiledPod, DirectionAllowance } from './compile.js';
import type { AddressRange } from './match.js';

export const POLICY_TABLE = 'flatnet-policy';

type Dir = 'in' | 'out';

export interface AllowClass {
  /** The chain name (`in-<hash>` / `out-<hash>`); its sets are `<name>-ports` and `<name>-any`. */
  name: string;
  direction: Dir;
  /** Elements of `<name>-ports`: peer range . protocol . port range. */
  ports: string[];
  /** Elements of `<name>-any`: peer range . 0-255 (peer ranges allowed on every protocol). */
  any: string[];
}

export interface PolicyState {
  classes: Map<string, AllowClass>;
  /** Isolated pods -> class chain. */
  ingressPods: Map<string, string>;
  egressPods: Map<string, string>;
  admitted: Set<string>;
}

export function emptyState(): PolicyState {
  return { classes: new Map(), ingressPods: new Map(), egressPods: new Map(), admitted: new Set() };
}

function rangeText(r: { lo: number; hi: number }, asAddress: boolean): string {
  const f = (n: number) => (asAddress ? intToIp(n) : String(n));
  return r.lo === r.hi ? f(r.lo) : `${f(r.lo)}-${f(r.hi)}`;
}

function boxElement(box: Box): string {
  return `${rangeText(box.addresses, true)} . ${box.protocol.toLowerCase()} . ${rangeText(box.ports, false)}`;
}

function anyElement(r: AddressRange): string {
  return `${rangeText(r, true)} . 0-255`;
}

function classOf(direction: Dir, allowance: DirectionAllowance): AllowClass {
  const ports = allowance.boxes.map(boxElement);
  const any = allowance.anyProtocol.map(anyElement);
  const hash = createHash('sha256').update(`${ports.join(',')}|${any.join(',')}`).digest('hex').slice(0, 16);
  return { name: `${direction}-${hash}`, direction, ports, any };
}

/**
 * Classes by the allowance they render. Allowances are never mutated and pods alike share one, and
 * an incremental compile (incremental.ts) hands back the same objects for unchanged pods, so a
 * class is hashed once, not on every sync.
 */
const classMemo = new WeakMap<DirectionAllowance, AllowClass>();

/** The node's nftables state for its compiled pods and the addresses admitted so far. */
export function renderSets(pods: Iterable<CompiledPod>, admitted: Iterable<string>): PolicyState {
  const state = emptyState();
  const classFor = (direction: Dir, a: DirectionAllowance) => {
    let c = classMemo.get(a);
    if (c?.direction !== direction) {
      c = classOf(direction, a);
      classMemo.set(a, c);
    }
    state.classes.set(c.name, c);
    return c;
  };
  for (const pod of pods) {
    if (pod.ingressIsolated) state.ingressPods.set(pod.ip, classFor('in', pod.ingress).name);
    if (pod.egressIsolated) state.egressPods.set(pod.ip, classFor('out', pod.egress).name);
  }
  for (const ip of admitted) state.admitted.add(ip);
  return state;
}

/** Sizes for metrics and benches. */
export function stateSize(s: PolicyState): { classes: number; elements: number; isolatedIngress: number; isolatedEgress: number; admitted: number } {
  let elements = 0;
  for (const c of s.classes.values()) elements += c.ports.length + c.any.length;
  return { classes: s.classes.size, elements, isolatedIngress: s.ingressPods.size, isolatedEgress: s.egressPods.size, admitted: s.admitted.size };
}

export interface TableOptions {
  /** The node's pod CIDR (e.g. 10.244.1.0/24): its addresses must be admitted to talk. */
  podCIDR: string;
  /** The bridge address inside podCIDR (the node itself), never subject to admission. */
  gateway: string;
}

const CHUNK = 500;

function chunked(tx: NftTransaction, op: 'add' | 'delete', set: string, elements: string[]): void {
  for (let i = 0; i < elements.length; i += CHUNK) {
    const part = elements.slice(i, i + CHUNK);
    if (op === 'add') tx.addElements('inet', POLICY_TABLE, set, part);
    else tx.deleteElements('inet', POLICY_TABLE, set, part);
  }
}

function addClass(tx: NftTransaction, c: AllowClass): void {
  const t = POLICY_TABLE;
  const peer = c.direction === 'in' ? 'ip saddr' : 'ip daddr';
  tx.addSet('inet', t, `${c.name}-ports`, 'type ipv4_addr . inet_proto . inet_service; flags interval;');
  chunked(tx, 'add', `${c.name}-ports`, c.ports);
  tx.addSet('inet', t, `${c.name}-any`, 'type ipv4_addr . inet_proto; flags interval;');
  chunked(tx, 'add', `${c.name}-any`, c.any);
  tx.addChain('inet', t, c.name);
  tx.addRule('inet', t, c.name, `${peer} . meta l4proto . th dport @${c.name}-ports return`);
  tx.addRule('inet', t, c.name, `${peer} . meta l4proto @${c.name}-any return`);
  const what = c.direction === 'in' ? 'ingress' : 'egress';
  tx.addRule('inet', t, c.name, `counter ${logStatement({ kind: 'policy', direction: what, allowClass: c.name })} drop comment "${what} not allowed by any NetworkPolicy"`);
}

function deleteClass(tx: NftTransaction, c: AllowClass): void {
  tx.add(`delete chain inet ${POLICY_TABLE} ${c.name}`);
  tx.add(`delete set inet ${POLICY_TABLE} ${c.name}-ports`);
  tx.add(`delete set inet ${POLICY_TABLE} ${c.name}-any`);
}

const mapElement = (ip: string, chain: string) => `${ip} : jump ${chain}`;

/** Adds the statements that (re)create the whole table atomically with `state` as its content. */
export function renderTable(tx: NftTransaction, opts: TableOptions, state: PolicyState): NftTransaction {
  const t = POLICY_TABLE;
  tx.deleteTableIfExists('inet', t);
  tx.addTable('inet', t);
  tx.addSet('inet', t, 'admitted-pods', 'type ipv4_addr;');
  chunked(tx, 'add', 'admitted-pods', [...state.admitted]);
  for (const c of state.classes.values()) addClass(tx, c);
  tx.addSet('inet', t, 'ingress-pods', 'type ipv4_addr : verdict;', 'map');
  chunked(tx, 'add', 'ingress-pods', [...state.ingressPods].map(([ip, chain]) => mapElement(ip, chain)));
  tx.addSet('inet', t, 'egress-pods', 'type ipv4_addr : verdict;', 'map');
  chunked(tx, 'add', 'egress-pods', [...state.egressPods].map(([ip, chain]) => mapElement(ip, chain)));
  const notAdmitted = (field: 'saddr' | 'daddr') =>
    `ip ${field} ${opts.podCIDR} ip ${field} != ${opts.gateway} ip ${field} != @admitted-pods counter ${logStatement({ kind: 'not-admitted' })} drop comment "pod not admitted yet"`;
  tx.addChain('inet', t, 'forward', { type: 'filter', hook: 'forward', priority: 'filter', policy: 'accept' });
  tx.addRule('inet', t, 'forward', 'ct state established,related accept');
  // Policy is IPv4; pods also have IPv6 link-local addresses on the bridge: no L4 over those.
  tx.addRule('inet', t, 'forward', `ip6 saddr fe80::/10 meta l4proto { tcp, udp, sctp } counter ${logStatement({ kind: 'ipv6' })} drop comment "pods talk IPv4 only: NetworkPolicy is enforced for IPv4"`);
  tx.addRule('inet', t, 'forward', notAdmitted('daddr'));
  tx.addRule('inet', t, 'forward', notAdmitted('saddr'));
  tx.addRule('inet', t, 'forward', 'ip saddr vmap @egress-pods');
  tx.addRule('inet', t, 'forward', 'ip daddr vmap @ingress-pods');
  tx.addChain('inet', t, 'input', { type: 'filter', hook: 'input', priority: 'filter', policy: 'accept' });
  tx.addRule('inet', t, 'input', 'ct state established,related accept');
  tx.addRule('inet', t, 'input', notAdmitted('saddr'));
  tx.addRule('inet', t, 'input', 'ip saddr vmap @egress-pods');
  return tx;
}

function mapDiff(from: Map<string, string>, to: Map<string, string>): { gone: string[]; fresh: string[] } {
  const gone: string[] = [];
  const fresh: string[] = [];
  // forEach, not for-of: no [key, value] array per entry (this runs over every pod on every sync).
  from.forEach((chain, ip) => {
    if (to.get(ip) !== chain) gone.push(ip);
  });
  to.forEach((chain, ip) => {
    if (from.get(ip) !== chain) fresh.push(mapElement(ip, chain));
  });
  return { gone, fresh };
}

/**
 * Adds the changes that turn `from` into `to`: new classes first, then the maps repointed, then
 * classes nobody uses dropped — one transaction, so packets see either the old or the new state.
 */
export function renderDiff(tx: NftTransaction, from: PolicyState, to: PolicyState): { changes: number } {
  let changes = 0;
  for (const [name, c] of to.classes) {
    if (!from.classes.has(name)) {
      addClass(tx, c);
      changes++;
    }
  }
  for (const [map, a, b] of [
    ['ingress-pods', from.ingressPods, to.ingressPods],
    ['egress-pods', from.egressPods, to.egressPods],
  ] as const) {
    const { gone, fresh } = mapDiff(a, b);
    chunked(tx, 'delete', map, gone);
    chunked(tx, 'add', map, fresh);
    changes += gone.length + fresh.length;
  }
  const goneAdmitted: string[] = [];
  const freshAdmitted: string[] = [];
  from.admitted.forEach((ip) => {
    if (!to.admitted.has(ip)) goneAdmitted.push(ip);
  });
  to.admitted.forEach((ip) => {
    if (!from.admitted.has(ip)) freshAdmitted.push(ip);
  });
  chunked(tx, 'delete', 'admitted-pods', goneAdmitted);
  chunked(tx, 'add', 'admitted-pods', freshAdmitted);
  changes += goneAdmitted.length + freshAdmitted.length;
  for (const [name, c] of from.classes) {
    if (!to.classes.has(name)) {
      deleteClass(tx, c);
      changes++;
    }
  }
  return { changes };
}
