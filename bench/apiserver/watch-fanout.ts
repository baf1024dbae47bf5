// Watch fan-out breakdown: for each event, when the first and the last of the watchers parsed it
// (write request sent -> event parsed), so the pipeline before the fan-out (request, store, etcd,
// cache) and the spread of the fan-out itself show apart. With --peer-node-args (or
// --peer-env NAME=VALUE) a second server differing only in those runs beside the first, their
// rounds interleaved, so both see the same load drift.
//
//   node --import tsx bench/apiserver/watch-fanout.ts [--store etcd|sqlite|memory] [--watchers N] [--rate N] [--seconds N] [--rounds N]
//        [--peer-node-args '--max-semi-space-size=16'] [--peer-env NAME=VALUE] [--http2 [--only h1|h2]]
// --http2: the server (and the peer) runs with --http2, and each round is run twice on it,
// interleaved: watchers over HTTP/1.1 (one TLS connection per watch) and over HTTP/2 (one session
// per watcher thread, its watches as streams, as client-go multiplexes); --only keeps one of the two.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { R } from '../../src/api/resources.js';
import type { TestServer } from '../../test/support/server.js';
import { childPid, percentile, threadCpuSeconds } from './etcd-bench-kit.js';
import { benchStoreOf, startBenchServer } from './server-store.js';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const n = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}
function text(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}
const STORE = process.argv.includes('--store') ? benchStoreOf(process.argv) : 'etcd';
const WATCHERS = flag('watchers', 100);
const RATE = flag('rate', 50);
const SECONDS = flag('seconds', 5);
const ROUNDS = flag('rounds', 3);
const WORKERS = Math.min(4, WATCHERS);
const PEER_NODE_ARGS = text('peer-node-args');
const PEER_ENV = text('peer-env');
const HTTP2 = process.argv.includes('--http2');
const ONLY = text('only');
if (ONLY !== undefined && (!HTTP2 || (ONLY !== 'h1' && ONLY !== 'h2'))) throw new Error('--only takes h1 or h2, with --http2');
if (PEER_ENV !== undefined && !/^[A-Z_][A-Z0-9_]*=/.test(PEER_ENV)) throw new Error('--peer-env must be NAME=VALUE');
if (WATCHERS % WORKERS !== 0) throw new Error(`--watchers must be a multiple of ${WORKERS}`);

// Shared by both watcher sources: reads a watch stream's lines and records each ADDED event's latency.
const recordEventsSource = `
function recordEvents(stream, watcher) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const at = performance.timeOrigin + performance.now();
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = line.startsWith('{"type":"ADDED"') ? /"name":"w-(\\d+)".*"sent":"([0-9.]+)"/.exec(line) : null;
      if (m) got.push(Number(m[1]), watcher, at - Number(m[2]));
    }
  });
}
`;

// One watcher thread: `count` watches, each its own HTTPS connection (HTTP/1.1, as client-go
// against a server that offers no h2); records [event number, watcher number, latency ms].
const watcherSource = `
const { parentPort, workerData } = require('node:worker_threads');
const https = require('node:https');
const { performance } = require('node:perf_hooks');
const { url, ca, token, path, count, first } = workerData;
const u = new URL(url);
const got = [];
${recordEventsSource}
let ready = 0;
const agent = new https.Agent({ keepAlive: true, maxSockets: count, ca });
for (let i = 0; i < count; i++) {
  const req = https.request({ host: u.hostname, port: u.port, path, ca, agent, headers: { authorization: 'Bearer ' + token } }, (res) => {
    if (++ready === count) parentPort.postMessage({ ready: true });
    recordEvents(res, first + i);
    res.on('error', () => {});
  });
  req.on('error', () => {});
  req.end();
}
parentPort.on('message', (m) => { if (m === 'report') parentPort.postMessage({ got }); });
`;

// The same over HTTP/2: one session for the thread's `count` watches, each a stream.
const h2WatcherSource = `
const { parentPort, workerData } = require('node:worker_threads');
const http2 = require('node:http2');
const { performance } = require('node:perf_hooks');
const { url, ca, token, path, count, first } = workerData;
const got = [];
${recordEventsSource}
let ready = 0;
const session = http2.connect(url, { ca });
session.on('error', () => {});
for (let i = 0; i < count; i++) {
  const st = session.request({ ':path': path, authorization: 'Bearer ' + token });
  st.on('response', () => { if (++ready === count) parentPort.postMessage({ ready: true }); });
  recordEvents(st, first + i);
  st.on('error', () => {});
}
parentPort.on('message', (m) => { if (m === 'report') parentPort.postMessage({ got }); });
`;

const ms = (sorted: number[]) => `${percentile(sorted, 50).toFixed(1)} / ${percentile(sorted, 99).toFixed(1)} / ${sorted[sorted.length - 1].toFixed(1)}`;

