// The cluster DNS bench: flatnet's server against bind9 `named` serving the same names, each
// pinned to one core (taskset), loaded by dnsperf pinned to another core; then DNS programming
// latency (Service created through the real API server -> first correct answer over UDP).
// flatnet's server runs compiled by tsc with the build's settings, as bin/flatnet runs it (not
// under the tsx loader, whose transform adds a helper call to every closure the hot path makes).
// Bounded: about 3 minutes. Run: node --import tsx bench/dns/run.ts
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import { queryLines, zoneFile } from './cluster-fixture.js';
import { bindLoopback, startNamed } from '../../test/integration/dns/support.js';
import { startTestServer } from '../../test/support/server.js';
import { startDnsServer } from '../../src/dns/workload.js';
import { R } from '../../src/api/resources.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const cores = availableParallelism();
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
})();
const serverCore = cores >= 2 ? '1' : '0';
const clientCore = '0';
const pin = (core: string, argv: string[]) => (hasTaskset ? ['taskset', '-c', core, ...argv] : argv);

interface PerfResult {
  qps: number;
  lost: number;
  sent: number;
  avgMs: number;
  rcodes: string;
}

function dnsperf(port: number, queryFile: string, extra: string[]): Promise<{ stdout: string; result: PerfResult }> {
  return new Promise((resolvePromise, reject) => {
    const argv = pin(clientCore, ['dnsperf', '-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-t', '2', ...extra]);
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    // dnsperf can wait forever when a TCP server stalls (a starved core): bound every run.
    const limit = Number(extra[extra.indexOf('-l') + 1] ?? 10);
    const killer = setTimeout(() => {
      process.stderr.write(`dnsperf ${extra.join(' ')} against port ${port} did not finish; stopped (the result is n/a)\n`);
      child.kill('SIGKILL');
    }, (limit + 20) * 1000);
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(killer);
      const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? NaN);
      resolvePromise({
        stdout,
        result: {
          qps: num(/Queries per second:\s+([\d.]+)/),
          lost: num(/Queries lost:\s+(\d+)/),
          sent: num(/Queries sent:\s+(\d+)/),
          avgMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
          rcodes: /Response codes:\s+(.*)/.exec(stdout)?.[1] ?? '',
        },
      });
    });
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function latencyAt(port: number, queryFile: string, qps: number): Promise<{ p50: number; p99: number; p999: number; n: number }> {
  const { stdout } = await dnsperf(port, queryFile, ['-l', '5', '-Q', String(qps), '-c', '10', '-v']);
  const lat = stdout
    .split('\n')
    .filter((l) => l.startsWith('> '))
    .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)) * 1000)
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), p999: percentile(lat, 99.9), n: lat.length };
}

/** Compiles serve-fixture.ts and what it imports with tsc (the build's target and module settings,
 * no type check) under node_modules/.cache, so Node.js resolves the packages as in dist/. */
function compileFixture(): string {
  const out = join(repo, 'node_modules/.cache/flatnet-dns-bench');
  rmSync(out, { recursive: true, force: true });
  const tsc = join(repo, 'node_modules/typescript/bin/tsc');
  const settings = ['--ignoreConfig', '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--esModuleInterop', '--skipLibCheck', '--resolveJsonModule', '--types', 'node', '--noCheck'];
  execFileSync(process.execPath, [tsc, ...settings, '--rootDir', repo, '--outDir', out, join(repo, 'bench/dns/serve-fixture.ts')], { cwd: repo, stdio: 'inherit' });
  return join(out, 'bench/dns/serve-fixture.js');
}

async function startFlatnet(fixture: string, answerCache: 'on' | 'off', udpIo: 'batched' | 'dgram'): Promise<{ port: number; child: ChildProcess }> {
  // bin/flatnet runs `node --enable-source-maps dist/src/cli/main.js`: the same runtime flags here.
  const argv = pin(serverCore, [process.execPath, '--enable-source-maps', fixture, '--answer-cache', answerCache, '--udp-io', udpIo]);
  const child = spawn(argv[0], argv.slice(1), { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FLATNET_LOG: 'warn' } });
  const port = await new Promise<number>((res, rej) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /ready (\d+) (\w+)/.exec(out);
      if (m && m[2] !== udpIo) rej(new Error(`serve-fixture serves UDP through ${m[2]}, not ${udpIo}`));
      else if (m) res(Number(m[1]));
    });
    child.once('exit', (code) => rej(new Error(`serve-fixture exited with ${code}`)));
  });
  return { port, child };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

