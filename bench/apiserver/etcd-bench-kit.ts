// What the API server benchmarks (run.ts, etcd-store.ts) share: N requests with a fixed number in
// flight, CPU seconds of a process, percentiles, and watch delivery latency (write request sent ->
// event parsed by the watcher) to many watchers of flatnet or of etcd, the watchers in worker
// threads so the writer's event loop does not skew their clocks, parsing with a regex instead of
// JSON.parse to keep their own CPU out of the measurement.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import type { TestServer } from '../../test/support/server.js';
import type { Floor } from './etcd-floor-client.js';
import { type Etcd, etcdWatcherSource, prefixEnd } from './etcd-peer.js';

export const CONCURRENCY = 32;
export const WATCHERS = 100;
const WATCH_WORKERS = 4;

/** Runs make(0..total-1) with `concurrency` in flight; answers the rate per second. */
export async function inParallel(total: number, make: (i: number) => Promise<unknown>, concurrency = CONCURRENCY): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await make(next++);
    }),
  );
  return total / ((performance.now() - t0) / 1000);
}

export function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The pid of this process's child whose command line contains `word`. */
export function childPid(word: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(word)) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  throw new Error(`no child process running ${word}`);
}

/** CPU seconds (user + system, all threads) a process has used; this process's own when pid is omitted. */
export function cpuSeconds(pid?: number): number {
  if (pid === undefined) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of each thread of a process, by thread id (Node 20 names them all "node"; the main thread's id is the pid). */
export function threadCpuSeconds(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // the thread ended while we looked
    }
  }
  return out;
}

/** CPU seconds per thread between two threadCpuSeconds samples: the main thread, the busiest other thread, and all the rest. */
export function threadSplit(pid: number, before: Map<number, number>, after: Map<number, number>): { main: number; busiest: number; rest: number } {
  const deltas = [...after].filter(([tid]) => tid !== pid).map(([tid, cpu]) => cpu - (before.get(tid) ?? 0)).sort((a, b) => b - a);
  return { main: (after.get(pid) ?? 0) - (before.get(pid) ?? 0), busiest: deltas[0] ?? 0, rest: deltas.slice(1).reduce((a, b) => a + b, 0) };
}

// Shared by both watcher sources: reads a watch stream's lines and records each ADDED event's latency.
const recordLatenciesSource = `
function recordLatencies(stream) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = line.startsWith('{"type":"ADDED"') ? /"sent":"([0-9.]+)"/.exec(line) : null;
      if (m) latencies.push(performance.timeOrigin + performance.now() - Number(m[1]));
    }
  });
}
`;

const flatnetWatcherSource = `
const { parentPort, workerData } = require('node:worker_threads');
const https = require('node:https');
const { performance } = require('node:perf_hooks');
const { url, ca, token, path, count } = workerData;
const u = new URL(url);
const latencies = [];
${recordLatenciesSource}
let ready = 0;
const agent = new https.Agent({ keepAlive: true, maxSockets: count, ca });
for (let i = 0; i < count; i++) {
  const req = https.request({ host: u.hostname, port: u.port, path, ca, agent, headers: { authorization: 'Bearer ' + token } }, (res) => {
    if (++ready === count) parentPort.postMessage({ ready: true });
    recordLatencies(res);
    res.on('error', () => {});
  });
  req.on('error', () => {});
  req.end();
}
parentPort.on('message', (m) => { if (m === 'report') parentPort.postMessage({ latencies }); });
`;

// The same watches over HTTP/2, as client-go opens them against a server that offers h2: one
// session per worker thread, each watch a stream on it.
const flatnetH2WatcherSource = `
const { parentPort, workerData } = require('node:worker_threads');
const http2 = require('node:http2');
const { performance } = require('node:perf_hooks');
const { url, ca, token, path, count } = workerData;
const latencies = [];
${recordLatenciesSource}
let ready = 0;
const session = http2.connect(url, { ca });
session.on('error', () => {});
for (let i = 0; i < count; i++) {
  const st = session.request({ ':path': path, authorization: 'Bearer ' + token });
  st.on('response', () => { if (++ready === count) parentPort.postMessage({ ready: true }); });
  recordLatencies(st);
  st.on('error', () => {});
}
parentPort.on('message', (m) => { if (m === 'report') parentPort.postMessage({ latencies }); });
`;

