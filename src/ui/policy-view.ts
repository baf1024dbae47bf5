// The NetworkPolicy page's data: the reachability matrix of `flatnet policy matrix` as cells
// (same pods, same ports, same evaluator as src/netpol/report.ts) and, per pod, the policies
// that isolate it in each direction. Pure: the policy model in, JSON out.
import { egressStage, evaluateFlow, ingressStage, type Flow } from '../netpol/evaluate.js';
import { isPolicyPod, type PolicyModel, type SlimPod } from '../netpol/model.js';
import { declaredPorts, matrixText } from '../netpol/report.js';

/** '.' allowed, 'X' denied, '-' the pod itself or a destination that does not declare the port (as the text matrix). */
export type MatrixCell = '.' | 'X' | '-';

export interface MatrixTable {
  protocol: string;
  port: number;
  /** rows[source][destination] */
  rows: MatrixCell[][];
}

export interface Isolation {
  pod: string;
  ingress: string[];
  egress: string[];
}

export interface PolicyView {
  /** namespace/name of each pod, in row and column order. */
  pods: string[];
  tables: MatrixTable[];
  isolation: Isolation[];
  /** `flatnet policy matrix` for the same pods, verbatim. */
  text: string;
}

/** The pods `flatnet policy matrix [-n NAMESPACE]` shows, in its order. */
export function matrixPods(model: PolicyModel, namespace?: string): SlimPod[] {
  return model.pods.filter((p) => !namespace || p.namespace === namespace).sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

export function policyView(model: PolicyModel, pods: readonly SlimPod[]): PolicyView {
  const members = pods.filter(isPolicyPod);
  const tables: MatrixTable[] = declaredPorts(members).map((col) => ({
    protocol: col.protocol,
    port: col.port,
    rows: members.map((src) =>
      members.map((dst): MatrixCell => {
        if (src === dst || !dst.ports.some((p) => p.protocol === col.protocol && p.containerPort === col.port)) return '-';
        const flow: Flow = { src: { kind: 'pod', pod: src }, dst: { kind: 'pod', pod: dst }, protocol: col.protocol, port: col.port };
        return evaluateFlow(model, flow).allowed ? '.' : 'X';
      }),
    ),
  }));
  const isolation = members.map((pod): Isolation => {
    // The same stages the evaluator runs, asked about the pod and a peer outside the cluster: selectedBy does not depend on the peer.
    const outside = { kind: 'ip' as const, ip: '0.0.0.0' };
    const egress = egressStage(model, { src: { kind: 'pod', pod }, dst: outside, protocol: 'TCP', port: 1 }).selectedBy;
    const ingress = ingressStage(model, { src: outside, dst: { kind: 'pod', pod }, protocol: 'TCP', port: 1 }).selectedBy;
    return { pod: `${pod.namespace}/${pod.name}`, ingress, egress };
  });
  return { pods: members.map((p) => `${p.namespace}/${p.name}`), tables, isolation, text: matrixText(model, pods) };
}
