// The kernel's side of a trace (the probe's result, the nftables trace events of each node, the
// route each node's kernel picks) reduced to facts, and those facts checked against the models'
// prediction. Any difference is a finding of severity "bug". Pure.
import { dropOf, groupByPacket, type PacketWalk, type TraceEvent } from './trace-lines.js';
import { ruleMeaning, type Owner } from './meaning.js';
import { pathFor, type Hop, type Prediction } from './predict.js';

export type ProbeResult = 'connected' | 'refused' | 'timeout' | 'answered' | 'no-answer' | 'unreachable';

export interface KernelRoute {
  /** The address asked for (`ip route get`). */
  to: string;
  dev?: string;
  gateway?: string;
  error?: string;
}

export interface NodeTrace {
  node: string;
  events: TraceEvent[];
  /** The route the node's kernel picks towards the endpoint the probe went to. */
  route?: KernelRoute;
}

export interface Observation {
  /** The probe's distinctive source port: what the trace rules match. */
  probePort: number;
  /** The probe's distinctive DSCP as nft prints it (it survives source NAT, which may change the port). */
  probeDscp: string;
  probe: { result: ProbeResult; detail?: string };
  nodes: NodeTrace[];
  /** The table the trace added (left out of the rules hit). */
  traceTable: string;
}

export interface RuleHit {
  node: string;
  direction: 'request' | 'reply';
  family: string;
  table: string;
  chain: string;
  handle?: number;
  rule: string;
  verdict: string;
  owner: Owner;
  meaning: string;
}

export interface KernelFacts {
  /** The address the request was rewritten to, if a node DNAT'ed it. */
  dnatTo?: { ip: string; port?: number; node: string };
  /** Nodes whose trace saw the request. */
  reachedNodes: string[];
  /** The first drop of a request, if any. */
  drop?: RuleHit;
  rejected: boolean;
  /** Rules the request and its replies hit, in order, node by node (the tracer's own table left out). */
  rulesHit: RuleHit[];
  repliesSeen: number;
}

export interface Finding {
  severity: 'ok' | 'bug';
  text: string;
}

function isRequest(walk: PacketWalk, port: number, dscp: string): boolean | undefined {
  const first = walk.packets[0]?.packet;
  if (!first) return undefined;
  if (first.sport === port || first.dscp === dscp) return true;
  if (first.dport === port) return false;
  return undefined;
}

function hitOf(node: string, direction: RuleHit['direction'], e: TraceEvent): RuleHit | undefined {
  if (e.kind === 'packet') return undefined;
  const rule = e.kind === 'rule' ? e.rule : e.kind === 'policy' ? `policy ${e.verdict}` : `verdict ${e.verdict}`;
  const verdict = e.kind === 'rule' && e.target ? `${e.verdict} ${e.target}` : e.verdict;
  const m = ruleMeaning(e.table, e.chain, rule, e.verdict);
  return { node, direction, family: e.family, table: e.table, chain: e.chain, handle: e.kind === 'rule' ? e.handle : undefined, rule, verdict, owner: m.owner, meaning: m.text };
}

export function analyseKernel(prediction: Prediction, obs: Observation): KernelFacts {
  const facts: KernelFacts = { reachedNodes: [], rejected: false, rulesHit: [], repliesSeen: 0 };
  const seen = new Set<string>();
  for (const nt of obs.nodes) {
    for (const walk of groupByPacket(nt.events)) {
      const request = isRequest(walk, obs.probePort, obs.probeDscp);
      if (request === undefined) continue;
      if (!request) facts.repliesSeen++;
      if (request && !facts.reachedNodes.includes(nt.node)) facts.reachedNodes.push(nt.node);
      if (request) {
        for (const p of walk.packets) {
          const d = p.packet.daddr;
          if (d && d !== prediction.target.ip && !facts.dnatTo) facts.dnatTo = { ip: d, port: p.packet.dport, node: nt.node };
        }
      }
      for (const e of walk.events) {
        if (e.table === obs.traceTable) continue;
        const hit = hitOf(nt.node, request ? 'request' : 'reply', e);
        // A base chain's policy accept says nothing a person needs; its policy drop does.
        if (!hit || (e.kind === 'policy' && e.verdict === 'accept')) continue;
        if (request && hit.rule.includes('reject')) facts.rejected = true;
        const key = `${hit.node}|${hit.direction}|${hit.table}|${hit.chain}|${hit.handle ?? hit.rule}|${hit.verdict}`;
        if (!seen.has(key)) {
          seen.add(key);
          facts.rulesHit.push(hit);
        }
      }
      const drop = request ? dropOf(walk) : undefined;
      if (drop && !facts.drop && drop.table !== obs.traceTable) facts.drop = hitOf(nt.node, 'request', drop);
    }
  }
  return facts;
}

function hopMatchesRoute(hop: Hop, route: KernelRoute): boolean {
  if (hop.kind === 'same-node') return route.dev === hop.dev && !route.gateway;
  if (hop.kind === 'overlay') return route.dev === hop.dev && route.gateway === hop.via;
  return true;
}

function describeHop(hop: Hop): string {
  if (hop.kind === 'same-node') return `${hop.dev} on ${hop.node} (same node)`;
  if (hop.kind === 'overlay') return `${hop.dev} via ${hop.via} to ${hop.to} (${hop.mode})`;
  if (hop.kind === 'leaves-cluster') return 'out of the cluster';
  return `unroutable: ${hop.reason}`;
}

