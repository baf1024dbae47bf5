// Route programming time on loopback, without a lab: a real `flatnet server` (memory store) and a
// real `flatnet gateway proxy` child process (proxy token kubeconfig, --bind-address 127.0.0.1),
// a selector-less Service whose hand-written EndpointSlice points at a local HTTP backend.
// With 0 / 1,000 / 3,000 HTTPRoutes already attached (distinct hostnames, every tenth a wildcard),
// N times: create one HTTPRoute through the API and poll the proxy (keep-alive, one request about
// every millisecond, the new route's Host) until the first 200. Prints p50/p99 per size, the
// proxy's own recompute times (model / table build, from its debug log) and the load average.
// Published (howardjohn/gateway-api-bench): agentgateway 10-30 ms, Envoy Gateway ~600 ms.
//
//   node --import tsx bench/gateway/programming-loopback.ts [--samples 20] [--levels 0,1000,3000]
//        [--proxy-repo DIR]   (run the proxy from another checkout, e.g. a copy before a change)
//        [--proxy-cpu-prof DIR] (the proxy writes a V8 CPU profile there when it stops)
//        [--controllers]      (the server runs its controllers too, the gateway status controller
//                              among them, as in a lab: it writes every route's and the Gateway's status)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { loadKubeconfig, renderKubeconfig } from '../../src/client/kubeconfig.js';
import { mintProxyToken } from '../../src/gateway/proxy-identity.js';
import { startTestServer, type TestServer } from '../../test/support/server.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const NS = 'default';
const GATEWAY = 'bench';
const SAMPLE_TIMEOUT_MS = 30_000;

