// What flatnet's own models say a probe will do, before it is sent: which Service port and
// endpoints the proxy model offers (the same functions the nftables rules are rendered from),
// which node each endpoint is on and how the packet gets there (the overlay model), and the
// egress and ingress NetworkPolicy verdicts (the model `flatnet policy explain` uses). Pure.
import { evaluateFlow, type FlowVerdict } from '../netpol/evaluate.js';
import { endpointFor, type Endpoint as PolicyEndpoint } from '../netpol/match.js';
import type { PolicyModel, Protocol, SlimPod } from '../netpol/model.js';
import { desiredOverlay, vtepAddress, type OverlayMode, type OverlayNode } from '../overlay/model.js';
import { buildServicePorts, cidrContains, endpointsForPolicy, usableEndpoints, type SlimEndpointSlice, type SlimService } from '../proxy/model.js';

export const UNDERLAY_DEVICE = 'eth0';
export const POD_BRIDGE = 'cni0';

export type TraceSource = { kind: 'pod'; pod: SlimPod & { ip: string }; node: string } | { kind: 'outside'; name: string; ip: string };

export interface TraceTarget {
  /** How the person named the destination. */
  label: string;
  ip: string;
  port: number;
  protocol: Protocol;
}

export interface ClusterView {
  policy: PolicyModel;
  services: SlimService[];
  slices: SlimEndpointSlice[];
  nodes: OverlayNode[];
  overlay: OverlayMode;
}

export interface CandidateEndpoint {
  ip: string;
  port: number;
  pod?: string;
  node?: string;
}

export interface ServiceChoice {
  service: string;
  portName: string;
  via: 'ClusterIP' | 'NodePort' | 'ExternalIP';
  trafficPolicy: 'Cluster' | 'Local';
  /** The node whose nftables rewrite the destination. */
  dnatNode: string;
  /** Endpoints the DNAT rule chooses from (numgen random, equal shares). */
  candidates: CandidateEndpoint[];
  /** dnat, or the verdict of a Service without usable endpoints (reject) or without local ones (drop). */
  action: 'dnat' | 'reject' | 'drop';
  /** Whether the proxy masquerades the flow (node ports and external addresses under policy Cluster). */
  masquerade: boolean;
}

export type Hop =
  | { kind: 'same-node'; node: string; dev: string }
  | { kind: 'overlay'; mode: OverlayMode; from: string; to: string; via: string; dev: string }
  | { kind: 'leaves-cluster'; from?: string }
  | { kind: 'unroutable'; reason: string };

export interface PathPrediction {
  endpoint: CandidateEndpoint;
  /** The node the packet leaves from towards the endpoint (the source pod's node, or the DNAT node). */
  fromNode?: string;
  hop: Hop;
  /** The source address the destination sees (after masquerade, if any). */
  seenSource: string;
  policy: FlowVerdict;
  outcome: 'delivered' | 'dropped-by-policy' | 'unroutable';
}

export interface Prediction {
  source: TraceSource;
  target: TraceTarget;
  service?: ServiceChoice;
  paths: PathPrediction[];
  /** delivered / dropped (by policy) / rejected (no endpoints) / mixed (depends on the endpoint chosen). */
  expected: 'delivered' | 'dropped' | 'rejected' | 'mixed';
  /** Lab nodes the packet can cross: where the trace tables go. */
  nodes: string[];
}

function nodeOwningPodIp(nodes: OverlayNode[], ip: string): OverlayNode | undefined {
  return nodes.find((n) => n.podCIDR && cidrContains(n.podCIDR, ip));
}

function nodeByAddress(nodes: OverlayNode[], ip: string): OverlayNode | undefined {
  return nodes.find((n) => n.internalIP === ip);
}

/** The Service port a destination address and port hit, and how (ClusterIP, external IP, node port). */
function findServicePort(view: ClusterView, target: TraceTarget): { svc: SlimService; portName: string; via: ServiceChoice['via']; node?: OverlayNode } | undefined {
  for (const svc of view.services) {
    for (const p of svc.ports) {
      if (p.protocol !== target.protocol) continue;
      if (p.port === target.port && svc.clusterIP === target.ip) return { svc, portName: p.name, via: 'ClusterIP' };
      if (p.port === target.port && (svc.externalIPs.includes(target.ip) || svc.loadBalancerIPs.includes(target.ip))) return { svc, portName: p.name, via: 'ExternalIP' };
    }
  }
  const node = nodeByAddress(view.nodes, target.ip);
  if (!node) return undefined;
  for (const svc of view.services) {
    const p = svc.ports.find((x) => x.nodePort === target.port && x.protocol === target.protocol);
    if (p) return { svc, portName: p.name, via: 'NodePort', node };
  }
  return undefined;
}

function podRef(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}

function routeBetween(view: ClusterView, fromName: string, toIp: string): Hop {
  const from = view.nodes.find((n) => n.name === fromName);
  if (!from?.podCIDR) return { kind: 'unroutable', reason: `node ${fromName} has no pod CIDR yet` };
  if (cidrContains(from.podCIDR, toIp)) return { kind: 'same-node', node: fromName, dev: POD_BRIDGE };
  const owner = nodeOwningPodIp(view.nodes, toIp);
  if (!owner) return { kind: 'leaves-cluster', from: fromName };
  const state = desiredOverlay(view.nodes, { self: fromName, mode: view.overlay, underlayDevice: UNDERLAY_DEVICE, podCIDR: from.podCIDR });
  const route = state.routes.find((r) => cidrContains(r.dst, toIp));
  if (!route) return { kind: 'unroutable', reason: `the overlay model has no route on ${fromName} to ${owner.name}'s pod CIDR ${owner.podCIDR} (is ${owner.name} missing an address${view.overlay === 'vxlan' ? ' or its VTEP MAC' : ''}?)` };
  return { kind: 'overlay', mode: view.overlay, from: fromName, to: owner.name, via: route.via, dev: route.dev };
}

