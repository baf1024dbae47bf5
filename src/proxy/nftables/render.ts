// Services -> nftables, as pure functions. The layout keeps chains and rules few and constant and
// puts each Service into set and map elements, so adding a Service at 10k costs a handful of
// element insertions (the `nft` binary re-reads chains and rules on every call, not elements):
//
//   services (nat, dstnat):  mark traffic for masquerade, then
//       ip daddr . l4proto . dport vmap @service-ips   (ClusterIPs, external IPs, LoadBalancer IPs)
//       fib daddr type local: l4proto . dport vmap @service-nodeports
//   pick-N:  one shared chain per endpoint count N:
//       dnat to (ip daddr . l4proto . dport . numgen random mod N) map @endpoints
//   aff-*:   per Service port with ClientIP affinity only: kube-proxy's layout (a timeout set per
//            endpoint remembering clients, then numgen over endpoint chains).
//   filter prerouting/output (dstnat-10): loadBalancerSourceRanges, then reject (no endpoints at
//       all) or drop (no local endpoint under a Local policy). Needs kernel >= 5.9 for reject in
//       prerouting.
//   masquerading (nat, srcnat): masquerade marked packets and hairpin (pod to itself via a VIP).
import { createHash } from 'node:crypto';
import { endpointsForPolicy, type Endpoint, type ServicePortModel, usableEndpoints } from '../model.js';
import type { NftChain, NftElement, NftFragment, NftSet } from './state.js';
import { logStatement } from '../../flows/log-prefix.js';

export const NFT_TABLE = 'ip flatnet-proxy';
export const MASQ_MARK = 0x4000;

export interface NftRenderConfig {
  clusterCIDR: string;
  /** Whether the kernel has SCTP; without it SCTP ports get no rules. */
  sctp: boolean;
}

/** Add elements of these maps first so nothing points at an empty endpoint list. */
export const ELEMENT_ORDER = ['endpoints', 'nodeport-endpoints', 'hairpin', 'firewall-allow', 'firewall-ips'];

const NAMED_SETS = new Set(['service-ips', 'service-nodeports', 'no-endpoint-services', 'no-endpoint-nodeports']);
const KEY3 = 'ip daddr . meta l4proto . th dport';
const NODEPORT_MATCH = 'fib daddr type local ip daddr != 127.0.0.0/8';
const L4 = 'meta l4proto { tcp, udp, sctp }';
const MARK = `meta mark set meta mark | 0x${MASQ_MARK.toString(16)}`;