export interface WatchTarget {
  label: string;
  /** How many watches the workers open in all. */
  watches: number;
  /** Starts the watcher workers (each posts one message when all its watches are open). */
  watchers(): Worker[];
  /** Writes object number `i`, carrying its send time. */
  write(i: number, sent: number): Promise<unknown>;
}

export interface WatchResult {
  achieved: number;
  delivered: number;
  expected: number;
  p50: number;
  p99: number;
}

/** Watch delivery latency to the target's watchers while writing `rate` objects/s for `seconds`. */
export async function watchPhase(target: WatchTarget, rate: number, seconds: number): Promise<WatchResult> {
  const workers = target.watchers();
  await Promise.all(workers.map((w) => new Promise<void>((res) => w.once('message', () => res()))));
  const total = rate * seconds;
  const tick = 5;
  let sent = 0;
  const inflight: Promise<unknown>[] = [];
  const writeStart = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.ceil(((performance.now() - writeStart) / 1000) * rate));
      while (sent < due) inflight.push(target.write(sent++, performance.timeOrigin + performance.now()));
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
  return { achieved, delivered: all.length, expected: total * target.watches, p50: percentile(all, 50), p99: percentile(all, 99) };
}

/** WATCHERS watches at `path` on an API server at `url`, each its own TLS connection, or with `http2` one HTTP/2 session per worker thread. */
function apiWatchTarget(label: string, at: { url: string; ca: string; token: string; path: string }, http2: boolean, write: WatchTarget['write']): WatchTarget {
  return {
    label: http2 ? `${label} (h2)` : label,
    watches: WATCHERS,
    watchers: () => Array.from({ length: WATCH_WORKERS }, () => new Worker(http2 ? flatnetH2WatcherSource : flatnetWatcherSource, { eval: true, workerData: { ...at, count: WATCHERS / WATCH_WORKERS } })),
    write,
  };
}

/** A ConfigMap carrying its send time in an annotation, as the watchers read it back. */
const timedConfigMap = (namespace: string, i: number, sent: number): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `w-${i}`, namespace, annotations: { sent: String(sent) } }, data: { x: 'y' } });

/** flatnet's watch target: WATCHERS watches of ConfigMaps in `namespace` (the server must offer h2 for `http2`). */
export async function flatnetWatchTarget(s: TestServer, namespace: string, http2 = false): Promise<WatchTarget> {
  const client = s.client;
  await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }).catch(() => undefined);
  const start = await client.list(R.configmaps, { namespace, limit: 1 });
  const ca = readFileSync(join(s.dataDir, 'ca.crt'), 'utf8');
  const token = readFileSync(join(s.dataDir, 'admin.token'), 'utf8').trim();
  const path = `/api/v1/namespaces/${namespace}/configmaps?watch=true&resourceVersion=${start.metadata.resourceVersion}`;
  return apiWatchTarget('flatnet', { url: s.url, ca, token, path }, http2, (i, sent) => client.create(R.configmaps, timedConfigMap(namespace, i, sent)));
}

/** The floor server's watch target (etcd-floor-server.ts): the same watches and creates, on the least server that can answer them. */
export function floorWatchTarget(floor: Floor, namespace: string, http2 = false): WatchTarget {
  const path = `/api/v1/namespaces/${namespace}/configmaps?watch=true`;
  return apiWatchTarget('floor', { url: floor.url, ca: floor.ca, token: floor.token, path }, http2, (i, sent) => floor.client.create(R.configmaps, timedConfigMap(namespace, i, sent)));
}

/** etcd's watch target: `watches` watches of keys under `prefix` whose name carries the send time; the value is a ConfigMap's JSON. */
export function etcdWatchTarget(etcd: Etcd, prefix: string, value: string, watches: number): WatchTarget {
  const workers = Math.min(WATCH_WORKERS, watches);
  return {
    label: `etcd (${watches} watch${watches > 1 ? 'es' : ''})`,
    watches,
    watchers: () => Array.from({ length: workers }, () => new Worker(etcdWatcherSource, { eval: true, workerData: { url: etcd.url, prefix, prefixEnd: prefixEnd(prefix), count: watches / workers } })),
    write: (i, sent) => etcd.put(`${prefix}${sent}/${i}`, value),
  };
}
