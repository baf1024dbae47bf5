// The cluster map of the web view as a pure function: Nodes, Pods, Services and recent flow
// events in, boxes with positions and verdict-coloured edges out. Runs in the browser (bundled)
// and in unit tests; it imports types only.
import type { FlowEvent, Identity, Verdict } from '../flows/types.js';

export interface MapInput {
  nodes: { name: string; ready: boolean; internalIP?: string }[];
  pods: { namespace: string; name: string; node?: string; ip?: string; phase?: string }[];
  services: { namespace: string; name: string; clusterIP?: string; type?: string }[];
  flows: readonly FlowEvent[];
}

export type VerdictClass = 'allowed' | 'denied';

export interface MapBox {
  id: string;
  kind: 'node' | 'pod' | 'service' | 'world';
  label: string;
  detail: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface MapEdge {
  id: string;
  from: string;
  to: string;
  verdictClass: VerdictClass;
  /** The latest verdict seen on this edge. */
  verdict: Verdict;
  count: number;
  /** Policies named by the latest drop on this edge, if any. */
  policies: string[];
}

export interface ClusterMap {
  width: number;
  height: number;
  boxes: MapBox[];
  edges: MapEdge[];
}

export const DENIED_VERDICTS: readonly Verdict[] = ['dropped', 'rejected'];

export function verdictClass(v: Verdict): VerdictClass {
  return DENIED_VERDICTS.includes(v) ? 'denied' : 'allowed';
}

export const podId = (ns: string, name: string): string => `pod:${ns}/${name}`;
export const serviceId = (ns: string, name: string): string => `svc:${ns}/${name}`;
export const nodeId = (name: string): string => `node:${name}`;
export const WORLD_ID = 'world';

/** The map box a flow peer belongs to, or undefined when the map has no such box. */
export function identityBox(identity: Identity, ids: ReadonlySet<string>): string | undefined {
  let id: string;
  switch (identity.kind) {
    case 'pod':
      id = podId(identity.namespace, identity.name);
      break;
    case 'service':
      id = serviceId(identity.namespace, identity.name);
      break;
    case 'node':
      id = nodeId(identity.name);
      break;
    default:
      id = WORLD_ID;
  }
  return ids.has(id) ? id : undefined;
}

const POD_W = 240;
const POD_H = 34;
const GAP = 10;
const NODE_PAD = 12;
const NODE_HEADER = 34;
const SVC_W = 200;
const SVC_H = 34;
const TOP = 20;

/** Boxes laid out in rows: Services on top, then one column per node holding its pods, the outside on the right. */
export function buildClusterMap(input: MapInput): ClusterMap {
  const boxes: MapBox[] = [];
  const services = [...input.services].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  const nodes = [...input.nodes].sort((a, b) => a.name.localeCompare(b.name));
  const byNode = new Map<string, MapInput['pods']>();
  const unscheduled: MapInput['pods'] = [];
  for (const p of [...input.pods].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))) {
    if (p.node && nodes.some((n) => n.name === p.node)) {
      const list = byNode.get(p.node) ?? [];
      list.push(p);
      byNode.set(p.node, list);
    } else unscheduled.push(p);
  }
  const columns = nodes.map((n) => ({ node: n, pods: byNode.get(n.name) ?? [] }));
  if (unscheduled.length > 0) columns.push({ node: { name: '', ready: false }, pods: unscheduled });
  const colW = POD_W + 2 * NODE_PAD;
  const perRow = Math.max(1, Math.floor((Math.max(columns.length, 3) * (colW + GAP)) / (SVC_W + GAP)));
  services.forEach((s, i) => {
    boxes.push({
      id: serviceId(s.namespace, s.name),
      kind: 'service',
      label: `${s.namespace}/${s.name}`,
      detail: [s.type ?? 'ClusterIP', s.clusterIP].filter(Boolean).join(' '),
      x: GAP + (i % perRow) * (SVC_W + GAP),
      y: TOP + Math.floor(i / perRow) * (SVC_H + GAP),
      w: SVC_W,
      h: SVC_H,
    });
  });
  const svcRows = Math.ceil(services.length / perRow);
  const nodesTop = TOP + svcRows * (SVC_H + GAP) + (services.length > 0 ? 40 : 0);
  let maxBottom = nodesTop;
  columns.forEach((c, i) => {
    const x = GAP + i * (colW + GAP);
    const h = NODE_HEADER + c.pods.length * (POD_H + GAP) + NODE_PAD;
    const unassigned = c.node.name === '';
    boxes.push({
      id: unassigned ? 'unscheduled' : nodeId(c.node.name),
      kind: 'node',
      label: unassigned ? '(not scheduled)' : c.node.name,
      detail: unassigned ? '' : [c.node.internalIP, c.node.ready ? 'Ready' : 'NotReady'].filter(Boolean).join(' '),
      x,
      y: nodesTop,
      w: colW,
      h,
    });
    c.pods.forEach((p, j) => {
      boxes.push({
        id: podId(p.namespace, p.name),
        kind: 'pod',
        label: `${p.namespace}/${p.name}`,
        detail: [p.ip, p.phase].filter(Boolean).join(' '),
        x: x + NODE_PAD,
        y: nodesTop + NODE_HEADER + j * (POD_H + GAP),
        w: POD_W,
        h: POD_H,
      });
    });
    maxBottom = Math.max(maxBottom, nodesTop + h);
  });
  const worldX = GAP + columns.length * (colW + GAP) + 30;
  boxes.push({ id: WORLD_ID, kind: 'world', label: 'outside', detail: 'addresses outside the cluster', x: worldX, y: nodesTop, w: 140, h: SVC_H });
  const width = Math.max(worldX + 140 + GAP, GAP + perRow * (SVC_W + GAP));
  return { width, height: maxBottom + GAP + 20, boxes, edges: flowEdges(input.flows, new Set(boxes.map((b) => b.id))) };
}

/**
 * One edge per (from, to, allowed|denied), in the order flows arrived; the latest flow names the
 * verdict. A Service flow draws source -> Service, and Service -> endpoint when DNAT chose one.
 */
export function flowEdges(flows: readonly FlowEvent[], ids: ReadonlySet<string>): MapEdge[] {
  const edges = new Map<string, MapEdge>();
  const add = (from: string | undefined, to: string | undefined, f: FlowEvent) => {
    if (!from || !to || from === to) return;
    const cls = verdictClass(f.verdict);
    const id = `${from}>${to}>${cls}`;
    const e = edges.get(id) ?? { id, from, to, verdictClass: cls, verdict: f.verdict, count: 0, policies: [] };
    e.count++;
    e.verdict = f.verdict;
    e.policies = f.policy?.policies ?? [];
    edges.set(id, e);
  };
  for (const f of flows) {
    const src = identityBox(f.source.identity, ids);
    const service = f.service ? serviceId(f.service.namespace, f.service.name) : undefined;
    const svcBox = service && ids.has(service) ? service : undefined;
    if (svcBox) {
      add(src, svcBox, f);
      if (f.endpoint) add(svcBox, identityBox(f.endpoint.identity, ids), f);
    } else add(src, identityBox(f.destination.identity, ids), f);
  }
  return [...edges.values()];
}