/** The static part of the table: base chains, dispatch rules, sets and maps. */
export function renderBase(cfg: NftRenderConfig): NftFragment {
  const sets: NftSet[] = [
    { name: 'service-ips', spec: 'type ipv4_addr . inet_proto . inet_service : verdict;' },
    { name: 'service-nodeports', spec: 'type inet_proto . inet_service : verdict;' },
    { name: 'endpoints', spec: 'typeof ip daddr . meta l4proto . th dport . numgen random mod 2 : ip daddr . th dport;' },
    { name: 'nodeport-endpoints', spec: 'typeof meta l4proto . th dport . numgen random mod 2 : ip daddr . th dport;' },
    { name: 'cluster-ips', spec: 'type ipv4_addr . inet_proto . inet_service;' },
    { name: 'external-masq', spec: 'type ipv4_addr . inet_proto . inet_service;' },
    { name: 'nodeport-masq', spec: 'type inet_proto . inet_service;' },
    { name: 'no-endpoint-services', spec: 'type ipv4_addr . inet_proto . inet_service : verdict;' },
    { name: 'no-endpoint-nodeports', spec: 'type inet_proto . inet_service : verdict;' },
    { name: 'firewall-ips', spec: 'type ipv4_addr . inet_proto . inet_service;' },
    { name: 'firewall-allow', spec: 'type ipv4_addr . inet_proto . inet_service . ipv4_addr; flags interval;' },
    { name: 'hairpin', spec: 'type ipv4_addr . ipv4_addr;' },
    // externalTrafficPolicy Local: pods reaching an external IP, LoadBalancer IP or node port
    // go to every endpoint, as if the policy were Cluster (kube-proxy's short-circuit).
    { name: 'external-local-from-pods', spec: 'type ipv4_addr . inet_proto . inet_service : verdict;' },
    { name: 'nodeport-local-from-pods', spec: 'type inet_proto . inet_service : verdict;' },
  ];
  const chains: NftChain[] = [
    { name: 'filter-prerouting', hook: 'type filter hook prerouting priority -110;', rules: ['ct state new jump firewall-check', 'ct state new jump endpoints-check'] },
    { name: 'filter-output', hook: 'type filter hook output priority -110;', rules: ['ct state new jump firewall-check', 'ct state new jump endpoints-check'] },
    { name: 'firewall-check', rules: [`${KEY3} @firewall-ips ${KEY3} . ip saddr != @firewall-allow drop`] },
    {
      name: 'endpoints-check',
      rules: [`${KEY3} vmap @no-endpoint-services`, `${NODEPORT_MATCH} meta l4proto . th dport vmap @no-endpoint-nodeports`],
    },
    { name: 'reject-chain', rules: [logStatement({ kind: 'no-endpoints' }), 'meta l4proto tcp reject with tcp reset', 'reject'] },
    { name: 'nat-prerouting', hook: 'type nat hook prerouting priority -100;', rules: ['jump services'] },
    { name: 'nat-output', hook: 'type nat hook output priority -100;', rules: ['jump services'] },
    { name: 'nat-postrouting', hook: 'type nat hook postrouting priority 100;', rules: ['jump masquerading'] },
    {
      name: 'services',
      rules: [
        `ip saddr != ${cfg.clusterCIDR} ${KEY3} @cluster-ips ${MARK}`,
        `${KEY3} @external-masq ${MARK}`,
        `${NODEPORT_MATCH} meta l4proto . th dport @nodeport-masq ${MARK}`,
        `ip saddr ${cfg.clusterCIDR} ${KEY3} vmap @external-local-from-pods`,
        `ip saddr ${cfg.clusterCIDR} ${NODEPORT_MATCH} meta l4proto . th dport vmap @nodeport-local-from-pods`,
        `${KEY3} vmap @service-ips`,
        `${NODEPORT_MATCH} meta l4proto . th dport vmap @service-nodeports`,
      ],
    },
    {
      name: 'masquerading',
      rules: [
        `meta mark & 0x${MASQ_MARK.toString(16)} == 0x${MASQ_MARK.toString(16)} meta mark set meta mark ^ 0x${MASQ_MARK.toString(16)} masquerade fully-random`,
        'ct status dnat ip saddr . ip daddr @hairpin masquerade fully-random',
      ],
    },
  ];
  for (let n = 1; n <= MAX_SHARED_PICK; n++) chains.push(pickChain(n), pickNodePortChain(n));
  return { sets, chains, elements: [] };
}

/**
 * Endpoint counts served by the shared pick-N chains. They are created with the table: nft 1.0.6
 * cannot add a rule reading @endpoints once that map exists in the kernel (it mis-parses the map's
 * stored `typeof`), so these chains are never rewritten. Bigger Services get a chain of their own
 * holding an inline map.
 */
export const MAX_SHARED_PICK = 32;

function pickChain(n: number): NftChain {
  return { name: `pick-${n}`, rules: [`${L4} dnat ip to ${KEY3} . numgen random mod ${n} map @endpoints`] };
}

function pickNodePortChain(n: number): NftChain {
  return { name: `pick-nodeport-${n}`, rules: [`${L4} dnat ip to meta l4proto . th dport . numgen random mod ${n} map @nodeport-endpoints`] };
}

