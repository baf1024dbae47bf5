// One trace from start to end: where the source is, what the destination name resolves to (asked
// from the source pod's namespace with its resolver rules), the models' prediction, then the
// probe under nftables tracing and the comparison. The models and the lab layout come in as
// data; the kernel work goes through kernel.ts.
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parseResolvConf, type ResolvConf } from '../agent/resolv-conf.js';
import { sandboxNetnsName } from '../agent/sandbox.js';
import { isPolicyPod, type Protocol } from '../netpol/model.js';
import type { OverlayMode } from '../overlay/model.js';
import { analyseKernel, comparePrediction, type KernelRoute, type NodeTrace, type Observation, type ProbeResult } from './compare.js';
import { continuesAfter, resolutionOutcome, searchCandidates, type DnsAnswer } from './dns-search.js';
import { kernelRoute, PROBE_DSCP_TEXT, queryDns, sendProbe, TraceSession } from './kernel.js';
import { pathFor, predictTrace, type ClusterView, type TraceSource, type TraceTarget } from './predict.js';
import { destinationOf } from './destination.js';
import { dnsSection, type TraceReport } from './report.js';
import { parseMonitorOutput, traceEvents } from './trace-lines.js';

export class TraceInputError extends Error {
  override name = 'TraceInputError';
}

export interface LabLayout {
  nodes: { name: string; netns: string }[];
  overlay: OverlayMode;
  /** The outside client's namespace and address. */
  outside: { name: string; netns: string; ip: string };
}

export interface TraceRequest {
  from: string;
  to: string;
  port?: number;
  protocol: Protocol;
  /** How long the probe waits for an answer. */
  timeoutSeconds: number;
  /** Only the models' prediction: no DNS query, no probe. */
  modelOnly?: boolean;
}


function sourceOf(view: ClusterView, lab: LabLayout, from: string): TraceSource {
  if (from === lab.outside.name || from === 'ext' || from === 'outside') return { kind: 'outside', name: lab.outside.name, ip: lab.outside.ip };
  const [ns, name] = from.includes('/') ? from.split('/', 2) : ['default', from];
  if (!ns || !name) throw new TraceInputError(`FROM "${from}" is neither NAMESPACE/POD, POD (in default) nor ${lab.outside.name}`);
  const pod = view.policy.findPod(ns, name);
  if (!pod) throw new TraceInputError(`FROM: pod ${ns}/${name} does not exist (kubectl get pod -n ${ns} ${name})`);
  if (!isPolicyPod(pod) || !pod.nodeName) throw new TraceInputError(`FROM: pod ${ns}/${name} ${pod.hostNetwork ? 'uses the host network: trace from its node instead' : pod.terminal ? 'has finished' : 'has no IP address or node yet'}`);
  return { kind: 'pod', pod, node: pod.nodeName };
}

function podNetns(source: TraceSource & { kind: 'pod' }): string {
  const netns = sandboxNetnsName(source.pod.uid);
  if (!existsSync(`/run/netns/${netns}`)) throw new TraceInputError(`FROM: the network namespace ${netns} of ${source.pod.namespace}/${source.pod.name} is not on this machine (is ${source.node} a lab node here?)`);
  return netns;
}

export function podResolvConf(netns: string): ResolvConf {
  const path = `/etc/netns/${netns}/resolv.conf`;
  if (!existsSync(path)) throw new TraceInputError(`the pod's resolver file ${path} is missing`);
  return parseResolvConf(readFileSync(path, 'utf8'));
}

/** Asks the pod's nameservers for each candidate name, in the resolver's order, as the pod would. */
async function resolveAsPod(netns: string, conf: ResolvConf, name: string): Promise<{ queries: DnsAnswer[]; address?: string }> {
  const server = conf.nameservers[0];
  if (!server) throw new TraceInputError(`the pod has no nameserver in its resolv.conf: "${name}" cannot be resolved`);
  const queries: DnsAnswer[] = [];
  for (const candidate of searchCandidates(name, conf)) {
    const answer = await queryDns(netns, server, candidate);
    queries.push(answer);
    if (!continuesAfter(answer)) break;
  }
  return { queries, address: resolutionOutcome(queries).address };
}

function defaultPort(view: ClusterView, ip: string): number | undefined {
  return view.policy.podByIp(ip)?.ports[0]?.containerPort;
}

