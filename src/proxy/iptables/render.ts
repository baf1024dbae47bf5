// Services -> iptables rules in kube-proxy's chain layout, as pure functions:
//   nat    KUBE-SERVICES (from PREROUTING, OUTPUT): ClusterIP -> KUBE-SVC/SVL, external/LB IP -> KUBE-EXT,
//          local destination -> KUBE-NODEPORTS -> KUBE-EXT
//          KUBE-SVC-* (all endpoints) / KUBE-SVL-* (node-local): affinity (-m recent), then a
//          `-m statistic --mode random --probability 1/(n-i)` cascade to KUBE-SEP-*
//          KUBE-SEP-*: hairpin masquerade mark, affinity record, DNAT
//          KUBE-MARK-MASQ / KUBE-POSTROUTING: masquerade by mark
//   filter KUBE-SERVICES (FORWARD, OUTPUT), KUBE-EXTERNAL-SERVICES (INPUT, FORWARD): reject when a
//          Service has no endpoints, drop when a Local policy has no local endpoint
//   mangle KUBE-PROXY-FIREWALL (PREROUTING): loadBalancerSourceRanges, dropped before DNAT
import { createHash } from 'node:crypto';
import { endpointsForPolicy, type Endpoint, type ServicePortModel, usableEndpoints } from '../model.js';

export type IptTable = 'nat' | 'filter' | 'mangle';

/** Per-Service chains (owned) and lines it adds to the shared top-level chains. */
export interface IptFragment {
  chains: Map<string, { table: IptTable; rules: string[] }>;
  shared: { table: IptTable; chain: string; rule: string }[];
}

export interface IptRenderConfig {
  clusterCIDR: string;
  sctp: boolean;
}

export const MASQ_MARK = '0x4000';

/** Top-level chains, their hooks, and the fixed rules they hold. */
export const IPT_BASE: { table: IptTable; chain: string; hooks: string[]; rules: string[] }[] = [
  { table: 'nat', chain: 'KUBE-SERVICES', hooks: ['PREROUTING', 'OUTPUT'], rules: [] },
  { table: 'nat', chain: 'KUBE-NODEPORTS', hooks: [], rules: [] },
  { table: 'nat', chain: 'KUBE-MARK-MASQ', hooks: [], rules: [`-j MARK --or-mark ${MASQ_MARK}`] },
  {
    table: 'nat',
    chain: 'KUBE-POSTROUTING',
    hooks: ['POSTROUTING'],
    rules: [`-m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`, `-j MARK --xor-mark ${MASQ_MARK}`, '-j MASQUERADE --random-fully'],
  },
  { table: 'filter', chain: 'KUBE-SERVICES', hooks: ['FORWARD', 'OUTPUT'], rules: [] },
  { table: 'filter', chain: 'KUBE-EXTERNAL-SERVICES', hooks: ['INPUT', 'FORWARD'], rules: [] },
  { table: 'mangle', chain: 'KUBE-PROXY-FIREWALL', hooks: ['PREROUTING'], rules: [] },
];

/** The rule that sends NodePort traffic to KUBE-NODEPORTS; always last in nat KUBE-SERVICES. */
export const NODEPORTS_JUMP = '-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS';

/** kube-proxy-style chain name: prefix + 16 chars of base32(sha256(text)). */
export function chainName(prefix: string, text: string): string {
  const digest = createHash('sha256').update(text).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 16) break;
  }
  return `${prefix}${out}`;
}

/** Probability for endpoint i of n in the cascade: 1/(n-i), 11 decimals as iptables prints. */
export function cascadeProbability(i: number, n: number): string {
  return (1 / (n - i)).toFixed(11);
}

function comment(text: string): string {
  return `-m comment --comment "${text.replace(/"/g, "'")}"`;
}

function sepName(sp: ServicePortModel, ep: Endpoint): string {
  return chainName('KUBE-SEP-', `${sp.key}/${ep.ip}:${ep.port}`);
}

function dispatchChain(f: IptFragment, sp: ServicePortModel, name: string, eps: Endpoint[], c: string, first: string[]): void {
  const p = sp.protocol.toLowerCase();
  const rules: string[] = [...first];
  const timeout = sp.service.affinityTimeoutSeconds;
  for (const ep of eps) {
    const sep = sepName(sp, ep);
    const sepRules = [`-s ${ep.ip}/32 ${c} -j KUBE-MARK-MASQ`];
    if (timeout !== undefined) sepRules.push(`-m recent --name ${sep} --set --mask 255.255.255.255 --rsource ${c}`);
    sepRules.push(`-p ${p} ${c} -m ${p} -j DNAT --to-destination ${ep.ip}:${ep.port}`);
    f.chains.set(sep, { table: 'nat', rules: sepRules });
    if (timeout !== undefined)
      rules.push(`${c} -m recent --name ${sep} --rcheck --seconds ${timeout} --reap --mask 255.255.255.255 --rsource -j ${sep}`);
  }
  eps.forEach((ep, i) => {
    const target = `-j ${sepName(sp, ep)}`;
    const prefix = `${c} -m comment --comment "-> ${ep.ip}:${ep.port}"`;
    rules.push(i === eps.length - 1 ? `${prefix} ${target}` : `${prefix} -m statistic --mode random --probability ${cascadeProbability(i, eps.length)} ${target}`);
  });
  f.chains.set(name, { table: 'nat', rules });
}

