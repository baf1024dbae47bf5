// Flow logging bench, on the real kernel, in throwaway namespaces gflb-n (a "node": conntrack,
// a DNAT rule for a Service address, a NetworkPolicy-style drop with flatnet's NFLOG statement, a
// TCP server) and gflb-c (a client). The pipeline under test is flatnet's own: FlowPipeline with
// `conntrack -E` and `tcpdump -i nflog:13` inside gflb-n, the assembler and the ring.
//   latency     connection latency (connect, read 1 byte, close) through the DNAT, with the pipeline
//               on and off, in interleaved rounds; the ratio of medians and of p99s. --modes adds
//               diagnostic peers in the same rounds: `kernel` (a subscribed event socket nobody
//               reads: the kernel's own event cost), `per-event` (the reader woken per event: the
//               old reader)
//   events      the kernel-reading path at increasing rates: UDP datagrams to distinct ports (each a
//               new conntrack entry, NEW then DESTROY when its 2 s timeout ends), read by our netlink
//               socket reader and by `conntrack -E` in interleaved rounds at the same rate: flow
//               events per second delivered, delivered + counted losses vs expected (2 per datagram)
//   connections as many connections as the client processes can make for --seconds, pipeline on:
//               flow events per second delivered, and delivered vs expected (nothing lost?)
//   drops       UDP datagrams to a dropped port as fast as a sender can: NFLOG events per second,
//               delivered + counted kernel drops vs sent
//   replay      the parse + assemble + buffer path alone on real captured conntrack lines (CPU ceiling)
// Run as root: `node --import tsx bench/flows/run.ts [--rounds 6] [--per-round 400] [--seconds 10] [--clients 2]
//   [--rates 10000,20000,30000] [--only events,latency,connections,drops,replay] [--modes off,on,kernel,per-event]`.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { FlowAssembler } from '../../src/flows/assemble.js';
import { parseConntrackLine } from '../../src/flows/conntrack-events.js';
import { ctGroupMask, READER_PYTHON } from '../../src/flows/ctnetlink-socket.js';
import { IdentityIndex, slimObjects } from '../../src/flows/identity.js';
import { FlowPipeline } from '../../src/flows/pipeline.js';
import { FlowRing } from '../../src/flows/ring.js';
import { createLogger } from '../../src/util/log.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const ROUNDS = arg('rounds', 6);
const PER_ROUND = arg('per-round', 400);
const SECONDS = arg('seconds', 10);
const CLIENTS = arg('clients', 2);
const RATES = (process.argv.includes('--rates') ? process.argv[process.argv.indexOf('--rates') + 1] : '10000,20000,30000').split(',').map(Number);
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : ['replay', 'events', 'latency', 'connections', 'drops'];
const MODES = (process.argv.includes('--modes') ? process.argv[process.argv.indexOf('--modes') + 1] : 'off,on').split(',') as LatencyMode[];
const UDP_TIMEOUT_S = 2;
const PY = READER_PYTHON;

