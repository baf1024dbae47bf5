// Service proxy bench: nftables against iptables (kube-proxy's layout) in the same run.
// For N Services x 10 endpoints (default N = 1k, 5k, 10k):
//   program   full sync from an empty namespace
//   add       one more Service (partial sync; median of several)
//   endpoint  one endpoint of one Service changed (partial sync; median of several)
//   connect   new-connection latency (p50 / p99) to the last Service added, which iptables
//             matches last in KUBE-SERVICES
// Modes: nftables (flatnet's layout, batches through one long-lived nft session per namespace),
// nftables-process (the same rules, a new `nft -f -` process per batch: the path before the
// session), iptables-legacy and iptables-nft (kube-proxy's iptables layout through either
// iptables flavour). --rounds N repeats the modes N times, alternating their order, and reports
// the median of each measure over the rounds. iptables-nft-restore slows down so much with many chains
// (5k Services x 10 endpoints did not finish in 6 minutes here) that it runs only up to
// --iptables-nft-max Services (default 1000) to keep the bench under 5 minutes.
// Run as root: `node --import tsx bench/proxy/run.ts [--sizes 1000,5000,10000] [--modes nftables,iptables-legacy,iptables-nft]
// [--rounds N] [--samples N]` (samples: adds and endpoint changes per lab, default 5).
// Everything happens in throwaway namespaces flatnet-t-proxy-b-*, deleted at the end (also on Ctrl-C).
import { ServiceProxy } from '../../src/proxy/proxy.js';
import { CLUSTER_CIDR, NetLab, NODE_IP, service, slice } from '../../test/integration/proxy/netlab.js';
import { spawn } from 'node:child_process';

interface Row {
  mode: string;
  size: number;
  programMs: number;
  addMs: number;
  endpointMs: number;
  connectP50us: number;
  connectP99us: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const sizes = arg('sizes', '1000,5000,10000').split(',').map(Number);
type Mode = 'nftables' | 'nftables-process' | 'iptables-legacy' | 'iptables-nft';
const modes = arg('modes', 'nftables,iptables-legacy,iptables-nft').split(',') as Mode[];
const rounds = Number(arg('rounds', '1'));
const samples = Number(arg('samples', '5'));
const iptablesNftMax = Number(arg('iptables-nft-max', '1000'));
let current: NetLab | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    current?.tearDown();
    process.exit(130);
  });
}
const ENDPOINTS = 10;

function clusterIP(i: number): string {
  return `10.96.${Math.floor(i / 250) + 1}.${(i % 250) + 2}`;
}

function fakeEndpoints(i: number): { ip: string }[] {
  return Array.from({ length: ENDPOINTS }, (_, e) => ({ ip: `10.${100 + e}.${Math.floor(i / 250)}.${(i % 250) + 2}` }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** New-connection latency from the client namespace: connect + close, `n` times. */
function connectLatency(ns: string, host: string, port: number, n: number): Promise<{ p50: number; p99: number; failures: number }> {
  const script = `
    const net = require('node:net');
    const [host, port, n] = process.argv.slice(1);
    (async () => {
      const times = []; let failures = 0;
      for (let i = 0; i < Number(n); i++) {
        const t = process.hrtime.bigint();
        await new Promise((resolve) => {
          const s = net.connect(Number(port), host, () => { times.push(Number(process.hrtime.bigint() - t) / 1000); s.destroy(); resolve(); });
          s.on('error', () => { failures++; resolve(); });
        });
      }
      times.sort((a, b) => a - b);
      process.stdout.write(JSON.stringify({ p50: times[Math.floor(times.length / 2)], p99: times[Math.floor(times.length * 0.99)], failures }));
    })();
  `;
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script, host, String(port), String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`connect latency probe failed (${code})`))));
  });
}