/** Sends A queries for `name` until the answer holds `ip`; answers the time it took. */
async function pollUntil(port: number, name: string, ip: string, started: number): Promise<number> {
  const sock = dgram.createSocket('udp4');
  try {
    for (let id = 1; ; id = (id + 1) & 0xffff) {
      const q = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A' }] });
      const reply = await new Promise<Buffer | undefined>((res) => {
        const t = setTimeout(() => res(undefined), 50);
        sock.once('message', (m) => {
          clearTimeout(t);
          res(m);
        });
        sock.send(q, port, '127.0.0.1');
      });
      if (reply && dnsPacket.decode(reply).answers?.some((a) => a.type === 'A' && a.data === ip)) return performance.now() - started;
      if (performance.now() - started > 10_000) throw new Error(`${name} never answered ${ip}`);
    }
  } finally {
    sock.close();
  }
}

async function programmingLatency(samples: number): Promise<{ p50: number; p99: number; max: number; writeP50: number }> {
  const api = await startTestServer();
  const sockets = await bindLoopback();
  const dns = await startDnsServer({ client: api.client, udp: sockets.udp, tcp: sockets.tcp });
  try {
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (dns.ready()) {
          clearInterval(t);
          r();
        }
      }, 20);
    });
    await api.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    const took: number[] = [];
    const writes: number[] = [];
    for (let i = 0; i < samples; i++) {
      const ip = `10.96.200.${i + 1}`;
      const started = performance.now();
      await api.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: `p${i}`, namespace: 'bench' }, spec: { clusterIP: ip, ports: [{ name: 'http', port: 80 }] } });
      writes.push(performance.now() - started);
      took.push(await pollUntil(sockets.port, `p${i}.bench.svc.cluster.local`, ip, started));
    }
    took.sort((a, b) => a - b);
    writes.sort((a, b) => a - b);
    return { p50: percentile(took, 50), p99: percentile(took, 99), max: took[took.length - 1], writeP50: percentile(writes, 50) };
  } finally {
    await dns.stop();
    await api.stop();
  }
}

interface Target {
  label: string;
  port: number;
  pid: number;
  udp: Measured[];
  tcp: Measured[];
  lat?: Awaited<ReturnType<typeof latencyAt>>;
}

interface Measured extends PerfResult {
  /** CPU time (user + system, all threads) the server spent per answered query, microseconds. */
  cpuUsPerQuery: number;
  /** The 1-minute load average when the run started. */
  load: number;
}

const clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of a process (all its threads), in clock ticks (CLK_TCK). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function measure(t: Target, queryFile: string, extra: string[]): Promise<Measured> {
  const load = loadavg()[0];
  const before = cpuTicks(t.pid);
  const { result } = await dnsperf(t.port, queryFile, extra);
  const ticks = cpuTicks(t.pid) - before;
  const answered = result.sent - result.lost;
  return { ...result, load, cpuUsPerQuery: answered > 0 ? (ticks * 1e6) / clockTicksPerSecond / answered : NaN };
}

/** Median of the runs that finished (NaN when none did). */
const median = (xs: number[]) => {
  const ok = xs.filter((x) => Number.isFinite(x) && x > 0).sort((a, b) => a - b);
  return ok.length ? ok[Math.floor(ok.length / 2)] : NaN;
};

