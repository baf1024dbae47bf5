// The etcd store's rows of the API server benchmark, in interleaved rounds (the order of the three
// create runs rotates each round, so load drifts hit them alike):
//   - creates/s through `flatnet server --store etcd` (on an etcd member of its own, server-store.ts),
//   - raw puts of the same JSON through etcd3 (the maintained Node.js etcd v3 client, on grpc-js) on
//     a peer member: what the target compares with,
//   - on that peer, the transaction kube-apiserver sends for a create (put if absent, else read)
//     with one watch open on the prefix (kube-apiserver's watch cache): the etcd work under
//     kube-apiserver, and exactly what flatnet's etcd does.
// The watch rows add the floor (etcd-floor-server.ts on the peer): a bare HTTPS server that only
// runs the create transaction and relays its one etcd watch's events to the 100 streams, the same
// watchers and creates as flatnet's; what any Node.js API server on this machine could reach. And
// the floor with its transactions in a worker thread, as flatnet's etcd store runs them (floor+hop).
// Both etcds serve clients over TLS with client certificates, as kubeadm and `flatnet up --ha` run
// etcd (the server gets --etcd-cafile/--etcd-certfile/--etcd-keyfile, the peer's client the same
// kind of certificate); --etcd-plain runs both without TLS instead.
// All at 32 in flight, with the CPU each process spent per create (server; its etcd; the peer etcd;
// this process, the client): on a shared 2-core machine the rates follow the CPU the whole path
// needs, which the load average does not change. Then watch delivery latency (create request sent
// -> event parsed by the watcher) to 100 flatnet watchers while creating at a rate the server
// sustains, against etcd with 100 watches and with 1, with the server main thread's CPU per event
// (the fan-out; it also holds the create and the watchers' TLS handshakes), and the floor's. Prints the load
// average with every round.
//
//   node --import tsx bench/apiserver/etcd-store.ts [--rounds N] [--creates N] [--rate N] [--seconds N] [--store etcd|sqlite|memory] [--etcd-plain] [--http2] [--no-watch]
//
// --store defaults to etcd here; --rate (default 50/s) should stay under what the server sustains
// on the machine, or the latency measured is the queue of writes, not the fan-out. Profile the
// server with FLATNET_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' (one profile per thread).
import { loadavg } from 'node:os';
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { startFloor } from './etcd-floor-client.js';
import { type LibraryPeer, libraryPeer, startEtcd } from './etcd-peer.js';
import { CONCURRENCY, WATCHERS, type WatchTarget, childPid, cpuSeconds, etcdWatchTarget, flatnetWatchTarget, floorWatchTarget, inParallel, threadCpuSeconds, threadSplit, watchPhase } from './etcd-bench-kit.js';
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
const ETCD_TLS = !process.argv.includes('--etcd-plain');
// --http2: the server offers h2 and the flatnet watchers use it as client-go would (one HTTP/2 session per worker thread).
const HTTP2 = process.argv.includes('--http2');
// --no-watch: the create rows only (e.g. to profile the create path alone).
const WATCH = !process.argv.includes('--no-watch');

const load = () => loadavg()[0].toFixed(1);

interface Run {
  rate: number;
  /** CPU µs per create of: the server (all threads; its main thread, its busiest other thread: the etcd client's), the etcd it writes to, this process (the client). */
  server: number;
  serverMain: number;
  serverBusiest: number;
  etcd: number;
  client: number;
}

/** Runs `make` CREATES times and measures the CPU of the processes involved. */
async function measured(serverPid: number | undefined, etcdPid: number, make: (i: number) => Promise<unknown>): Promise<Run> {
  const sample = () => [serverPid === undefined ? 0 : cpuSeconds(serverPid), cpuSeconds(etcdPid), cpuSeconds()];
  const threads0 = serverPid === undefined ? new Map<number, number>() : threadCpuSeconds(serverPid);
  const before = sample();
  const rate = await inParallel(CREATES, make);
  const after = sample();
  const split = serverPid === undefined ? { main: 0, busiest: 0 } : threadSplit(serverPid, threads0, threadCpuSeconds(serverPid));
  const us = (i: number) => ((after[i] - before[i]) * 1e6) / CREATES;
  return { rate, server: us(0), etcd: us(1), client: us(2), serverMain: (split.main * 1e6) / CREATES, serverBusiest: (split.busiest * 1e6) / CREATES };
}