async function benchOne(mode: Mode, size: number): Promise<Row> {
  const lab = new NetLab('b');
  current = lab;
  await lab.setUp(1);
  const pod = lab.pods[0];
  process.env.FLATNET_IPTABLES = mode === 'iptables-legacy' ? 'legacy' : 'nft';
  const nft = mode === 'nftables' || mode === 'nftables-process';
  const proxy = new ServiceProxy({
    nodeName: 'node-a',
    netns: lab.node,
    mode: nft ? 'nftables' : 'iptables',
    nftApply: mode === 'nftables-process' ? 'process' : 'session',
    nodeIPs: [NODE_IP],
    clusterCIDR: CLUSTER_CIDR,
    serviceCIDR: '10.96.0.0/12',
    healthChecks: false,
    resyncIntervalMs: 3_600_000,
  });
  try {
    const tr = proxy.tracker;
    for (let i = 0; i < size; i++) {
      tr.serviceUpdated(service({ name: `s${i}`, clusterIP: clusterIP(i), ports: [{ name: 'http', port: 80 }] }));
      tr.sliceUpdated(slice(`s${i}`, [{ name: 'http', port: 8080 }], fakeEndpoints(i)));
    }
    const programMs = await timed(() => proxy.start());
    // One untimed change first: the first sync after loading 100k objects pays for their garbage.
    tr.serviceUpdated(service({ name: 'warm-up', clusterIP: '10.111.0.1', ports: [{ name: 'http', port: 80 }] }));
    await proxy.syncNow();
    const adds: number[] = [];
    let last = size;
    for (let k = 0; k < samples; k++, last++) {
      adds.push(
        await timed(async () => {
          tr.serviceUpdated(service({ name: `s${last}`, clusterIP: clusterIP(last), ports: [{ name: 'http', port: 80 }] }));
          tr.sliceUpdated(slice(`s${last}`, [{ name: 'http', port: 8080 }], [{ ip: pod.ip }]));
          await proxy.syncNow();
        }),
      );
    }
    const changes: number[] = [];
    for (let k = 0; k < samples; k++) {
      const i = Math.floor((k * size) / samples);
      const eps = fakeEndpoints(i);
      eps[0] = { ip: `10.99.${k % 250}.${(i % 250) + 2}` };
      changes.push(
        await timed(async () => {
          tr.sliceUpdated(slice(`s${i}`, [{ name: 'http', port: 8080 }], eps));
          await proxy.syncNow();
        }),
      );
    }
    const lat = await connectLatency(lab.client, clusterIP(last - 1), 80, 300);
    if (lat.failures > 0) throw new Error(`${mode} at ${size}: ${lat.failures} connections to the last Service failed`);
    return { mode, size, programMs, addMs: median(adds), endpointMs: median(changes), connectP50us: lat.p50, connectP99us: lat.p99 };
  } finally {
    await proxy.stop();
    lab.tearDown();
    current = undefined;
  }
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the proxy bench needs root (network namespaces, nftables, iptables)');
  const started = Date.now();
  const all: Row[] = [];
  for (const size of sizes) {
    for (let round = 0; round < rounds; round++) {
      for (const mode of round % 2 ? [...modes].reverse() : modes) {
        if (mode === 'iptables-nft' && size > iptablesNftMax) continue;
        process.stderr.write(`${mode} ${size} Services x ${ENDPOINTS} endpoints (round ${round + 1}/${rounds})...\n`);
        all.push(await benchOne(mode, size));
      }
    }
  }
  // The median of each measure over the rounds, one row per mode and size.
  const rows: Row[] = [];
  for (const size of sizes) {
    for (const mode of modes) {
      const mine = all.filter((r) => r.size === size && r.mode === mode);
      if (mine.length === 0 || rows.some((r) => r.size === size && r.mode === mode)) continue;
      const m = (f: (r: Row) => number) => median(mine.map(f));
      rows.push({ mode, size, programMs: m((r) => r.programMs), addMs: m((r) => r.addMs), endpointMs: m((r) => r.endpointMs), connectP50us: m((r) => r.connectP50us), connectP99us: m((r) => r.connectP99us) });
    }
  }
  const header = '| Services | mode | program from empty | add 1 Service | change 1 endpoint | new connection p50 / p99 |';
  const lines = [header, '|---|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(`| ${r.size} | ${r.mode} | ${fmtMs(r.programMs)} | ${fmtMs(r.addMs)} | ${fmtMs(r.endpointMs)} | ${r.connectP50us.toFixed(0)} / ${r.connectP99us.toFixed(0)} µs |`);
  }
  lines.push('', '| Services | peer / nftables | program | add | change endpoint | connection p50 | p99 |', '|---|---|---|---|---|---|---|');
  const x = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
  for (const size of sizes) {
    const n = rows.find((r) => r.size === size && r.mode === 'nftables');
    if (!n) continue;
    for (const i of rows.filter((r) => r.size === size && r.mode !== 'nftables')) {
      lines.push(`| ${size} | ${i.mode} | ${x(i.programMs, n.programMs)} | ${x(i.addMs, n.addMs)} | ${x(i.endpointMs, n.endpointMs)} | ${x(i.connectP50us, n.connectP50us)} | ${x(i.connectP99us, n.connectP99us)} |`);
    }
  }
  if (rounds > 1) lines.push('', `medians over ${rounds} rounds (modes alternating order each round)`);
  lines.push('', `target: add a Service at 10k Services under 50 ms (upstream nftables kube-proxy reports ~141 ms); total run ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
