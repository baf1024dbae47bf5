// Text for people: a flow's verdict with the policies and rules behind it (`policy explain`),
// and a reachability table of pods on their declared ports (`policy matrix`). Pure: the model
// in, text out; the numbers come from the same evaluator the compiler is tested against.
import { evaluateFlow, formatRuleMatch, type Flow, type FlowVerdict } from './evaluate.js';
import type { Endpoint } from './match.js';
import { isPolicyPod, type PolicyModel, type Protocol, type SlimPod } from './model.js';

function describeEndpoint(e: Endpoint): string {
  return e.kind === 'pod' ? `${e.pod.namespace}/${e.pod.name} (${e.pod.ip})` : e.ip;
}

export function explainText(flow: Flow, verdict: FlowVerdict): string {
  const lines = [`flow: ${describeEndpoint(flow.src)} -> ${describeEndpoint(flow.dst)} ${flow.protocol}/${flow.port}`];
  for (const s of verdict.stages) {
    const subject = s.subject ? ` of ${s.subject}` : '';
    const state = s.isolated ? `isolated by ${s.selectedBy.join(', ')}` : 'not isolated';
    lines.push(`${s.stage}${subject}: ${state} -> ${s.allowed ? 'allowed' : 'DENIED'}`);
    if (s.isolated && s.allowedBy.length > 0) for (const m of s.allowedBy) lines.push(`  allowed by ${formatRuleMatch(m)}`);
    else lines.push(`  ${s.reason}`);
  }
  if (flow.src.kind === 'ip') {
    lines.push(`note: if ${flow.src.ip} is the node of ${describeEndpoint(flow.dst)}, its packets are never filtered (a node always reaches its own pods)`);
  }
  lines.push(`verdict: ${verdict.allowed ? 'ALLOWED' : 'DENIED'}`);
  return lines.join('\n') + '\n';
}

export interface PortColumn {
  protocol: Protocol;
  port: number;
}

/** The port/protocol pairs that `pods` declare, sorted. */
export function declaredPorts(pods: readonly SlimPod[]): PortColumn[] {
  const seen = new Map<string, PortColumn>();
  for (const p of pods) for (const cp of p.ports) seen.set(`${cp.protocol}/${cp.containerPort}`, { protocol: cp.protocol, port: cp.containerPort });
  return [...seen.values()].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
}

/**
 * One table per declared port/protocol: rows are sources, columns destinations. `.` allowed,
 * `X` denied, `-` the pod itself or a destination that does not declare that port.
 */
export function matrixText(model: PolicyModel, pods: readonly SlimPod[]): string {
  const members = pods.filter(isPolicyPod);
  if (members.length === 0) return 'no running pods with an address\n';
  const columns = declaredPorts(members);
  if (columns.length === 0) return 'no pod declares a container port; ask about one flow with `flatnet policy explain`\n';
  const names = members.map((p) => `${p.namespace}/${p.name}`);
  const width = Math.max(...names.map((n) => n.length));
  const out: string[] = [];
  const legend = names.map((n, i) => `  ${String(i + 1).padStart(2)} ${n}`);
  out.push('destinations:', ...legend, '');
  for (const col of columns) {
    out.push(`${col.protocol}/${col.port}  (rows: sources, columns: destinations; . allowed, X denied, - self or port not declared)`);
    out.push(`${''.padEnd(width)}  ${members.map((_, i) => String(i + 1).padStart(2)).join(' ')}`);
    members.forEach((src, r) => {
      const cells = members.map((dst) => {
        if (src === dst || !dst.ports.some((p) => p.protocol === col.protocol && p.containerPort === col.port)) return ' -';
        const flow: Flow = { src: { kind: 'pod', pod: src }, dst: { kind: 'pod', pod: dst }, protocol: col.protocol, port: col.port };
        return evaluateFlow(model, flow).allowed ? ' .' : ' X';
      });
      out.push(`${names[r].padEnd(width)}  ${cells.join(' ')}`);
    });
    out.push('');
  }
  return out.join('\n');
}