function renderServicePort(f: IptFragment, sp: ServicePortModel, cfg: IptRenderConfig): void {
  const svc = sp.service;
  if (sp.protocol === 'SCTP' && !cfg.sctp) return;
  const p = sp.protocol.toLowerCase();
  const name = `${sp.serviceKey}:${sp.portName}`;
  const c = comment(name);
  const anyUsable = usableEndpoints(sp.endpoints);
  const internal = endpointsForPolicy(sp.endpoints, svc.internalTrafficPolicy);
  const external = endpointsForPolicy(sp.endpoints, svc.externalTrafficPolicy);
  const local = endpointsForPolicy(sp.endpoints, 'Local');
  const svcChain = chainName('KUBE-SVC-', sp.key);
  const svlChain = chainName('KUBE-SVL-', sp.key);
  const extChain = chainName('KUBE-EXT-', sp.key);
  const fwChain = chainName('KUBE-FW-', sp.key);
  const needsSvl = local.length > 0 && (svc.internalTrafficPolicy === 'Local' || svc.externalTrafficPolicy === 'Local');
  const clusterMatch = `-d ${svc.clusterIP}/32 -p ${p} -m ${p} --dport ${sp.port}`;
  // Off-cluster sources reaching a ClusterIP are masqueraded so replies come back through this node.
  const masq = [`! -s ${cfg.clusterCIDR} ${clusterMatch} ${comment(`${name} cluster IP`)} -j KUBE-MARK-MASQ`];
  // TCP gets a reset (never rate limited, unlike ICMP errors), other protocols port-unreachable.
  const noEndpoints = anyUsable.length === 0 ? `-j REJECT --reject-with ${p === 'tcp' ? 'tcp-reset' : 'icmp-port-unreachable'}` : '-j DROP';
  const shared = (table: IptTable, chain: string, rule: string) => f.shared.push({ table, chain, rule });

  if (anyUsable.length > 0) dispatchChain(f, sp, svcChain, anyUsable, c, masq);
  if (needsSvl) dispatchChain(f, sp, svlChain, local, c, masq);

  // ClusterIP
  if (internal.length > 0) {
    const target = svc.internalTrafficPolicy === 'Local' ? svlChain : svcChain;
    shared('nat', 'KUBE-SERVICES', `${clusterMatch} ${comment(`${name} cluster IP`)} -j ${target}`);
  } else {
    shared('filter', 'KUBE-SERVICES', `${clusterMatch} ${comment(`${name} has no ${anyUsable.length ? 'local ' : ''}endpoints`)} ${noEndpoints}`);
  }

  // External entry: external IPs, LoadBalancer IPs, node ports.
  const externalIPs = [...svc.externalIPs, ...svc.loadBalancerIPs];
  if (external.length > 0 && (externalIPs.length > 0 || sp.nodePort)) {
    const rules: string[] = [];
    if (svc.externalTrafficPolicy === 'Cluster') rules.push(`${comment(`masquerade traffic for ${name} external destinations`)} -j KUBE-MARK-MASQ`, `-j ${svcChain}`);
    else {
      rules.push(`-s ${cfg.clusterCIDR} ${comment(`pod traffic for ${name} external destinations`)} -j ${svcChain}`);
      rules.push(`-m addrtype --src-type LOCAL ${comment(`masquerade LOCAL traffic for ${name} external destinations`)} -j KUBE-MARK-MASQ`);
      rules.push(`-m addrtype --src-type LOCAL ${comment(`route LOCAL traffic for ${name} external destinations`)} -j ${svcChain}`);
      rules.push(`-j ${svlChain}`);
    }
    f.chains.set(extChain, { table: 'nat', rules });
  }
  for (const ip of externalIPs) {
    const match = `-d ${ip}/32 -p ${p} -m ${p} --dport ${sp.port}`;
    if (external.length > 0) shared('nat', 'KUBE-SERVICES', `${match} ${comment(`${name} external IP`)} -j ${extChain}`);
    else shared('filter', 'KUBE-EXTERNAL-SERVICES', `${match} ${comment(`${name} has no ${anyUsable.length ? 'local ' : ''}endpoints`)} ${noEndpoints}`);
  }
  if (svc.loadBalancerSourceRanges.length > 0) {
    for (const ip of svc.loadBalancerIPs) {
      shared('mangle', 'KUBE-PROXY-FIREWALL', `-d ${ip}/32 -p ${p} -m ${p} --dport ${sp.port} ${comment(`${name} loadbalancer IP`)} -j ${fwChain}`);
    }
    if (svc.loadBalancerIPs.length > 0) {
      const rules = svc.loadBalancerSourceRanges.map((r) => `-s ${r} ${c} -j RETURN`);
      rules.push(`${comment(`${name} source not in loadBalancerSourceRanges`)} -j DROP`);
      f.chains.set(fwChain, { table: 'mangle', rules });
    }
  }
  if (sp.nodePort) {
    const match = `-p ${p} -m ${p} --dport ${sp.nodePort}`;
    if (external.length > 0) shared('nat', 'KUBE-NODEPORTS', `${match} ${c} -j ${extChain}`);
    else shared('filter', 'KUBE-EXTERNAL-SERVICES', `-m addrtype --dst-type LOCAL ${match} ${comment(`${name} has no ${anyUsable.length ? 'local ' : ''}endpoints`)} ${noEndpoints}`);
  }
}

export function renderIptService(ports: ServicePortModel[], cfg: IptRenderConfig): IptFragment {
  const f: IptFragment = { chains: new Map(), shared: [] };
  for (const sp of ports) renderServicePort(f, sp, cfg);
  return f;
}