/** A short stable id for a name: 12 hex chars of its sha256. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

function proto(p: ServicePortModel): string {
  return p.protocol.toLowerCase();
}

interface Builder {
  sets: Map<string, NftSet>;
  chains: Map<string, NftChain>;
  elements: NftElement[];
}

/** Chains and sets implementing ClientIP affinity over `eps`; answers the entry chain's name. */
function affinityChain(b: Builder, sp: ServicePortModel, eps: Endpoint[], variant: string): string {
  const id = shortHash(sp.key);
  const timeout = sp.service.affinityTimeoutSeconds ?? 10800;
  const entry = `aff-${id}-${variant}`;
  const rules: string[] = [];
  const targets: string[] = [];
  for (const ep of eps) {
    const eid = shortHash(`${ep.ip}:${ep.port}`).slice(0, 8);
    const set = `aff-${id}-${eid}-${timeout}`;
    const chain = `aff-${id}-ep-${eid}`;
    b.sets.set(set, { name: set, spec: `type ipv4_addr; flags dynamic,timeout; timeout ${timeout}s;` });
    b.chains.set(chain, { name: chain, rules: [`update @${set} { ip saddr }`, `meta l4proto ${proto(sp)} dnat ip to ${ep.ip}:${ep.port}`] });
    rules.push(`ip saddr @${set} goto ${chain}`);
    targets.push(chain);
  }
  rules.push(`numgen random mod ${targets.length} vmap { ${targets.map((t, i) => `${i} : goto ${t}`).join(', ')} }`);
  b.chains.set(entry, { name: entry, rules });
  return entry;
}

/** A Service port's own chain choosing among many endpoints with an inline map. */
function inlinePickChain(b: Builder, sp: ServicePortModel, eps: Endpoint[], variant: string): string {
  const name = `svc-${shortHash(sp.key)}-${variant}`;
  const map = eps.map((ep, i) => `${i} : ${ep.ip} . ${ep.port}`).join(', ');
  b.chains.set(name, { name, rules: [`meta l4proto ${proto(sp)} dnat ip to numgen random mod ${eps.length} map { ${map} }`] });
  return name;
}

function sameEndpoints(a: Endpoint[], b: Endpoint[]): boolean {
  return a.length === b.length && a.every((e, i) => e.ip === b[i].ip && e.port === b[i].port);
}

/** Everything one Service port needs. */
function renderServicePort(b: Builder, sp: ServicePortModel, cfg: NftRenderConfig): void {
  const svc = sp.service;
  if (sp.protocol === 'SCTP' && !cfg.sctp) return;
  const p = proto(sp);
  const comment = `${sp.serviceKey}:${sp.portName}`;
  const anyUsable = usableEndpoints(sp.endpoints);
  const internal = endpointsForPolicy(sp.endpoints, svc.internalTrafficPolicy);
  const external = endpointsForPolicy(sp.endpoints, svc.externalTrafficPolicy);
  const affinity = svc.affinityTimeoutSeconds !== undefined;
  const noEndpointVerdict = anyUsable.length === 0 ? 'goto reject-chain' : 'drop';
  // Entry elements carry the Service's name (for `flatnet proxy rules`); the rest stay small.
  const add = (set: string, key: string, value?: string) => b.elements.push({ set, key, value, comment: NAMED_SETS.has(set) ? comment : undefined });

  // One virtual IP (ClusterIP, external IP or LoadBalancer IP) with the endpoints it may use.
  const vip = (ip: string, eps: Endpoint[], variant: string) => {
    const key = `${ip} . ${p} . ${sp.port}`;
    if (eps.length === 0) {
      add('no-endpoint-services', key, noEndpointVerdict);
      return;
    }
    if (affinity) {
      add('service-ips', key, `goto ${affinityChain(b, sp, eps, variant)}`);
      return;
    }
    if (eps.length > MAX_SHARED_PICK) {
      add('service-ips', key, `goto ${inlinePickChain(b, sp, eps, variant)}`);
      return;
    }
    add('service-ips', key, `goto pick-${eps.length}`);
    eps.forEach((ep, i) => add('endpoints', `${key} . ${i}`, `${ep.ip} . ${ep.port}`));
  };

  // Under a Local external policy, traffic from pods short-circuits to every endpoint.
  let fromPods: string | undefined;
  if (svc.externalTrafficPolicy === 'Local' && anyUsable.length > 0 && (svc.externalIPs.length || svc.loadBalancerIPs.length || sp.nodePort)) {
    const variant = sameEndpoints(internal, anyUsable) ? 'i' : 'c';
    fromPods = affinity ? affinityChain(b, sp, anyUsable, variant) : inlinePickChain(b, sp, anyUsable, variant);
  }
  const clusterIP = svc.clusterIP!;
  vip(clusterIP, internal, 'i');
  add('cluster-ips', `${clusterIP} . ${p} . ${sp.port}`);
  const externalVariant = sameEndpoints(internal, external) ? 'i' : 'e';
  for (const ip of svc.externalIPs) {
    vip(ip, external, externalVariant);
    if (svc.externalTrafficPolicy === 'Cluster' && external.length > 0) add('external-masq', `${ip} . ${p} . ${sp.port}`);
    if (fromPods) add('external-local-from-pods', `${ip} . ${p} . ${sp.port}`, `goto ${fromPods}`);
  }
  for (const ip of svc.loadBalancerIPs) {
    vip(ip, external, externalVariant);
    if (fromPods) add('external-local-from-pods', `${ip} . ${p} . ${sp.port}`, `goto ${fromPods}`);
    if (svc.externalTrafficPolicy === 'Cluster' && external.length > 0) add('external-masq', `${ip} . ${p} . ${sp.port}`);
    if (svc.loadBalancerSourceRanges.length > 0) {
      add('firewall-ips', `${ip} . ${p} . ${sp.port}`);
      for (const range of svc.loadBalancerSourceRanges) add('firewall-allow', `${ip} . ${p} . ${sp.port} . ${range}`);
    }
  }
  if (sp.nodePort) {
    const key = `${p} . ${sp.nodePort}`;
    if (fromPods) add('nodeport-local-from-pods', key, `goto ${fromPods}`);
    if (external.length === 0) add('no-endpoint-nodeports', key, noEndpointVerdict);
    else {
      if (svc.externalTrafficPolicy === 'Cluster') add('nodeport-masq', key);
      if (affinity) add('service-nodeports', key, `goto ${affinityChain(b, sp, external, externalVariant)}`);
      else if (external.length > MAX_SHARED_PICK) add('service-nodeports', key, `goto ${inlinePickChain(b, sp, external, externalVariant)}`);
      else {
        add('service-nodeports', key, `goto pick-nodeport-${external.length}`);
        external.forEach((ep, i) => add('nodeport-endpoints', `${key} . ${i}`, `${ep.ip} . ${ep.port}`));
      }
    }
  }
  // Hairpin: a pod reaching itself through the Service is masqueraded so the reply comes back.
  for (const ep of anyUsable) add('hairpin', `${ep.ip} . ${ep.ip}`);
}

