// The create rows of the API server benchmark alone, in rounds: each round creates ConfigMaps and
// Pods through the real `flatnet server` (32 in flight, as run.ts) and puts the same JSON values
// into etcd right after, so each ratio compares two measures taken under the same load. Prints the
// load average with every round: the rows of a shared machine mean little without it. About 20 s
// a round; use it to compare two trees (run it from each, alternating) or to profile the server
// (FLATNET_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR').
//
//   node --import tsx bench/apiserver/creates.ts [--rounds N] [--pods N] [--configmaps N] [--store sqlite|memory]
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { startTestServer } from '../../test/support/server.js';
import { startEtcd } from './etcd-peer.js';

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

function positive(name: string, fallback: number): number {
  const n = Number(flag(name, String(fallback)));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

const ROUNDS = positive('rounds', 3);
const PODS = positive('pods', 5_000);
const CONFIGMAPS = positive('configmaps', 3_000);
const STORE = flag('store', 'sqlite');
const CONCURRENCY = 32;
if (STORE !== 'sqlite' && STORE !== 'memory') throw new Error('--store must be sqlite or memory');

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

const load = () => loadavg()[0].toFixed(2);

/** The pid of this process's child whose command line has `word` (the server, etcd). */
function childPid(word: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(word)) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  throw new Error(`no child process running ${word}`);
}

/** CPU seconds (user + system) a process has used: what a create costs, whatever else the shared machine runs. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Creates/s of `make`, and the CPU microseconds process `pid` spent per create. */
async function measure(pid: number, total: number, make: (i: number) => Promise<unknown>): Promise<{ rate: number; cpu: number }> {
  const c0 = cpuSeconds(pid);
  const rate = await inParallel(total, make);
  return { rate, cpu: ((cpuSeconds(pid) - c0) * 1e6) / total };
}

async function main(): Promise<void> {
  const s = await startTestServer({ store: STORE as 'sqlite' | 'memory', controllers: false });
  const etcd = await startEtcd();
  const client = s.client;
  process.stdout.write(`store ${STORE}, etcd ${etcd.version}, ${CONFIGMAPS} ConfigMaps and ${PODS} Pods a round, ${CONCURRENCY} in flight\n`);
  const serverPid = childPid('src/cli/main.ts');
  const etcdPid = childPid('--initial-cluster');
  process.stdout.write('creates/s and CPU µs per create of the server process (etcd: puts/s and µs per put of etcd)\n');
  process.stdout.write('round  load       cm/s  µs/cm  etcd  µs/put  ratio   pod/s  µs/pod  etcd  µs/put  ratio\n');
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const ns = `bench-${r}`;
      await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const before = load();
      const cm = (i: number): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: ns }, data: { i: String(i) } });
      const sampleCm = JSON.stringify(await client.create(R.configmaps, cm(-1)));
      const cms = await measure(serverPid, CONFIGMAPS, (i) => client.create(R.configmaps, cm(i)));
      const etcdCms = await measure(etcdPid, CONFIGMAPS, (i) => etcd.put(`/registry/configmaps/${ns}/cm-${i}`, sampleCm.replace('"cm--1"', `"cm-${i}"`)));
      const pod = (i: number): KubeObject => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `pod-${i}`, namespace: ns, labels: { app: `app-${i % 10}` } },
        spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] },
      });
      const samplePod = JSON.stringify(await client.create(R.pods, pod(-1)));
      const pods = await measure(serverPid, PODS, (i) => client.create(R.pods, pod(i)));
      const etcdPods = await measure(etcdPid, PODS, (i) => etcd.put(`/registry/pods/${ns}/pod-${i}`, samplePod.replaceAll('"pod--1"', `"pod-${i}"`)));
      const cells = [
        `${r + 1}`.padStart(5),
        `${before}-${load()}`,
        cms.rate.toFixed(0).padStart(5),
        cms.cpu.toFixed(0).padStart(5),
        etcdCms.rate.toFixed(0).padStart(5),
        etcdCms.cpu.toFixed(0).padStart(6),
        (cms.rate / etcdCms.rate).toFixed(2).padStart(5),
        pods.rate.toFixed(0).padStart(6),
        pods.cpu.toFixed(0).padStart(6),
        etcdPods.rate.toFixed(0).padStart(5),
        etcdPods.cpu.toFixed(0).padStart(6),
        (pods.rate / etcdPods.rate).toFixed(2).padStart(5),
      ];
      process.stdout.write(`${cells.join('  ')}\n`);
    }
  } finally {
    await s.stop();
    await etcd.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
