// In-namespace TCP dials (connectInNetns, as probes, the API server's logs/exec/port-forward to
// agents and the BGP speaker dial): through the netns-ops addon (a socket made inside the
// namespace, no process) against the broker process it replaces (FLATNET_NETNS_OPS=0), each mode
// in its own child process, rounds alternating. Per mode: warm dials (the broker already running)
// and cold ones (the first dial into a namespace, the broker's start included). CPU counts this
// process and its broker.
// Run: node --import tsx bench/netns/dial.ts [--dials N] [--cold N] [--rounds N]   (root)
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { Server } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connectInNetns, listenInNetns, stopNetnsBrokers } from '../../src/linux/netns-socket.js';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const n = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}
const DIALS = flag('dials', 1000);
const COLD = flag('cold', 10);
const ROUNDS = flag('rounds', 3);

interface RoundResult { warmCpuUs: number; warmWallUs: number; coldCpuMs: number; coldWallMs: number }

/** CPU ms of this process's children (the broker), from /proc. */
function childrenCpuMs(): number {
  let ticks = 0;
  for (const task of readdirSync('/proc/self/task')) {
    for (const pid of readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        // exited meanwhile
      }
    }
  }
  return ticks * 10;
}
const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** One round in this process, in the mode its environment chose. */
async function oneRound(): Promise<RoundResult> {
  const ns = `flatnet-bench-dial-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['-n', ns, 'addr', 'add', '10.126.0.1/32', 'dev', 'lo']);
    const server = (await listenInNetns(ns, { host: '10.126.0.1', port: 80, type: 'tcp' })) as Server;
    server.on('connection', (s) => s.end('x'));
    const dial = async () => {
      const s = await connectInNetns(ns, '10.126.0.1', 80, 5000);
      await new Promise<void>((res) => {
        s.on('data', () => {});
        s.on('close', () => res());
      });
    };
    await dial();
    const cpu0 = selfCpuMs() + childrenCpuMs();
    const wall0 = performance.now();
    for (let i = 0; i < DIALS; i++) await dial();
    const warmCpuUs = ((selfCpuMs() + childrenCpuMs() - cpu0) * 1000) / DIALS;
    const warmWallUs = ((performance.now() - wall0) * 1000) / DIALS;
    let coldCpu = 0;
    let coldWall = 0;
    for (let i = 0; i < COLD; i++) {
      stopNetnsBrokers();
      await sleep(50);
      const cpu = selfCpuMs();
      const wall = performance.now();
      await dial();
      coldWall += performance.now() - wall;
      // The broker's start finishes before its CPU is read.
      await sleep(300);
      coldCpu += selfCpuMs() - cpu + childrenCpuMs();
    }
    server.close();
    return { warmCpuUs, warmWallUs, coldCpuMs: coldCpu / COLD, coldWallMs: coldWall / COLD };
  } finally {
    stopNetnsBrokers();
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

function main(): void {
  process.stdout.write(`${DIALS} warm and ${COLD} cold dials per round; per dial: warm CPU / wall µs, cold CPU / wall ms\n`);
  for (let r = 0; r < ROUNDS; r++) {
    const modes = r % 2 === 0 ? ['native', 'broker'] : ['broker', 'native'];
    for (const mode of modes) {
      const env = { ...process.env, FLATNET_BENCH_DIAL_ROUND: '1', ...(mode === 'broker' ? { FLATNET_NETNS_OPS: '0' } : {}) };
      const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { env, encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`the ${mode} round failed (exit ${child.status}): ${child.stderr}`);
      const x = JSON.parse(child.stdout) as RoundResult;
      process.stdout.write(`round ${r + 1}  ${mode.padEnd(6)}  load ${loadavg()[0].toFixed(1).padStart(4)}  warm ${x.warmCpuUs.toFixed(0).padStart(5)} / ${x.warmWallUs.toFixed(0).padStart(5)} µs  cold ${x.coldCpuMs.toFixed(1).padStart(6)} / ${x.coldWallMs.toFixed(1).padStart(6)} ms\n`);
    }
  }
}

if (process.env.FLATNET_BENCH_DIAL_ROUND === '1') {
  oneRound().then(
    (x) => process.stdout.write(JSON.stringify(x)),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
} else {
  main();
}
