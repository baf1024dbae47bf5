// The web view's trace form: the same prediction `flatnet trace --model-only` prints (Service
// DNAT choice, route and overlay hop, egress and ingress policy verdicts) from the API objects
// the user may read; then, from a pod, the kernel probe `flatnet trace` sends, done by the nodes'
// agents (src/trace/agent-kernel.ts): the rules it hit and any model/kernel disagreement.
import type { KubeObject } from '../api/types.js';
import { EXT_ADDRESS, EXT_NETNS } from '../lab/plan.js';
import { isPolicyPod, type PolicyModel } from '../netpol/model.js';
import { overlayNodeFromObject, VTEP_MAC_ANNOTATION, type OverlayMode } from '../overlay/model.js';
import { slimEndpointSlice, slimService, type Protocol, type SlimEndpointSlice } from '../proxy/model.js';
import { predictTrace, type ClusterView, type TraceSource, type TraceTarget } from '../trace/predict.js';
import { probeAndCompare, type TraceKernel } from '../trace/run.js';
import { destinationOf } from '../trace/destination.js';
import { reportText, type TraceReport } from '../trace/report.js';

export class TraceFormError extends Error {}

export interface TraceObjects {
  policy: PolicyModel;
  services: KubeObject[];
  slices: KubeObject[];
  nodes: KubeObject[];
}

export interface TraceForm {
  from: string;
  to: string;
  port?: number;
  protocol: Protocol;
}


/** Reads the form's JSON body; a bad field is named. */
export function parseTraceForm(body: unknown): TraceForm {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new TraceFormError('the body must be a JSON object {"from", "to", "port"}');
  const b = body as Record<string, unknown>;
  const from = typeof b.from === 'string' ? b.from.trim() : '';
  const to = typeof b.to === 'string' ? b.to.trim() : '';
  if (!from) throw new TraceFormError('from: required (NAMESPACE/POD, POD in default, or outside)');
  if (!to) throw new TraceFormError('to: required (NAMESPACE/POD, an IPv4 address or node:NAME)');
  const portText = b.port === undefined || b.port === null ? '' : String(b.port).trim();
  if (portText === '') return { from, to, protocol: 'TCP' };
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(portText);
  const port = m ? Number(m[1]) : NaN;
  if (!m || port < 1 || port > 65535) throw new TraceFormError(`port: "${portText}" is not PORT[/PROTOCOL] (e.g. 8080/tcp, 53/udp)`);
  return { from, to, port, protocol: (m[2] ?? 'tcp').toUpperCase() as Protocol };
}

/** vxlan when the nodes publish VTEP MACs, else plain routes between nodes (host-gw and bgp look the same on the wire). */
export function overlayOf(nodes: readonly KubeObject[]): OverlayMode {
  return nodes.some((n) => n.metadata.annotations?.[VTEP_MAC_ANNOTATION]) ? 'vxlan' : 'host-gw';
}

function sourceOf(policy: PolicyModel, from: string): TraceSource {
  if (from === 'outside' || from === 'ext' || from === EXT_NETNS) return { kind: 'outside', name: EXT_NETNS, ip: EXT_ADDRESS };
  const [ns, name] = from.includes('/') ? from.split('/', 2) : ['default', from];
  const pod = ns && name ? policy.findPod(ns, name) : undefined;
  if (!pod) throw new TraceFormError(`from: pod ${ns}/${name} does not exist`);
  if (!isPolicyPod(pod) || !pod.nodeName) throw new TraceFormError(`from: pod ${ns}/${name} ${pod.hostNetwork ? 'uses the host network' : pod.terminal ? 'has finished' : 'has no IP address or node yet'}`);
  return { kind: 'pod', pod, node: pod.nodeName };
}

export interface PreparedTrace {
  form: TraceForm;
  source: TraceSource;
  target: TraceTarget;
  report: TraceReport;
}

/** The form read and the models' prediction made (no kernel work). */
export function prepareTrace(objects: TraceObjects, body: unknown): PreparedTrace {
  const form = parseTraceForm(body);
  const view: ClusterView = {
    policy: objects.policy,
    services: objects.services.map(slimService),
    slices: objects.slices.map(slimEndpointSlice).filter((s): s is SlimEndpointSlice => s !== undefined),
    nodes: objects.nodes.map(overlayNodeFromObject),
    overlay: overlayOf(objects.nodes),
  };
  const source = sourceOf(view.policy, form.from);
  const destination = destinationOf(view, form.to);
  if (destination.kind === 'invalid') throw new TraceFormError(`to: ${destination.reason}`);
  if (destination.kind === 'name') throw new TraceFormError(`to: "${form.to}" is not NAMESPACE/POD, an IPv4 address or node:NAME (DNS names need the pod's resolver: use \`flatnet trace\`)`);
  const ip = destination.ip;
  const port = form.port ?? view.policy.podByIp(ip)?.ports[0]?.containerPort;
  if (port === undefined) throw new TraceFormError('port: required (the destination declares no container port to default to)');
  const target: TraceTarget = { label: form.to, ip, port, protocol: form.protocol };
  const prediction = predictTrace(view, source, target);
  return { form, source, target, report: { from: form.from, to: form.to, prediction, findings: [], bugs: 0 } };
}

/** The prediction only (the closing line says no probe ran instead of comparing with a trace that did not happen). */
export function modelOnlyResult(p: PreparedTrace, why: string): { report: TraceReport; text: string } {
  return { report: p.report, text: reportText(p.report).replace(/the kernel did what the models say\n$/, `models only: ${why}\n`) };
}

export async function modelTrace(objects: TraceObjects, body: unknown): Promise<{ report: TraceReport; text: string }> {
  return modelOnlyResult(prepareTrace(objects, body), 'no probe was asked for');
}

/** The probe under nftables tracing through `kernel`, compared with the prediction. */
export async function kernelTrace(p: PreparedTrace, kernel: TraceKernel, timeoutSeconds = 3): Promise<{ report: TraceReport; text: string }> {
  if (p.form.protocol === 'SCTP') throw new TraceFormError('port: the probe sends TCP or UDP (this kernel carries no SCTP)');
  const report = await probeAndCompare(p.report, p.source, p.target, timeoutSeconds, kernel);
  return { report, text: reportText(report) };
}
