// Where an etcd-backed create's CPU goes, in one run of interleaved rounds (the order rotates each
// round, so load drifts hit every row alike), all with the same HTTPS client (KubeClient, 32 in
// flight) creating ConfigMaps:
//   - flatnet: `flatnet server --store etcd` on an etcd member of its own (TLS, client certificate);
//   - sqlite:  `flatnet server` on its default SQLite store (no etcd at all);
//   - floor:   etcd-floor-server.ts, a bare HTTPS server doing one create transaction per request
//              through the etcd store's gRPC client, on the peer etcd (the least an API server on
//              etcd can do: no admission, validation, watch or cache);
//   - puts:    raw puts of the same JSON through etcd3 (the maintained Node.js client) on the peer,
//              what issue #11's target compares with.
// Per create it prints the CPU µs of each server process split by thread (main thread; the busiest
// other thread: the etcd client's; the rest: V8's and libuv's helpers), of the etcd written to, and
// of this process (the client), with the load average of each round.
//
// --baseline DIR adds a row for `flatnet server --store etcd` run from another copy of the tree
// (e.g. HEAD before a change), on an etcd member of its own, for a before/after in the same run.
// --warm N first creates N ConfigMaps through each flatnet server on etcd (the watch cache's
// history holds 20000 events a resource: past that, it runs full).
//
//   node --import tsx bench/apiserver/etcd-floor.ts [--rounds N] [--creates N] [--etcd-plain] [--baseline DIR] [--warm N]
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { libraryPeer, startEtcd } from './etcd-peer.js';
import { childPid, cpuSeconds, inParallel, threadCpuSeconds, threadSplit } from './etcd-bench-kit.js';
import { startFloor } from './etcd-floor-client.js';
import { startBenchServer } from './server-store.js';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const n = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

const ROUNDS = flag('rounds', 4);
const CREATES = flag('creates', 1500);
const ETCD_TLS = !process.argv.includes('--etcd-plain');
const BASELINE = process.argv.includes('--baseline') ? process.argv[process.argv.indexOf('--baseline') + 1] : undefined;
const WARM = process.argv.includes('--warm') ? flag('warm', 1) : 0;
const load = () => loadavg()[0].toFixed(1);

interface Row {
  rate: number;
  /** CPU µs per create: the server process (all threads, main, busiest other, rest), its etcd, the client. */
  server: number;
  main: number;
  other: number;
  rest: number;
  etcd: number;
  client: number;
}

async function measured(serverPid: number | undefined, etcdPid: number | undefined, make: (i: number) => Promise<unknown>): Promise<Row> {
  const t0 = serverPid === undefined ? undefined : threadCpuSeconds(serverPid);
  const c0 = [serverPid === undefined ? 0 : cpuSeconds(serverPid), etcdPid === undefined ? 0 : cpuSeconds(etcdPid), cpuSeconds()];
  const rate = await inParallel(CREATES, make);
  const c1 = [serverPid === undefined ? 0 : cpuSeconds(serverPid), etcdPid === undefined ? 0 : cpuSeconds(etcdPid), cpuSeconds()];
  const split = serverPid === undefined || !t0 ? { main: 0, busiest: 0, rest: 0 } : threadSplit(serverPid, t0, threadCpuSeconds(serverPid));
  const us = (s: number) => (s * 1e6) / CREATES;
  return { rate, server: us(c1[0] - c0[0]), main: us(split.main), other: us(split.busiest), rest: us(split.rest), etcd: us(c1[1] - c0[1]), client: us(c1[2] - c0[2]) };
}

/** The pids of this process's children whose command line contains `word`. */
function childPids(word: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(word)) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

const NONE: Row = { rate: 0, server: 0, main: 0, other: 0, rest: 0, etcd: 0, client: 0 };

type Kind = 'flatnet' | 'baseline' | 'sqlite' | 'floor' | 'floorHop' | 'puts';

