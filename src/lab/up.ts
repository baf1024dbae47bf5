// `flatnet up`: builds the lab's namespaces, starts the supervisor (which runs one server and one
// agent per node), waits for every node to be Ready, and tells how to use the cluster.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import { KubeClient } from '../client/client.js';
import { WatchUntilTimeout, watchUntil } from '../client/watch-until.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { listNetns } from '../linux/netns.js';
import { createNodeNamespace, createSwitch, routeLoadBalancerPool } from './network.js';
import { API_LISTEN, API_UNDERLAY_URL, isLabNetns, planLab, type LabOptions, type LabState } from './plan.js';
import { flatnetCommand, isAlive, otherLabDataDirs, readPidFiles, supervisorCommand } from './processes.js';
import { labNodeFlags, withNodeFlags } from './node-flags.js';
import { writeNodeJoinEnvironment } from './node-credentials.js';
import { CLUSTER_DNS_IP, DNS_PROBE_NAME, installClusterDns, installKubeProxyConfig, installServedClasses } from './addons.js';
import { firstClusterDnsAnswer } from './dns-answer.js';
import { labelSystemNamespaces } from './pod-security.js';
import { planHaLab } from './ha-plan.js';
import { haAddressesInUse, prepareHaLab } from './ha-prepare.js';
import { installLabBgpPeer, labRouterProcesses, labRouterSummary, waitForBgpSessions, writeLabRouter } from './bgp-router.js';
import { UNDERLAY_SEGMENTS } from './underlay-segments.js';

export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

export interface UpOptions extends LabOptions {
  /** Seconds to wait for the nodes to be Ready (and DNS to answer). */
  timeoutSeconds: number;
  /** Install the cluster DNS add-on and wait until it answers (default true). */
  dns?: boolean;
  print(line: string): void;
}

function portInUse(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(':');
  return new Promise((done) => {
    const s = createConnection({ host, port: Number(port) });
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => done(false));
  });
}

/** Refuses to start over a running (or half-removed) lab. */
async function checkNoLab(dataDir: string, statePath: string): Promise<void> {
  const live = [...readPidFiles(`${dataDir}/pids`)].filter(([, pid]) => isAlive(pid));
  const namespaces = listNetns().filter(isLabNetns);
  const others = otherLabDataDirs(dataDir);
  if (others.length > 0) throw new LabError(`another lab is running with data directory ${others.join(', ')}; one lab runs per machine. Run \`flatnet down --data-dir ${others[0]}\` first.`);
  if (existsSync(statePath) || live.length > 0 || namespaces.length > 0) {
    const what = [
      existsSync(statePath) ? `${statePath} exists` : '',
      live.length ? `processes running: ${live.map(([n, p]) => `${n} (pid ${p})`).join(', ')}` : '',
      namespaces.length ? `namespaces present: ${namespaces.slice(0, 6).join(', ')}${namespaces.length > 6 ? ', ...' : ''}` : '',
    ].filter(Boolean);
    throw new LabError(`a lab is already running or was left behind (${what.join('; ')}). Run \`flatnet down --data-dir ${dataDir}\` first.`);
  }
  if (await portInUse(API_LISTEN)) throw new LabError(`${API_LISTEN} is already in use by another program; the lab's API server needs it. Stop that program (or its lab) first.`);
}

