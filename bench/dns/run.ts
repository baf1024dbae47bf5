// The cluster DNS bench: flatnet's server against bind9 `named` serving the same names, each
// pinned to one core (taskset), loaded by dnsperf pinned to another core; then DNS programming
// latency (Service created through the real API server -> first correct answer over UDP).
// Bounded: about 90 s. Run: node --import tsx bench/dns/run.ts
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

async function startFlatnet(answerCache: 'on' | 'off'): Promise<{ port: number; child: ChildProcess }> {
  const argv = pin(serverCore, [process.execPath, '--import', 'tsx', join(repo, 'bench/dns/serve-fixture.ts'), '--answer-cache', answerCache]);
  const child = spawn(argv[0], argv.slice(1), { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FLATNET_LOG: 'warn' } });
  const port = await new Promise<number>((res, rej) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) res(Number(m[1]));
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
  udp: PerfResult[];
  tcp?: PerfResult;
  lat?: Awaited<ReturnType<typeof latencyAt>>;
}

/** Median of the runs that finished (NaN when none did). */
const median = (xs: number[]) => {
  const ok = xs.filter((x) => Number.isFinite(x) && x > 0).sort((a, b) => a - b);
  return ok.length ? ok[Math.floor(ok.length / 2)] : NaN;
};

async function main(): Promise<void> {
  // Keep this process (it reads dnsperf's output) off the servers' core.
  if (hasTaskset && cores >= 2) execFileSync('taskset', ['-a', '-p', '-c', clientCore, String(process.pid)], { stdio: 'ignore' });
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-dnsbench-'));
  const queryFile = join(dir, 'queries.txt');
  writeFileSync(queryFile, queryLines());
  const loadBefore = loadavg()[0];
  const rounds = 3;
  const seconds = '5';
  const load = ['-l', seconds, '-c', '20', '-q', '400'];
  const bindVersion = execFileSync('named', ['-v']).toString().trim().split(' ').slice(0, 2).join(' ');
  process.stderr.write(`dns bench: ${cores} cores, taskset ${hasTaskset ? `servers on core ${serverCore}, dnsperf on core ${clientCore}` : 'not available'}\n`);
  // All three servers run at once on the same core; only one is loaded at a time, and the rounds
  // interleave them so drift in the machine's load affects each alike. Medians are reported.
  const named = await startNamed({ 'cluster.local': zoneFile() }, '', ['-n', '1', '-U', '1']);
  if (hasTaskset) execFileSync('taskset', ['-a', '-p', '-c', serverCore, String(named.pid)], { stdio: 'ignore' });
  const flat = await startFlatnet('on');
  const cold = await startFlatnet('off');
  const targets: Target[] = [
    { label: `${bindVersion}, 1 worker thread`, port: named.port, udp: [] },
    { label: 'flatnet dns (answer cache on, the default)', port: flat.port, udp: [] },
    { label: 'flatnet dns, answer cache off (every query parsed, resolved, encoded)', port: cold.port, udp: [] },
  ];
  try {
    for (const t of targets) await dnsperf(t.port, queryFile, ['-l', '2', '-c', '10']); // warm-up (JIT, caches)
    for (let r = 0; r < rounds; r++) for (const t of targets) t.udp.push((await dnsperf(t.port, queryFile, load)).result);
    for (const t of targets.slice(0, 2)) {
      t.lat = await latencyAt(t.port, queryFile, 10000);
      t.tcp = (await dnsperf(t.port, queryFile, ['-m', 'tcp', ...load])).result;
    }
  } finally {
    await named.stop();
    await stop(flat.child);
    await stop(cold.child);
    rmSync(dir, { recursive: true, force: true });
  }
  const prog = await programmingLatency(40);
  const memory = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(repo, 'bench/dns/memory.ts'), '10000'], { cwd: repo, encoding: 'utf8' }).trim();
  const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const out: string[] = [];
  out.push(`Cluster names: 1,050 Services; ${queryLines().split('\n').length - 1}-line mix (60% A, 10% SRV, 10% headless A, 5% endpoint A, 5% AAAA NODATA, 10% NXDOMAIN search-path misses).`);
  out.push(`UDP: dnsperf -c 20 -q 400, ${rounds} interleaved rounds of ${seconds} s per server, median QPS (min-max); latency percentiles from a separate 5 s run at 10,000 QPS.`);
  out.push('');
  out.push('| server (pinned to 1 core) | UDP QPS median (min-max) | p50 ms @10k | p99 ms @10k | p99.9 ms @10k | TCP QPS (20 conns) |');
  out.push('|---|---|---|---|---|---|');
  for (const t of targets) {
    const q = t.udp.map((p) => p.qps).filter((x) => Number.isFinite(x) && x > 0);
    const unfinished = t.udp.length - q.length;
    const range = q.length ? `${Math.round(median(q))} (${Math.round(Math.min(...q))}-${Math.round(Math.max(...q))})${unfinished ? `, ${unfinished} run(s) did not finish` : ''}` : 'n/a (no run finished)';
    out.push(`| ${t.label} | ${range} | ${t.lat ? f(t.lat.p50, 3) : '-'} | ${t.lat ? f(t.lat.p99, 3) : '-'} | ${t.lat ? f(t.lat.p999, 3) : '-'} | ${t.tcp && Number.isFinite(t.tcp.qps) ? Math.round(t.tcp.qps) : '-'} |`);
  }
  const ratio = median(targets[1].udp.map((p) => p.qps)) / median(targets[0].udp.map((p) => p.qps));
  out.push('');
  out.push(`flatnet / bind9 UDP QPS (medians): ${f(ratio)}. For reference, CoreDNS's published figure is ~17,000 QPS per core for cluster names (Scaling_CoreDNS.md, 2018, not measured here).`);
  out.push(`Machine: ${cores} cores, load average ${f(loadBefore, 1)} at the start and ${f(loadavg()[0], 1)} at the end (other work shares the machine; the interleaved rounds spread its effect).`);
  out.push(`Model memory: ${memory}.`);
  out.push(`DNS programming latency (Service create sent to the API server -> first correct UDP answer), 40 Services: p50 ${f(prog.p50, 1)} ms, p99 ${f(prog.p99, 1)} ms (the create request itself: p50 ${f(prog.writeP50, 1)} ms).`);
  process.stdout.write(out.join('\n') + '\n');
}

await main();