async function main(): Promise<void> {
  // Keep this process (it reads dnsperf's output) off the servers' core.
  if (hasTaskset && cores >= 2) execFileSync('taskset', ['-a', '-p', '-c', clientCore, String(process.pid)], { stdio: 'ignore' });
  const fixture = compileFixture();
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-dnsbench-'));
  const queryFile = join(dir, 'queries.txt');
  writeFileSync(queryFile, queryLines());
  const loadBefore = loadavg()[0];
  const rounds = Number(process.env.DNS_BENCH_ROUNDS ?? 5);
  const seconds = '5';
  const load = ['-l', seconds, '-c', '20', '-q', '400'];
  const bindVersion = execFileSync('named', ['-v']).toString().trim().split(' ').slice(0, 2).join(' ');
  process.stderr.write(`dns bench: ${cores} cores, taskset ${hasTaskset ? `servers on core ${serverCore}, dnsperf on core ${clientCore}` : 'not available'}\n`);
  // All three servers run at once on the same core; only one is loaded at a time, and the rounds
  // interleave them (the order rotates every round) so drift in the machine's load affects each
  // alike. Medians are reported.
  const named = await startNamed({ 'cluster.local': zoneFile() }, '', ['-n', '1', '-U', '1']);
  if (hasTaskset) execFileSync('taskset', ['-a', '-p', '-c', serverCore, String(named.pid)], { stdio: 'ignore' });
  // UDP through the batching addon (the default when it is built) and through Node's dgram.
  const flat = await startFlatnet(fixture, 'on', 'batched');
  const flatDgram = await startFlatnet(fixture, 'on', 'dgram');
  const cold = await startFlatnet(fixture, 'off', 'batched');
  const targets: Target[] = [
    { label: `${bindVersion}, 1 worker thread`, port: named.port, pid: named.pid, udp: [], tcp: [] },
    { label: 'flatnet dns, UDP batched (recvmmsg/sendmmsg addon; answer cache on, the default)', port: flat.port, pid: flat.child.pid ?? 0, udp: [], tcp: [] },
    { label: 'flatnet dns, UDP through dgram (answer cache on)', port: flatDgram.port, pid: flatDgram.child.pid ?? 0, udp: [], tcp: [] },
    { label: 'flatnet dns, UDP batched, answer cache off (every query parsed, resolved, encoded)', port: cold.port, pid: cold.child.pid ?? 0, udp: [], tcp: [] },
  ];
  const rotated = <T>(xs: T[], r: number) => xs.map((_, i) => xs[(i + r) % xs.length]);
  try {
    // The same warm-up for every server (JIT, caches), over both transports.
    for (const t of targets) {
      await dnsperf(t.port, queryFile, ['-l', '2', '-c', '10']);
      await dnsperf(t.port, queryFile, ['-m', 'tcp', '-l', '1', '-c', '10']);
    }
    for (let r = 0; r < rounds; r++) {
      for (const t of rotated(targets, r)) t.udp.push(await measure(t, queryFile, load));
      for (const t of rotated(targets.slice(0, 2), r)) t.tcp.push(await measure(t, queryFile, ['-m', 'tcp', ...load]));
    }
    for (const t of targets.slice(0, 3)) t.lat = await latencyAt(t.port, queryFile, 10000);
  } finally {
    await named.stop();
    await stop(flat.child);
    await stop(flatDgram.child);
    await stop(cold.child);
    rmSync(dir, { recursive: true, force: true });
  }
  const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const qpsCell = (runs: Measured[]) => {
    const q = runs.map((p) => p.qps).filter((x) => Number.isFinite(x) && x > 0);
    if (q.length === 0) return runs.length ? 'n/a (no run finished)' : '-';
    const unfinished = runs.length - q.length;
    return `${Math.round(median(q))} (${Math.round(Math.min(...q))}-${Math.round(Math.max(...q))})${unfinished ? `, ${unfinished} run(s) did not finish` : ''}`;
  };
  const cpuCell = (runs: Measured[]) => (runs.length ? f(median(runs.map((p) => p.cpuUsPerQuery)), 1) : '-');
  const lostCell = (runs: Measured[]) => (runs.length ? `${f((100 * runs.reduce((a, p) => a + (p.lost || 0), 0)) / Math.max(1, runs.reduce((a, p) => a + (p.sent || 0), 0)), 2)}%` : '-');
  const out: string[] = [];
  out.push(`Cluster names: 1,050 Services; ${queryLines().split('\n').length - 1}-line mix (60% A, 10% SRV, 10% headless A, 5% endpoint A, 5% AAAA NODATA, 10% NXDOMAIN search-path misses).`);
  out.push(`UDP and TCP: dnsperf -c 20 -q 400, ${rounds} interleaved rounds of ${seconds} s per server (order rotating), median QPS (min-max); CPU = the server's user+system CPU time per answered query (median of the rounds; less sensitive to other load than QPS); latency percentiles from a separate 5 s run at 10,000 QPS.`);
  out.push('');
  out.push('| server (pinned to 1 core) | UDP QPS median (min-max) | UDP CPU µs/query | UDP lost | p50 ms @10k | p99 ms @10k | p99.9 ms @10k | TCP QPS median (min-max), 20 conns | TCP CPU µs/query |');
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const t of targets) {
    out.push(`| ${t.label} | ${qpsCell(t.udp)} | ${cpuCell(t.udp)} | ${lostCell(t.udp)} | ${t.lat ? f(t.lat.p50, 3) : '-'} | ${t.lat ? f(t.lat.p99, 3) : '-'} | ${t.lat ? f(t.lat.p999, 3) : '-'} | ${qpsCell(t.tcp)} | ${cpuCell(t.tcp)} |`);
  }
  const ratio = (k: 'udp' | 'tcp', t = 1) => median(targets[t][k].map((p) => p.qps)) / median(targets[0][k].map((p) => p.qps));
  const cpuRatio = (k: 'udp' | 'tcp', t = 1) => median(targets[0][k].map((p) => p.cpuUsPerQuery)) / median(targets[t][k].map((p) => p.cpuUsPerQuery));
  const perRound = (k: 'udp' | 'tcp') => targets[0][k].map((b, i) => f(targets[1][k][i].qps / b.qps)).join(', ');
  const cpuPerRound = (t: number) => targets[0].udp.map((b, i) => f(b.cpuUsPerQuery / targets[t].udp[i].cpuUsPerQuery)).join(', ');
  out.push('');
  out.push(`flatnet (UDP batched) / bind9 QPS (medians): UDP ${f(ratio('udp'))}, TCP ${f(ratio('tcp'))}; per round UDP ${perRound('udp')}; TCP ${perRound('tcp')}. flatnet (UDP dgram) / bind9 UDP QPS: ${f(ratio('udp', 2))}.`);
  out.push(`bind9 / flatnet CPU per query (above 1: flatnet uses less): UDP batched ${f(cpuRatio('udp'))} (per round ${cpuPerRound(1)}), UDP dgram ${f(cpuRatio('udp', 2))} (per round ${cpuPerRound(2)}), TCP ${f(cpuRatio('tcp'))}.`);
  out.push('For reference, CoreDNS\'s published figure is ~17,000 QPS per core for cluster names (Scaling_CoreDNS.md, 2018, not measured here).');
  const loads = targets.flatMap((t) => [...t.udp, ...t.tcp].map((p) => p.load));
  out.push(`Machine: ${cores} cores, load average ${f(loadBefore, 1)} at the start, ${f(Math.min(...loads), 1)}-${f(Math.max(...loads), 1)} during the rounds, ${f(loadavg()[0], 1)} at the end (other work shares the machine; the interleaved rounds spread its effect).`);
  // The throughput results first: the parts below need the whole API server to start.
  process.stdout.write(out.join('\n') + '\n');
  try {
    const memory = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(repo, 'bench/dns/memory.ts'), '10000'], { cwd: repo, encoding: 'utf8' }).trim();
    process.stdout.write(`Model memory: ${memory}.\n`);
  } catch (err) {
    process.stdout.write(`Model memory: n/a (${(err as Error).message.split('\n')[0]}).\n`);
  }
  try {
    const prog = await programmingLatency(40);
    process.stdout.write(`DNS programming latency (Service create sent to the API server -> first correct UDP answer), 40 Services: p50 ${f(prog.p50, 1)} ms, p99 ${f(prog.p99, 1)} ms (the create request itself: p50 ${f(prog.writeP50, 1)} ms).\n`);
  } catch (err) {
    process.stdout.write(`DNS programming latency: n/a (the API server did not start: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}).\n`);
    process.exitCode = 1;
  }
}

await main();