export function describeRoute(r: KernelRoute): string {
  if (r.error) return `no route (${r.error})`;
  return `${r.dev ?? '?'}${r.gateway ? ` via ${r.gateway}` : ''}`;
}

const delivered = (r: ProbeResult) => r === 'connected' || r === 'answered';

/** Checks the kernel's facts against the prediction; every difference is a bug. */
export function comparePrediction(prediction: Prediction, facts: KernelFacts, obs: Observation): Finding[] {
  const out: Finding[] = [];
  const ok = (text: string) => out.push({ severity: 'ok', text });
  const bug = (text: string) => out.push({ severity: 'bug', text });
  const result = obs.probe.result;
  const svc = prediction.service;

  // Which endpoint did the kernel pick, and is it one the model offered?
  let endpointIp = prediction.target.ip;
  if (svc && svc.action === 'dnat') {
    if (!facts.dnatTo) {
      if (delivered(result)) bug(`the model says ${svc.dnatNode} DNATs ${prediction.target.ip}:${prediction.target.port} to one of ${svc.candidates.map((c) => c.ip).join(', ')}, but the kernel trace shows no DNAT and the probe got through`);
      else bug(`the model says ${svc.dnatNode} DNATs ${prediction.target.ip}:${prediction.target.port}, but the kernel trace shows no DNAT`);
    } else {
      endpointIp = facts.dnatTo.ip;
      const cand = svc.candidates.find((c) => c.ip === facts.dnatTo!.ip && (facts.dnatTo!.port === undefined || c.port === facts.dnatTo!.port));
      if (cand) ok(`DNAT on ${facts.dnatTo.node} to ${cand.ip}:${cand.port}${cand.pod ? ` (${cand.pod})` : ''}: one of the model's ${svc.candidates.length} candidate(s)`);
      else bug(`the kernel DNAT'ed to ${facts.dnatTo.ip}${facts.dnatTo.port ? `:${facts.dnatTo.port}` : ''} on ${facts.dnatTo.node}, which is not an endpoint of the model (${svc.candidates.map((c) => `${c.ip}:${c.port}`).join(', ') || 'none'})`);
    }
  } else if (!svc && facts.dnatTo && !(prediction.source.kind === 'outside')) {
    bug(`the model has no Service at ${prediction.target.ip}:${prediction.target.port}, but the kernel rewrote the destination to ${facts.dnatTo.ip} on ${facts.dnatTo.node}`);
  }

  const path = pathFor(prediction, endpointIp);
  // The route each node's kernel picks towards that endpoint, against the overlay model.
  if (path && path.fromNode) {
    const route = obs.nodes.find((n) => n.node === path.fromNode)?.route;
    if (route && (path.hop.kind === 'same-node' || path.hop.kind === 'overlay')) {
      if (hopMatchesRoute(path.hop, route)) ok(`route on ${path.fromNode} to ${endpointIp}: ${describeRoute(route)}, as the overlay model says`);
      else bug(`route on ${path.fromNode} to ${endpointIp}: the kernel uses ${describeRoute(route)}, the overlay model says ${describeHop(path.hop)}`);
    }
    if (path.hop.kind === 'overlay' && (result === 'connected' || result === 'refused') && !facts.reachedNodes.includes(path.hop.to)) {
      bug(`the model routes the probe to ${path.hop.to}, but ${path.hop.to}'s trace never saw it`);
    }
  }

  const expected = svc && svc.action !== 'dnat' ? prediction.expected : path ? (path.outcome === 'delivered' ? 'delivered' : 'dropped') : prediction.expected;
  const dropText = facts.drop ? `${facts.drop.node}: ${facts.drop.family} ${facts.drop.table} ${facts.drop.chain}${facts.drop.handle !== undefined ? ` handle ${facts.drop.handle}` : ''} (${facts.drop.rule})` : '';
  if (expected === 'rejected') {
    if (result === 'refused' && facts.rejected) ok('the Service has no endpoints: the kernel rejected the probe, as the model says');
    else bug(`the model says the Service has no endpoints and the probe is rejected; the kernel ${facts.rejected ? 'rejected it' : 'did not reject it'} and the probe ${result}`);
  } else if (expected === 'delivered') {
    if (facts.drop) bug(`the model says the flow is allowed, but the kernel dropped the probe at ${dropText}`);
    else if (result === 'timeout' || result === 'unreachable') bug(`the model says the flow is allowed, but the probe ${result === 'timeout' ? 'timed out' : 'was unreachable'} and no drop rule was traced`);
    else if (result === 'refused' && facts.rejected) bug('the model says the flow is allowed, but a reject rule answered the probe');
    else ok(`allowed: the probe ${result === 'refused' ? 'reached the destination (connection refused by it: nothing listens on that port)' : result}, as the model says`);
  } else if (expected === 'dropped') {
    if (delivered(result)) bug(`the model says the flow is dropped, but the probe ${result}`);
    else if (!facts.drop) bug(`the model says the flow is dropped, but the kernel trace shows no drop (the probe ${result})`);
    else if (facts.drop.owner !== 'NetworkPolicy' && path?.outcome === 'dropped-by-policy') bug(`the model says a NetworkPolicy drops the flow, but it was dropped by a rule that is not flatnet's policy: ${dropText}`);
    else ok(`dropped at ${dropText}, as the model says`);
  } else if (expected === 'mixed') {
    ok(`the model's verdict depends on the endpoint chosen; the kernel chose ${endpointIp} and the probe ${result}`);
  }
  return out;
}
