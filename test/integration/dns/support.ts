// Helpers of the DNS integration tests: the server on loopback sockets, the real dig, a bind9
// upstream on loopback, and a TCP relay that can cut the DNS server off from the API server.
import dgram from 'node:dgram';
import net from 'node:net';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DnsHandler, type HandlerConfig } from '../../../src/dns/handler.js';
import { DnsMetrics } from '../../../src/dns/metrics.js';
import type { ClusterDnsModel } from '../../../src/dns/model.js';
import { serveTcp, serveUdp } from '../../../src/dns/transport.js';

const run = promisify(execFile);

export interface LoopbackSockets {
  udp: dgram.Socket;
  tcp: net.Server;
  port: number;
}

/** A UDP socket and a TCP server on the same free loopback port. */
export async function bindLoopback(): Promise<LoopbackSockets> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const port = udp.address().port;
    const tcp = net.createServer();
    const ok = await new Promise<boolean>((r) => {
      tcp.once('error', () => r(false));
      tcp.listen(port, '127.0.0.1', () => r(true));
    });
    if (ok) return { udp, tcp, port };
    udp.close();
  }
  throw new Error('no free loopback port for both UDP and TCP');
}

export async function listenHttp(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as net.AddressInfo).port };
}

/** The handler for a given model, served on loopback UDP+TCP. */
export async function serveModel(model: ClusterDnsModel, config: Partial<HandlerConfig> = {}): Promise<{ port: number; metrics: DnsMetrics; close(): Promise<void> }> {
  const s = await bindLoopback();
  const metrics = new DnsMetrics();
  const handler = new DnsHandler(model, { zone: 'cluster.local', ttl: 30, pods: 'insecure', ready: () => true, ...config }, metrics);
  const detachUdp = serveUdp(s.udp, handler);
  const tcp = serveTcp(s.tcp, handler);
  return {
    port: s.port,
    metrics,
    async close() {
      detachUdp();
      tcp.detach();
      await new Promise<void>((r) => s.udp.close(() => r()));
      await new Promise<void>((r) => s.tcp.close(() => r()));
    },
  };
}

/** Runs the real dig against 127.0.0.1:port; answers its stdout. */
export async function dig(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=2', ...args], { timeout: 15_000 });
  return stdout;
}

/** `dig +short` lines, sorted. */
export async function digShort(port: number, ...args: string[]): Promise<string[]> {
  const out = await dig(port, '+short', ...args);
  return out.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith(';')).sort();
}

export function status(digOutput: string): string | undefined {
  return /status: ([A-Z]+)/.exec(digOutput)?.[1];
}

export function flags(digOutput: string): string[] {
  return (/;; flags: ([a-z ]+);/.exec(digOutput)?.[1] ?? '').split(' ').filter(Boolean);
}

/** Retries `check` until it stops throwing (20 s at most); answers its value. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export interface Named {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Starts bind9 `named` in the foreground on 127.0.0.1:<free port>, authoritative for `zones`. */
export async function startNamed(zones: Record<string, string>, extraOptions = '', extraArgs: string[] = []): Promise<Named> {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-named-'));
  const probe = await bindLoopback();
  const port = probe.port;
  await new Promise<void>((r) => probe.udp.close(() => r()));
  await new Promise<void>((r) => probe.tcp.close(() => r()));
  const zoneConf = Object.keys(zones)
    .map((z, i) => {
      writeFileSync(join(dir, `z${i}.zone`), zones[z]);
      return `zone "${z}" { type primary; file "${join(dir, `z${i}.zone`)}"; };`;
    })
    .join('\n');
  writeFileSync(
    join(dir, 'named.conf'),
    `options { directory "${dir}"; listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; }; recursion no; pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key"; dnssec-validation no; notify no; ${extraOptions} };\n${zoneConf}\n`,
  );
  const child = spawn('named', ['-g', ...extraArgs, '-c', join(dir, 'named.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`named exited: ${log}`);
    if (!log.includes('running')) throw new Error(`named not running yet: ${log.slice(-300)}`);
  }, 15_000);
  return {
    port,
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP relay to `target` that can refuse and cut connections, to take the API server away. */
export async function startRelay(targetHost: string, targetPort: number): Promise<{ port: number; cut(): void; restore(): void; stop(): Promise<void> }> {
  let open = true;
  const conns = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(targetPort, targetHost);
    conns.add(client);
    conns.add(upstream);
    const done = () => {
      client.destroy();
      upstream.destroy();
      conns.delete(client);
      conns.delete(upstream);
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      open = false;
      for (const c of conns) c.destroy();
    },
    restore() {
      open = true;
    },
    async stop() {
      open = false;
      for (const c of conns) c.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