interface NodeObject extends KubeObject {
  spec?: { podCIDR?: string };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export function isNodeReady(n: NodeObject): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function labUp(o: UpOptions): Promise<{ readyMs: number; state: LabState }> {
  const t0 = Date.now();
  const dataDir = resolve(o.dataDir);
  const plan = o.ha ? planHaLab(planLab({ ...o, dataDir })) : planLab({ ...o, dataDir });
  await checkNoLab(dataDir, plan.paths.state);
  if (o.overlay === 'bgp') plan.processes.push(...labRouterProcesses(o.router ?? 'bird', dataDir, plan.paths.logs));
  const busy = plan.ha ? await haAddressesInUse(plan.ha) : [];
  if (busy.length) throw new LabError(`${busy.join(', ')} already in use by another program; the HA lab needs them. Stop that program first.`);

  // Record the lab before making anything, so `down` can undo a half-made one.
  const createdDataDir = !existsSync(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const state: LabState = { version: 1, createdAt: new Date().toISOString(), plan, preexisting: readdirSync(dataDir), createdDataDir, command: flatnetCommand() };
  writeFileSync(plan.paths.state, JSON.stringify(state, null, 2));
  mkdirSync(plan.paths.pids, { recursive: true });
  mkdirSync(plan.paths.logs, { recursive: true });
  if (plan.ha) prepareHaLab(plan.ha, o.print);
  if (o.overlay === 'bgp') writeLabRouter(o.router ?? 'bird', dataDir, plan.nodes);

  o.print(`creating the lab network: switch flatnet-lab (172.18.0.1/16), outside client flatnet-ext (172.18.0.200), ${plan.nodes.length} node namespace(s)`);
  await createSwitch(o.overlay === 'bgp' ? UNDERLAY_SEGMENTS : undefined);
  await Promise.all(plan.nodes.map((n) => createNodeNamespace(n)));
  await routeLoadBalancerPool(plan.nodes, { learnedByBgp: o.overlay === 'bgp' });
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  o.print(`lab network ready (${since()})`);

  o.print(`starting the API server (https://${API_LISTEN}; ${API_UNDERLAY_URL} on the lab underlay) and ${plan.nodes.length} agent(s), each in its node's namespace, joining with a bootstrap token; under a supervisor, logs in ${plan.paths.logs}`);
  const [cmd, ...args] = withNodeFlags(supervisorCommand(), labNodeFlags('supervisor'));
  const fd = openSync(`${plan.paths.logs}/supervisor.log`, 'a');
  const sup = spawn(cmd, [...args, plan.paths.state], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (!sup.pid) throw new LabError('could not start the lab supervisor');
  writeFileSync(`${plan.paths.pids}/supervisor.pid`, String(sup.pid));
  sup.unref();

  const deadline = t0 + o.timeoutSeconds * 1000;
  const serverLog = plan.processes[0].log;
  while (!existsSync(plan.kubeconfig)) {
    if (Date.now() > deadline) throw new LabError(`the API server did not write ${plan.kubeconfig} within ${o.timeoutSeconds}s. Last lines of ${serverLog}:\n${tail(serverLog)}`);
    if (!isAlive(sup.pid)) throw new LabError(`the lab supervisor exited. Last lines of ${plan.paths.logs}/supervisor.log:\n${tail(`${plan.paths.logs}/supervisor.log`)}`);
    await sleep(25);
  }
  o.print(`API server serving (${since()})`);
  const client = new KubeClient(loadKubeconfig(plan.kubeconfig));
  const ready = new Set<string>();
  let dnsInstalled: Promise<void> | undefined;
  try {
    await writeNodeJoinEnvironment(client, plan);
    // The add-ons that need no node go in while the agents start; cluster DNS goes in as soon as
    // every node has registered (its two pods spread over the nodes), while they become Ready.
    const nodeIndependentAddons = (async () => {
      await labelSystemNamespaces(client);
      await Promise.all([installServedClasses(client), installKubeProxyConfig(client, o.proxyMode), o.dns !== false ? installClusterDns(client, 2, 'without-deployment') : undefined]);
    })();
    nodeIndependentAddons.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    if (o.overlay === 'bgp') {
      await installLabBgpPeer(client, deadline, plan.nodes);
      o.print(`BGP: nodes on two underlay segments (172.18.0.0/24, 172.18.1.0/24) joined only by the lab router (172.18.0.1 and 172.18.1.1, AS 64512, route reflector): BGPPeers lab-router, lab-router-2; ${labRouterSummary(o.router ?? 'bird', dataDir, plan.paths.logs)}`);
    }
    // One watch on the Nodes: each is reported the moment it is Ready. The DNS Deployment goes in the
    // moment every node is Ready (the scheduler places pods on Ready nodes only, so its two pods spread).
    await watchUntil<NodeObject, true>(client, R.nodes, { timeoutMs: Math.max(0, deadline - Date.now()), what: 'every node Ready' }, (nodes) => {
      for (const n of nodes.values()) {
        const name = n.metadata.name ?? '';
        if (!ready.has(name) && isNodeReady(n)) {
          ready.add(name);
          o.print(`node ${name} Ready (${((Date.now() - t0) / 1000).toFixed(1)}s${n.spec?.podCIDR ? `, pod CIDR ${n.spec.podCIDR}` : ''})`);
        }
      }
      if (!plan.nodes.every((p) => ready.has(p.name))) return undefined;
      if (o.dns !== false) {
        dnsInstalled = nodeIndependentAddons.then(() => installClusterDns(client, 2, 'deployment'));
        dnsInstalled.catch(() => undefined); // awaited below
      }
      return true;
    }).catch((err: Error) => {
      if (!(err instanceof WatchUntilTimeout)) throw err;
      const missing = plan.nodes.filter((n) => !ready.has(n.name));
      const logs = missing.map((n) => `--- ${n.name} (${plan.paths.logs}/agent-${n.name}.log):\n${tail(`${plan.paths.logs}/agent-${n.name}.log`, 8)}`).join('\n');
      throw new LabError(`nodes not Ready after ${o.timeoutSeconds}s: ${missing.map((n) => n.name).join(', ')} (${err.message})\n${logs}`);
    });
    if (o.overlay === 'bgp') {
      await waitForBgpSessions(client, plan.nodes.map((n) => n.name), deadline).catch((err: Error) => {
        throw new LabError(`${err.message}\nthe router: ${labRouterSummary(o.router ?? 'bird', dataDir, plan.paths.logs)}`);
      });
      o.print(`BGP sessions Established on every node (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    }
    await nodeIndependentAddons;
    o.print('classes: GatewayClasses flatnet and nginx, IngressClasses flatnet (default) and nginx');
    if (o.dns !== false) {
      await (dnsInstalled ?? installClusterDns(client));
      o.print(`cluster DNS: Deployment kube-system/coredns behind Service kube-dns ${CLUSTER_DNS_IP}; waiting for an answer`);
      const answer = await firstClusterDnsAnswer(plan.nodes[0].netns, deadline);
      if (!answer) {
        const pods = await client.list(R.pods, { namespace: 'kube-system' }).catch(() => undefined);
        const states = (pods?.items ?? []).map((p) => `${p.metadata.name} on ${(p as { spec?: { nodeName?: string } }).spec?.nodeName ?? '?'}: ${(p as { status?: { phase?: string } }).status?.phase ?? '?'}`);
        throw new LabError(`cluster DNS ${CLUSTER_DNS_IP} did not answer ${DNS_PROBE_NAME} from ${plan.nodes[0].netns} within ${o.timeoutSeconds}s (pods: ${states.join('; ') || 'none'}). Agent logs are in ${plan.paths.logs}.`);
      }
      o.print(`cluster DNS answers (${DNS_PROBE_NAME} -> ${answer}, ${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    }
  } finally {
    client.close();
  }
  const readyMs = Date.now() - t0;
  o.print(`lab ready in ${(readyMs / 1000).toFixed(1)}s: ${plan.nodes.length} node(s), overlay ${o.overlay}, proxy ${o.proxyMode}, CNI plugins ${o.cniPlugins}`);
  o.print('');
  o.print(`  export KUBECONFIG=${plan.kubeconfig}`);
  o.print('  kubectl get nodes -o wide');
  o.print('');
  o.print(`  flatnet status --data-dir ${dataDir}    # processes, API health, nodes`);
  o.print(`  flatnet down --data-dir ${dataDir}      # stop everything and remove the lab`);
  return { readyMs, state };
}
