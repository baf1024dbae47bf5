// Builds and removes the lab's namespaces: the underlay switch, the outside client, one
// namespace per node. Nothing is added to the root namespace.
import { rmSync } from 'node:fs';
import { addNetns, deleteNetns, listNetns, netnsPids } from '../linux/netns.js';
import { IpBatch, applyIpBatch } from '../linux/ip.js';
import { setSysctls } from '../linux/sysctl.js';
import { EXT_ADDRESS, EXT_NETNS, LAB_BRIDGE, LAB_GATEWAY, LAB_NETNS, LB_POOL, isLabNetns, type LabNode } from './plan.js';
import type { UnderlaySegment } from './underlay-segments.js';

const PREFIX = 16;

const ONE_SEGMENT: UnderlaySegment = { bridge: LAB_BRIDGE, gateway: LAB_GATEWAY, prefix: PREFIX };

async function plugIntoSwitch(port: string, netns: string, address: string, segment: UnderlaySegment = ONE_SEGMENT): Promise<void> {
  await applyIpBatch(LAB_NETNS, new IpBatch().addVeth(port, 'eth0', { peerNetns: netns }).setLink(port, { master: segment.bridge, up: true }));
  await applyIpBatch(netns, new IpBatch().replaceAddress(`${address}/${segment.prefix}`, 'eth0').setLink('eth0', { up: true }).replaceRoute({ dst: 'default', via: segment.gateway }));
}

/**
 * The underlay switch and the outside client: one /16 bridge, or with `segments` one bridge per
 * segment, routed only by the switch namespace (the outside client on the first segment).
 */
export async function createSwitch(segments: readonly UnderlaySegment[] = [ONE_SEGMENT]): Promise<void> {
  await addNetns(LAB_NETNS);
  const batch = new IpBatch();
  for (const s of segments) batch.addBridge(s.bridge).setLink(s.bridge, { up: true }).replaceAddress(`${s.gateway}/${s.prefix}`, s.bridge);
  await applyIpBatch(LAB_NETNS, batch);
  await setSysctls(LAB_NETNS, { 'net.ipv4.ip_forward': 1 });
  await addNetns(EXT_NETNS);
  await plugIntoSwitch('veth-ext', EXT_NETNS, EXT_ADDRESS, segments[0]);
}

export async function createNodeNamespace(node: LabNode): Promise<void> {
  await addNetns(node.netns);
  await plugIntoSwitch(node.switchPort, node.netns, node.ip, node.segment);
  await setSysctls(node.netns, { 'net.ipv4.ip_forward': 1 });
}

/**
 * The switch routes the LoadBalancer pool to the nodes, one equal-cost next hop per node (flows
 * hash to one node), as a router in front of a cluster with BGP-announced addresses would. The
 * pool lies inside the underlay's /16, so the outside client needs a route to send it to the
 * switch instead of asking for it by ARP. With the BGP overlay the switch learns one route per
 * announced address from the lab router instead (`learnedByBgp`).
 */
export async function routeLoadBalancerPool(nodes: LabNode[], opts: { learnedByBgp?: boolean } = {}): Promise<void> {
  if (nodes.length === 0) return;
  const hops = nodes.map((n) => `nexthop via ${n.ip}`).join(' ');
  if (!opts.learnedByBgp) await applyIpBatch(LAB_NETNS, new IpBatch().raw(`route replace ${LB_POOL} ${hops}`));
  await applyIpBatch(EXT_NETNS, new IpBatch().replaceRoute({ dst: LB_POOL, via: LAB_GATEWAY }));
}

export interface TeardownReport {
  namespaces: string[];
  killed: number[];
}

/** Kills the processes inside every lab namespace and deletes the namespaces (pods last, switch last). */
export async function removeLabNamespaces(kill: (pid: number) => Promise<void>): Promise<TeardownReport> {
  const names = listNetns().filter(isLabNetns);
  const order = (n: string) => (n.startsWith('flatnet-pod-') ? 0 : n.startsWith('flatnet-node-') ? 1 : n === EXT_NETNS ? 2 : 3);
  names.sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  const killed: number[] = [];
  for (const name of names) {
    for (const pid of await netnsPids(name).catch(() => [])) {
      if (pid === process.pid) continue;
      await kill(pid);
      killed.push(pid);
    }
  }
  for (const name of names) {
    await deleteNetns(name);
    // Per-namespace resolv.conf/hosts made for `ip netns exec` style mounts.
    rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
  }
  return { namespaces: names, killed };
}
