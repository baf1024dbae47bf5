// A/B of the API server's LIST answers between two source trees (a `git worktree` of the commit
// before a change, and the tree with it), for a shared machine: both servers run at once, hold the
// same objects, and take alternating rounds of lists, so a change in the machine's load hits both
// alike. Lists: 10k Pods over HTTP/2 (flatnet's client, as client-go multiplexes) and over
// HTTP/1.1, and 40 ConfigMaps of 1 MB (a 40 MB answer) over HTTP/2. Reports per list the median
// wall time and the server's CPU time (all threads, summed over the rounds), and B/A.
//
//   node --import tsx bench/apiserver/ab-lists.ts --a /tmp/base --b . [--rounds 10]
import http2 from 'node:http2';
import https from 'node:https';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { KubeClient } from '../../src/client/client.js';
import { loadKubeconfig } from '../../src/client/kubeconfig.js';
import type { TestServer } from '../../test/support/server.js';
import { childPid, cpuSeconds, inParallel, percentile } from './etcd-bench-kit.js';
import { argument } from './args.js';

const ROUNDS = Number(argument('rounds', '10'));
const PODS = 10_000;
const BIG = 40;
const BIG_VALUE = 'x'.repeat(1_000_000);

interface Measure {
  name: string;
  run(side: Side): Promise<void>;
}

interface Side {
  label: string;
  server: TestServer;
  /** One client for both trees (this tree's), so only the servers differ. */
  client: KubeClient;
  ca: Buffer;
  token: string;
  raw?: http2.ClientHttp2Session;
  pid: number;
  wall: Map<string, number[]>;
  cpu: Map<string, number>;
}

async function start(label: string, tree: string): Promise<Side> {
  // Each tree's own test support starts that tree's server.
  const support = (await import(resolve(tree, 'test/support/server.ts'))) as typeof import('../../test/support/server.js');
  const server = await support.startTestServer({ store: 'sqlite', controllers: false });
  const conn = loadKubeconfig(server.kubeconfig);
  const client = new KubeClient(conn);
  for (const name of ['ab', 'ab-big']) await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const pod = (i: number): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `pod-${i}`, namespace: 'ab', labels: { app: `app-${i % 10}` } },
    spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] },
  });
  await inParallel(PODS, (i) => client.create(R.pods, pod(i)));
  for (let i = 0; i < BIG; i++) await client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `big-${i}`, namespace: 'ab-big' }, data: { v: BIG_VALUE } });
  return { label, server, client, ca: conn.ca!, token: conn.token!, pid: childPid(`${resolve(tree)}/src/cli/main.ts`), wall: new Map(), cpu: new Map() };
}

function expectItems(got: number, want: number, what: string): void {
  if (got !== want) throw new Error(`${what}: ${got} items, expected ${want}`);
}

/** A list over HTTP/1.1 (Node's https, which offers no h2): the answer's bytes, counted. */
function http1List(side: Side, path: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    https
      .get(`${side.server.url}${path}`, { ca: side.ca, headers: { authorization: `Bearer ${side.token}` } }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () => (res.statusCode === 200 && n === Number(res.headers['content-length']) ? resolvePromise(n) : reject(new Error(`${path}: ${res.statusCode}, ${n} bytes`))));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** A list over HTTP/2 with Node's client and client-go's windows (4 MiB per stream, 1 GiB per connection); the answer's bytes, counted. */
async function http2List(side: Side, path: string): Promise<number> {
  side.raw ??= await new Promise<http2.ClientHttp2Session>((resolvePromise, reject) => {
    const session = http2.connect(side.server.url, { ca: side.ca, settings: { initialWindowSize: 4 << 20 } });
    session.once('connect', () => {
      session.setLocalWindowSize(1 << 30);
      resolvePromise(session);
    });
    session.once('error', reject);
  });
  return new Promise((resolvePromise, reject) => {
    const stream = side.raw!.request({ ':path': path, authorization: `Bearer ${side.token}` });
    let n = 0;
    let length = -1;
    stream.on('response', (h) => (length = Number(h['content-length'])));
    stream.on('data', (c: Buffer) => (n += c.length));
    stream.on('end', () => (n === length ? resolvePromise(n) : reject(new Error(`${path}: ${n} bytes of ${length}`))));
    stream.on('error', reject);
  });
}

const measures: Measure[] = [
  { name: `list ${PODS} pods, HTTP/2 (Node's client)`, run: async (s) => void (await http2List(s, '/api/v1/namespaces/ab/pods')) },
  { name: `list ${PODS} pods, HTTP/2`, run: async (s) => expectItems((await s.client.list(R.pods, { namespace: 'ab' })).items.length, PODS, 'pods') },
  { name: `list ${PODS} pods, HTTP/1.1`, run: async (s) => void (await http1List(s, '/api/v1/namespaces/ab/pods')) },
  { name: `list ${BIG} ConfigMaps of 1 MB, HTTP/2`, run: async (s) => expectItems((await s.client.list(R.configmaps, { namespace: 'ab-big' })).items.length, BIG, 'configmaps') },
];

async function measure(side: Side, m: Measure, counted: boolean): Promise<void> {
  const c0 = cpuSeconds(side.pid);
  const t0 = performance.now();
  await m.run(side);
  const wall = performance.now() - t0;
  if (!counted) return;
  side.cpu.set(m.name, (side.cpu.get(m.name) ?? 0) + (cpuSeconds(side.pid) - c0));
  side.wall.set(m.name, [...(side.wall.get(m.name) ?? []), wall]);
}

async function main(): Promise<void> {
  const a = await start('A', argument('a'));
  const b = await start('B', argument('b'));
  const loads: number[] = [];
  try {
    // Round 0 warms both servers up (JIT) and is not counted; then A and B alternate, each going first half the time.
    for (let n = 0; n <= ROUNDS; n++) {
      const order = n % 2 === 0 ? [a, b] : [b, a];
      for (const m of measures) for (const side of order) await measure(side, m, n > 0);
      loads.push(loadavg()[0]);
    }
  } finally {
    for (const side of [a, b]) {
      side.client.close();
      side.raw?.close();
      await side.server.stop();
    }
  }
  process.stdout.write(`${ROUNDS} alternating rounds, load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}\n`);
  const w = Math.max(...measures.map((m) => m.name.length));
  for (const m of measures) {
    const p50 = (side: Side) => percentile([...side.wall.get(m.name)!].sort((x, y) => x - y), 50);
    const cpu = (side: Side) => (side.cpu.get(m.name)! / ROUNDS) * 1000;
    process.stdout.write(
      `${m.name.padEnd(w)}  wall p50 A ${p50(a).toFixed(1)} ms  B ${p50(b).toFixed(1)} ms  B/A ${(p50(b) / p50(a)).toFixed(2)}` +
        `   server CPU/list A ${cpu(a).toFixed(0)} ms  B ${cpu(b).toFixed(0)} ms  B/A ${(cpu(b) / cpu(a)).toFixed(2)}\n`,
    );
  }
  // A list's garbage is collected during the lists after it, so its CPU shows there: the sum is the fairer figure.
  const total = (side: Side) => ([...side.cpu.values()].reduce((x, y) => x + y, 0) / ROUNDS) * 1000;
  process.stdout.write(`${'all lists of a round'.padEnd(w)}  server CPU A ${total(a).toFixed(0)} ms  B ${total(b).toFixed(0)} ms  B/A ${(total(b) / total(a)).toFixed(2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
