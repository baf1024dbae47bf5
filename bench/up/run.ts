// Lab start-up and size: `flatnet up` -> nodes Ready -> DNS answering, with a timeline of which
// step waited for what; the memory of every lab process (RSS, PSS, USS: see memory.ts) at rest and
// with the burst's pods; N pods created at once over the nodes -> all Running, with per-pod
// create -> Running percentiles (upstream's pod start-up SLO: 5 s p99); overlay convergence.
// Published numbers of other local clusters are printed beside them (not measured here: no Docker).
// Run: node --import tsx bench/up/run.ts [--nodes N] [--pods N]   (root)
//   More pods than the nodes take by default (110 each, as the kubelet's --max-pods) run the lab
//   with `up --max-pods` just large enough for them and the cluster DNS pods (at most the 253 pod
//   addresses of a lab node's /24).
//   FLATNET_LAB_NODE_FLAGS="..." sets the V8 flags of the lab's processes (src/lab/node-flags.ts).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { cmdline, findLabProcesses } from '../../src/lab/processes.js';
import { KubeClient } from '../../src/client/client.js';
import { loadKubeconfig } from '../../src/client/kubeconfig.js';
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { cpuMsOf, formatCpu, formatMemory, labRole, memoryOf, type ProcessMemory } from './memory.js';
import { formatTimeline, logTimeline, type TimelineEvent } from './timeline.js';
import { agentStartupMarks, formatStepStats, stepStats, type BenchMarks } from './burst-trace.js';
import { MAX_PODS } from '../../src/agent/node-status.js';

const repo = new URL('../../', import.meta.url).pathname;
const flatnet = join(repo, 'bin/flatnet');
const argValue = (flag: string, dflt: number) => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const NODES = argValue('--nodes', 2);
const PODS = argValue('--pods', 100);
/** The lab's cluster DNS pods (src/lab/up.ts installs 2), which take pod slots beside the burst's. */
const DNS_PODS = 2;
/** Usable pod addresses of a lab node's /24 pod CIDR (.1 is the bridge's). */
const POD_ADDRESSES_PER_NODE = 253;

/** The --max-pods the burst needs (undefined: the default fits); pods are spread evenly over the nodes. */
function maxPodsFor(pods: number, nodes: number): number | undefined {
  const perNode = Math.ceil((pods + DNS_PODS) / nodes);
  if (perNode > POD_ADDRESSES_PER_NODE) throw new Error(`${pods} pods and ${DNS_PODS} DNS pods over ${nodes} nodes need ${perNode} per node, more than the ${POD_ADDRESSES_PER_NODE} pod addresses of a lab node's /24: use more --nodes`);
  return perNode > MAX_PODS ? perNode : undefined;
}
const MAX_PODS_FLAG = maxPodsFor(PODS, NODES);

function routeFor(cidr: string): string {
  return execFileSync('ip', ['-n', 'flatnet-node-node-1', 'route', 'show', cidr], { encoding: 'utf8' }).trim();
}

/**
 * Time from a Node write (pod CIDR, InternalIP, VTEP MAC) to its route on node-1, and from its
 * deletion to the route's removal (API client calls, no kubectl start-up in the timing).
 */
