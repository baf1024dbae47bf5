// BGP UPDATE processing rate: flatnet's speaker against FRR, both peering with the same BIRD 2.
//   learn     BIRD originates N static /24 routes (blackhole) and exports them; the time from
//             session start to all N learned (a) by our speaker (best-route events from its Rib)
//             and (b) by FRR's bgpd (the peer's pfxRcd in `show ip bgp summary json`, polled),
//             plus the time until zebra has put all N in FRR's namespace kernel table.
//   announce  the reverse: our speaker announces N prefixes; time until BIRD has all N
//             (`birdc show route protocol <p> count`, polled).
// Rounds are interleaved (ours, FRR, ours, FRR...), after one warm-up round each, with the load
// average printed per round. Run as root: `node --import tsx bench/bgp/run.ts [--prefixes 10000] [--rounds 5]`;
// BENCH_DEBUG=1 also prints when each batch of routes reached our speaker (ms after Established).
// BIRD 2 holds back the last partial batch of its initial export (10,000 = 39 x 256 + 16 routes)
// until something arrives on one of its sockets or its 3 s poll timeout passes: that was the ~3 s
// stall of this bench. FRR's own messages wake it; our speaker now sends one KEEPALIVE a second
// after Established (session.ts), so the table arrives in about a second.
// Everything runs in throwaway namespaces bb<pid>-*, deleted at the end (also on Ctrl-C).
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { BgpSpeaker } from '../../src/overlay/bgp/speaker.js';
import type { BestChange } from '../../src/overlay/bgp/rib.js';
import { connectInNetns, stopNetnsBrokers } from '../../src/linux/netns-socket.js';
import { eventually } from '../../test/support/eventually.js';
import { addNetns, deleteNetns, linkNetns, startBird, startFrr, type Bird, type Frr } from '../../test/support/routing-daemons.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const N = Number(arg('prefixes', '10000'));
const ROUNDS = Number(arg('rounds', '5'));
// Keep the namespace's socket broker between rounds, so no round pays for starting it.
process.env.FLATNET_BROKER_IDLE_MS = '600000';

const tag = `bb${process.pid % 100000}`;
const OURS = `${tag}-a`;
const BIRDS = `${tag}-b`;
const FRRS = `${tag}-f`;
const OUR_IP = '172.31.252.1';
const BIRD_OUR_SIDE = '172.31.252.2';
const FRR_IP = '172.31.252.5';
const BIRD_FRR_SIDE = '172.31.252.6';
const OUR_AS = 64512;
const BIRD_AS = 64513;
const FRR_AS = 64514;

/** The i-th of N distinct /24s under `first` (10.<first>.0.0 upwards). */
function prefixes(first: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.${first + (i >> 8)}.${i & 255}.0/24`);
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const state: { bird?: Bird; frr?: Frr; speakers: BgpSpeaker[] } = { speakers: [] };

async function tearDown(): Promise<void> {
  for (const s of state.speakers) s.stop();
  await state.frr?.stop().catch(() => undefined);
  await state.bird?.stop().catch(() => undefined);
  stopNetnsBrokers();
  for (const ns of [OURS, BIRDS, FRRS]) deleteNetns(ns);
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    void tearDown().finally(() => process.exit(130));
  });
}

async function setUp(): Promise<void> {
  for (const ns of [OURS, BIRDS, FRRS]) addNetns(ns);
  linkNetns({ netns: OURS, dev: `${tag}a`, ip: OUR_IP }, { netns: BIRDS, dev: `${tag}ba`, ip: BIRD_OUR_SIDE });
  linkNetns({ netns: FRRS, dev: `${tag}f`, ip: FRR_IP }, { netns: BIRDS, dev: `${tag}bf`, ip: BIRD_FRR_SIDE });
  const statics = prefixes(100, N).map((p) => `  route ${p} blackhole;`).join('\n');
  state.bird = await startBird(
    BIRDS,
    `router id ${BIRD_OUR_SIDE};
timeformat protocol iso long ms;
protocol device {}
protocol static originated {
  ipv4;
${statics}
}
protocol bgp ours {
  local ${BIRD_OUR_SIDE} as ${BIRD_AS};
  neighbor ${OUR_IP} as ${OUR_AS};
  passive on;
  ipv4 { import all; export where proto = "originated"; };
}
protocol bgp frr {
  local ${BIRD_FRR_SIDE} as ${BIRD_AS};
  neighbor ${FRR_IP} as ${FRR_AS};
  passive on;
  ipv4 { import all; export where proto = "originated"; };
}
`,
    tag,
  );
  await eventually(`BIRD's ${N} static routes`, () => new RegExp(`^\\s*${N} of ${N} routes`, 'm').test(state.bird!.birdc('show', 'route', 'protocol', 'originated', 'count')) || undefined, 60_000, 500);
  // The neighbor starts shut down: each round is a `no neighbor shutdown`. FRR sends nothing back
  // to BIRD (a deny-all out policy), as our speaker sends nothing while it learns.
  state.frr = await startFrr(
    FRRS,
    `frr defaults datacenter
hostname ${FRRS}
route-map NOTHING deny 10
router bgp ${FRR_AS}
 bgp router-id ${FRR_IP}
 no bgp ebgp-requires-policy
 neighbor ${BIRD_FRR_SIDE} remote-as ${BIRD_AS}
 neighbor ${BIRD_FRR_SIDE} shutdown
 address-family ipv4 unicast
  neighbor ${BIRD_FRR_SIDE} route-map NOTHING out
 exit-address-family
`,
    tag,
  );
}