/** Starts a bench server with extra environment (FLATNET_SERVER_NODE_ARGS, a switch) for its process only. */
async function serverWith(env: Record<string, string>, args: string[] = []): Promise<TestServer> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await startBenchServer(STORE, { args });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function round(s: TestServer, pid: number, namespace: string, overHttp2 = false): Promise<string> {
  const ca = readFileSync(join(s.dataDir, 'ca.crt'), 'utf8');
  const token = readFileSync(join(s.dataDir, 'admin.token'), 'utf8').trim();
  await s.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const start = await s.client.list(R.configmaps, { namespace, limit: 1 });
  const path = `/api/v1/namespaces/${namespace}/configmaps?watch=true&resourceVersion=${start.metadata.resourceVersion}`;
  const per = WATCHERS / WORKERS;
  const workers = Array.from({ length: WORKERS }, (_, k) => new Worker(overHttp2 ? h2WatcherSource : watcherSource, { eval: true, workerData: { url: s.url, ca, token, path, count: per, first: k * per } }));
  // A watcher thread that throws fails the round (the servers are then stopped by main's finally,
  // instead of the error ending the process with them still running).
  let workerError: Error | undefined;
  const failed = new Promise<never>((_, reject) => {
    for (const w of workers) {
      w.once('error', (err) => {
        workerError = err;
        for (const other of workers) void other.terminate();
        reject(err);
      });
    }
  });
  failed.catch(() => {});
  await Promise.race([Promise.all(workers.map((w) => new Promise<void>((res) => w.once('message', () => res())))), failed]);
  const load0 = loadavg()[0].toFixed(1);
  const main0 = threadCpuSeconds(pid).get(pid) ?? 0;
  const total = RATE * SECONDS;
  let sent = 0;
  const inflight: Promise<unknown>[] = [];
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.ceil(((performance.now() - t0) / 1000) * RATE));
      for (; sent < due; sent++) {
        const annotations = { sent: String(performance.timeOrigin + performance.now()) };
        inflight.push(s.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `w-${sent}`, namespace, annotations }, data: { x: 'y' } }));
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  await Promise.all(inflight);
  // The server main thread's CPU per event: the fan-out to every watcher, plus the create.
  const mainUs = (((threadCpuSeconds(pid).get(pid) ?? 0) - main0) * 1e6) / total;
  // Give the last events a moment to arrive.
  await new Promise((res) => setTimeout(res, 1000));
  const first = new Array<number>(total).fill(Infinity);
  const last = new Array<number>(total).fill(-Infinity);
  const all: number[] = [];
  for (const w of workers) {
    if (workerError) throw workerError;
    const report = new Promise<number[]>((res) => w.once('message', (m: { got: number[] }) => res(m.got)));
    w.postMessage('report');
    const got = await Promise.race([report, failed]);
    for (let k = 0; k < got.length; k += 3) {
      const [ev, lat] = [got[k], got[k + 2]];
      all.push(lat);
      first[ev] = Math.min(first[ev], lat);
      last[ev] = Math.max(last[ev], lat);
    }
    await w.terminate();
  }
  const spread = first.map((f, i) => last[i] - f).sort((a, b) => a - b);
  all.sort((a, b) => a - b);
  return [`${load0}-${loadavg()[0].toFixed(1)}`.padEnd(9), `${ms(all)} (${all.length}/${total * WATCHERS})`.padEnd(30), ms(first.sort((a, b) => a - b)).padEnd(20), ms(last.sort((a, b) => a - b)).padEnd(20), ms(spread).padEnd(20), mainUs.toFixed(0).padStart(6)].join('  ');
}

async function main(): Promise<void> {
  const servers: { label: string; s: TestServer; pid: number; overHttp2?: boolean }[] = [];
  // With --http2 each server has a row for each protocol its watchers use (both unless --only).
  const add = async (label: string, env: Record<string, string>) => {
    const s = await serverWith(env, HTTP2 ? ['--http2'] : []);
    const pid = childPid(`--data-dir ${s.dataDir} `);
    if (!HTTP2) servers.push({ label, s, pid });
    if (HTTP2 && ONLY !== 'h2') servers.push({ label: `${label}${label ? '-' : ''}h1`, s, pid });
    if (HTTP2 && ONLY !== 'h1') servers.push({ label: `${label}${label ? '-' : ''}h2`, s, pid, overHttp2: true });
  };
  await add(HTTP2 ? '' : 'server', {});
  try {
    if (PEER_NODE_ARGS !== undefined || PEER_ENV !== undefined) {
      const env: Record<string, string> = {};
      if (PEER_NODE_ARGS !== undefined) env.FLATNET_SERVER_NODE_ARGS = PEER_NODE_ARGS;
      if (PEER_ENV !== undefined) env[PEER_ENV.slice(0, PEER_ENV.indexOf('='))] = PEER_ENV.slice(PEER_ENV.indexOf('=') + 1);
      await add('peer', env);
      process.stdout.write(`peer: ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
    }
    process.stdout.write(`store ${STORE}; ${WATCHERS} watchers in ${WORKERS} threads; ${RATE} creates/s for ${SECONDS} s; ms p50 / p99 / max\n`);
    process.stdout.write('round  server   load       all (delivered)                 first watcher         last watcher          spread (last-first)   main µs/event\n');
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which server goes first, so a load drift within a round hits both alike.
      const order = r % 2 === 0 ? servers : [...servers].reverse();
      for (const { label, s, pid, overHttp2 } of order) process.stdout.write(`${String(r + 1).padStart(5)}  ${label.padEnd(7)}  ${await round(s, pid, `fan-${r}-${label}`, overHttp2)}\n`);
    }
  } finally {
    for (const s of new Set(servers.map((x) => x.s))) await s.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
