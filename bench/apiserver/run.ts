// API server benchmark: creates per second, list latency with 10k pods, and watch delivery
// latency (write request sent -> event parsed by the watcher) to 100 watchers while writing
// 1000 objects/s. Runs the real `flatnet server` as a child process; watchers live in worker
// threads so the writer's event loop does not skew their clocks. Every measure is repeated in the
// same run against etcd (./etcd-peer.ts, Debian's etcd-server), the store under kube-apiserver,
// and reported as a ratio. Bounded to about 2 minutes.
//
//   node --import tsx bench/apiserver/run.ts [--store sqlite|memory|etcd]
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { startEtcd } from './etcd-peer.js';
import { CONCURRENCY, WATCHERS, type WatchResult, type WatchTarget, etcdWatchTarget, flatnetWatchTarget, inParallel, percentile, watchPhase } from './etcd-bench-kit.js';
import { benchStoreOf, startBenchServer } from './server-store.js';

const storeKind = benchStoreOf(process.argv);
const WRITE_RATE = 1000;
const WRITE_SECONDS = 5;
const PODS = 10_000;
const CREATES = 3_000;

/** Runs one watch phase and notes its rows. */
async function watchRows(target: WatchTarget, rate: number, seconds: number, note: (k: string, v: string) => void): Promise<WatchResult> {
  const result = await watchPhase(target, rate, seconds);
  note(`${target.label} watch @${rate}/s: writes/s achieved`, result.achieved.toFixed(0));
  note(`${target.label} watch @${rate}/s: events delivered (of ${result.expected})`, String(result.delivered));
  note(`${target.label} watch @${rate}/s: latency to ${target.watches} watchers p50 / p99`, `${result.p50.toFixed(1)} ms / ${result.p99.toFixed(1)} ms`);
  return result;
}

