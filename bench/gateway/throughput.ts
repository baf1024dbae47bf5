// Gateway proxy throughput: requests/s, p50/p99 latency and CPU time per request (utime+stime
// of the proxy process from /proc over a run / requests served: stable even on a busy machine)
// through GatewayProxy, nginx proxying to the same backend, and a minimal Node.js proxy (node:http
// server -> undici Pool.dispatch, no routing: the floor for GatewayProxy's architecture). Prints
// the ratios gateway/nginx and gateway/minimal. `--with-node-http` adds GatewayProxy with its
// node:http keep-alive Agent upstream client.
//
// Setup (2 cores here): the proxy under test (GatewayProxy in its own Node.js process, or nginx
// with one worker, upstream keepalive and proxy_http_version 1.1) is pinned to core 0 with
// `taskset -c 0`; the backend (nginx, one worker, serving a static ~40 B or 16 KiB body) and the
// load generator (wrk, one thread, fixed connections, keep-alive) share core 1. Rounds are
// interleaved (gateway, nginx, minimal, ...) with the same warm-up each (longer in round 1).
// Everything listens on 127.0.0.1; every process started is killed by PID; a deadline ends the run.
//
// Run: `node --import tsx bench/gateway/throughput.ts [--rounds 3] [--seconds 4] [--connections 64] [--with-node-http]`
// Needs nginx, wrk and taskset (Debian: apt-get install -y nginx wrk util-linux).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

// Child mode: serve GatewayProxy on a port, forwarding everything to the backend.
if (process.argv[2] === '--serve-gateway') {
  const [port, backendPort, client] = process.argv.slice(3);
  const { GatewayProxy } = await import('../../src/gateway/proxy/index.js');
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1', upstreamClient: client as 'undici' | 'node-http' });
  await proxy.update({
    ports: [
      {
        kind: 'http',
        port: Number(port),
        hosts: [
          {
            hostname: '*',
            entries: [
              {
                source: { kind: 'HTTPRoute', namespace: 'bench', name: 'bench', rule: 0, match: 0 },
                match: { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] },
                filters: [],
                backends: [{ weight: 1, name: 'bench/backend:80', protocol: 'http', endpoints: [{ address: '127.0.0.1', port: Number(backendPort) }], filters: [] }],
              },
            ],
          },
        ],
      },
    ],
  });
  if (proxy.portErrors().length) throw new Error(JSON.stringify(proxy.portErrors()));
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
} else if (process.argv[2] === '--serve-minimal') {
  await serveMinimal(Number(process.argv[3]), Number(process.argv[4]));
} else {
  await main();
}

// The floor for this architecture: node:http server -> undici Pool.dispatch, no routing, no
// filters, no metrics; only hop-by-hop headers dropped and X-Forwarded-For added.
async function serveMinimal(port: number, backendPort: number): Promise<void> {
  const http = await import('node:http');
  const { Pool } = await import('undici');
  const pool = new Pool(`http://127.0.0.1:${backendPort}`, { connections: 256, pipelining: 1, keepAliveTimeout: 4_000 });
  const hop = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
  const server = http.createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    const headers: string[] = [];
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) if (!hop.has(raw[i].toLowerCase())) headers.push(raw[i], raw[i + 1]);
    headers.push('x-forwarded-for', req.socket.remoteAddress ?? '');
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    pool.dispatch(
      { path: req.url ?? '/', method: req.method as 'GET', headers, body: hasBody ? req : null },
      {
        onConnect() {},
        onHeaders(status: number, rawHeaders: Buffer[], resume: () => void) {
          res.on('drain', resume);
          const out: string[] = [];
          for (let i = 0; i < rawHeaders.length; i += 2) {
            const n = rawHeaders[i].toString();
            if (!hop.has(n.toLowerCase())) out.push(n, rawHeaders[i + 1].toString());
          }
          res.writeHead(status, out);
          return true;
        },
        onData(chunk: Buffer) {
          return res.write(chunk);
        },
        onComplete() {
          res.end();
        },
        onError() {
          if (res.headersSent) res.destroy();
          else {
            res.statusCode = 502;
            res.end();
          }
        },
      },
    );
  });
  server.on('connection', (s) => s.setNoDelay(true));
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => process.exit(0));
}

interface Sample {
  target: string;
  body: string;
  rps: number;
  /** CPU time of the proxy process(es) per request: comparable even on a busy machine. */
  cpuUsPerReq: number;
  p50ms: number;
  p99ms: number;
}