interface FrrPeer {
  state: string;
  pfxRcd?: number;
}

function frrPeer(): FrrPeer {
  const s = JSON.parse(state.frr!.vtysh('show ip bgp summary json')) as { ipv4Unicast?: { peers?: Record<string, FrrPeer> } };
  return s.ipv4Unicast?.peers?.[BIRD_FRR_SIDE] ?? { state: 'unknown' };
}

function kernelBgpRoutes(netns: string): number {
  const out = execFileSync('ip', ['-n', netns, 'route', 'show', 'proto', 'bgp'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return out ? out.trimEnd().split('\n').length : 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Our speaker: a fresh session to BIRD; ms from BIRD's side Established (as for FRR) and from
 * addPeer until all N prefixes are best routes in its Rib.
 */
async function oursLearn(): Promise<{ ms: number; fromCommandMs: number }> {
  const learned = new Set<string>();
  const speaker = new BgpSpeaker({ asn: OUR_AS, routerId: OUR_IP, connectRetryMs: 200, connect: (h, p) => connectInNetns(OURS, h, p, 5000) });
  state.speakers.push(speaker);
  let establishedAt = 0;
  let doneWall = 0;
  let firstAt: number | undefined;
  let events = 0;
  const stamps: number[] = [];
  speaker.on('session', (e) => {
    if (e.up) establishedAt = performance.now();
  });
  const done = new Promise<number>((resolve) => {
    speaker.on('routes', (changes: BestChange[]) => {
      firstAt ??= performance.now();
      if (process.env.BENCH_DEBUG) stamps.push(Math.round(performance.now() - establishedAt));
      events++;
      for (const c of changes) {
        if (c.route) learned.add(c.prefix);
        else learned.delete(c.prefix);
      }
      if (learned.size >= N) {
        doneWall = Date.now();
        resolve(performance.now());
      }
    });
  });
  const t0 = performance.now();
  speaker.addPeer({ address: BIRD_OUR_SIDE, asn: BIRD_AS });
  const t1 = await Promise.race([done, sleep(120_000).then(() => Promise.reject(new Error(`our speaker learned ${learned.size} of ${N} in 120 s`)))]);
  const fromBirdEstablished = doneWall - birdEstablishedAt('ours');
  speaker.stop();
  state.speakers = state.speakers.filter((s) => s !== speaker);
  await eventually('BIRD sees our session closed', () => !/Established/.test(state.bird!.birdc('show', 'protocols', 'ours')) || undefined, 30_000);
  if (process.env.BENCH_DEBUG) console.log(`first route ${(firstAt! - establishedAt).toFixed(0)} ms after Established; ${events} route events at ${stamps.join(" ")}`);
  return { ms: fromBirdEstablished, fromCommandMs: t1 - t0 };
}

interface FrrNeighbor {
  bgpState?: string;
  addressFamilyInfo?: { ipv4Unicast?: { acceptedPrefixCounter?: number } };
}

/** One snapshot of FRR's view of BIRD: session state and prefixes accepted. */
function frrNeighbor(): FrrNeighbor {
  const s = JSON.parse(state.frr!.vtysh(`show ip bgp neighbors ${BIRD_FRR_SIDE} json`)) as Record<string, FrrNeighbor>;
  return s[BIRD_FRR_SIDE] ?? {};
}

/** When BIRD's session `protocol` became Established (BIRD prints it to the millisecond, local time). */
function birdEstablishedAt(protocol: string): number {
  const line = state.bird!.birdc('show', 'protocols', protocol).split('\n').find((l) => l.startsWith(`${protocol} `)) ?? '';
  const since = /(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3})\s+Established/.exec(line);
  if (!since) throw new Error(`BIRD's session ${protocol} is not Established: ${line}`);
  return new Date(`${since[1]}T${since[2]}`).getTime();
}

/**
 * FRR: `no neighbor shutdown`; FRR's view of BIRD polled every 20 ms: ms from the moment BIRD's
 * side of the session became Established (BIRD's millisecond timestamp; FRR's own uptime counter
 * has only whole seconds, and under load the first Established snapshot can already hold all N)
 * until the first snapshot with all N accepted (so at most one poll late), from the command until
 * then, and until zebra has all N in the kernel.
 */
async function frrLearn(): Promise<{ ms: number; fromCommandMs: number; kernelMs: number }> {
  const t0 = performance.now();
  state.frr!.vtysh('configure terminal', `router bgp ${FRR_AS}`, `no neighbor ${BIRD_FRR_SIDE} shutdown`);
  let doneWall = 0;
  const doneAt = await eventually(`FRR learns ${N} prefixes`, () => {
    const n = frrNeighbor();
    doneWall = Date.now();
    return (n.addressFamilyInfo?.ipv4Unicast?.acceptedPrefixCounter ?? 0) >= N ? performance.now() : undefined;
  }, 120_000, 20);
  const ms = doneWall - birdEstablishedAt('frr');
  await eventually(`zebra installs ${N} routes`, () => kernelBgpRoutes(FRRS) >= N || undefined, 120_000, 100);
  const kernelMs = performance.now() - t0;
  state.frr!.vtysh('configure terminal', `router bgp ${FRR_AS}`, `neighbor ${BIRD_FRR_SIDE} shutdown`);
  await eventually('FRR forgets the routes', () => ((frrPeer().pfxRcd ?? 0) === 0 && kernelBgpRoutes(FRRS) === 0) || undefined, 60_000, 200);
  await eventually('BIRD sees the FRR session closed', () => !/Established/.test(state.bird!.birdc('show', 'protocols', 'frr')) || undefined, 30_000);
  return { ms, fromCommandMs: doneAt - t0, kernelMs };
}

function birdCount(protocol: string): number {
  const m = /^\s*(\d+) of \d+ routes/m.exec(state.bird!.birdc('show', 'route', 'protocol', protocol, 'count'));
  return m ? Number(m[1]) : 0;
}

/** Our speaker announces N prefixes on a fresh session; ms until BIRD has all N. */
async function oursAnnounce(): Promise<number> {
  const speaker = new BgpSpeaker({ asn: OUR_AS, routerId: OUR_IP, connectRetryMs: 200, connect: (h, p) => connectInNetns(OURS, h, p, 5000) });
  state.speakers.push(speaker);
  speaker.announce(prefixes(200, N), OUR_IP);
  const t0 = performance.now();
  speaker.addPeer({ address: BIRD_OUR_SIDE, asn: BIRD_AS });
  await eventually(`BIRD has our ${N} prefixes`, () => birdCount('ours') >= N || undefined, 120_000, 50);
  const ms = performance.now() - t0;
  speaker.stop();
  state.speakers = state.speakers.filter((s) => s !== speaker);
  await eventually('BIRD drops our prefixes', () => birdCount('ours') === 0 || undefined, 60_000, 200);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rate = (ms: number) => Math.round(N / (ms / 1000));

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/bgp needs root (network namespaces): run it with sudo');
  console.log(`BGP UPDATE processing, ${N} prefixes (/24) from BIRD; ${ROUNDS} interleaved rounds after a warm-up; load average ${load()}`);
  await setUp();
  await oursLearn();
  await frrLearn();
  const ours: number[] = [];
  const frr: number[] = [];
  const frrKernel: number[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const a = await oursLearn();
    ours.push(a.ms);
    console.log(`round ${r} learn    flatnet ${a.ms.toFixed(0).padStart(6)} ms after Established  ${String(rate(a.ms)).padStart(7)} prefixes/s  (${a.fromCommandMs.toFixed(0)} ms from addPeer)  load ${load()}`);
    const f = await frrLearn();
    frr.push(f.ms);
    frrKernel.push(f.kernelMs);
    console.log(`round ${r} learn    FRR     ${f.ms.toFixed(0).padStart(6)} ms after Established  ${String(rate(f.ms)).padStart(7)} prefixes/s  (${f.fromCommandMs.toFixed(0)} ms from no-shutdown; all in the kernel via zebra ${f.kernelMs.toFixed(0)} ms)  load ${load()}`);
  }
  const announce: number[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const a = await oursAnnounce();
    announce.push(a);
    console.log(`round ${r} announce flatnet -> BIRD ${a.toFixed(0).padStart(6)} ms  ${String(rate(a)).padStart(7)} prefixes/s  load ${load()}`);
  }
  const [mo, mf, mk, ma] = [median(ours), median(frr), median(frrKernel), median(announce)];
  console.log('\nmedians');
  console.log(`  BIRD -> flatnet speaker (Rib), from Established   ${mo.toFixed(0)} ms  ${rate(mo)} prefixes/s`);
  console.log(`  BIRD -> FRR bgpd (accepted), from Established     ${mf.toFixed(0)} ms  ${rate(mf)} prefixes/s`);
  console.log(`  BIRD -> FRR, all in the kernel, from no-shutdown  ${mk.toFixed(0)} ms`);
  console.log(`  flatnet speaker -> BIRD, from addPeer             ${ma.toFixed(0)} ms  ${rate(ma)} prefixes/s`);
  console.log(`  learn rate flatnet / FRR                          ${(mf / mo).toFixed(2)}`);
  console.log(`load average at the end ${load()}`);
}

try {
  await main();
} finally {
  await tearDown();
}
