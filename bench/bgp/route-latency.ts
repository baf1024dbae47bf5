// Time from a change to the route present in a router's kernel table, p50/p99:
//   flatnet   a LoadBalancer Service created through the API (a lab from `flatnet up --overlay bgp
//             --nodes 2`, one ready nginx pod behind it) until its /32 is in the lab router's
//             (BIRD in flatnet-lab) kernel table: IP allocation, EndpointSlice, the agents'
//             announcement over BGP, BIRD's import and kernel export. Then the Service is deleted
//             and the time until the /32 is gone is measured too.
//   FRR       the peer measure in the same run: FRR's bgpd is told `network X/32` through vtysh
//             and the time until that /32 is in a BIRD's kernel table (FRR -> BIRD eBGP, both in
//             throwaway namespaces), then `no network X/32` until it is gone.
// Both ends are watched with `ip -o monitor route` in the router's namespace (a netlink event,
// no polling), both triggers are one command from this process (an HTTPS call on a kept-alive
// connection / a line to a vtysh kept open);
// samples alternate (flatnet, FRR, flatnet, FRR...) after one warm-up each, load printed per round.
// Run as root, under the lab and bench locks:
//   flock /tmp/flatnet-lab.lock flock /tmp/flatnet-bench.lock node --import tsx bench/bgp/route-latency.ts [--samples 20]
// `--peer-only` runs the FRR -> BIRD measure alone (no lab, no lab lock needed).
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { startLab, type Lab } from '../../test/support/lab.js';
import { eventually } from '../../test/support/eventually.js';
import { addNetns, deleteNetns, linkNetns, startBird, startFrr, type Bird, type Frr } from '../../test/support/routing-daemons.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const SAMPLES = Number(arg('samples', '20'));
const PEER_ONLY = process.argv.includes('--peer-only');
const NS = 'bgp-bench';
const LAB_ROUTER_NETNS = 'flatnet-lab';
const LB_POOL_PREFIX = '172.18.255.';
const tag = `bl${process.pid % 100000}`;
const BIRDS = `${tag}-b`;
const FRRS = `${tag}-f`;
const BIRD_IP = '172.31.248.1';
const FRR_IP = '172.31.248.2';
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

/** Route additions and deletions in one namespace, as `ip monitor` reports them, time-stamped. */
class RouteMonitor {
  private readonly child: ChildProcess;
  private readonly seen: { dst: string; deleted: boolean; at: number }[] = [];
  private readonly wake = new Set<() => void>();

  constructor(netns: string) {
    this.child = spawn('ip', ['-o', '-n', netns, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const at = performance.now();
      const deleted = line.startsWith('Deleted ');
      const dst = (deleted ? line.slice(8) : line).split(' ')[0].replace(/\/32$/, '');
      this.seen.push({ dst, deleted, at });
      for (const w of this.wake) w();
    });
  }

