// The etcd store's rows of the API server benchmark, in rounds taken under the same load: creates/s
// through `flatnet server --store etcd` (on an etcd member of its own, server-store.ts) against raw
// puts of the same JSON through etcd3 (the gRPC client library the store uses) and through the v3
// JSON gateway, on a peer member; then watch delivery latency (create request sent -> event parsed
// by the watcher) to 100 watchers while writing at a rate the server sustains. Prints the load
// average with every round: the rows of a shared machine mean little without it. Run it from two
// trees, alternating, to compare them.
//
//   node --import tsx bench/apiserver/etcd-store.ts [--rounds N] [--creates N] [--rate N] [--seconds N] [--store etcd|sqlite|memory]
//
// --store defaults to etcd here; --rate (default 50/s) should stay under what the server sustains
// on the machine, or the latency measured is the queue of writes, not the fan-out.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import type { TestServer } from '../../test/support/server.js';
import { libraryPeer, startEtcd } from './etcd-peer.js';
import { benchStoreOf, startBenchServer } from './server-store.js';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const n = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

const STORE = process.argv.includes('--store') ? benchStoreOf(process.argv) : 'etcd';
const ROUNDS = flag('rounds', 3);
const CREATES = flag('creates', 2000);
const RATE = flag('rate', 50);
const SECONDS = flag('seconds', 5);
const CONCURRENCY = 32;
const WATCHERS = 100;
const WATCH_WORKERS = 4;

const load = () => loadavg()[0].toFixed(1);

async function inParallel(total: number, make: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) await make(next++);
    }),
  );
  return total / ((performance.now() - t0) / 1000);
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// Watchers in worker threads, so the writer's event loop does not skew their clocks; a regex
// instead of JSON.parse keeps their own CPU out of the measurement.
const watcherSource = `
const { parentPort, workerData } = require('node:worker_threads');
const https = require('node:https');
const { performance } = require('node:perf_hooks');
const { url, ca, token, path, count } = workerData;
const u = new URL(url);
const latencies = [];
let ready = 0;
const agent = new https.Agent({ keepAlive: true, maxSockets: count, ca });
for (let i = 0; i < count; i++) {
  const req = https.request({ host: u.hostname, port: u.port, path, ca, agent, headers: { authorization: 'Bearer ' + token } }, (res) => {
    if (++ready === count) parentPort.postMessage({ ready: true });
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = line.startsWith('{"type":"ADDED"') ? /"sent":"([0-9.]+)"/.exec(line) : null;
        if (m) latencies.push(performance.timeOrigin + performance.now() - Number(m[1]));
      }
    });
    res.on('error', () => {});
  });
  req.on('error', () => {});
  req.end();
}
parentPort.on('message', (m) => { if (m === 'report') parentPort.postMessage({ latencies }); });
`;

/** Delivery latency to WATCHERS watchers of `ns` while creating RATE ConfigMaps/s for SECONDS. */
async function watchRound(s: TestServer, ns: string): Promise<{ achieved: number; delivered: number; p50: number; p99: number }> {
  const start = await s.client.list(R.configmaps, { namespace: ns, limit: 1 });
  const ca = readFileSync(join(s.dataDir, 'ca.crt'), 'utf8');
  const token = readFileSync(join(s.dataDir, 'admin.token'), 'utf8').trim();
  const path = `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${start.metadata.resourceVersion}`;
  const workers = Array.from({ length: WATCH_WORKERS }, () => new Worker(watcherSource, { eval: true, workerData: { url: s.url, ca, token, path, count: WATCHERS / WATCH_WORKERS } }));
  await Promise.all(workers.map((w) => new Promise<void>((res) => w.once('message', () => res()))));
  const total = RATE * SECONDS;
  let sent = 0;
  const inflight: Promise<unknown>[] = [];
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.ceil(((performance.now() - t0) / 1000) * RATE));
      while (sent < due) {
        const i = sent++;
        const at = String(performance.timeOrigin + performance.now());
        inflight.push(s.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `w-${i}`, namespace: ns, annotations: { sent: at } }, data: { x: 'y' } }));
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  await Promise.all(inflight);
  const achieved = total / ((performance.now() - t0) / 1000);
  await new Promise((r) => setTimeout(r, 1000));
  const all: number[] = [];
  for (const w of workers) {
    const report = new Promise<number[]>((res) => w.once('message', (m: { latencies: number[] }) => res(m.latencies)));
    w.postMessage('report');
    for (const l of await report) all.push(l);
    await w.terminate();
  }
  all.sort((a, b) => a - b);
  return { achieved, delivered: all.length, p50: percentile(all, 50), p99: percentile(all, 99) };
}

async function main(): Promise<void> {
  const s = await startBenchServer(STORE);
  const etcd = await startEtcd();
  const lib = libraryPeer(etcd.url);
  process.stdout.write(`store ${STORE}, etcd ${etcd.version}; ${CREATES} ConfigMap creates a round, ${CONCURRENCY} in flight; watch: ${WATCHERS} watchers, ${RATE} creates/s for ${SECONDS} s\n`);
  process.stdout.write('round  load       flatnet/s  etcd3/s  ratio  gateway/s  ratio  | watch load  writes/s  delivered  p50 ms  p99 ms\n');
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const ns = `bench-${r}`;
      await s.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const cm = (i: number): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: ns }, data: { i: String(i) } });
      const sample = JSON.stringify(await s.client.create(R.configmaps, cm(-1)));
      const value = (i: number) => sample.replace('"cm--1"', `"cm-${i}"`);
      const before = load();
      const ours = await inParallel(CREATES, (i) => s.client.create(R.configmaps, cm(i)));
      const viaLibrary = await inParallel(CREATES, (i) => lib.put(`/registry/configmaps/${ns}/cm-${i}`, value(i)));
      const viaGateway = await inParallel(CREATES, (i) => etcd.put(`/registry/configmaps/${ns}/gw-${i}`, value(i)));
      const createsLoad = `${before}-${load()}`;
      const watchNs = `watch-${r}`;
      await s.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: watchNs } });
      const watchBefore = load();
      const w = await watchRound(s, watchNs);
      const cells = [
        String(r + 1).padStart(5),
        createsLoad.padEnd(9),
        ours.toFixed(0).padStart(9),
        viaLibrary.toFixed(0).padStart(7),
        (ours / viaLibrary).toFixed(2).padStart(5),
        viaGateway.toFixed(0).padStart(9),
        (ours / viaGateway).toFixed(2).padStart(5),
        ` | ${`${watchBefore}-${load()}`.padEnd(10)}`,
        w.achieved.toFixed(0).padStart(8),
        `${w.delivered}/${RATE * SECONDS * WATCHERS}`.padStart(9),
        w.p50.toFixed(1).padStart(6),
        w.p99.toFixed(1).padStart(6),
      ];
      process.stdout.write(`${cells.join('  ')}\n`);
    }
  } finally {
    lib.close();
    await s.stop();
    await etcd.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