async function measureOverlayConvergence(client: KubeClient): Promise<{ joinMs: number; leaveMs: number }> {
  const cidr = '10.244.200.0/24';
  const waitFor = async (want: boolean, since: number): Promise<number> => {
    while ((routeFor(cidr) !== '') !== want) {
      if (Date.now() - since > 30_000) throw new Error(`overlay did not ${want ? 'add' : 'remove'} the route for ${cidr}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return Date.now() - since;
  };
  const created = await client.create<KubeObject>(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'bench-peer', annotations: { 'flatnet.dev/vtep-mac': '0e:00:00:00:02:00' } }, spec: { podCIDR: cidr, podCIDRs: [cidr] } } as KubeObject);
  const t0 = Date.now();
  await client.updateStatus(R.nodes, { ...created, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.99' }] } } as KubeObject);
  const joinMs = await waitFor(true, t0);
  const t1 = Date.now();
  await client.delete(R.nodes, undefined, 'bench-peer');
  const leaveMs = await waitFor(false, t1);
  return { joinMs, leaveMs };
}

/** Runs `flatnet up`, stamping each line it prints with the time it arrived. */
function runUp(dataDir: string, t0: number): Promise<{ events: TimelineEvent[]; out: string }> {
  return new Promise((resolve, reject) => {
    const maxPods = MAX_PODS_FLAG !== undefined ? ['--max-pods', String(MAX_PODS_FLAG)] : [];
    const child = spawn(flatnet, ['up', '--nodes', String(NODES), '--data-dir', dataDir, ...maxPods], { stdio: ['ignore', 'pipe', 'pipe'] });
    const events: TimelineEvent[] = [];
    let out = '';
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const at = Date.now() - t0;
      partial += chunk.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        out += l + '\n';
        const step = /^(lab network ready|API server serving|node \S+ Ready|cluster DNS answers)/.exec(l);
        if (step) events.push({ atMs: at, what: `up: ${step[1]}` });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('exit', (code) => (code === 0 ? resolve({ events, out }) : reject(new Error(`flatnet up failed (exit ${code}):\n${out}`))));
  });
}

/** The lab's processes by pid, with their roles. */
function labRoles(dataDir: string): Map<number, string> {
  return new Map(findLabProcesses(dataDir).map((pid) => [pid, labRole(cmdline(pid))]));
}

function cpuReading(pids: Iterable<number>): Map<number, number> {
  return new Map([...pids].map((pid) => [pid, cpuMsOf(pid) ?? 0]));
}

/** Established TCP connections the API server holds on :6443 (every lab client, through the relay or not). */
function apiServerConnections(): number {
  const r = spawnSync('ss', ['-tnH', 'state', 'established', '( sport = :6443 )'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ss failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

function labMemory(dataDir: string): ProcessMemory[] {
  return findLabProcesses(dataDir)
    .map((pid) => memoryOf(pid, labRole(cmdline(pid))))
    .filter((m): m is ProcessMemory => m !== undefined);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

interface PodPhase extends KubeObject {
  spec?: { nodeName?: string };
  status?: { phase?: string; conditions?: { type: string; status: string; message?: string }[] };
}

/** The burst's pods that are not Running, grouped by node, phase and their PodScheduled message. */
async function whyNotRunning(client: KubeClient, prefix: string): Promise<string> {
  const groups = new Map<string, number>();
  for (const p of (await client.list<PodPhase>(R.pods, { namespace: 'default' })).items) {
    if (!p.metadata.name?.startsWith(prefix) || p.status?.phase === 'Running') continue;
    const scheduled = p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.message;
    const why = `${p.spec?.nodeName ?? 'not bound'}, ${p.status?.phase ?? 'no phase'}${scheduled ? `: ${scheduled}` : ''}`;
    groups.set(why, (groups.get(why) ?? 0) + 1);
  }
  return [...groups].map(([why, n]) => `${n} x (${why})`).join('; ');
}

/**
 * Creates `count` pods at once and waits until every one is Running; per pod: the create call
 * issued and answered, the binding and Running seen on a watch (epoch ms).
 */
async function podBurst(client: KubeClient, count: number): Promise<{ allMs: number; perPodMs: number[]; marks: Map<string, BenchMarks> }> {
  const prefix = 'bench-burst-';
  const marks = new Map<string, BenchMarks>();
  let runningCount = 0;
  const start = await client.list(R.pods, { namespace: 'default' });
  let allRunning!: () => void;
  const done = new Promise<void>((r) => (allRunning = r));
  const watch = client.watch<PodPhase>(R.pods, { namespace: 'default', resourceVersion: start.metadata.resourceVersion }, (ev) => {
    const name = ev.object.metadata?.name ?? '';
    if (!name.startsWith(prefix)) return;
    const at = Date.now();
    const m = marks.get(name) ?? { issued: NaN };
    marks.set(name, m);
    if (ev.object.spec?.nodeName) m.scheduled ??= at;
    if (m.running !== undefined || ev.object.status?.phase !== 'Running') return;
    m.running = at;
    if (++runningCount === count) allRunning();
  });
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const name = `${prefix}${i}`;
      const issued = Date.now();
      const m = marks.get(name) ?? { issued };
      m.issued = issued;
      marks.set(name, m);
      await client.create<KubeObject>(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } as KubeObject);
      m.created = Date.now();
    }),
  );
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, 300_000).unref());
  await Promise.race([done, timeout]);
  if (runningCount < count) {
    watch.stop();
    throw new Error(`only ${runningCount} of ${count} pods Running after 300 s; the others: ${await whyNotRunning(client, prefix)}`);
  }
  const allMs = Date.now() - t0;
  watch.stop();
  const perPodMs = [...marks.values()].filter((m) => m.running !== undefined).map((m) => m.running! - m.issued).sort((a, b) => a - b);
  return { allMs, perPodMs, marks };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the up bench needs root');
  spawnSync(flatnet, ['--help'], { stdio: 'ignore' }); // build outside the timed part
  const dataDir = join(mkdtempSync(join(tmpdir(), 'flatnet-bench-up-')), 'data');
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const loadBefore = loadavg()[0];
  if (MAX_PODS_FLAG !== undefined) console.log(`running the lab with up --max-pods ${MAX_PODS_FLAG} (${PODS} pods and ${DNS_PODS} DNS pods over ${NODES} nodes)`);
  try {
    const t0 = Date.now();
    const up = await runUp(dataDir, t0);
    const readyMs = Date.now() - t0; // up returns once nodes are Ready and cluster DNS answers
    const nodeReady = up.events.filter((e) => e.what.startsWith('up: node ')).map((e) => e.atMs);
    const timeline = [...up.events, ...logTimeline(join(dataDir, 'logs'), t0)].sort((a, b) => a.atMs - b.atMs);
    const client = new KubeClient(loadKubeconfig(join(dataDir, 'admin.kubeconfig')));
    try {
      await new Promise((r) => setTimeout(r, 3000)); // let start-up settle before reading memory
      const atRest = labMemory(dataDir);
      const connectionsAtRest = apiServerConnections();
      const roles = labRoles(dataDir);
      const cpuBefore = cpuReading(roles.keys());
      const burst = PODS > 0 ? await podBurst(client, PODS) : undefined;
      const cpuAfter = cpuReading(roles.keys());
      if (burst) await new Promise((r) => setTimeout(r, 2000));
      const agentMarks = burst ? agentStartupMarks(join(dataDir, 'logs'), new Set(burst.marks.keys())) : new Map();
      const withPods = burst ? labMemory(dataDir) : [];
      const connectionsWithPods = burst ? apiServerConnections() : undefined;
      const overlay = await measureOverlayConvergence(client);

      const podsFlag = MAX_PODS_FLAG !== undefined ? `up --max-pods ${MAX_PODS_FLAG}: ${PODS} pods and ${DNS_PODS} DNS pods need more than ${MAX_PODS} per node; ` : '';
      console.log(`flatnet lab, ${NODES} nodes (${podsFlag}load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after; ${process.env.FLATNET_LAB_NODE_FLAGS !== undefined ? `lab V8 flags "${process.env.FLATNET_LAB_NODE_FLAGS}"` : 'default lab V8 flags'}):`);
      console.log(`  up -> all nodes Ready         ${s(Math.max(...nodeReady))}`);
      console.log(`  up -> cluster DNS answers     ${s(readyMs)}   (up returns)`);
      console.log('  start-up timeline (since `flatnet up` was run; +step):');
      for (const line of formatTimeline(timeline)) console.log(`    ${line}`);
      console.log('  lab memory at rest:');
      for (const line of formatMemory(atRest)) console.log(`    ${line}`);
      if (burst) {
        const p = burst.perPodMs;
        console.log(`  ${PODS} nginx pods created at once -> all Running ${s(burst.allMs)}; per pod create -> Running p50 ${s(percentile(p, 50))}, p99 ${s(percentile(p, 99))} (target: all within 5 s)`);
        console.log(`  CPU time of the lab's processes from the first create call to all Running (with the children they waited for):`);
        for (const line of formatCpu(roles, cpuBefore, cpuAfter)) console.log(`    ${line}`);
        console.log(`  where the burst's pods waited (${agentMarks.size} of ${PODS} pods traced by their agent):`);
        const traced = [...burst.marks].map(([name, m]) => ({ ...agentMarks.get(name), ...m }));
        for (const line of formatStepStats(stepStats(traced))) console.log(`    ${line}`);
        console.log(`  lab memory with the ${PODS} pods:`);
        for (const line of formatMemory(withPods)) console.log(`    ${line}`);
      }
      console.log(`  TCP connections the API server holds (:6443): ${connectionsAtRest} at rest${connectionsWithPods === undefined ? '' : `, ${connectionsWithPods} with the ${PODS} pods`}`);
      console.log(`  overlay: Node added -> route on node-1 ${overlay.joinMs} ms; Node deleted -> route gone ${overlay.leaveMs} ms (target <= 1000 ms)`);
      const pss = atRest.reduce((t, m) => t + m.pssKiB, 0) / 1024;
      console.log('published anchors (other tools, other machines; not measured in this run):');
      console.log(`  kind v0.29.0 cluster start 33.0 s -> flatnet (up returns) ratio ${(readyMs / 33000).toFixed(2)}x; k3d 19.9 s -> ${(readyMs / 19900).toFixed(2)}x; minikube 50.8 s -> ${(readyMs / 50800).toFixed(2)}x`);
      console.log(`  k3s agent 275 MB / k0s controller 510 MB / MicroK8s min 540 MB -> flatnet whole lab (PSS) ${(pss / 275).toFixed(2)}x of a k3s agent`);
    } finally {
      client.close();
    }
  } finally {
    spawnSync(flatnet, ['down', '--data-dir', dataDir], { stdio: 'ignore' });
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