/** Runs a trace; the report's `bugs` counts differences between the models and the kernel. */
export async function runTrace(view: ClusterView, lab: LabLayout, req: TraceRequest): Promise<TraceReport> {
  const source = sourceOf(view, lab, req.from);
  const sourceNetns = source.kind === 'pod' ? podNetns(source) : lab.outside.netns;
  let ip: string | undefined;
  let dns: TraceReport['dns'];
  const destination = destinationOf(view, req.to);
  if (destination.kind === 'invalid') throw new TraceInputError(`TO: ${destination.reason}`);
  if (destination.kind === 'address') ip = destination.ip;
  else {
    if (source.kind !== 'pod') throw new TraceInputError(`TO: "${req.to}" is a name, and ${lab.outside.name} has no cluster DNS: give an address or node:NAME`);
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9.])?$/i.test(req.to)) throw new TraceInputError(`TO: "${req.to}" is not a DNS name, an IPv4 address, NAMESPACE/POD or node:NAME`);
    const conf = podResolvConf(sourceNetns);
    if (req.modelOnly) throw new TraceInputError('TO: a DNS name needs the real resolver: drop --model-only or give an address');
    const resolved = await resolveAsPod(sourceNetns, conf, req.to);
    dns = dnsSection(conf, resolved.queries, resolved.address);
    ip = resolved.address;
    if (!ip) {
      const prediction = predictTrace(view, source, { label: req.to, ip: '0.0.0.0', port: req.port ?? 0, protocol: req.protocol });
      return { from: req.from, to: req.to, dns, prediction: { ...prediction, paths: [] }, findings: [{ severity: 'ok', text: `"${req.to}" does not resolve from the pod: nothing to probe` }], bugs: 0 };
    }
  }
  const port = req.port ?? defaultPort(view, ip);
  if (port === undefined) throw new TraceInputError('PORT: give PORT[/PROTOCOL] (the destination declares no container port to default to)');
  const target: TraceTarget = { label: req.to, ip, port, protocol: req.protocol };
  const prediction = predictTrace(view, source, target);
  const report: TraceReport = { from: req.from, to: req.to, dns, prediction, findings: [], bugs: 0 };
  if (req.modelOnly) return report;
  if (req.protocol === 'SCTP') throw new TraceInputError('PROTOCOL: the probe sends TCP or UDP (this kernel carries no SCTP)');

  const kernel = new LocalTraceKernel(lab, sourceNetns);
  const onSignal = () => void kernel.stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await probeAndCompare(report, source, target, req.timeoutSeconds, kernel);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/**
 * Where the kernel work of a trace happens: here (the lab's namespaces on this machine, the CLI)
 * or in the nodes' agents (the web view, src/trace/agent-kernel.ts).
 */
export interface TraceKernel {
  /** Tracing on in these nodes, for the probe's source port; resolves once no event can be missed. */
  start(nodes: string[], table: string, sourcePort: number): Promise<void>;
  /** The probe from the source (TCP SYN or one UDP datagram). */
  probe(opts: { ip: string; port: number; protocol: 'tcp' | 'udp'; sourcePort: number; timeoutSeconds: number }): Promise<{ result: ProbeResult; detail?: string }>;
  /** Tracing off; each node's `nft monitor` output. Safe after a failed or partial start. */
  stop(): Promise<Map<string, string>>;
  route(node: string, ip: string): Promise<KernelRoute>;
}

class LocalTraceKernel implements TraceKernel {
  private session: TraceSession | undefined;

  constructor(
    private readonly lab: LabLayout,
    private readonly sourceNetns: string,
  ) {}

  private netnsOf(name: string): string {
    const node = this.lab.nodes.find((n) => n.name === name);
    if (!node) throw new TraceInputError(`node ${name} is not a node of this lab: its namespace cannot be traced here`);
    return node.netns;
  }

  async start(nodes: string[], table: string, sourcePort: number): Promise<void> {
    this.session = new TraceSession(nodes.map((node) => ({ node, netns: this.netnsOf(node) })), table, sourcePort);
    await this.session.start();
  }

  probe(opts: Parameters<TraceKernel['probe']>[0]) {
    return sendProbe(this.sourceNetns, opts);
  }

  async stop(): Promise<Map<string, string>> {
    return this.session ? this.session.stop() : new Map();
  }

  route(node: string, ip: string): Promise<KernelRoute> {
    return kernelRoute(this.netnsOf(node), ip);
  }
}

/** Sends the probe under tracing through `kernel` and compares what the kernel did with the prediction. */
export async function probeAndCompare(report: TraceReport, source: TraceSource, target: TraceTarget, timeoutSeconds: number, kernel: TraceKernel): Promise<TraceReport> {
  const prediction = report.prediction;
  const { ip } = target;
  const sourcePort = randomInt(61000, 65000);
  const table = `flatnet-trace-${sourcePort}`;
  const traced = prediction.nodes;
  let probe: Awaited<ReturnType<TraceKernel['probe']>>;
  let outputs: Map<string, string>;
  try {
    await kernel.start(traced, table, sourcePort);
    probe = await kernel.probe({ ip, port: target.port, protocol: target.protocol === 'UDP' ? 'udp' : 'tcp', sourcePort, timeoutSeconds });
  } finally {
    outputs = await kernel.stop();
  }
  const nodes: NodeTrace[] = traced.map((node) => ({ node, events: traceEvents(parseMonitorOutput(outputs.get(node) ?? '')) }));
  const obs: Observation = { probePort: sourcePort, probeDscp: PROBE_DSCP_TEXT, probe, nodes, traceTable: table };
  const facts = analyseKernel(prediction, obs);
  const path = pathFor(prediction, facts.dnatTo?.ip ?? ip);
  const routes: NonNullable<TraceReport['kernel']>['routes'] = [];
  if (path?.fromNode && traced.includes(path.fromNode)) {
    const route = await kernel.route(path.fromNode, path.endpoint.ip);
    nodes.find((n) => n.node === path.fromNode)!.route = route;
    routes.push({ node: path.fromNode, route });
  }
  report.findings = comparePrediction(prediction, facts, obs);
  report.bugs = report.findings.filter((f) => f.severity === 'bug').length;
  report.kernel = {
    probe: { protocol: target.protocol.toLowerCase(), sourceAddress: source.kind === 'pod' ? source.pod.ip : source.ip, sourcePort, dscp: PROBE_DSCP_TEXT, ...probe },
    tracedNodes: traced,
    traceTable: table,
    routes,
    facts,
  };
  return report;
}
