// A node's per-pod namespace work in a burst, without the lab: for N pods at once, the network
// namespace (lo up), the UTS namespace holding the hostname, and a TCP listener on :80 inside the
// pod namespace (what a built-in nginx needs), made (a) by processes, as without the netns-ops
// addon: a shared `ip netns add` batch, `ip -n <ns> link set lo up`, `unshare --uts busybox
// hostname` and a Node.js socket broker started in each namespace; (b) by this process's thread
// through the addon. Rounds alternate the two ways; wall time and CPU (this process plus its
// children) per burst are printed with the load average.
// Run (root): flock /tmp/flatnet-bench.lock node --import tsx bench/up/pod-namespaces.ts [--pods 100] [--rounds 3]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type net from 'node:net';
import { coalescedIpBatch } from '../../src/cni/ip-batch-coalescer.js';
import { listenInNetns, stopNetnsBrokers } from '../../src/linux/netns-socket.js';
import { loadNetnsOps, listenNatively } from '../../src/runtime/netns-ops.js';

const argValue = (flag: string, dflt: number) => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const PODS = argValue('--pods', 100);
const ROUNDS = argValue('--rounds', 3);
const UTS_DIR = `/run/d1bench-uts-${process.pid}`;

const run = (argv: string[]) =>
  new Promise<void>((resolve, reject) => {
    const c = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
    c.on('error', reject);
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited ${code}`))));
  });

/** CPU seconds of this process and its reaped children (utime, stime, cutime, cstime of /proc/self/stat). */
function cpuSeconds(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

async function podByProcesses(i: number, servers: net.Server[]): Promise<void> {
  const ns = `d1bench-${process.pid}-${i}`;
  await coalescedIpBatch(undefined, [`netns add ${ns}`]);
  await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  const uts = join(UTS_DIR, ns);
  writeFileSync(uts, '');
  await run(['unshare', `--uts=${uts}`, 'busybox', 'hostname', `pod-${i}`]);
  servers.push(await listenInNetns(ns, { host: '::', port: 80, type: 'tcp' }));
}

async function podByAddon(i: number, servers: net.Server[]): Promise<void> {
  const ops = loadNetnsOps().addon!;
  const ns = `d1bench-${process.pid}-${i}`;
  ops.createNetns(`/run/netns/${ns}`);
  const uts = join(UTS_DIR, ns);
  writeFileSync(uts, '');
  ops.createUts(uts, `pod-${i}`);
  servers.push((await listenNatively(ns, { host: '::', port: 80, type: 'tcp' })) as net.Server);
}

async function cleanUp(servers: net.Server[]): Promise<void> {
  for (const s of servers) s.close();
  stopNetnsBrokers();
  await coalescedIpBatch(
    undefined,
    Array.from({ length: PODS }, (_, i) => `netns del d1bench-${process.pid}-${i}`),
  ).catch(() => undefined);
  for (let i = 0; i < PODS; i++) {
    const uts = join(UTS_DIR, `d1bench-${process.pid}-${i}`);
    await run(['umount', uts]).catch(() => undefined);
    rmSync(uts, { force: true });
  }
}

async function burst(way: 'processes' | 'addon'): Promise<{ wallMs: number; cpuS: number }> {
  const servers: net.Server[] = [];
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: PODS }, (_, i) => (way === 'addon' ? podByAddon(i, servers) : podByProcesses(i, servers))));
  const wallMs = performance.now() - t0;
  // Brokers exit after their idle time; their CPU is counted once they are reaped.
  stopNetnsBrokers();
  await new Promise((r) => setTimeout(r, 300));
  const cpuS = cpuSeconds() - cpu0;
  await cleanUp(servers);
  return { wallMs, cpuS };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (network and UTS namespaces)');
  const { addon, error } = loadNetnsOps();
  if (!addon) throw new Error(`the netns-ops addon is needed: ${error}`);
  // `ip netns add` makes /run/netns the shared mount the addon's pins rely on.
  execFileSync('ip', ['netns', 'add', `d1bench-${process.pid}-pin`]);
  mkdirSync(UTS_DIR, { recursive: true });
  const load0 = loadavg()[0];
  const results: Record<string, { wallMs: number; cpuS: number }[]> = { processes: [], addon: [] };
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const way of r % 2 === 0 ? (['processes', 'addon'] as const) : (['addon', 'processes'] as const)) results[way].push(await burst(way));
    }
  } finally {
    execFileSync('ip', ['netns', 'del', `d1bench-${process.pid}-pin`]);
    rmSync(UTS_DIR, { recursive: true, force: true });
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`${PODS} pods' namespaces + hostname + :80 listener at once, ${ROUNDS} rounds each way (load average ${load0.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after):`);
  for (const way of ['processes', 'addon'] as const) {
    const w = results[way].map((x) => x.wallMs);
    const c = results[way].map((x) => x.cpuS);
    console.log(`  ${way.padEnd(10)} wall median ${med(w).toFixed(0)} ms (${w.map((x) => x.toFixed(0)).join(', ')}); CPU median ${med(c).toFixed(2)} s (${c.map((x) => x.toFixed(2)).join(', ')})`);
  }
  const ratio = (k: 'wallMs' | 'cpuS') => med(results.processes.map((x) => x[k])) / med(results.addon.map((x) => x[k]));
  console.log(`  addon vs processes: ${ratio('wallMs').toFixed(1)}x less wall time, ${ratio('cpuS').toFixed(1)}x less CPU`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
