// The lab's shape as data: namespaces, addresses, links and the processes to run, computed from
// the `flatnet up` flags. Everything the lab makes carries the `flatnet` prefix so that `down`
// can find a lab left behind by a crash.
import { join } from 'node:path';
import type { HaPlan } from './ha-plan.js';
import { segmentOfNode, type UnderlaySegment } from './underlay-segments.js';

export const LAB_NETNS = 'flatnet-lab';
export const EXT_NETNS = 'flatnet-ext';
export const NODE_NETNS_PREFIX = 'flatnet-node-';
export const POD_NETNS_PREFIX = 'flatnet-pod-';
export const LAB_BRIDGE = 'flatnet0';
export const UNDERLAY_CIDR = '172.18.0.0/16';
export const LAB_GATEWAY = '172.18.0.1';
export const EXT_ADDRESS = '172.18.0.200';
export const LB_POOL = '172.18.255.0/24';
export const API_LISTEN = '127.0.0.1:6443';
export const MAX_NODES = 50;
export const DEFAULT_DATA_DIR = '/var/lib/flatnet';

/** Namespaces that belong to a lab (what `down` removes). */
export function isLabNetns(name: string): boolean {
  return name === LAB_NETNS || name === EXT_NETNS || (name.startsWith(NODE_NETNS_PREFIX) && name.length > NODE_NETNS_PREFIX.length) || (name.startsWith(POD_NETNS_PREFIX) && name.length > POD_NETNS_PREFIX.length);
}

export interface LabOptions {
  nodes: number;
  overlay: 'vxlan' | 'host-gw' | 'bgp';
  proxyMode: 'nftables' | 'iptables';
  cniPlugins: 'flatnet' | 'reference';
  dataDir: string;
  /** `up --ha`: 3 etcd members and 2 API servers (see ha-plan.ts). */
  ha?: boolean;
  /** `--overlay bgp`: the lab router's daemon (bgp-router.ts; default BIRD). */
  router?: 'bird' | 'frr';
  /** The pods each node takes (the agents' --max-pods); absent: the agents' default. */
  maxPods?: number;
}

export interface LabNode {
  name: string;
  netns: string;
  ip: string;
  /** The veth end in the lab switch namespace (its peer is eth0 in the node). */
  switchPort: string;
  kubeletListen: string;
  /** The node's own data directory (0700): its agent writes every file in it; `up` writes none. */
  dataDir: string;
  /** `--overlay bgp`: the underlay segment the node is on (underlay-segments.ts); absent: the one /16 switch. */
  segment?: UnderlaySegment;
}

export interface LabProcess {
  name: string;
  /** Arguments after `flatnet` (or after `program`). */
  args: string[];
  /** Run this program instead of `flatnet` (etcd in the HA lab). */
  program?: string;
  log: string;
  /** Start only once this file exists. */
  waitForFile?: string;
  /** A JSON object of environment variables for the process, read at each start (it is waited for). */
  envFile?: string;
  /** Run inside this network namespace (only its network: the mount namespace stays the machine's). */
  netns?: string;
}

export interface LabPlan {
  options: LabOptions;
  /** Where the API server is reachable inside the lab (piped to API_LISTEN by the supervisor). */
  apiBridge?: { netns: string; host: string; port: number };
  nodes: LabNode[];
  kubeconfig: string;
  processes: LabProcess[];
  /** `join` is the agents' bootstrap token and CA pin (0600), handed to them as environment variables. */
  paths: { state: string; pids: string; logs: string; nodes: string; join: string };
  /** The HA lab's etcd members and further API servers (`up --ha`). */
  ha?: HaPlan;
}

/** The API server's address on the underlay, where agents in node namespaces reach it. */
export const API_UNDERLAY_URL = `https://${LAB_GATEWAY}:${API_LISTEN.split(':')[1]}`;

export function nodeName(i: number): string {
  return `node-${i}`;
}

export function planLab(o: LabOptions): LabPlan {
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > MAX_NODES) throw new Error(`--nodes must be a whole number from 1 to ${MAX_NODES} (got ${o.nodes})`);
  const kubeconfig = join(o.dataDir, 'admin.kubeconfig');
  const paths = { state: join(o.dataDir, 'lab.json'), pids: join(o.dataDir, 'pids'), logs: join(o.dataDir, 'logs'), nodes: join(o.dataDir, 'nodes'), join: join(o.dataDir, 'node-join.json') };
  const nodes: LabNode[] = [];
  for (let i = 1; i <= o.nodes; i++) {
    const name = nodeName(i);
    const segmented = o.overlay === 'bgp' ? segmentOfNode(i) : undefined;
    nodes.push({
      name,
      netns: `${NODE_NETNS_PREFIX}${name}`,
      ip: segmented?.ip ?? `172.18.0.${10 + i}`,
      ...(segmented ? { segment: segmented.segment } : {}),
      switchPort: `veth-${name}`,
      // Inside the node's namespace, at every address: the server reaches it at the node's IP.
      kubeletListen: '0.0.0.0:10250',
      dataDir: join(paths.nodes, name),
    });
  }
  const processes: LabProcess[] = [
    {
      name: 'server',
      args: ['server', '--data-dir', o.dataDir, '--listen', API_LISTEN, '--advertise-address', LAB_GATEWAY, '--load-balancer-pool', LB_POOL, '--kubelet-netns', LAB_NETNS],
      log: join(paths.logs, 'server.log'),
    },
    // Each agent runs inside its node's namespace and joins as a node on another machine would:
    // it reaches the server only at its underlay address, with the bootstrap token and CA pin
    // from its environment, and makes its own key and certificates in its own data directory.
    ...nodes.map((n) => ({
      name: `agent-${n.name}`,
      args: [
        'join',
        '--node', n.name,
        '--server', API_UNDERLAY_URL,
        '--netns', n.netns,
        '--node-ip', n.ip,
        '--overlay', o.overlay,
        '--proxy-mode', o.proxyMode,
        '--kubelet-listen', n.kubeletListen,
        '--data-dir', n.dataDir,
        '--cni-plugins', o.cniPlugins,
        '--container-runtime-endpoint', `unix://${join(n.dataDir, 'runtime', 'runtime.sock')}`,
        ...(o.maxPods !== undefined ? ['--max-pods', String(o.maxPods)] : []),
        // Started with the server: loads its code while the server starts, then joins once `up` wrote the token.
        '--join-env-file', paths.join,
      ],
      log: join(paths.logs, `agent-${n.name}.log`),
      netns: n.netns,
    })),
    // Each node's runtime runs its containers, in the node's namespace like its agent, and
    // outlives agent restarts; the agent reaches it on its unix socket in the node's data directory.
    ...nodes.map((n) => ({ name: `runtime-${n.name}`, args: ['runtime', '--data-dir', n.dataDir], log: join(paths.logs, `runtime-${n.name}.log`), netns: n.netns })),
  ];
  return { options: o, nodes, kubeconfig, processes, paths, apiBridge: { netns: LAB_NETNS, host: LAB_GATEWAY, port: Number(API_LISTEN.split(':')[1]) } };
}

/** What `up` records in <data>/lab.json for `status` and `down`. */
export interface LabState {
  version: 1;
  createdAt: string;
  plan: LabPlan;
  /** Entries of the data directory that existed before `up` (kept by `down`). */
  preexisting: string[];
  /** Whether `up` created the data directory itself (then `down` removes it). */
  createdDataDir: boolean;
  /** The command that runs `flatnet` (node and the CLI entry). */
  command: string[];
}