/** The address a masqueraded flow leaves `node` with towards another node's pods. */
function masqueradeAddress(view: ClusterView, nodeName: string): string | undefined {
  const node = view.nodes.find((n) => n.name === nodeName);
  if (!node) return undefined;
  if (view.overlay === 'vxlan' && node.podCIDR) return vtepAddress(node.podCIDR);
  return node.internalIP;
}

function candidateFor(view: ClusterView, ip: string, port: number): CandidateEndpoint {
  const pod = view.policy.podByIp(ip);
  return { ip, port, pod: pod ? podRef(pod) : undefined, node: pod?.nodeName ?? nodeOwningPodIp(view.nodes, ip)?.name };
}

function serviceChoice(view: ClusterView, source: TraceSource, target: TraceTarget): ServiceChoice | undefined {
  const found = findServicePort(view, target);
  if (!found) return undefined;
  const { svc, portName, via } = found;
  const dnatNode = source.kind === 'pod' ? source.node : found.node?.name;
  if (!dnatNode) return undefined; // an outside client reaching a ClusterIP: nothing routes it into the cluster
  const slices = view.slices.filter((s) => s.namespace === svc.namespace && s.serviceName === svc.name);
  const sp = buildServicePorts(svc, slices, dnatNode).find((p) => p.portName === portName && p.protocol === target.protocol);
  if (!sp) return undefined;
  const external = via !== 'ClusterIP';
  const trafficPolicy = external ? svc.externalTrafficPolicy : svc.internalTrafficPolicy;
  // Pods reaching an external address or node port of a Local Service go to every endpoint (the proxy's short-circuit).
  const fromPodShortCircuit = external && trafficPolicy === 'Local' && source.kind === 'pod';
  const eps = fromPodShortCircuit ? usableEndpoints(sp.endpoints) : endpointsForPolicy(sp.endpoints, trafficPolicy);
  const action: ServiceChoice['action'] = eps.length > 0 ? 'dnat' : usableEndpoints(sp.endpoints).length === 0 ? 'reject' : 'drop';
  const masquerade = (external && trafficPolicy === 'Cluster') || (via === 'ClusterIP' && source.kind === 'outside');
  return {
    service: `${svc.namespace}/${svc.name}`,
    portName,
    via,
    trafficPolicy,
    dnatNode,
    candidates: eps.map((e) => candidateFor(view, e.ip, e.port)),
    action,
    masquerade,
  };
}

function pathTo(view: ClusterView, source: TraceSource, endpoint: CandidateEndpoint, protocol: Protocol, service: ServiceChoice | undefined): PathPrediction {
  const fromNode = service?.dnatNode ?? (source.kind === 'pod' ? source.node : nodeOwningPodIp(view.nodes, endpoint.ip)?.name);
  let hop: Hop;
  if (!fromNode) hop = { kind: 'unroutable', reason: `no node routes ${endpoint.ip}` };
  else if (source.kind === 'outside' && !service) {
    const owner = nodeOwningPodIp(view.nodes, endpoint.ip);
    hop = owner ? { kind: 'unroutable', reason: `the lab does not route pod addresses from outside the cluster (${endpoint.ip} is on ${owner.name}); reach it through a node port or a LoadBalancer address` } : { kind: 'leaves-cluster' };
  } else hop = routeBetween(view, fromNode, endpoint.ip);
  let seenSource = source.kind === 'pod' ? source.pod.ip : source.ip;
  if (service?.masquerade && hop.kind === 'overlay') seenSource = masqueradeAddress(view, hop.from) ?? seenSource;
  const src: PolicyEndpoint = source.kind === 'pod' && seenSource === source.pod.ip ? { kind: 'pod', pod: source.pod } : endpointFor(view.policy, seenSource);
  const dst = endpointFor(view.policy, endpoint.ip);
  const policy = evaluateFlow(view.policy, { src, dst, protocol, port: endpoint.port });
  return { endpoint, fromNode, hop, seenSource, policy, outcome: hop.kind === 'unroutable' ? 'unroutable' : policy.allowed ? 'delivered' : 'dropped-by-policy' };
}

export function predictTrace(view: ClusterView, source: TraceSource, target: TraceTarget): Prediction {
  const service = serviceChoice(view, source, target);
  const endpoints = service ? service.candidates : [candidateFor(view, target.ip, target.port)];
  const paths = endpoints.map((e) => pathTo(view, source, e, target.protocol, service));
  let expected: Prediction['expected'];
  if (service && service.action !== 'dnat') expected = service.action === 'reject' ? 'rejected' : 'dropped';
  else if (paths.every((p) => p.outcome === 'delivered')) expected = 'delivered';
  else if (paths.every((p) => p.outcome !== 'delivered')) expected = 'dropped';
  else expected = 'mixed';
  const nodes = new Set<string>();
  if (source.kind === 'pod') nodes.add(source.node);
  if (service) nodes.add(service.dnatNode);
  for (const p of paths) {
    if (p.fromNode) nodes.add(p.fromNode);
    if (p.endpoint.node) nodes.add(p.endpoint.node);
  }
  const target0 = view.nodes.find((n) => n.internalIP === target.ip);
  if (target0) nodes.add(target0.name);
  return { source, target, service, paths, expected, nodes: [...nodes].filter((n) => view.nodes.some((x) => x.name === n)).sort() };
}

/** The path the kernel took, given the address the packet was DNAT'ed to (or the target itself). */
export function pathFor(prediction: Prediction, ip: string): PathPrediction | undefined {
  return prediction.paths.find((p) => p.endpoint.ip === ip);
}
