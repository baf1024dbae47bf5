// API server benchmark: creates per second, list latency with 10k pods, and watch delivery
// latency (write request sent -> event parsed by the watcher) to 100 watchers while writing
// 1000 objects/s. Runs the real `flatnet server` as a child process; watchers live in worker
// threads so the writer's event loop does not skew their clocks. Bounded to well under 2 minutes.
//
//   node --import tsx bench/apiserver/run.ts [--store sqlite|memory]
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { startTestServer, type TestServer } from '../../test/support/server.js';

const storeKind = process.argv.includes('--store') ? (process.argv[process.argv.indexOf('--store') + 1] as 'sqlite' | 'memory') : 'sqlite';
const WATCHERS = 100;
const WATCH_WORKERS = 4;
const WRITE_RATE = 1000;
const WRITE_SECONDS = 5;
const PODS = 10_000;
const CREATES = 3_000;
const CONCURRENCY = 32;

function now(): number {
  return performance.timeOrigin + performance.now();
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function inParallel(total: number, concurrency: number, make: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: concurrency }, async () => {
    while (next < total) await make(next++);
  });
  await Promise.all(workers);
}

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
    ready++;
    if (ready === count) parentPort.postMessage({ ready: true });
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        // A regex instead of JSON.parse keeps the watchers' own CPU cost out of the measurement.
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

/** Watch delivery latency: WATCHERS watchers on `namespace` while writing `rate` ConfigMaps/s for `seconds`. */
async function watchPhase(s: TestServer, rate: number, seconds: number, namespace: string, note: (k: string, v: string) => void): Promise<void> {
  const client = s.client;
  await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }).catch(() => undefined);
  const start = await client.list(R.configmaps, { namespace, limit: 1 });
  const ca = readFileSync(join(s.dataDir, 'ca.crt'), 'utf8');
  const token = readFileSync(join(s.dataDir, 'admin.token'), 'utf8').trim();
  const path = `/api/v1/namespaces/${namespace}/configmaps?watch=true&resourceVersion=${start.metadata.resourceVersion}`;
  const workers: Worker[] = [];
  for (let w = 0; w < WATCH_WORKERS; w++) {
    workers.push(new Worker(watcherSource, { eval: true, workerData: { url: s.url, ca, token, path, count: WATCHERS / WATCH_WORKERS } }));
  }
  await Promise.all(workers.map((w) => new Promise<void>((res) => w.once('message', () => res()))));
  const total = rate * seconds;
  const tick = 10;
  const perTick = (rate * tick) / 1000;
  let sent = 0;
  const inflight: Promise<unknown>[] = [];
  const writeStart = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.round(((performance.now() - writeStart) / 1000) * rate) + perTick);
      while (sent < due) {
        const obj: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `w-${sent}`, namespace: namespace, annotations: { sent: String(now()) } }, data: { x: 'y' } };
        inflight.push(client.create(R.configmaps, obj));
        sent++;
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, tick);
  });
  await Promise.all(inflight);
  const achieved = total / ((performance.now() - writeStart) / 1000);
  // Give the last events a moment to arrive.
  await new Promise((r) => setTimeout(r, 1000));
  const all: number[] = [];
  for (const w of workers) {
    const report = new Promise<number[]>((res) => w.once('message', (m: { latencies: number[] }) => res(m.latencies)));
    w.postMessage('report');
    for (const l of await report) all.push(l);
    await w.terminate();
  }
  all.sort((a, b) => a - b);
  const expected = total * WATCHERS;
  note(`watch @${rate}/s: writes/s achieved`, achieved.toFixed(0));
  note(`watch @${rate}/s: events delivered (of ${expected})`, String(all.length));
  note(`watch @${rate}/s: latency to ${WATCHERS} watchers p50 / p99`, `${percentile(all, 50).toFixed(1)} ms / ${percentile(all, 99).toFixed(1)} ms`);
}

async function main(): Promise<void> {
  const cpu = cpus();
  process.stdout.write(`machine: ${cpu.length} cores, ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, store ${storeKind}\n`);
  const s = await startTestServer({ store: storeKind, controllers: false });
  const client = s.client;
  const rows: [string, string][] = [];
  const note = (k: string, v: string) => {
    rows.push([k, v]);
    process.stderr.write(`  ${k}: ${v}\n`);
  };
  try {
    await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-pods' } });

    // 1. creates per second (ConfigMaps, 32 in flight).
    let t0 = performance.now();
    await inParallel(CREATES, CONCURRENCY, (i) => client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'bench-pods' }, data: { i: String(i) } }));
    const createRate = CREATES / ((performance.now() - t0) / 1000);
    note(`creates/s (${CREATES} ConfigMaps, ${CONCURRENCY} in flight)`, createRate.toFixed(0));

    // 2. list latency with 10k pods.
    t0 = performance.now();
    await inParallel(PODS, CONCURRENCY, (i) =>
      client.create(R.pods, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `pod-${i}`, namespace: 'bench-pods', labels: { app: `app-${i % 10}` } },
        spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] },
      }),
    );
    const podRate = PODS / ((performance.now() - t0) / 1000);
    note(`pod creates/s (${PODS} Pods)`, podRate.toFixed(0));
    const listTimes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      const list = await client.list(R.pods, { namespace: 'bench-pods' });
      listTimes.push(performance.now() - t);
      if (list.items.length !== PODS) throw new Error(`list returned ${list.items.length} pods, expected ${PODS}`);
    }
    listTimes.sort((a, b) => a - b);
    note(`list ${PODS} pods, JSON (p50 / max of 10)`, `${percentile(listTimes, 50).toFixed(1)} ms / ${listTimes[listTimes.length - 1].toFixed(1)} ms`);
    const selTimes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await client.list(R.pods, { namespace: 'bench-pods', labelSelector: 'app=app-3' });
      selTimes.push(performance.now() - t);
    }
    selTimes.sort((a, b) => a - b);
    note(`list with labelSelector (1k of ${PODS} match, p50)`, `${percentile(selTimes, 50).toFixed(1)} ms`);
    const tableTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await client.request('GET', '/api/v1/namespaces/bench-pods/pods?limit=500', undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
      tableTimes.push(performance.now() - t);
    }
    tableTimes.sort((a, b) => a - b);
    note('kubectl-style Table page (limit=500, p50)', `${percentile(tableTimes, 50).toFixed(1)} ms`);

    // 3. watch delivery latency to 100 watchers: at a rate this machine sustains, then at 1000/s.
    await watchPhase(s, 200, 3, 'bench', note);
    await watchPhase(s, WRITE_RATE, WRITE_SECONDS, 'bench2', note);
  } finally {
    await s.stop();
  }
  const width = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(`\n${'measure'.padEnd(width)}  value\n${'-'.repeat(width)}  -----\n`);
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