const NODE = 'gflb-n';
const CLIENT = 'gflb-c';
const SVC = '10.96.77.1';
const here = new URL('.', import.meta.url).pathname;
const sh = (args: string[], input?: string) => execFileSync(args[0], args.slice(1), { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
const children: ChildProcess[] = [];

function setUp(): void {
  tearDown();
  sh(['ip', 'netns', 'add', NODE]);
  sh(['ip', 'netns', 'add', CLIENT]);
  sh(['ip', 'link', 'add', 'gflb-vn', 'netns', NODE, 'type', 'veth', 'peer', 'name', 'gflb-vc', 'netns', CLIENT]);
  sh(['ip', '-n', NODE, 'addr', 'add', '10.78.0.2/24', 'dev', 'gflb-vn']);
  sh(['ip', '-n', CLIENT, 'addr', 'add', '10.78.0.1/24', 'dev', 'gflb-vc']);
  for (const [ns, dev] of [[NODE, 'gflb-vn'], [CLIENT, 'gflb-vc']]) {
    sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  sh(['ip', '-n', CLIENT, 'route', 'add', '10.96.0.0/16', 'via', '10.78.0.2']);
  sh(['ip', 'netns', 'exec', CLIENT, 'sysctl', '-qw', 'net.ipv4.ip_local_port_range=10000 65000']);
  sh(['ip', 'netns', 'exec', NODE, 'sysctl', '-qw', `net.netfilter.nf_conntrack_udp_timeout=${UDP_TIMEOUT_S}`]);
  sh(
    ['ip', 'netns', 'exec', NODE, 'nft', '-f', '-'],
    `table ip gflb {
      chain pre { type nat hook prerouting priority -100; ip daddr ${SVC} tcp dport 80 dnat to 10.78.0.2:8080; }
      chain in { type filter hook input priority 0; policy accept;
        ct state established,related accept
        udp dport 9 counter log group 13 prefix "flatnet:pol:in-00000000000000bb" drop
      }
    }\n`,
  );
}

function tearDown(): void {
  for (const c of children.splice(0)) c.kill();
  for (const ns of [NODE, CLIENT]) {
    try {
      sh(['ip', 'netns', 'del', ns]);
    } catch {
      // not there
    }
  }
}

const index = new IdentityIndex(
  slimObjects({
    pods: [
      { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'bench', name: 'client', uid: 'c' }, spec: { nodeName: 'n' }, status: { phase: 'Running', podIP: '10.78.0.1' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'bench', name: 'server', uid: 's', labels: { app: 'server' } }, spec: { nodeName: 'n' }, status: { phase: 'Running', podIP: '10.78.0.2' } },
    ],
    services: [{ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'bench', name: 'server' }, spec: { clusterIP: SVC, ports: [{ name: 'http', port: 80 }] } }],
    nodes: [],
    policies: [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'bench', name: 'deny' }, spec: { podSelector: {} } }],
  }),
);

interface LoadResult {
  made: number;
  failed: number;
  seconds: number;
  latencies_us: number[];
}

function runClient(args: string[]): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', CLIENT, PY, `${here}load.py`, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load.py exited ${code}`))));
  });
}

async function startServer(): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', NODE, PY, `${here}server.py`, '8080'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
}

const log = createLogger('bench-flows');
function pipeline(capacity = { verdicts: 8192, connections: 32768 }, conntrackReader: 'socket' | 'conntrack-tool' = 'socket', tuning: { conntrackBatchMs?: number } = {}): FlowPipeline {
  return new FlowPipeline({ node: 'bench', netns: NODE, log, index, capacity, conntrackReader, ...tuning });
}

type LatencyMode = 'off' | 'on' | 'kernel' | 'per-event';
const LATENCY_MODES: Record<LatencyMode, string> = {
  off: 'no flow reader',
  on: 'the pipeline as the agent runs it',
  kernel: 'a subscribed event socket nobody reads (the kernel side alone)',
  'per-event': 'reader woken per event (the old reader)',
};

