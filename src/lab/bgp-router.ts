// The lab's router for `flatnet up --overlay bgp`: BIRD 2 in the switch namespace flatnet-lab,
// AS 64512, a route reflector with every node as its client. The nodes sit on two underlay
// segments joined only by this router (underlay-segments.ts: 172.18.0.1 on one, 172.18.1.1 on the
// other), so it re-announces each node's routes with itself as next hop and routes the pod
// traffic between segments as plain IP. It installs what the nodes announce (pod CIDRs,
// LoadBalancer /32s with one next hop per announcing node) into the switch's kernel table, which
// routes the outside client's traffic. Graceful restart is on, so an agent restart keeps its
// routes. The cluster side is one BGPPeer per segment, selecting that segment's nodes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeClient } from '../client/client.js';
import { isAlreadyExists } from '../client/client.js';
import { mustFindResource, R } from '../api/resources.js';
import { nodeSessions, statusText } from '../overlay/bgp/status-report.js';
import type { KubeObject } from '../api/types.js';
import { BGP_PEERS, bgpPeerCrd } from '../overlay/bgp/crd.js';
import { DEFAULT_NODE_ASN } from '../overlay/bgp/peers.js';
import { LAB_GATEWAY, LAB_NETNS, type LabNode, type LabProcess } from './plan.js';
import { FRR_ROUTER_DIR, labFrrProcesses, writeLabFrrConfig } from './frr-router.js';

/** The routing daemon of the lab router: BIRD 2 (default) or FRR (frr-router.ts). */
export type LabRouterKind = 'bird' | 'frr';

export const LAB_ROUTER_ASN = DEFAULT_NODE_ASN;
export const LAB_BGP_PEER = 'lab-router';

/** BIRD's configuration for the lab's nodes (pure). */
export function labRouterConfig(nodes: readonly Pick<LabNode, 'name' | 'ip' | 'segment'>[]): string {
  const sessions = nodes.map(
    (n) => `protocol bgp ${n.name.replace(/[^A-Za-z0-9_]/g, '_')} from flatnet_node {
  local ${n.segment?.gateway ?? LAB_GATEWAY} as ${LAB_ROUTER_ASN};
  neighbor ${n.ip} as ${LAB_ROUTER_ASN};
}`,
  );
  return `# Written by flatnet up --overlay bgp: the lab's route reflector.
router id ${LAB_GATEWAY};
protocol device {}
protocol kernel {
  ipv4 { import none; export all; };
  merge paths on;
}
template bgp flatnet_node {
  rr client;
  graceful restart on;
  # Each node is on one of the router's segments: sessions are direct and the next hops it
  # announces are used as they are (for iBGP BIRD would otherwise resolve them through an IGP it
  # does not have and mark the routes unreachable). Nodes on the other segment cannot reach those
  # next hops, so what the router reflects carries its own address on the node's segment.
  direct;
  ipv4 { import all; export all; gateway direct; next hop self on; };
}
${sessions.join('\n')}
`;
}

/** The router process (BIRD in the foreground inside flatnet-lab) of a lab in `dataDir`. */
export function labRouterProcess(dataDir: string, logs: string): LabProcess {
  const dir = join(dataDir, 'router');
  return { name: 'router', program: 'bird', args: ['-f', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl')], log: join(logs, 'router.log'), netns: LAB_NETNS };
}

/** Writes the router's configuration, 0600 in a 0700 directory. */
export function writeLabRouterConfig(dataDir: string, nodes: readonly LabNode[]): void {
  const dir = join(dataDir, 'router');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'bird.conf'), labRouterConfig(nodes), { mode: 0o600 });
}

/** The router's processes for `kind`. */
export function labRouterProcesses(kind: LabRouterKind, dataDir: string, logs: string): LabProcess[] {
  return kind === 'frr' ? labFrrProcesses(logs) : [labRouterProcess(dataDir, logs)];
}

/** Writes the configuration of the router `kind`. */
export function writeLabRouter(kind: LabRouterKind, dataDir: string, nodes: readonly LabNode[]): void {
  if (kind === 'frr') writeLabFrrConfig(nodes, LAB_ROUTER_ASN);
  else writeLabRouterConfig(dataDir, nodes);
}

/** One line for `up`: what the router is and how to ask it (its own CLI). */
export function labRouterSummary(kind: LabRouterKind, dataDir: string, logs: string): string {
  return kind === 'frr'
    ? `FRR (zebra + bgpd) in flatnet-lab; its CLI: vtysh --vty_socket ${FRR_ROUTER_DIR} -c 'show ip bgp'; logs ${logs}/router-bgpd.log`
    : `BIRD in flatnet-lab; its CLI: birdc -s ${labRouterSocket(dataDir)} show route; log ${logs}/router.log`;
}

/** The control socket of the lab router, for `birdc -s`. */
export function labRouterSocket(dataDir: string): string {
  return join(dataDir, 'router', 'bird.ctl');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until every node has published an Established session (so pods reach across nodes). */
export async function waitForBgpSessions(client: KubeClient, nodeNames: readonly string[], deadline: number): Promise<void> {
  for (;;) {
    const rows = nodeSessions((await client.list(R.nodes)).items).filter((r) => nodeNames.includes(r.node));
    const down = nodeNames.filter((n) => !rows.find((r) => r.node === n)?.sessions.some((s) => s.state === 'Established'));
    if (down.length === 0) return;
    if (Date.now() > deadline) throw new Error(`BGP sessions not Established on ${down.join(', ')}:\n${statusText(rows, Date.now())}`);
    await sleep(200);
  }
}

/**
 * The BGPPeers of the lab: `lab-router` (172.18.0.1) for the nodes of the first segment and
 * `lab-router-2` (172.18.1.1) for those of the second, each selecting its nodes by hostname (pure).
 * Nodes without a segment (one shared switch) all peer with `lab-router`.
 */
export function labBgpPeers(nodes: readonly Pick<LabNode, 'name' | 'segment'>[]): KubeObject[] {
  const bySegment = new Map<string, string[]>();
  for (const n of nodes) {
    const gateway = n.segment?.gateway ?? LAB_GATEWAY;
    bySegment.set(gateway, [...(bySegment.get(gateway) ?? []), n.name]);
  }
  const segmented = nodes.some((n) => n.segment);
  return [...bySegment].map(([gateway, names], i) => ({
    apiVersion: 'flatnet.dev/v1',
    kind: 'BGPPeer',
    metadata: { name: i === 0 ? LAB_BGP_PEER : `${LAB_BGP_PEER}-${i + 1}` },
    spec: {
      peerAddress: gateway,
      peerASN: LAB_ROUTER_ASN,
      ...(segmented ? { nodeSelector: { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: names }] } } : {}),
    },
  }));
}

/** Installs the BGPPeer CRD and the BGPPeers that point every node at the lab router. */
export async function installLabBgpPeer(client: KubeClient, deadline: number, nodes: readonly LabNode[]): Promise<void> {
  try {
    await client.create(mustFindResource('apiextensions.k8s.io', 'customresourcedefinitions'), bgpPeerCrd());
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  for (const peer of labBgpPeers(nodes)) {
    for (;;) {
      try {
        await client.create(BGP_PEERS, peer);
        break;
      } catch (err) {
        if (isAlreadyExists(err)) break;
        // The CRD's resource is served once it is Established (a moment after its creation).
        if (Date.now() > deadline) throw new Error(`cannot create BGPPeer ${peer.metadata.name}: ${(err as Error).message}`, { cause: err });
        await sleep(100);
      }
    }
  }
}
