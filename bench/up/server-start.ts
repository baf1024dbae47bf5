// The API server's start-up alone, outside the lab: `flatnet server` spawned on a fresh data
// directory (a new cluster: CA, keys, store, bootstrap objects, as `flatnet up` starts it) ->
// its "serving" log line (listening), -> /readyz answering 200 (bootstrap done, the controllers'
// informers synced), -> "controllers started". With --peer DIR, a second checkout (its built
// dist/bundle) is measured in the same run, rounds interleaved, and the ratios printed.
// Run: node --import tsx bench/up/server-start.ts [--rounds 10] [--peer /path/to/other/checkout]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAEMON_NODE_FLAGS } from '../../src/lab/node-flags.js';

const repo = new URL('../../', import.meta.url).pathname;
const arg = (flag: string): string | undefined => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const ROUNDS = Number(arg('--rounds') ?? 10);
const PEER = arg('--peer');

interface Sample {
  listeningMs: number;
  readyMs: number;
  controllersMs: number;
}

function readyz(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = https.get(`${url}/readyz`, { rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
  });
}

/** One start of the server of `checkout` on a fresh data directory; stopped once ready. */
async function startOnce(checkout: string): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-bench-server-'));
  const main = join(checkout, 'dist/bundle/cli/main.js');
  const t0 = performance.now();
  // The lab's command line: the V8 flags the lab gives the server, its addresses (port 0 here).
  const child = spawn(process.execPath, ['--enable-source-maps', ...DAEMON_NODE_FLAGS, main, 'server', '--data-dir', join(dir, 'data'), '--listen', '127.0.0.1:0', '--advertise-address', '127.0.0.1', '--load-balancer-pool', '172.18.255.0/24'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let listeningMs = NaN;
  let controllersMs = NaN;
  let url = '';
  let partial = '';
  let log = '';
  const listening = new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`the server of ${checkout} exited (${code}) before it was ready:\n${log}`)));
    child.stderr.on('data', (chunk: Buffer) => {
      const at = performance.now() - t0;
      partial += chunk.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const text of lines) {
        log += `${text}\n`;
        let line: { msg?: string; component?: string; url?: string };
        try {
          line = JSON.parse(text) as typeof line;
        } catch {
          continue;
        }
        if (line.msg === 'serving' && line.component === 'apiserver') {
          listeningMs = at;
          url = line.url ?? '';
          resolve();
        }
        if (line.msg === 'controllers started') controllersMs = at;
      }
    });
  });
  try {
    await listening;
    while ((await readyz(url)) !== 200) await new Promise((r) => setTimeout(r, 5));
    const readyMs = performance.now() - t0;
    while (Number.isNaN(controllersMs)) await new Promise((r) => setTimeout(r, 5));
    return { listeningMs, readyMs, controllersMs };
  } finally {
    child.removeAllListeners('exit');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const checkouts = PEER ? [repo, PEER] : [repo];
  const samples = new Map<string, Sample[]>(checkouts.map((c) => [c, []]));
  const loadBefore = loadavg()[0];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which checkout goes first, so neither always runs on a machine the other just warmed.
    const order = round % 2 ? [...checkouts].reverse() : checkouts;
    for (const c of order) samples.get(c)!.push(await startOnce(c));
  }
  console.log(`flatnet server start, fresh data dir, ${ROUNDS} rounds (load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after), medians [min-max] in ms:`);
  const row = (xs: number[]) => `${median(xs).toFixed(0).padStart(5)} [${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}]`;
  for (const c of checkouts) {
    const s = samples.get(c)!;
    console.log(`  ${c === repo ? 'this checkout' : `peer ${c}`}`);
    console.log(`    spawn -> listening            ${row(s.map((x) => x.listeningMs))}`);
    console.log(`    spawn -> /readyz 200          ${row(s.map((x) => x.readyMs))}`);
    console.log(`    spawn -> controllers started  ${row(s.map((x) => x.controllersMs))}`);
  }
  if (PEER) {
    const ratio = (k: keyof Sample) => (median(samples.get(repo)!.map((x) => x[k])) / median(samples.get(PEER)!.map((x) => x[k]))).toFixed(2);
    console.log(`  this checkout / peer: listening ${ratio('listeningMs')}x, /readyz ${ratio('readyMs')}x, controllers ${ratio('controllersMs')}x`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
