// A/B of the API server's create cost between two source trees (a `git worktree` of the commit
// before a change, and the tree with it), for a shared machine: both servers run at once and take
// alternating batches of Pod and ConfigMap creates (32 in flight), so a change in the machine's
// load hits both alike. Reports the server process's CPU time per create (on-CPU time of all its
// threads) summed over the batches, and the ratio B/A; also the median over the rounds of the ratio
// between a round's two neighbouring batches (a load spike or a major GC in one batch moves the
// sum, hardly the median). Creates carry fieldManager=kubectl-create, as kubectl sends it.
//
//   node --import tsx bench/apiserver/ab-creates.ts --a /tmp/base --b . [--batches 12] [--batch 500] [--each]
//
// --each also prints every measured batch's CPU µs per create (A and B), to see whether a sum ratio
// comes from all batches or from a few expensive ones (a major GC, a WAL checkpoint).
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import type { TestServer } from '../../test/support/server.js';
import { argument } from './args.js';

const BATCHES = Number(argument('batches', '12'));
const BATCH = Number(argument('batch', '500'));
const CONCURRENCY = 32;
const EACH = process.argv.includes('--each');

/**
 * CPU seconds of process `pid`: the on-CPU time of all its threads from /proc/<pid>/task/<tid>/schedstat
 * (nanoseconds, user and system; /proc/<pid>/stat counts 10 ms ticks, too coarse for one batch).
 */
function cpuSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended while we looked
    }
  }
  return ns / 1e9;
}

/** The pid of the `flatnet server` child started from `tree`. */
function serverPid(tree: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(`${tree}/src/cli/main.ts`)) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  throw new Error(`no server child from ${tree}`);
}

async function inParallel(from: number, total: number, make: (i: number) => Promise<unknown>): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < from + total) await make(next++);
    }),
  );
}

interface Side {
  label: string;
  server: TestServer;
  pid: number;
  /** CPU µs summed over the measured batches, by kind. */
  cpu: { pods: number; configmaps: number };
  /** CPU µs of each measured batch, by kind (round n at index n - 1). */
  batches: { pods: number[]; configmaps: number[] };
}

async function start(label: string, tree: string): Promise<Side> {
  // Each tree's own test support starts that tree's server.
  const support = (await import(resolve(tree, 'test/support/server.ts'))) as typeof import('../../test/support/server.js');
  const server = await support.startTestServer({ store: 'sqlite', controllers: false });
  await server.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ab' } });
  return { label, server, pid: serverPid(resolve(tree)), cpu: { pods: 0, configmaps: 0 }, batches: { pods: [], configmaps: [] } };
}

const pod = (i: number): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `pod-${i}`, namespace: 'ab', labels: { app: `app-${i % 10}` } },
  spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] },
});
const configMap = (i: number): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'ab' }, data: { i: String(i) } });

async function batch(side: Side, kind: 'pods' | 'configmaps', from: number, measured: boolean): Promise<void> {
  const c0 = cpuSeconds(side.pid);
  // fieldManager as `kubectl create` sends it, so the managedFields work a real client causes is counted.
  const opts = { fieldManager: 'kubectl-create' };
  await inParallel(from, BATCH, (i) => (kind === 'pods' ? side.server.client.create(R.pods, pod(i), opts) : side.server.client.create(R.configmaps, configMap(i), opts)));
  if (!measured) return;
  const used = (cpuSeconds(side.pid) - c0) * 1e6;
  side.cpu[kind] += used;
  side.batches[kind].push(used);
}

async function main(): Promise<void> {
  const a = await start('A', argument('a'));
  const b = await start('B', argument('b'));
  const loads: number[] = [];
  try {
    // Batch 0 warms both servers up (JIT) and is not counted; then A and B alternate, each going first half the time.
    for (let n = 0; n <= BATCHES; n++) {
      const order = n % 2 === 0 ? [a, b] : [b, a];
      for (const kind of ['pods', 'configmaps'] as const) for (const side of order) await batch(side, kind, n * BATCH, n > 0);
      loads.push(loadavg()[0]);
    }
  } finally {
    await a.server.stop();
    await b.server.stop();
  }
  const per = (side: Side, kind: 'pods' | 'configmaps') => side.cpu[kind] / (BATCHES * BATCH);
  process.stdout.write(`${BATCHES} alternating batches of ${BATCH} creates each, load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}\n`);
  for (const kind of ['pods', 'configmaps'] as const) {
    const ratios = b.batches[kind].map((cpu, i) => cpu / a.batches[kind][i]).sort((x, y) => x - y);
    if (EACH) {
      const each = (side: Side) => side.batches[kind].map((cpu) => (cpu / BATCH).toFixed(0).padStart(4)).join(' ');
      process.stdout.write(`${kind.padEnd(10)}  A per batch ${each(a)}\n${''.padEnd(10)}  B per batch ${each(b)}\n`);
    }
    const mid = ratios.length >> 1;
    const median = ratios.length % 2 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
    process.stdout.write(
      `${kind.padEnd(10)}  A ${per(a, kind).toFixed(0)} µs CPU/create  B ${per(b, kind).toFixed(0)} µs  B/A ${(per(b, kind) / per(a, kind)).toFixed(3)}  median of round ratios ${median.toFixed(3)}\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