function need(tool: string): void {
  if (spawnSync('which', [tool]).status !== 0) {
    console.error(`${tool} is missing: apt-get install -y ${tool === 'taskset' ? 'util-linux' : tool}`);
    process.exit(2);
  }
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitPort(port: number, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function nginxConf(dir: string, name: string, body: string): string {
  const file = join(dir, `${name}.conf`);
  writeFileSync(
    file,
    `worker_processes 1;
daemon off;
pid ${dir}/${name}.pid;
error_log ${dir}/${name}-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/${name}-body;
  proxy_temp_path ${dir}/${name}-proxy;
  fastcgi_temp_path ${dir}/${name}-fastcgi;
  uwsgi_temp_path ${dir}/${name}-uwsgi;
  scgi_temp_path ${dir}/${name}-scgi;
  keepalive_requests 1000000;
${body}
}
`,
  );
  return file;
}

/** utime+stime (in clock ticks of 10 ms) of a process and its children (nginx workers). */
function cpuTicks(pid: number): number {
  const pids = [pid, ...(spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean).map(Number)];
  let ticks = 0;
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks;
}

function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function parseMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  for (const t of ['nginx', 'wrk', 'taskset']) need(t);
  const rounds = Number(arg('rounds', '3'));
  const seconds = Number(arg('seconds', '4'));
  const connections = Number(arg('connections', '64'));
  const started: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-'));
  chmodSync(dir, 0o755); // nginx workers run as nobody
  const signal = (c: ChildProcess, sig: NodeJS.Signals): void => {
    if (!c.pid || c.exitCode !== null || c.signalCode !== null) return;
    try {
      process.kill(c.pid, sig);
    } catch {
      // already gone
    }
  };
  // SIGTERM first (an nginx master then stops its worker), SIGKILL for whatever is left after 3 s.
  const cleanup = (): void => {
    for (const c of started) signal(c, 'SIGTERM');
    const t0 = Date.now();
    while (started.some((c) => c.exitCode === null && c.signalCode === null && isAlive(c.pid)) && Date.now() - t0 < 3000) spawnSync('sleep', ['0.1']);
    for (const c of started) if (isAlive(c.pid)) signal(c, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = setTimeout(() => {
    console.error('deadline reached: stopping');
    cleanup();
    process.exit(3);
  }, 10 * 60_000);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => (cleanup(), process.exit(130)));

  const start = (cmd: string, args: string[], core: string): ChildProcess => {
    const c = spawn('taskset', ['-c', core, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stderr?.on('data', (d: Buffer) => process.stderr.write(`[${cmd}] ${d}`));
    started.push(c);
    return c;
  };

  try {
    const backendPort = await freePort();
    const nginxPort = await freePort();
    const gwUndici = await freePort();
    const gwNode = await freePort();
    const minimalPort = await freePort();
    const withNodeHttp = process.argv.includes('--with-node-http');
    writeFileSync(join(dir, 'small'), 'x'.repeat(39) + '\n');
    writeFileSync(join(dir, 'large'), 'y'.repeat(16 * 1024));
    // The backend: nginx, one worker, static bodies, on core 1 (shared with wrk).
    const backend = start('nginx', ['-c', nginxConf(dir, 'backend', `  server { listen 127.0.0.1:${backendPort}; root ${dir}; location / { } }`), '-p', dir], '1');
    // The peer: nginx as users run it as a reverse proxy, one worker, on core 0.
    const nginxProxy = start(
      'nginx',
      [
        '-c',
        nginxConf(
          dir,
          'proxy',
          `  upstream backend { server 127.0.0.1:${backendPort}; keepalive 128; }
  server { listen 127.0.0.1:${nginxPort}; location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; proxy_buffering on; } }`,
        ),
        '-p',
        dir,
      ],
      '0',
    );
    const self = fileURLToPath(import.meta.url);
    const tsxArgs = ['--import', 'tsx', self, '--serve-gateway'];
    const undiciProc = start(process.execPath, [...tsxArgs, String(gwUndici), String(backendPort), 'undici'], '0');
    const minimalProc = start(process.execPath, ['--import', 'tsx', self, '--serve-minimal', String(minimalPort), String(backendPort)], '0');
    const nodeProc = withNodeHttp ? start(process.execPath, [...tsxArgs, String(gwNode), String(backendPort), 'node-http'], '0') : undefined;
    void backend;
    await Promise.all([backendPort, nginxPort, gwUndici, minimalPort, ...(nodeProc ? [gwNode] : [])].map((p) => waitPort(p)));

    const targets = [
      { name: 'gateway (undici)', port: gwUndici, pid: undiciProc.pid! },
      { name: 'nginx', port: nginxPort, pid: nginxProxy.pid! },
      { name: 'minimal node proxy', port: minimalPort, pid: minimalProc.pid! },
      ...(nodeProc ? [{ name: 'gateway (node:http Agent)', port: gwNode, pid: nodeProc.pid! }] : []),
    ];
    const wrk = (port: number, path: string, secs: number, pid: number): Sample | undefined => {
      const cpu0 = cpuTicks(pid);
      const r = spawnSync('taskset', ['-c', '1', 'wrk', '-t1', `-c${connections}`, `-d${secs}s`, '--latency', `http://127.0.0.1:${port}${path}`], { encoding: 'utf8', timeout: (secs + 30) * 1000 });
      const out = r.stdout ?? '';
      const cpuMs = (cpuTicks(pid) - cpu0) * 10;
      const count = /(\d+) requests in/.exec(out);
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const p50 = /\s50%\s+(\S+)/.exec(out);
      const p99 = /\s99%\s+(\S+)/.exec(out);
      const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out);
      if (errors) console.error(`wrk :${port}${path}: ${errors[0]}`);
      if (!rps || !p50 || !p99) {
        console.error(`wrk :${port}${path} gave no numbers:\n${out}${r.stderr ?? ''}`);
        return undefined;
      }
      const cpuUsPerReq = count ? (cpuMs * 1000) / Number(count[1]) : NaN;
      return { target: '', body: path, rps: Number(rps[1]), cpuUsPerReq, p50ms: parseMs(p50[1]), p99ms: parseMs(p99[1]) };
    };

    console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${connections} connections, ${seconds}s per run, ${rounds} rounds`);
    const samples: Sample[] = [];
    for (const body of ['/small', '/large']) {
      for (let round = 0; round < rounds; round++) {
        for (const t of targets) {
          wrk(t.port, body, round === 0 ? 4 : 1, t.pid); // warm-up (longer first: JIT), same for everyone
          const s = wrk(t.port, body, seconds, t.pid);
          if (s) {
            s.target = t.name;
            samples.push(s);
            console.log(`  round ${round + 1} ${body.padEnd(6)} ${t.name.padEnd(26)} ${s.rps.toFixed(0).padStart(7)} req/s  ${s.cpuUsPerReq.toFixed(0).padStart(4)} us CPU/req  p50 ${s.p50ms.toFixed(2)} ms  p99 ${s.p99ms.toFixed(2)} ms`);
          }
        }
      }
    }
    console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log('\nmedians over rounds');
    console.log('body    target                        req/s  CPU us/req  p50 ms   p99 ms');
    const med = (target: string, body: string): Sample | undefined => {
      const xs = samples.filter((s) => s.target === target && s.body === body);
      if (xs.length === 0) return undefined;
      return { target, body, rps: median(xs.map((x) => x.rps)), cpuUsPerReq: median(xs.map((x) => x.cpuUsPerReq)), p50ms: median(xs.map((x) => x.p50ms)), p99ms: median(xs.map((x) => x.p99ms)) };
    };
    for (const body of ['/small', '/large']) {
      for (const t of targets) {
        const m = med(t.name, body);
        if (m) console.log(`${body.padEnd(7)} ${t.name.padEnd(28)} ${m.rps.toFixed(0).padStart(7)}  ${m.cpuUsPerReq.toFixed(0).padStart(9)}  ${m.p50ms.toFixed(2).padStart(7)}  ${m.p99ms.toFixed(2).padStart(7)}`);
      }
      const g = med('gateway (undici)', body);
      const n = med('nginx', body);
      const h = med('gateway (node:http Agent)', body);
      const mp = med('minimal node proxy', body);
      if (g && n) console.log(`${body.padEnd(7)} ratio gateway/nginx: ${(g.rps / n.rps).toFixed(2)}x req/s, ${(g.cpuUsPerReq / n.cpuUsPerReq).toFixed(2)}x CPU per request (nginx/gateway CPU: ${(n.cpuUsPerReq / g.cpuUsPerReq).toFixed(2)}x), p99 ${(g.p99ms / n.p99ms).toFixed(2)}x`);
      if (g && mp) console.log(`${body.padEnd(7)} ratio gateway/minimal node proxy: ${(g.rps / mp.rps).toFixed(2)}x req/s, ${(g.cpuUsPerReq / mp.cpuUsPerReq).toFixed(2)}x CPU per request`);
      if (g && h) console.log(`${body.padEnd(7)} ratio undici/node:http Agent: ${(g.rps / h.rps).toFixed(2)}x req/s, ${(g.cpuUsPerReq / h.cpuUsPerReq).toFixed(2)}x CPU per request`);
    }
  } finally {
    clearTimeout(deadline);
    cleanup();
  }
}