async function main(): Promise<void> {
  const onEtcd = await startBenchServer('etcd', { etcdTls: ETCD_TLS });
  const onEtcdPid = childPid('--store etcd');
  const onEtcdEtcdPid = childPid('--initial-cluster');
  let base: { server: Awaited<ReturnType<typeof startBenchServer>>; pid: number; etcdPid: number } | undefined;
  if (BASELINE) {
    const other = (await import(`${BASELINE.replace(/\/$/, '')}/bench/apiserver/server-store.ts`)) as { startBenchServer: typeof startBenchServer };
    const before = new Set([...childPids('src/cli/main.ts'), ...childPids('--initial-cluster')]);
    const server = await other.startBenchServer('etcd', { etcdTls: ETCD_TLS });
    const pid = childPids('src/cli/main.ts').find((p) => !before.has(p))!;
    const etcdPid = childPids('--initial-cluster').find((p) => !before.has(p))!;
    base = { server, pid, etcdPid };
  }
  const onSqlite = await startBenchServer('sqlite');
  // (the etcd server's command line also carries `--store sqlite`, overridden by its later `--store etcd`)
  const onSqlitePid = childPids('src/cli/main.ts').find((pid) => pid !== onEtcdPid && pid !== base?.pid)!;
  const peer = await startEtcd({ tls: ETCD_TLS });
  const peerPid = childPid(`--listen-client-urls ${peer.url}`);
  const peerTls = peer.tls && { caPem: peer.tls.caPem, certPem: peer.tls.certPem, keyPem: peer.tls.keyPem };
  const lib = libraryPeer(peer.tls?.url ?? peer.url, peerTls);
  const floor = await startFloor(peer.tls?.url ?? peer.url, peerTls, false);
  const floorHop = await startFloor(peer.tls?.url ?? peer.url, peerTls, true);
  process.stdout.write(`etcd ${peer.version} (${ETCD_TLS ? 'TLS with client certificates' : 'plain'}); ${CREATES} ConfigMap creates a row, 32 in flight, one KubeClient over HTTPS for the three servers\n`);
  process.stdout.write('CPU µs per create: server total (main, etcd thread, rest) / etcd / client\n');
  process.stdout.write(`round  load       flatnet/s (server(main,etcd thr,rest)/etcd/client)     ${base ? 'baseline/s (server(main,etcd thr,rest)/etcd/client)  ' : ''}sqlite/s (server(main,rest)/client)  floor/s (server/etcd/client)  floor+hop/s (server(main,etcd thr,rest)/etcd/client)  puts/s (etcd/client)  flatnet:puts  floor:puts  flatnet:floor${base ? '  baseline:puts  server CPU new/base' : ''}\n`);
  try {
    for (const c of [onEtcd.client, ...(base ? [base.server.client] : [])]) {
      if (WARM === 0) break;
      await c.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'warm' } });
      await inParallel(WARM, (i) => c.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `w-${i}`, namespace: 'warm' }, data: { i: String(i) } }));
    }
    for (let r = 0; r < ROUNDS; r++) {
      const ns = `bench-${r}`;
      for (const c of [onEtcd.client, onSqlite.client, ...(base ? [base.server.client] : [])]) await c.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const cm = (i: number): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: ns }, data: { i: String(i) } });
      const sample = JSON.stringify(await onEtcd.client.create(R.configmaps, cm(-1)));
      const value = (i: number) => sample.replace('"cm--1"', `"cm-${i}"`);
      const runs: Record<Kind, () => Promise<Row>> = {
        flatnet: () => measured(onEtcdPid, onEtcdEtcdPid, (i) => onEtcd.client.create(R.configmaps, cm(i))),
        baseline: () => (base ? measured(base.pid, base.etcdPid, (i) => base.server.client.create(R.configmaps, cm(i))) : Promise.resolve(NONE)),
        sqlite: () => measured(onSqlitePid, undefined, (i) => onSqlite.client.create(R.configmaps, cm(i))),
        floor: () => measured(floor.pid, peerPid, (i) => floor.client.create(R.configmaps, cm(i))),
        floorHop: () => measured(floorHop.pid, peerPid, (i) => floorHop.client.create(R.configmaps, { ...cm(i), metadata: { name: `h-${i}`, namespace: ns } })),
        puts: () => measured(undefined, peerPid, (i) => lib.put(`/registry/configmaps/${ns}/cm-${i}`, value(i))),
      };
      const kinds: Kind[] = base ? ['flatnet', 'baseline', 'sqlite', 'floor', 'floorHop', 'puts'] : ['flatnet', 'sqlite', 'floor', 'floorHop', 'puts'];
      const order = kinds.map((_, i) => kinds[(i + r) % kinds.length]);
      const before = load();
      const got: Partial<Record<Kind, Row>> = {};
      for (const k of order) got[k] = await runs[k]();
      const { flatnet, sqlite, floor: fl, floorHop: fh, puts } = got as Record<Kind, Row>;
      const bl = got.baseline;
      const n = (x: number) => x.toFixed(0);
      process.stdout.write(
        [
          String(r + 1).padStart(5),
          `${before}-${load()}`.padEnd(9),
          n(flatnet.rate).padStart(9),
          `(${n(flatnet.server)}(${n(flatnet.main)},${n(flatnet.other)},${n(flatnet.rest)})/${n(flatnet.etcd)}/${n(flatnet.client)})`.padEnd(30),
          ...(bl ? [n(bl.rate).padStart(10), `(${n(bl.server)}(${n(bl.main)},${n(bl.other)},${n(bl.rest)})/${n(bl.etcd)}/${n(bl.client)})`.padEnd(30)] : []),
          n(sqlite.rate).padStart(8),
          `(${n(sqlite.server)}(${n(sqlite.main)},${n(sqlite.other + sqlite.rest)})/${n(sqlite.client)})`.padEnd(22),
          n(fl.rate).padStart(7),
          `(${n(fl.server)}/${n(fl.etcd)}/${n(fl.client)})`.padEnd(20),
          n(fh.rate).padStart(9),
          `(${n(fh.server)}(${n(fh.main)},${n(fh.other)},${n(fh.rest)})/${n(fh.etcd)}/${n(fh.client)})`.padEnd(26),
          n(puts.rate).padStart(6),
          `(${n(puts.etcd)}/${n(puts.client)})`.padEnd(13),
          (flatnet.rate / puts.rate).toFixed(2).padStart(12),
          (fl.rate / puts.rate).toFixed(2).padStart(10),
          (flatnet.rate / fl.rate).toFixed(2).padStart(13),
          ...(bl ? [(bl.rate / puts.rate).toFixed(2).padStart(13), (flatnet.server / bl.server).toFixed(2).padStart(16)] : []),
        ].join('  ') + '\n',
      );
    }
  } finally {
    lib.close();
    await floor.stop();
    await floorHop.stop();
    await onEtcd.stop();
    await base?.server.stop();
    await onSqlite.stop();
    await peer.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