/** The fragment of one Service (all its ports). */
export function renderService(ports: ServicePortModel[], cfg: NftRenderConfig): NftFragment {
  const b: Builder = { sets: new Map(), chains: new Map(), elements: [] };
  for (const sp of ports) renderServicePort(b, sp, cfg);
  // The same element can arise twice within one Service (hairpin of an endpoint shared by two ports).
  const seen = new Set<string>();
  const elements = b.elements.filter((e) => {
    const id = `${e.set}\u0000${e.key}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  return { sets: [...b.sets.values()], chains: [...b.chains.values()], elements };
}

/** The whole table as one nft script (for golden tests and for reading, not for the hot path). */
export function renderFullScript(fragments: NftFragment[]): string {
  const lines: string[] = [`table ${NFT_TABLE} {`];
  const sets = new Map<string, NftSet>();
  const chains = new Map<string, NftChain>();
  const elements = new Map<string, Map<string, NftElement>>();
  for (const f of fragments) {
    for (const s of f.sets) sets.set(s.name, s);
    for (const c of f.chains) chains.set(c.name, c);
    for (const e of f.elements) {
      let m = elements.get(e.set);
      if (!m) elements.set(e.set, (m = new Map()));
      m.set(e.key, e);
    }
  }
  for (const s of sets.values()) {
    const els = [...(elements.get(s.name)?.values() ?? [])];
    const kind = s.spec.includes(' : ') ? 'map' : 'set';
    lines.push(`  ${kind} ${s.name} {`, `    ${s.spec}`);
    if (els.length) lines.push(`    elements = { ${els.map((e) => (e.value ? `${e.key} : ${e.value}` : e.key)).join(',\n                 ')} }`);
    lines.push('  }');
  }
  for (const c of chains.values()) {
    lines.push(`  chain ${c.name} {`);
    if (c.hook) lines.push(`    ${c.hook}`);
    for (const r of c.rules) lines.push(`    ${r}`);
    lines.push('  }');
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