interface Options {
  samples: number;
  levels: number[];
  proxyRepo: string;
  concurrency: number;
  controllers: boolean;
  proxyCpuProf?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { samples: 20, levels: [0, 1000, 3000], proxyRepo: repo, concurrency: 16, controllers: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=');
    if (flag === '--controllers') {
      o.controllers = true;
      continue;
    }
    if (flag === '--proxy-cpu-prof') {
      o.proxyCpuProf = resolve(inline ?? argv[++i] ?? '');
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    const whole = (name: string, v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: "${v}" is not a whole number`);
      return n;
    };
    if (flag === '--samples') o.samples = Math.max(1, whole('--samples', value));
    else if (flag === '--levels') o.levels = value.split(',').map((v) => whole('--levels', v));
    else if (flag === '--concurrency') o.concurrency = Math.max(1, whole('--concurrency', value));
    else if (flag === '--proxy-repo') o.proxyRepo = resolve(value);
    else throw new Error(`unknown flag ${flag} (flags: --samples N, --levels a,b,c, --concurrency N, --proxy-repo DIR, --controllers, --proxy-cpu-prof DIR)`);
  }
  return o;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = net.createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => res(port));
    });
  });
}

function route(name: string, hostname: string): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: NS },
    spec: { parentRefs: [{ name: GATEWAY }], hostnames: [hostname], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'target', port: 80 }] }] },
  };
}

/** The pre-created route i: distinct hostnames, every tenth one a wildcard. */
function fillerHost(i: number): string {
  return i % 10 === 9 ? `*.w${i}.fill.bench.test` : `r${i}.fill.bench.test`;
}

async function inParallel<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One GET through the proxy with this Host; the status (0 when the connection failed). */
function probe(port: number, host: string): Promise<number> {
  return new Promise((res) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode ?? 0));
      r.on('error', () => res(0));
    });
    req.on('error', () => res(0));
    req.end();
  });
}

/** Polls about every millisecond until the Host answers 200; the ms from `since`. */
async function firstOk(port: number, host: string, since: number): Promise<number> {
  for (;;) {
    if ((await probe(port, host)) === 200) return performance.now() - since;
    if (performance.now() - since > SAMPLE_TIMEOUT_MS) throw new Error(`${host} did not answer 200 within ${SAMPLE_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** CPU seconds (user + system) used so far by this process's child whose command line has `word` (NaN when none). */
function childCpuSeconds(word: string): number {
  try {
    const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    for (const pid of children) {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(word)) continue;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, USER_HZ 100
    }
  } catch {
    // not Linux, or the child is gone
  }
  return NaN;
}

function load(): string {
  return loadavg().map((l) => l.toFixed(2)).join(' ');
}

interface Recompute {
  ms: number;
  modelMs?: number;
  tableMs?: number;
  /** From the watch event to the swap (waiting for a recompute in flight included). */
  sinceEventMs?: number;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const backend = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  const backendPort = (backend.address() as net.AddressInfo).port;
  let s: TestServer | undefined;
  let child: ChildProcess | undefined;
  const work = mkdtempSync(join(tmpdir(), 'gwperf-bench-'));
  try {
    s = await startTestServer({ store: 'memory', controllers: o.controllers });
    const token = mintProxyToken(s.dataDir, { namespace: NS, name: `${GATEWAY}-proxy` });
    const kubeconfig = join(work, 'proxy.kubeconfig');
    writeFileSync(kubeconfig, renderKubeconfig({ server: s.url, caPem: loadKubeconfig(s.kubeconfig).ca!.toString(), token }));
    await s.client.create(R.gatewayclasses, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'bench-class' }, spec: { controllerName: 'flatnet.dev/gateway-controller' } });
    await s.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'target', namespace: NS }, spec: { ports: [{ name: 'http', port: 80, targetPort: backendPort, protocol: 'TCP' }] } });
    await s.client.create(R.endpointslices, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'target-manual', namespace: NS, labels: { 'kubernetes.io/service-name': 'target' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'http', port: backendPort, protocol: 'TCP' }],
    } as KubeObject);
    const listenerPort = await freePort();
    const healthPort = await freePort();
    await s.client.create(R.gateways, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: GATEWAY, namespace: NS },
      spec: { gatewayClassName: 'bench-class', listeners: [{ name: 'http', protocol: 'HTTP', port: listenerPort, allowedRoutes: { namespaces: { from: 'Same' } } }] },
    });
    await s.client.create(R.httproutes, route('warmup', 'warmup.bench.test'));

    const logs: string[] = [];
    const recomputes: Recompute[] = [];
    const profile = o.proxyCpuProf ? ['--cpu-prof', '--cpu-prof-dir', o.proxyCpuProf] : [];
    child = spawn(process.execPath, [...profile, '--import', 'tsx', join(o.proxyRepo, 'src/cli/main.ts'), 'gateway', 'proxy', '--gateway', `${NS}/${GATEWAY}`, '--kubeconfig', kubeconfig, '--health-listen', `127.0.0.1:${healthPort}`, '--bind-address', '127.0.0.1'], {
      cwd: o.proxyRepo,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FLATNET_LOG: 'debug' },
    });
    let partial = '';
    const onData = (c: Buffer) => {
      partial += c.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (!line.includes('"msg":"recomputed"')) {
          if (/"level":"(error|warn)"/.test(line)) logs.push(line);
          continue;
        }
        try {
          const j = JSON.parse(line) as { ms: number; modelMs?: number; tableMs?: number; sinceEventMs?: number; result?: string };
          recomputes.push({ ms: j.ms, modelMs: j.modelMs, tableMs: j.tableMs, sinceEventMs: j.result === 'applied' ? j.sinceEventMs : undefined });
        } catch {
          /* not JSON */
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const exited = new Promise<void>((r) => child!.once('exit', () => r()));
    await firstOk(listenerPort, 'warmup.bench.test', performance.now()).catch((err: Error) => {
      throw new Error(`the proxy never served the warm-up route: ${err.message}\n${logs.join('\n')}`);
    });
    console.log(`proxy from ${o.proxyRepo}; server controllers ${o.controllers ? 'on' : 'off'}; load average at start ${load()}`);

    let created = 0;
    const results: string[] = [];
    for (const level of o.levels) {
      const names = Array.from({ length: Math.max(0, level - created) }, (_, k) => created + k);
      const t0 = performance.now();
      await inParallel(names, o.concurrency, async (i) => {
        await s!.client.create(R.httproutes, route(`fill-${i}`, fillerHost(i)));
      });
      created = Math.max(created, level);
      if (names.length > 0) {
        const last = fillerHost(names[names.length - 1]).replace('*', 'x');
        await firstOk(listenerPort, last, performance.now());
        console.log(`level ${level}: created ${names.length} routes in ${Math.round(performance.now() - t0)} ms`);
      }
      // Let the bulk creation settle (its last recomputes, garbage collection) before sampling.
      await new Promise((r) => setTimeout(r, 2000));
      recomputes.length = 0;
      const samples: number[] = [];
      const cpu0 = { server: childCpuSeconds('server'), proxy: childCpuSeconds('proxy') };
      for (let k = 0; k < o.samples; k++) {
        const host = `new-${level}-${k}.bench.test`;
        const since = performance.now();
        await s.client.create(R.httproutes, route(`new-${level}-${k}`, host));
        samples.push(await firstOk(listenerPort, host, since));
        await new Promise((r) => setTimeout(r, 50));
      }
      const cpuMs = (word: 'server' | 'proxy') => (((childCpuSeconds(word) - cpu0[word]) * 1000) / o.samples).toFixed(0);
      samples.sort((a, b) => a - b);
      const rc = recomputes.slice();
      const med = (xs: (number | undefined)[]) => {
        const v = xs.filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
        return v.length ? percentile(v, 50).toFixed(1) : 'n/a';
      };
      const slowest = rc.map((r) => r.ms).sort((a, b) => b - a)[0];
      const slowestOf = (xs: (number | undefined)[]) => {
        const v = xs.filter((x): x is number => typeof x === 'number').sort((a, b) => b - a);
        return v.length ? `${v[0].toFixed(1)} ms` : 'n/a';
      };
      const line =
        `routes ${String(level).padStart(5)}: new route -> first 200 p50 ${percentile(samples, 50).toFixed(1)} ms, p99 ${percentile(samples, 99).toFixed(1)} ms, max ${samples[samples.length - 1].toFixed(1)} ms (n=${samples.length}); ` +
        `proxy recompute p50 ${med(rc.map((r) => r.ms))} ms (model ${med(rc.map((r) => r.modelMs))}, table ${med(rc.map((r) => r.tableMs))}), slowest ${slowest?.toFixed(1) ?? 'n/a'} ms over ${rc.length}; ` +
        `watch event -> table swapped p50 ${med(rc.map((r) => r.sinceEventMs))} ms, slowest ${slowestOf(rc.map((r) => r.sinceEventMs))}; ` +
        `slowest samples ${samples.slice(-3).map((x) => x.toFixed(1)).join(', ')} ms; CPU per new route: server ${cpuMs('server')} ms, proxy ${cpuMs('proxy')} ms; load ${load()}`;
      console.log(line);
      results.push(line);
    }
    console.log('\nsummary');
    for (const r of results) console.log(r);
    if (logs.length > 0) console.log(`proxy warnings/errors:\n${logs.slice(0, 20).join('\n')}`);
    child.kill('SIGTERM');
    const killer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    agent.destroy();
    backend.close();
    await s?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? err);
  process.exitCode = 1;
});
