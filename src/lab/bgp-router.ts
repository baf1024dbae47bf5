// The lab's router for `flatnet up --overlay bgp`: BIRD 2 in the switch namespace flatnet-lab
// (172.18.0.1), AS 64512, a route reflector with every node as its client, so nodes learn each
// other's pod CIDRs through it, and it installs what they announce (pod CIDRs, LoadBalancer /32s
// with one next hop per announcing node) into the switch's kernel table, which routes the outside
// client's traffic. Graceful restart is on, so an agent restart keeps its routes. The cluster side
// is a BGPPeer object pointing every node at it.
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

export const LAB_ROUTER_ASN = DEFAULT_NODE_ASN;
export const LAB_BGP_PEER = 'lab-router';

/** BIRD's configuration for the lab's nodes (pure). */
export function labRouterConfig(nodes: readonly Pick<LabNode, 'name' | 'ip'>[]): string {
  const sessions = nodes.map(
    (n) => `protocol bgp ${n.name.replace(/[^A-Za-z0-9_]/g, '_')} from flatnet_node {
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
  local ${LAB_GATEWAY} as ${LAB_ROUTER_ASN};
  rr client;
  graceful restart on;
  # The nodes share the router's segment: sessions are direct and their next hops used as they are
  # (for iBGP BIRD would otherwise resolve next hops through an IGP it does not have and mark the
  # routes unreachable).
  direct;
  ipv4 { import all; export all; gateway direct; };
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

/** Installs the BGPPeer CRD and the BGPPeer that points every node at the lab router. */
export async function installLabBgpPeer(client: KubeClient, deadline: number): Promise<void> {
  try {
    await client.create(mustFindResource('apiextensions.k8s.io', 'customresourcedefinitions'), bgpPeerCrd());
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const peer: KubeObject = { apiVersion: 'flatnet.dev/v1', kind: 'BGPPeer', metadata: { name: LAB_BGP_PEER }, spec: { peerAddress: LAB_GATEWAY, peerASN: LAB_ROUTER_ASN } };
  for (;;) {
    try {
      await client.create(BGP_PEERS, peer);
      return;
    } catch (err) {
      if (isAlreadyExists(err)) return;
      // The CRD's resource is served once it is Established (a moment after its creation).
      if (Date.now() > deadline) throw new Error(`cannot create BGPPeer ${LAB_BGP_PEER}: ${(err as Error).message}`, { cause: err });
      await sleep(100);
    }
  }
}