/** Starts what `mode` runs during a latency round; returns its stop. */
async function startMode(mode: LatencyMode): Promise<() => void> {
  if (mode === 'off') return () => {};
  if (mode === 'kernel') {
    const script = `import socket,sys,time\ns=socket.socket(socket.AF_NETLINK,socket.SOCK_RAW,12)\ns.setsockopt(socket.SOL_SOCKET,33,64<<20)\ns.bind((0,${ctGroupMask('NEW,DESTROY')}))\nprint('ready',flush=True)\ntime.sleep(3600)`;
    const child = spawn('ip', ['netns', 'exec', NODE, PY, '-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    return () => {
      child.kill();
      children.splice(children.indexOf(child), 1);
    };
  }
  const p = pipeline(undefined, 'socket', mode === 'per-event' ? { conntrackBatchMs: 0 } : {});
  let events = 0;
  p.ring.subscribe(() => events++);
  p.start();
  await p.whenReady();
  return () => {
    p.stop();
    if (events === 0) throw new Error(`latency mode ${mode}: the pipeline delivered no flow event`);
  };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function latency(): Promise<void> {
  for (const m of MODES) if (!(m in LATENCY_MODES)) throw new Error(`--modes: "${m}" is not one of ${Object.keys(LATENCY_MODES).join(', ')}`);
  const samples = new Map<LatencyMode, number[]>(MODES.map((m) => [m, []]));
  // Each round's p50 per mode: the modes of one round ran back to back, so their ratio is less
  // exposed to the machine's load drifting between rounds than the pooled percentiles are.
  const roundP50 = new Map<LatencyMode, number[]>(MODES.map((m) => [m, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = MODES.map((_, i) => MODES[(i + r) % MODES.length]);
    if (r % 2 === 1) order.reverse();
    for (const mode of order) {
      const stop = await startMode(mode);
      await settle(300);
      const res = await runClient([SVC, '80', String(PER_ROUND), '0', '0']);
      // The round's events are read before the reader stops (the batch delay is 50 ms).
      await settle(200);
      samples.get(mode)!.push(...res.latencies_us);
      roundP50.get(mode)!.push(pct([...res.latencies_us].sort((a, b) => a - b), 0.5));
      stop();
      await settle(300);
    }
  }
  const sorted = new Map([...samples].map(([m, s]) => [m, s.sort((a, b) => a - b)]));
  const off = sorted.get('off');
  const added = (s: number[], p: number) => (off ? ` (${(((pct(s, p) - pct(off, p)) / pct(off, p)) * 100).toFixed(1)}%)` : '');
  const offRounds = roundP50.get('off');
  const perRound = (m: LatencyMode) => {
    if (!offRounds) return '';
    const ratios = roundP50.get(m)!.map((v, r) => v / offRounds[r]).sort((a, b) => a - b);
    return `; per-round p50 vs off: median ${((pct(ratios, 0.5) - 1) * 100).toFixed(1)}% [${ratios.map((x) => ((x - 1) * 100).toFixed(0)).join(' ')}]`;
  };
  console.log(`latency (connect + 1 byte + close through DNAT, one client, back to back; ${ROUNDS} interleaved rounds x ${PER_ROUND} per mode; load ${loadavg()[0].toFixed(1)})`);
  for (const [m, s] of sorted) {
    console.log(`  ${m.padEnd(10)} n=${s.length} p50=${pct(s, 0.5)}us${added(s, 0.5)} p90=${pct(s, 0.9)}us${added(s, 0.9)} p99=${pct(s, 0.99)}us${added(s, 0.99)}  ${LATENCY_MODES[m]}${m === 'off' ? '' : perRound(m)}`);
  }
}

function sendUdpFlows(rate: number, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', CLIENT, PY, `${here}udp-flows.py`, '10.78.0.2', String(rate), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`udp-flows.py exited ${code}`))));
  });
}

async function events(): Promise<void> {
  const seconds = Math.min(SECONDS, 5);
  console.log(`events (UDP datagrams to distinct ports for ${seconds} s, NEW + DESTROY per datagram, the DESTROYs mostly from a flush at the end; interleaved readers per rate)`);
  for (const rate of RATES) {
    const order: ('socket' | 'conntrack-tool')[] = ['conntrack-tool', 'socket'];
    for (const reader of order) {
      const p = pipeline({ verdicts: 1024, connections: 4_000_000 }, reader);
      let forwarded = 0;
      let closed = 0;
      let firstMs = 0;
      let lastMs = 0;
      p.ring.subscribe((e) => {
        if (e.destination.ip !== '10.78.0.2' || e.protocol !== 'udp') return;
        const now = performance.now();
        if (firstMs === 0) firstMs = now;
        lastMs = now;
        if (e.verdict === 'forwarded') forwarded++;
        else if (e.verdict === 'closed') closed++;
      });
      sh(['ip', 'netns', 'exec', NODE, 'conntrack', '-F']); // nothing left over from the round before
      p.start();
      await p.whenReady();
      await settle(500);
      const t0 = performance.now();
      const sent = await sendUdpFlows(rate, seconds);
      const sendSeconds = (performance.now() - t0) / 1000;
      // Datagram i goes to port 1 + i % 60000; port 9 is the logged drop (no conntrack entry).
      const expected = sent - (sent > 8 ? Math.floor((sent - 9) / 60000) + 1 : 0);
      // Every entry still in the table ends now: a DESTROY event each, as fast as the kernel deletes them.
      sh(['ip', 'netns', 'exec', NODE, 'conntrack', '-F']);
      let lastCount = -1;
      for (;;) {
        await settle(2000); // the socket reader reports its drop count every second
        const count = forwarded + closed + p.stats().kernelLosses.conntrack;
        if (count >= 2 * expected || count === lastCount) break;
        lastCount = count;
      }
      const s = p.stats();
      p.stop();
      await settle(300);
      const delivered = forwarded + closed;
      const spanS = Math.max(sendSeconds, (lastMs - firstMs) / 1000);
      const lost = 2 * expected - delivered;
      console.log(
        `  ${String(rate).padStart(6)}/s ${reader.padEnd(14)} sent ${sent} (${(sent / sendSeconds).toFixed(0)}/s): delivered ${delivered} of ${2 * expected} (new ${forwarded}, closed ${closed}) = ${(delivered / spanS).toFixed(0)} events/s over ${spanS.toFixed(1)} s; ` +
          `missing ${lost}, counted as lost ${s.kernelLosses.conntrack}${reader === 'conntrack-tool' ? ' (ENOBUFS warnings: each one or more events)' : ' (exact kernel drop count)'}; buffer shed ${s.shed.connections}; load ${loadavg()[0].toFixed(1)}`,
      );
    }
  }
}

async function connections(): Promise<void> {
  const p = pipeline({ verdicts: 1024, connections: 2_000_000 });
  const counts = new Map<string, number>();
  let translatedToSvc = 0;
  p.ring.subscribe((e) => {
    counts.set(e.verdict, (counts.get(e.verdict) ?? 0) + 1);
    if (e.verdict === 'translated' && e.destination.ip === SVC) translatedToSvc++;
  });
  p.start();
  await p.whenReady();
  await settle(300);
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: CLIENTS }, () => runClient([SVC, '80', '0', '0', String(SECONDS)])));
  const busy = (performance.now() - t0) / 1000;
  await settle(2000);
  p.stop();
  const made = results.reduce((n, r) => n + r.made, 0);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const s = p.stats();
  console.log(`connections (${CLIENTS} clients, ${SECONDS} s): ${made} connections (${(made / busy).toFixed(0)}/s)`);
  console.log(`  flow events delivered: ${total} (${(total / busy).toFixed(0)}/s): ${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`  translated events for the Service: ${translatedToSvc} of ${made} connections; buffer shed ${s.shed.connections}; kernel losses conntrack ${s.kernelLosses.conntrack}, nflog ${s.kernelLosses.nflog}`);
}

async function drops(): Promise<void> {
  const p = pipeline({ verdicts: 2_000_000, connections: 1024 });
  let dropped = 0;
  p.ring.subscribe((e) => {
    if (e.verdict === 'dropped') dropped++;
  });
  p.start();
  await p.whenReady();
  await settle(500);
  const seconds = Math.min(SECONDS, 5);
  const script = `import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nn=0\nend=time.time()+${seconds}\nwhile time.time()<end:\n  for _ in range(100):\n    s.sendto(b'x',('10.78.0.2',9)); n+=1\nprint(n)`;
  const sent = Number(sh(['ip', 'netns', 'exec', CLIENT, PY, '-c', script]).trim());
  await settle(6000); // tcpdump reports its kernel drop count every 5 s
  const s = p.stats();
  p.stop();
  console.log(`drops (UDP to a port with a logged drop, ${seconds} s): sent ${sent} (${(sent / seconds).toFixed(0)}/s)`);
  console.log(`  dropped events delivered ${dropped} (${(dropped / seconds).toFixed(0)}/s) + counted kernel drops ${s.kernelLosses.nflog} = ${dropped + s.kernelLosses.nflog} of ${sent}`);
}

function replay(): void {
  const lines = readFileSync(new URL('../../test/unit/flows/fixtures/conntrack-events.txt', import.meta.url), 'utf8').split('\n').filter((l) => l !== '');
  const a = new FlowAssembler('bench', index);
  const ring = new FlowRing({ verdicts: 8192, connections: 32768 });
  const n = 300_000;
  const t0 = performance.now();
  let events = 0;
  for (let i = 0; i < n; i++) {
    const e = parseConntrackLine(lines[i % lines.length]);
    const f = e && a.fromConntrack(e);
    if (f) {
      ring.push(f);
      events++;
    }
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`replay (parse + assemble + buffer, one core): ${(n / s).toFixed(0)} conntrack lines/s, ${(events / s).toFixed(0)} flow events/s`);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    tearDown();
    process.exit(130);
  });
}
try {
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (2 cores shared)`);
  setUp();
  await startServer();
  if (ONLY.includes('replay')) replay();
  if (ONLY.includes('events')) await events();
  if (ONLY.includes('latency')) await latency();
  if (ONLY.includes('connections')) await connections();
  if (ONLY.includes('drops')) await drops();
  console.log(`load average at end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
} finally {
  tearDown();
}