async function main(): Promise<void> {
  const s = await startBenchServer(STORE, { etcdTls: ETCD_TLS, args: HTTP2 ? ['--http2'] : [] });
  const serverPid = childPid('src/cli/main.ts');
  const serverEtcdPid = STORE === 'etcd' ? childPid('--initial-cluster') : undefined;
  const etcd = await startEtcd({ tls: ETCD_TLS });
  const peerPid = childPid(`--listen-client-urls ${etcd.url}`);
  const lib: LibraryPeer = libraryPeer(etcd.tls?.url ?? etcd.url, etcd.tls);
  const peerTls = etcd.tls && { caPem: etcd.tls.caPem, certPem: etcd.tls.certPem, keyPem: etcd.tls.keyPem };
  const floor = WATCH ? await startFloor(etcd.tls?.url ?? etcd.url, peerTls, false) : undefined;
  const floorHop = WATCH ? await startFloor(etcd.tls?.url ?? etcd.url, peerTls, true) : undefined;
  process.stdout.write(`store ${STORE}, etcd ${etcd.version} (${ETCD_TLS ? 'TLS with client certificates' : 'plain'}); ${CREATES} ConfigMap creates a round, ${CONCURRENCY} in flight; watch: ${WATCHERS} watchers, ${RATE} creates/s for ${SECONDS} s\n`);
  process.stdout.write('CPU µs per create: server (main thread, busiest other thread) / its etcd / client (this process); peer: etcd / client\n');
  process.stdout.write('round  load       flatnet/s  (server(main,other)/etcd/client µs)  puts/s  (etcd/client µs)  ratio  txn+watch/s  (etcd/client µs)  ratio\n');
  const watchRows: string[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const ns = `bench-${r}`;
      await s.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const cm = (i: number): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: ns }, data: { i: String(i) } });
      const sample = JSON.stringify(await s.client.create(R.configmaps, cm(-1)));
      const value = (i: number) => sample.replace('"cm--1"', `"cm-${i}"`);
      const runs: Record<'ours' | 'puts' | 'txns', () => Promise<Run>> = {
        ours: () => measured(serverPid, serverEtcdPid ?? serverPid, (i) => s.client.create(R.configmaps, cm(i))),
        puts: () => measured(undefined, peerPid, (i) => lib.put(`/registry/configmaps/${ns}/cm-${i}`, value(i))),
        txns: async () => {
          const watch = await lib.watchPrefix(`/registry/configmaps/${ns}/`);
          try {
            return await measured(undefined, peerPid, (i) => lib.createTxn(`/registry/configmaps/${ns}/tx-${i}`, value(i)));
          } finally {
            await watch.close();
          }
        },
      };
      const order = (['ours', 'puts', 'txns'] as const).map((_, i, all) => all[(i + r) % all.length]);
      const before = load();
      const got: Partial<Record<'ours' | 'puts' | 'txns', Run>> = {};
      for (const k of order) got[k] = await runs[k]();
      const { ours, puts, txns } = got as Record<'ours' | 'puts' | 'txns', Run>;
      const cpu = (...v: number[]) => `(${v.map((x) => x.toFixed(0)).join('/')})`;
      process.stdout.write(
        [
          String(r + 1).padStart(5),
          `${before}-${load()}`.padEnd(9),
          ours.rate.toFixed(0).padStart(9),
          `(${ours.server.toFixed(0)}(${ours.serverMain.toFixed(0)},${ours.serverBusiest.toFixed(0)})/${ours.etcd.toFixed(0)}/${ours.client.toFixed(0)})`.padEnd(36),
          puts.rate.toFixed(0).padStart(6),
          cpu(puts.etcd, puts.client).padEnd(16),
          (ours.rate / puts.rate).toFixed(2).padStart(5),
          txns.rate.toFixed(0).padStart(11),
          cpu(txns.etcd, txns.client).padEnd(16),
          (ours.rate / txns.rate).toFixed(2).padStart(5),
        ].join('  ') + '\n',
      );
      if (!WATCH) continue;
      // Watch delivery: flatnet and the floor (which goes first alternates), then etcd with as many
      // watches, then with the one a cacher keeps.
      const watchBefore = load();
      const mainCpu = (pid: number) => threadCpuSeconds(pid).get(pid) ?? 0;
      // The main thread's CPU per event written (the fan-out to every watcher, plus the create and the 100 watches' TLS set-up).
      const perEvent = async (pid: number, target: WatchTarget) => {
        const before = mainCpu(pid);
        const result = await watchPhase(target, RATE, SECONDS);
        return { ...result, mainUs: ((mainCpu(pid) - before) * 1e6) / (RATE * SECONDS) };
      };
      const flatnetPhase = async () => perEvent(serverPid, await flatnetWatchTarget(s, `watch-${r}`, HTTP2));
      const floorPhase = () => perEvent(floor!.pid, floorWatchTarget(floor!, `watch-${r}`, HTTP2));
      const f = r % 2 === 1 ? await floorPhase() : undefined;
      const w = await flatnetPhase();
      const bare = f ?? (await floorPhase());
      const hop = await watchPhase(floorWatchTarget(floorHop!, `watch-hop-${r}`, HTTP2), RATE, SECONDS);
      const e100 = await watchPhase(etcdWatchTarget(etcd, `/registry/configmaps/watch-${r}-a/`, sample, WATCHERS), RATE, SECONDS);
      const e1 = await watchPhase(etcdWatchTarget(etcd, `/registry/configmaps/watch-${r}-b/`, sample, 1), RATE, SECONDS);
      watchRows.push(
        [
          String(r + 1).padStart(5),
          `${watchBefore}-${load()}`.padEnd(9),
          w.achieved.toFixed(0).padStart(8),
          `${w.delivered}/${w.expected}`.padStart(11),
          `${w.p50.toFixed(1)} / ${w.p99.toFixed(1)}`.padStart(15),
          w.mainUs.toFixed(0).padStart(12),
          `${bare.p50.toFixed(1)} / ${bare.p99.toFixed(1)}`.padStart(15),
          bare.mainUs.toFixed(0).padStart(12),
          `${hop.p50.toFixed(1)} / ${hop.p99.toFixed(1)}`.padStart(16),
          `${e100.p50.toFixed(1)} / ${e100.p99.toFixed(1)}`.padStart(17),
          `${e1.p50.toFixed(1)} / ${e1.p99.toFixed(1)}`.padStart(15),
        ].join('  '),
      );
    }
  } finally {
    lib.close();
    await floor?.stop();
    await floorHop?.stop();
    await s.stop();
    await etcd.stop();
  }
  if (!WATCH) return;
  process.stdout.write(`\nwatch delivery, ms p50 / p99 (${RATE} creates/s for ${SECONDS} s)\nround  load       writes/s    delivered  flatnet${HTTP2 ? ' h2' : ''} (${WATCHERS})  main µs/event  floor${HTTP2 ? ' h2' : ''} (${WATCHERS})  main µs/event  floor+hop${HTTP2 ? ' h2' : ''}  etcd (${WATCHERS} watches)  etcd (1 watch)\n`);
  for (const row of watchRows) process.stdout.write(`${row}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
