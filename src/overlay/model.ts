// The overlay's desired kernel state as a pure function of the Nodes: per remote node, flannel
// style, VXLAN mode needs one route, one permanent neighbour and one FDB entry; host-gw mode
// needs one direct route. Also the diff between two such states.
import type { KubeObject } from '../api/types.js';
import { parseCidr } from '../linux/ipv4.js';

export const VXLAN_DEVICE = 'flatnet.1';
export const VXLAN_VNI = 1;
export const VXLAN_PORT = 8472;
/** VXLAN over IPv4 adds 50 bytes (outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14). */
export const VXLAN_OVERHEAD = 50;
export const VTEP_MAC_ANNOTATION = 'flatnet.dev/vtep-mac';
/** The routing protocol number on every route the overlay owns. */
export const OVERLAY_ROUTE_PROTO = 77;

/** bgp: like host-gw on the wire (plain IP between nodes), with routes learned from BGP peers (bgp/). */
export type OverlayMode = 'vxlan' | 'host-gw' | 'bgp';

/** The parts of a Node the overlay reads. */
export interface OverlayNode {
  name: string;
  podCIDR?: string;
  internalIP?: string;
  vtepMac?: string;
}

export interface OverlayRoute {
  dst: string;
  via: string;
  dev: string;
  onlink: boolean;
}

export interface OverlayNeighbour {
  ip: string;
  mac: string;
}

export interface OverlayFdb {
  mac: string;
  dst: string;
}

export interface OverlayState {
  routes: OverlayRoute[];
  neighbours: OverlayNeighbour[];
  fdb: OverlayFdb[];
}

interface NodeObject extends KubeObject {
  spec?: { podCIDR?: string; podCIDRs?: string[] };
  status?: { addresses?: { type: string; address: string }[] };
}

export function overlayNodeFromObject(obj: KubeObject): OverlayNode {
  const node = obj as NodeObject;
  const podCIDR = node.spec?.podCIDRs?.find((c) => !c.includes(':')) ?? (node.spec?.podCIDR && !node.spec.podCIDR.includes(':') ? node.spec.podCIDR : undefined);
  const internalIP = node.status?.addresses?.find((a) => a.type === 'InternalIP' && !a.address.includes(':'))?.address;
  return { name: node.metadata.name ?? '', podCIDR, internalIP, vtepMac: node.metadata.annotations?.[VTEP_MAC_ANNOTATION] };
}

/** The VTEP address of a node: the network address (.0) of its pod CIDR. */
export function vtepAddress(podCIDR: string): string {
  return parseCidr(podCIDR).network;
}

export interface DesiredOptions {
  self: string;
  mode: OverlayMode;
  underlayDevice: string;
  podCIDR: string;
}

/** Peers that can be programmed: other nodes with an address and a pod CIDR (and a VTEP MAC for VXLAN). */
export function programmablePeers(nodes: OverlayNode[], opts: DesiredOptions): OverlayNode[] {
  const own = parseCidr(opts.podCIDR);
  return nodes
    .filter((n) => n.name !== opts.self && n.podCIDR && n.internalIP && (opts.mode === 'host-gw' || n.vtepMac))
    .filter((n) => {
      try {
        const c = parseCidr(n.podCIDR!);
        return c.last < own.first || c.first > own.last; // never route our own range away
      } catch {
        return false;
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function desiredOverlay(nodes: OverlayNode[], opts: DesiredOptions): OverlayState {
  const state: OverlayState = { routes: [], neighbours: [], fdb: [] };
  if (opts.mode === 'bgp') return state; // routes come from the node's BGP speaker
  for (const peer of programmablePeers(nodes, opts)) {
    const dst = `${parseCidr(peer.podCIDR!).network}/${parseCidr(peer.podCIDR!).prefix}`;
    if (opts.mode === 'host-gw') {
      state.routes.push({ dst, via: peer.internalIP!, dev: opts.underlayDevice, onlink: false });
      continue;
    }
    const vtep = vtepAddress(peer.podCIDR!);
    const mac = peer.vtepMac!.toLowerCase();
    state.routes.push({ dst, via: vtep, dev: VXLAN_DEVICE, onlink: true });
    state.neighbours.push({ ip: vtep, mac });
    state.fdb.push({ mac, dst: peer.internalIP! });
  }
  return state;
}

export interface OverlayDiff {
  addRoutes: OverlayRoute[];
  delRoutes: OverlayRoute[];
  addNeighbours: OverlayNeighbour[];
  delNeighbours: OverlayNeighbour[];
  addFdb: OverlayFdb[];
  delFdb: OverlayFdb[];
}

function diffBy<T>(cur: T[], want: T[], key: (t: T) => string, same: (a: T, b: T) => boolean): { add: T[]; del: T[] } {
  const curBy = new Map(cur.map((c) => [key(c), c]));
  const wantBy = new Map(want.map((w) => [key(w), w]));
  const add = want.filter((w) => {
    const c = curBy.get(key(w));
    return !c || !same(c, w);
  });
  const del = cur.filter((c) => !wantBy.has(key(c)));
  return { add, del };
}

export function diffOverlay(current: OverlayState, desired: OverlayState): OverlayDiff {
  const r = diffBy(current.routes, desired.routes, (x) => x.dst, (a, b) => a.via === b.via && a.dev === b.dev && a.onlink === b.onlink);
  const n = diffBy(current.neighbours, desired.neighbours, (x) => x.ip, (a, b) => a.mac === b.mac);
  const f = diffBy(current.fdb, desired.fdb, (x) => x.mac, (a, b) => a.dst === b.dst);
  return { addRoutes: r.add, delRoutes: r.del, addNeighbours: n.add, delNeighbours: n.del, addFdb: f.add, delFdb: f.del };
}

export function isEmptyDiff(d: OverlayDiff): boolean {
  return Object.values(d).every((list) => list.length === 0);
}

/** The masquerade rules for pod traffic leaving the cluster range (never pod-to-pod). */
export function masqueradeRules(clusterCIDR: string): string[] {
  return [`ip saddr ${clusterCIDR} ip daddr != ${clusterCIDR} ip daddr != 224.0.0.0/4 masquerade`];
}
