// A trace as data (what `-o json` prints) and as text for a person. Pure.
import type { ResolvConf } from '../agent/resolv-conf.js';
import type { FlowVerdict } from '../netpol/evaluate.js';
import { describeRoute, type Finding, type KernelFacts, type KernelRoute, type ProbeResult } from './compare.js';
import { ndotsOf, type DnsAnswer } from './dns-search.js';
import type { Hop, Prediction } from './predict.js';

export interface TraceReport {
  from: string;
  to: string;
  dns?: { nameservers: string[]; searches: string[]; ndots: number; queries: DnsAnswer[]; address?: string };
  prediction: Prediction;
  kernel?: {
    probe: { protocol: string; sourceAddress: string; sourcePort: number; dscp: string; result: ProbeResult; detail?: string };
    tracedNodes: string[];
    traceTable: string;
    routes: { node: string; route: KernelRoute }[];
    facts: KernelFacts;
  };
  findings: Finding[];
  bugs: number;
}

export function dnsSection(conf: ResolvConf, queries: DnsAnswer[], address: string | undefined): TraceReport['dns'] {
  return { nameservers: conf.nameservers, searches: conf.searches, ndots: ndotsOf(conf), queries, address };
}

function hopText(hop: Hop): string {
  if (hop.kind === 'same-node') return `same node (${hop.node}): over the bridge ${hop.dev}`;
  if (hop.kind === 'overlay') return `${hop.from} -> ${hop.to} over ${hop.mode === 'vxlan' ? 'VXLAN' : 'host-gw'}: dev ${hop.dev} via ${hop.via}`;
  if (hop.kind === 'leaves-cluster') return `leaves the cluster${hop.from ? ` from ${hop.from}` : ''}`;
  return `no route: ${hop.reason}`;
}

function policyLines(v: FlowVerdict): string[] {
  return v.stages.map((s) => `  ${`${s.stage}:`.padEnd(9)}${s.allowed ? 'allowed' : 'DENIED'}  ${s.reason}`);
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `    ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}`.trimEnd());
}

export function reportText(r: TraceReport): string {
  const p = r.prediction;
  const out: string[] = [];
  const src = p.source.kind === 'pod' ? `${p.source.pod.namespace}/${p.source.pod.name} (${p.source.pod.ip} on ${p.source.node})` : `${p.source.name} (${p.source.ip}, outside the cluster)`;
  out.push(`trace ${src} -> ${r.to} ${p.target.port}/${p.target.protocol}`, '');
  if (r.dns) {
    out.push(`DNS, as the pod resolves it (nameserver ${r.dns.nameservers.join(', ') || 'none'}; search ${r.dns.searches.join(' ') || '(none)'}; ndots ${r.dns.ndots}):`);
    for (const q of r.dns.queries) out.push(`  ${q.name.padEnd(48)} ${q.status.padEnd(8)} ${q.addresses.join(', ')}`.trimEnd());
    out.push(r.dns.address ? `  => ${r.dns.address}` : '  => no address: the name does not resolve', '');
  }
  const svc = p.service;
  if (svc) {
    out.push(`Service ${svc.service} port ${svc.portName || '(unnamed)'} ${p.target.port}/${p.target.protocol} via ${svc.via} ${p.target.ip}; DNAT on ${svc.dnatNode} (traffic policy ${svc.trafficPolicy}${svc.masquerade ? ', masqueraded' : ''}):`);
    if (svc.action === 'dnat') for (const c of svc.candidates) out.push(`  candidate ${c.ip}:${c.port}${c.pod ? ` ${c.pod}` : ''}${c.node ? ` on ${c.node}` : ''} (1/${svc.candidates.length})`);
    else out.push(svc.action === 'reject' ? '  no usable endpoints: the proxy rejects (TCP reset / ICMP port unreachable)' : '  no endpoint on this node under the Local policy: the proxy drops');
    out.push('');
  }
  for (const path of p.paths) {
    out.push(`Path to ${path.endpoint.ip}:${path.endpoint.port}${path.endpoint.pod ? ` (${path.endpoint.pod})` : ''}:`);
    out.push(`  route:   ${hopText(path.hop)}`);
    if (path.seenSource !== (p.source.kind === 'pod' ? p.source.pod.ip : p.source.ip)) out.push(`  source:  seen as ${path.seenSource} (masqueraded)`);
    out.push(...policyLines(path.policy));
    out.push(`  model:   ${path.outcome}`, '');
  }
  const k = r.kernel;
  if (k) {
    out.push(`Kernel: ${k.probe.protocol.toUpperCase()} probe from ${k.probe.sourceAddress}:${k.probe.sourcePort} (DSCP ${k.probe.dscp}), nftrace in ${k.tracedNodes.join(', ')}: ${k.probe.result}${k.probe.detail ? ` (${k.probe.detail})` : ''}`);
    for (const rt of k.routes) out.push(`  route on ${rt.node} to ${rt.route.to}: ${describeRoute(rt.route)}`);
    const hits = k.facts.rulesHit.filter((h) => h.direction === 'request');
    if (hits.length > 0) {
      out.push('  rules the probe hit:');
      out.push(...table(hits.map((h) => [h.node, `${h.family} ${h.table}`, h.chain, h.handle === undefined ? '' : `#${h.handle}`, h.verdict, `${h.owner}: ${h.meaning}`])));
    } else out.push('  the probe hit no rule of any table');
    const replies = k.facts.rulesHit.filter((h) => h.direction === 'reply');
    if (k.facts.repliesSeen > 0) out.push(`  replies traced: ${k.facts.repliesSeen} packet(s)${replies.length ? `, through ${replies.length} rule(s)` : ''}`);
    out.push('');
  }
  for (const f of r.findings) out.push(`${f.severity === 'bug' ? 'BUG' : 'ok '} ${f.text}`);
  out.push(r.bugs > 0 ? `${r.bugs} difference(s) between flatnet's models and the kernel` : 'the kernel did what the models say');
  return out.join('\n') + '\n';
}