  /** The first event after `since` matching `match` (resolved as soon as it arrives). */
  async first(since: number, match: (dst: string, deleted: boolean) => boolean, what: string, timeoutMs = 120_000): Promise<{ dst: string; at: number }> {
    const find = () => this.seen.find((e) => e.at >= since && match(e.dst, e.deleted));
    const found = find();
    if (found) return found;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake.delete(check);
        reject(new Error(`${what}: not within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        const e = find();
        if (!e) return;
        clearTimeout(timer);
        this.wake.delete(check);
        resolve(e);
      };
      this.wake.add(check);
    });
  }

  stop(): void {
    this.child.kill();
  }
}

const state: { lab?: Lab; bird?: Bird; frr?: Frr; monitors: RouteMonitor[]; closers: (() => void)[] } = { monitors: [], closers: [] };

async function tearDown(): Promise<void> {
  for (const m of state.monitors) m.stop();
  for (const close of state.closers) close();
  await state.frr?.stop().catch(() => undefined);
  await state.bird?.stop().catch(() => undefined);
  for (const ns of [BIRDS, FRRS]) deleteNetns(ns);
  await state.lab?.down().catch((err: unknown) => console.error(`flatnet down: ${(err as Error).message}`));
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    void tearDown().finally(() => process.exit(130));
  });
}

function lbService(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] },
  };
}

async function setUpLab(): Promise<{ lab: Lab; router: RouteMonitor }> {
  const started = performance.now();
  const lab = await startLab({ nodes: 2, upArgs: ['--overlay', 'bgp'] });
  state.lab = lab;
  console.log(`lab up (2 nodes, --overlay bgp) in ${((performance.now() - started) / 1000).toFixed(1)} s; load ${load()}`);
  await lab.apply(`apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ${NS}, labels: {app: web}}
spec:
  nodeName: node-1
  containers: [{name: nginx, image: nginx:1.27, ports: [{containerPort: 80}]}]
`);
  await lab.ok(['wait', '-n', NS, '--for=condition=Ready', 'pod/web', '--timeout=120s']);
  const router = new RouteMonitor(LAB_ROUTER_NETNS);
  state.monitors.push(router);
  return { lab, router };
}

async function setUpPeers(): Promise<{ frr: Frr; birdKernel: RouteMonitor }> {
  addNetns(BIRDS);
  addNetns(FRRS);
  linkNetns({ netns: BIRDS, dev: `${tag}b`, ip: BIRD_IP }, { netns: FRRS, dev: `${tag}f`, ip: FRR_IP });
  state.bird = await startBird(
    BIRDS,
    `router id ${BIRD_IP};
protocol device {}
protocol kernel { ipv4 { import none; export all; }; }
protocol bgp frr {
  local ${BIRD_IP} as 64513;
  neighbor ${FRR_IP} as 64514;
  ipv4 { import all; export none; };
}
`,
    tag,
  );
  // Datacenter defaults: no advertisement interval (MRAI 0) for eBGP, as a ToR would run.
  state.frr = await startFrr(
    FRRS,
    `frr defaults datacenter
hostname ${FRRS}
router bgp 64514
 bgp router-id ${FRR_IP}
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor ${BIRD_IP} remote-as 64513
`,
    tag,
  );
  await eventually('BIRD and FRR Established', () => /Established/.test(state.bird!.birdc('show', 'protocols', 'frr')) || undefined, 60_000);
  const birdKernel = new RouteMonitor(BIRDS);
  state.monitors.push(birdKernel);
  return { frr: state.frr, birdKernel };
}

interface Sample {
  appearMs: number;
  goneMs: number;
}

async function flatnetSample(lab: Lab, router: RouteMonitor, i: number): Promise<Sample & { ip: string }> {
  const name = `lb-${i}`;
  const inPool = (dst: string) => dst.startsWith(LB_POOL_PREFIX);
  const t0 = performance.now();
  await lab.client.create(R.services, lbService(name));
  // One Service at a time: the first pool address added after the create is this Service's.
  const added = await router.first(t0, (dst, deleted) => !deleted && inPool(dst), `${name}'s address in the router`);
  const svc = await lab.client.get<KubeObject & { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }>(R.services, NS, name);
  const ip = svc?.status?.loadBalancer?.ingress?.[0]?.ip;
  if (ip !== added.dst) throw new Error(`the router gained ${added.dst} but ${name} has ${ip ?? 'no address'}`);
  const t1 = performance.now();
  await lab.client.delete(R.services, NS, name);
  const gone = await router.first(t1, (dst, deleted) => deleted && dst === ip, `${ip} withdrawn from the router`);
  return { appearMs: added.at - t0, goneMs: gone.at - t1, ip };
}

/**
 * One vtysh kept open in FRR's `address-family ipv4 unicast` configuration node, commands written
 * to its standard input: starting vtysh costs 300-400 ms on a loaded machine, which would swamp
 * the measure (our side's trigger is a call on a kept-alive HTTPS connection).
 */
function openVtysh(frr: Frr): { send(command: string): void; close(): void } {
  const child = spawn('vtysh', ['--vty_socket', frr.dir], { stdio: ['pipe', 'ignore', 'inherit'] });
  child.stdin!.write('configure terminal\nrouter bgp 64514\naddress-family ipv4 unicast\n');
  return { send: (command) => void child.stdin!.write(`${command}\n`), close: () => child.stdin!.end() };
}

async function frrSample(vtysh: ReturnType<typeof openVtysh>, birdKernel: RouteMonitor, i: number): Promise<Sample> {
  const dst = `10.77.${i >> 8}.${i & 255}`;
  const t0 = performance.now();
  vtysh.send(`network ${dst}/32`);
  const added = await birdKernel.first(t0, (d, deleted) => !deleted && d === dst, `${dst} in BIRD's kernel table`);
  const t1 = performance.now();
  vtysh.send(`no network ${dst}/32`);
  const gone = await birdKernel.first(t1, (d, deleted) => deleted && d === dst, `${dst} gone from BIRD's kernel table`);
  return { appearMs: added.at - t0, goneMs: gone.at - t1 };
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const fmt = (xs: number[]) => `p50 ${percentile(xs, 50).toFixed(0).padStart(5)} ms  p99 ${percentile(xs, 99).toFixed(0).padStart(5)} ms  (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/bgp/route-latency needs root (a lab, network namespaces)');
  if (!Number.isInteger(SAMPLES) || SAMPLES < 1) throw new Error(`--samples must be a positive whole number (got ${arg('samples', '20')})`);
  console.log(`route latency: change -> /32 in a router's kernel table; ${SAMPLES} interleaved samples each after a warm-up; load ${load()}`);
  const ours: Sample[] = [];
  const theirs: Sample[] = [];
  const { frr, birdKernel } = await setUpPeers();
  const vtysh = openVtysh(frr);
  state.closers.push(() => vtysh.close());
  const peer = (b: Sample) => `FRR network -> BIRD kernel ${b.appearMs.toFixed(0).padStart(5)} ms, no network -> gone ${b.goneMs.toFixed(0).padStart(5)} ms  load ${load()}`;
  if (PEER_ONLY) {
    await frrSample(vtysh, birdKernel, 0);
    for (let i = 1; i <= SAMPLES; i++) {
      const b = await frrSample(vtysh, birdKernel, i);
      theirs.push(b);
      console.log(`sample ${String(i).padStart(2)}  ${peer(b)}`);
    }
    console.log(`\npeer only: FRR vtysh network -> BIRD  ${fmt(theirs.map((s) => s.appearMs))}\n           no network -> gone       ${fmt(theirs.map((s) => s.goneMs))}`);
    return;
  }
  const { lab, router } = await setUpLab();
  await flatnetSample(lab, router, 0);
  await frrSample(vtysh, birdKernel, 0);
  for (let i = 1; i <= SAMPLES; i++) {
    const a = await flatnetSample(lab, router, i);
    ours.push(a);
    const b = await frrSample(vtysh, birdKernel, i);
    theirs.push(b);
    console.log(`sample ${String(i).padStart(2)}  flatnet Service -> ${a.ip} in lab router ${a.appearMs.toFixed(0).padStart(5)} ms, delete -> gone ${a.goneMs.toFixed(0).padStart(5)} ms | ${peer(b)}`);
  }
  console.log('\nannounce (change -> /32 in the router\'s kernel table)');
  console.log(`  flatnet: LoadBalancer Service create -> lab router (BIRD)  ${fmt(ours.map((s) => s.appearMs))}`);
  console.log(`  peer:    FRR vtysh network -> BIRD                       ${fmt(theirs.map((s) => s.appearMs))}`);
  console.log('withdraw (change -> /32 gone)');
  console.log(`  flatnet: Service delete -> gone from the lab router        ${fmt(ours.map((s) => s.goneMs))}`);
  console.log(`  peer:    FRR vtysh no network -> gone from BIRD           ${fmt(theirs.map((s) => s.goneMs))}`);
  const ratio = (p: number, f: (s: Sample) => number) => (percentile(ours.map(f), p) / percentile(theirs.map(f), p)).toFixed(2);
  console.log(`flatnet / peer  announce p50 ${ratio(50, (s) => s.appearMs)}  p99 ${ratio(99, (s) => s.appearMs)}   withdraw p50 ${ratio(50, (s) => s.goneMs)}  p99 ${ratio(99, (s) => s.goneMs)}`);
  console.log(`load average at the end ${load()}`);
}

try {
  await main();
} finally {
  await tearDown();
}