async function timed(times: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const cpu = cpus();
  process.stdout.write(`machine: ${cpu.length} cores, ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, store ${storeKind}\n`);
  const s = await startBenchServer(storeKind); // --store sqlite|memory|etcd (server-store.ts)
  const etcd = await startEtcd();
  process.stdout.write(`peer: etcd ${etcd.version} (single member, loopback, v3 JSON gateway, same bodies and concurrency)\n`);
  const client = s.client;
  const rows: [string, string][] = [];
  const note = (k: string, v: string) => {
    rows.push([k, v]);
    process.stderr.write(`  ${k}: ${v}\n`);
  };
  // [measure, flatnet, etcd, ratio flatnet/etcd (> 1 is better for flatnet when higher is better)]
  const compare: [string, string, string, string][] = [];
  const rate = (label: string, ours: number, peer: number) => compare.push([label, ours.toFixed(0), peer.toFixed(0), (ours / peer).toPrecision(2)]);
  const latency = (label: string, ours: number, peer: number) => compare.push([label, `${ours.toFixed(1)} ms`, `${peer.toFixed(1)} ms`, (ours / peer).toPrecision(2)]);
  try {
    await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-pods' } });

    // 1. creates per second (ConfigMaps, 32 in flight); etcd puts the JSON flatnet stored for each.
    let t0 = performance.now();
    const cmBody = (i: number): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'bench-pods' }, data: { i: String(i) } });
    const sampleCm = JSON.stringify(await client.create(R.configmaps, cmBody(-1)));
    await inParallel(CREATES, (i) => client.create(R.configmaps, cmBody(i)));
    const createRate = CREATES / ((performance.now() - t0) / 1000);
    note(`creates/s (${CREATES} ConfigMaps, ${CONCURRENCY} in flight)`, createRate.toFixed(0));
    t0 = performance.now();
    await inParallel(CREATES, (i) => etcd.put(`/registry/configmaps/bench-pods/cm-${i}`, sampleCm.replace('"cm--1"', `"cm-${i}"`)));
    const etcdCreateRate = CREATES / ((performance.now() - t0) / 1000);
    note(`etcd puts/s (${CREATES} ConfigMap JSON values, ${CONCURRENCY} in flight)`, etcdCreateRate.toFixed(0));
    rate('creates/s, ConfigMaps, 32 in flight', createRate, etcdCreateRate);

    // 2. list latency with 10k pods.
    const podBody = (i: number): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${i}`, namespace: 'bench-pods', labels: { app: `app-${i % 10}` } },
      spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] },
    });
    t0 = performance.now();
    await inParallel(PODS, (i) => client.create(R.pods, podBody(i)));
    const podRate = PODS / ((performance.now() - t0) / 1000);
    note(`pod creates/s (${PODS} Pods)`, podRate.toFixed(0));
    const samplePod = JSON.stringify(await client.get(R.pods, 'bench-pods', 'pod-0'));
    t0 = performance.now();
    await inParallel(PODS, (i) => etcd.put(`/registry/pods/bench-pods/pod-${i}`, samplePod.replaceAll('"pod-0"', `"pod-${i}"`)));
    const etcdPodRate = PODS / ((performance.now() - t0) / 1000);
    note(`etcd puts/s (${PODS} Pod JSON values)`, etcdPodRate.toFixed(0));
    rate('creates/s, Pods, 32 in flight', podRate, etcdPodRate);

    const listTimes = await timed(10, async () => {
      const list = await client.list(R.pods, { namespace: 'bench-pods' });
      if (list.items.length !== PODS) throw new Error(`list returned ${list.items.length} pods, expected ${PODS}`);
    });
    note(`list ${PODS} pods, JSON (p50 / max of 10)`, `${percentile(listTimes, 50).toFixed(1)} ms / ${listTimes[listTimes.length - 1].toFixed(1)} ms`);
    const etcdListTimes = await timed(10, async () => {
      const n = await etcd.rangePrefix('/registry/pods/bench-pods/');
      if (n !== PODS) throw new Error(`etcd range returned ${n} keys, expected ${PODS}`);
    });
    note(`etcd range of ${PODS} pod keys (p50 / max of 10)`, `${percentile(etcdListTimes, 50).toFixed(1)} ms / ${etcdListTimes[etcdListTimes.length - 1].toFixed(1)} ms`);
    latency(`list ${PODS} pods, p50 of 10`, percentile(listTimes, 50), percentile(etcdListTimes, 50));

    const selTimes = await timed(10, () => client.list(R.pods, { namespace: 'bench-pods', labelSelector: 'app=app-3' }));
    note(`list with labelSelector (1k of ${PODS} match, p50)`, `${percentile(selTimes, 50).toFixed(1)} ms`);
    const tableTimes = await timed(5, () => client.request('GET', '/api/v1/namespaces/bench-pods/pods?limit=500', undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' }));
    note('kubectl-style Table page (limit=500, p50)', `${percentile(tableTimes, 50).toFixed(1)} ms`);

    // 3. watch delivery latency to 100 watchers while writing 1000 objects/s, flatnet then etcd.
    const ours = await watchRows(await flatnetWatchTarget(s, 'bench2'), WRITE_RATE, WRITE_SECONDS, note);
    // etcd with 100 watches of its own, and with the one watch kube-apiserver's watch cache keeps
    // per resource (it fans events out to its clients itself, so this is a lower bound for it).
    const peer = await watchRows(etcdWatchTarget(etcd, '/registry/configmaps/bench3/', sampleCm, WATCHERS), WRITE_RATE, WRITE_SECONDS, note);
    const cacher = await watchRows(etcdWatchTarget(etcd, '/registry/configmaps/bench4/', sampleCm, 1), WRITE_RATE, WRITE_SECONDS, note);
    rate(`watch: writes/s achieved (target ${WRITE_RATE}), etcd 100 watches`, ours.achieved, peer.achieved);
    compare.push([`watch: events delivered to ${WATCHERS} watchers`, String(ours.delivered), String(peer.delivered), (ours.delivered / peer.delivered).toFixed(2)]);
    latency(`watch delivery p50, ${WATCHERS} watchers @${WRITE_RATE}/s`, ours.p50, peer.p50);
    latency(`watch delivery p99, ${WATCHERS} watchers @${WRITE_RATE}/s`, ours.p99, peer.p99);
    latency(`watch p50, flatnet 100 watchers vs etcd 1 watch`, ours.p50, cacher.p50);
    latency(`watch p99, flatnet 100 watchers vs etcd 1 watch`, ours.p99, cacher.p99);
  } finally {
    await s.stop();
    await etcd.stop();
  }
  const width = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(`\n${'measure'.padEnd(width)}  value\n${'-'.repeat(width)}  -----\n`);
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
  const cw = Math.max(...compare.map((r) => r[0].length));
  process.stdout.write(`\n${'measure'.padEnd(cw)}  ${'flatnet'.padStart(10)}  ${'etcd'.padStart(10)}  flatnet/etcd\n`);
  for (const [k, a, b, r] of compare) process.stdout.write(`${k.padEnd(cw)}  ${a.padStart(10)}  ${b.padStart(10)}  ${r}\n`);
  process.stdout.write('\nflatnet: full API path (HTTPS, token, validation, SQLite WAL synchronous=NORMAL). etcd: store only (plain HTTP gateway, WAL fsync per batch);\n' + 'kube-apiserver runs on top of etcd, so its rates are below and its latencies above the etcd column.\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
