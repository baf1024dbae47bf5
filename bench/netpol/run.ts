// NetworkPolicy bench (run as root: `node --import tsx bench/netpol/run.ts [--iterations N] [--updates N] [--scale-only]
// [--base DIR]`; DIR: a worktree of an earlier commit, e.g. `git worktree add /tmp/base HEAD`, whose renderer and
// executor run as one more peer).
//
// 1. Enforcement delay, probed by real packets: a client pod sends a UDP datagram every
//    millisecond to a server pod isolated by default deny; an allow policy is then created and
//    the delay until the first answer is the enforcement time.
//    - kernel path: compile + nftables transaction by our executor (no API);
//    - API path: the policy created through the real API server; the enforcer's informer,
//      debounce, compile and nftables transaction. Comparable to kube-network-policies'
//      published "policy apply -> first permitted connection" 308-333 ms (1,000 pods).
// 2. Programming 1,000 policies over 1,000 pods on one node: compile time, elements, the full
//    atomic table load, and one policy update applied as a diff: compiling every local pod against
//    the enforcer's incremental compile, in alternating rounds; every diff applied by a new
//    `nft -f -` process per transaction, by the long-lived nft session (src/linux/nft-session.ts)
//    and, with --base, by an earlier commit's code, interleaved (rotating order), each in its own
//    node namespace holding the same policy. Each sample of the enforcer's path (cache update,
//    incremental compile, render, apply) is stamped phase by phase, with the garbage collector's
//    pauses that fell in each phase: the slowest samples are printed with their breakdown. The
//    full-compile comparison runs in its own loop before, so its garbage is not collected inside
//    the measured samples. The load average is printed at the start and the end (the numbers
//    mean little on a loaded machine).
// Runtime is bounded: a fixed number of iterations, each with a deadline.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type dgram from 'node:dgram';
import { compileNode } from '../../src/netpol/compile.js';
import { PolicyTableExecutor } from '../../src/netpol/executor.js';
import { NftProcessPerBatch } from '../../src/linux/nft.js';
import { renderSets, stateSize, type PolicyState } from '../../src/netpol/render.js';
import type { CompiledPod } from '../../src/netpol/compile.js';
import { NftSession } from '../../src/linux/nft-session.js';
import { startPolicyEnforcer } from '../../src/netpol/enforcer.js';
import { PolicyClusterCache } from '../../src/netpol/cluster-cache.js';
import { IncrementalCompiler } from '../../src/netpol/incremental.js';
import { PolicyModel, slimNamespace, slimPod, slimPolicy } from '../../src/netpol/model.js';
import { listenInNetns } from '../../src/linux/netns-socket.js';
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';
import { PolicyNetLab } from '../../test/integration/netpol/netlab.js';
import { GATEWAY, NODE_NAME, POD_CIDR, namespaceObject, podIp, podObject, policy } from '../../test/unit/netpol/fixtures/topology.js';
import { startTestServer } from '../../test/support/server.js';
import { scaleObjects } from './scale-fixture.js';

const KNP_ENFORCE_MS = 310;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function argText(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  return `p50 ${percentile(s, 50).toFixed(1)} ms, p99 ${percentile(s, 99).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms (n=${s.length})`;
}

/** Sends a datagram every ms from `netns`; resolves the time (ms since `t0`) of the first answer. */
async function firstAnswer(sock: dgram.Socket, host: string, port: number, start: () => Promise<number>, deadlineMs = 5000): Promise<number> {
  let answered: number | undefined;
  const onMessage = () => {
    if (answered === undefined) answered = performance.now();
  };
  sock.on('message', onMessage);
  const timer = setInterval(() => sock.send('p', port, host), 1);
  try {
    const t0 = await start();
    const until = performance.now() + deadlineMs;
    while (answered === undefined && performance.now() < until) await new Promise((r) => setTimeout(r, 1));
    if (answered === undefined) throw new Error(`no answer from ${host}:${port} within ${deadlineMs} ms`);
    return answered - t0;
  } finally {
    clearInterval(timer);
    sock.off('message', onMessage);
  }
}

const denyX = policy('x', 'deny', { podSelector: {}, policyTypes: ['Ingress'] });
const allowFromY = (name: string) => policy('x', name, { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }], ports: [{ port: 80, protocol: 'UDP' }] }] });

async function enforcementBench(iterations: number): Promise<{ kernel: number[]; api: number[] }> {
  const lab = new PolicyNetLab(`b${process.pid % 100000}`);
  try {
    lab.setUp();
    for (const ref of ['x/a', 'y/a']) lab.addPod(ref);
    await lab.serve(lab.podNetns('x/a'), 'x/a', { udp: [80] });
    const objects = { pods: [podObject('x/a'), podObject('y/a')], namespaces: ['x', 'y'].map((n) => namespaceObject(n)) };
    const model = (policies: KubeObject[]) =>
      new PolicyModel({ pods: objects.pods.map(slimPod), namespaces: objects.namespaces.map(slimNamespace), policies: policies.map(slimPolicy) });
    const admitted = [podIp('x/a'), podIp('y/a')];

    // Kernel path.
    const executor = new PolicyTableExecutor({ podCIDR: POD_CIDR, gateway: GATEWAY }, lab.node);
    const kernel: number[] = [];
    for (let i = 0; i < iterations; i++) {
      await executor.apply(renderSets(compileNode(model([denyX]), NODE_NAME), admitted));
      const sock = await listenInNetns(lab.podNetns('y/a'), { host: '0.0.0.0', port: 0, type: 'udp4' });
      try {
        kernel.push(
          await firstAnswer(sock, podIp('x/a'), 80, async () => {
            const t0 = performance.now();
            await executor.apply(renderSets(compileNode(model([denyX, allowFromY('allow')]), NODE_NAME), admitted));
            return t0;
          }),
        );
      } finally {
        sock.close();
      }
    }
    await executor.remove();
    await executor.close();

    // API path.
    const server = await startTestServer({ controllers: false });
    const api: number[] = [];
    try {
      for (const ns of objects.namespaces) await server.client.create(R.namespaces, ns);
      for (const p of objects.pods) {
        const { status, ...rest } = p;
        const created = await server.client.create(R.pods, rest as KubeObject);
        created.status = status;
        await server.client.updateStatus(R.pods, created);
      }
      await server.client.create(R.networkpolicies, denyX);
      const enforcer = await startPolicyEnforcer(server.client, { nodeName: NODE_NAME, netns: lab.node, podCIDR: POD_CIDR });
      try {
        for (let i = 0; i < iterations; i++) {
          const sock = await listenInNetns(lab.podNetns('y/a'), { host: '0.0.0.0', port: 0, type: 'udp4' });
          const name = `allow-${i}`;
          try {
            api.push(
              await firstAnswer(sock, podIp('x/a'), 80, async () => {
                const t0 = performance.now();
                await server.client.create(R.networkpolicies, allowFromY(name));
                return t0;
              }),
            );
          } finally {
            sock.close();
          }
          await server.client.delete(R.networkpolicies, 'x', name);
          await new Promise((r) => setTimeout(r, 50));
          await enforcer.flush();
        }
      } finally {
        await enforcer.stop();
      }
    } finally {
      await server.stop();
    }
    return { kernel, api };
  } finally {
    lab.tearDown();
  }
}

interface Peer {
  name: string;
  render: (pods: CompiledPod[], admitted: Iterable<string>) => PolicyState;
  executor: Pick<PolicyTableExecutor, 'resync' | 'apply' | 'close' | 'fallbacks'>;
  /** The nft session the executor uses, when it uses one (for its process's CPU time). */
  session?: { readonly pid: number | undefined };
  load: number;
  apply: number[];
  render_: number[];
  nftUser: number[];
  nftSystem: number[];
  ownCpu: number[];
  endToEnd: number[];
}

function peer(name: string, render: Peer['render'], executor: Peer['executor'], session?: Peer['session']): Peer {
  return { name, render, executor, session, load: 0, apply: [], render_: [], nftUser: [], nftSystem: [], ownCpu: [], endToEnd: [] };
}

/** User and system CPU time of process `pid` so far, in ms (clock ticks of 10 ms: average many). */
function processCpuMs(pid: number | undefined): { user: number; system: number } | undefined {
  if (pid === undefined) return undefined;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(fields[11]) * 1000) / CLOCK_TICKS, system: (Number(fields[12]) * 1000) / CLOCK_TICKS };
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

async function scaleBench(updates: number): Promise<string[]> {
  const out: string[] = [];
  const objects = scaleObjects();
  const build = (policies: KubeObject[]) =>
    new PolicyModel({ pods: objects.pods.map(slimPod), namespaces: objects.namespaces.map(slimNamespace), policies: policies.map(slimPolicy) });
  let t = performance.now();
  const model = build(objects.policies);
  const compiled = compileNode(model, NODE_NAME);
  const compileMs = performance.now() - t;
  const admitted = compiled.map((p) => p.ip);
  const size = stateSize(renderSets(compiled, admitted));
  out.push(`model + compile of 1,000 policies over 1,000 local pods: ${compileMs.toFixed(0)} ms; ${size.classes} allow classes with ${size.elements} set elements; ${size.isolatedIngress} pods isolated for ingress, ${size.isolatedEgress} for egress`);

  // Node namespaces holding the same policy: one programmed by a new `nft -f -` process per
  // transaction (the executor before nft-session.ts), one by the long-lived nft session, and, with
  // `--base DIR` (a worktree of an earlier commit), one by that commit's renderer and executor
  // through its own session: the before/after comparison of a change, interleaved in one run.
  const table = { podCIDR: '10.244.0.0/16', gateway: '10.244.0.1' };
  const peers: Peer[] = [];
  const labs: PolicyNetLab[] = [];
  const newLab = (tag: string) => {
    const lab = new PolicyNetLab(`${tag}${process.pid % 100000}`);
    labs.push(lab);
    lab.setUp();
    return lab.node;
  };
  try {
    const ns0 = newLab('s');
    peers.push(peer('process per transaction (ip netns exec nft -f -)', renderSets, new PolicyTableExecutor(table, ns0, new NftProcessPerBatch(ns0))));
    const ns1 = newLab('t');
    const session = new NftSession({ netns: ns1 });
    peers.push(peer('nft session (one nft -i per namespace)', renderSets, new PolicyTableExecutor(table, ns1, session), session));
    const base = argText('base');
    if (base) {
      const rev = execFileSync('git', ['-C', base, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
      const from = async <T>(path: string) => (await import(pathToFileURL(join(base, path)).href)) as T;
      const baseRender = await from<typeof import('../../src/netpol/render.js')>('src/netpol/render.ts');
      const baseExecutor = await from<typeof import('../../src/netpol/executor.js')>('src/netpol/executor.ts');
      const baseSession = await from<typeof import('../../src/linux/nft-session.js')>('src/linux/nft-session.ts');
      const ns2 = newLab('u');
      const s2 = new baseSession.NftSession({ netns: ns2 });
      peers.push(peer(`nft session, code of ${rev} (${base})`, baseRender.renderSets, new baseExecutor.PolicyTableExecutor(table, ns2, s2), s2));
    }
    for (const peer of peers) {
      t = performance.now();
      await peer.executor.resync(peer.render(compiled, admitted));
      peer.load = performance.now() - t;
    }
    out.push(`full atomic table load (one transaction): ${peers.map((p) => `${p.name} ${p.load.toFixed(0)} ms`).join('; ')}`);
    // 1. The compile strategies compared, without the kernel: one policy edited per round, rounds
    //    alternating between compiling every local pod (before incremental.ts) and the enforcer's
    //    incremental compile (which diffs against its own last pass).
    const cache = new PolicyClusterCache(NODE_NAME);
    for (const o of objects.namespaces) cache.upsertNamespace(o);
    for (const o of objects.pods) cache.upsertPod(o);
    for (const o of objects.policies) cache.upsertPolicy(o);
    const edit = (i: number) => {
      const original = objects.policies[(i * 37) % objects.policies.length];
      cache.upsertPolicy({ ...original, spec: { ...(original.spec as object), ingress: [{ ports: [{ port: 7000 + i }] }] } });
    };
    const comparing = new IncrementalCompiler((p) => p.nodeName === NODE_NAME);
    comparing.compile(cache.model());
    const fullCompile: number[] = [];
    const partialCompile: number[] = [];
    let recompiled = 0;
    for (let i = 0; i < 2 * updates; i++) {
      edit(i);
      t = performance.now();
      const model = cache.model();
      if (i % 2 === 0) compileNode(model, NODE_NAME);
      else recompiled += comparing.compile(model).recompiled;
      (i % 2 === 0 ? fullCompile : partialCompile).push(performance.now() - t);
    }
    // 2. The enforcer's path, sample by sample: the cluster cache updated (as by the informer),
    //    the incremental compile, the render, and each peer applying the diff (rotating order, each
    //    timed on its own). Every phase is stamped, and the garbage collector's pauses (from
    //    PerformanceObserver) are attributed to the sample they fell in, so a slow sample says
    //    where its time went. The full compiles of step 1 are over (and collected) before.
    const gcPauses: { start: number; end: number; kind: string }[] = [];
    const gcKinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak', 16: 'minor' };
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcPauses.push({ start: e.startTime, end: e.startTime + e.duration, kind: gcKinds[(e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'gc' });
    });
    (globalThis as { gc?: () => void }).gc?.();
    const incremental = new IncrementalCompiler((p) => p.nodeName === NODE_NAME);
    {
      const model = cache.model();
      const compiled = incremental.compile(model).pods;
      const admitted = cache.admittedAddresses(model);
      for (const peer of peers) await peer.executor.apply(peer.render(compiled, admitted));
    }
    observer.observe({ entryTypes: ['gc'] });
    const samples: { at: number[]; peers: string[]; changes: number }[] = [];
    let changes = 0;
    for (let i = 0; i < updates; i++) {
      const at = [performance.now()];
      edit(2 * updates + i);
      const model = cache.model();
      const compiled = incremental.compile(model).pods;
      at.push(performance.now()); // compiled
      const admitted = cache.admittedAddresses(model);
      const state = renderSets(compiled, admitted);
      at.push(performance.now()); // rendered
      const order = [...peers.slice(i % peers.length), ...peers.slice(0, i % peers.length)];
      let sessionChanges = 0;
      for (const peer of order) {
        const cpu0 = peer.session ? processCpuMs(peer.session.pid) : undefined;
        // A peer with another commit's renderer renders its own state (timed as its render).
        const r0 = performance.now();
        const peerState = peer.render === renderSets ? state : peer.render(compiled, admitted);
        const renderMs = peer.render === renderSets ? at[2] - at[1] : performance.now() - r0;
        const own0 = process.cpuUsage();
        const start = performance.now();
        const applied = await peer.executor.apply(peerState);
        const ms = performance.now() - start;
        const own = process.cpuUsage(own0);
        peer.ownCpu.push((own.user + own.system) / 1000);
        if (cpu0) {
          const cpu1 = processCpuMs(peer.session?.pid)!;
          peer.nftUser.push(cpu1.user - cpu0.user);
          peer.nftSystem.push(cpu1.system - cpu0.system);
        }
        if (applied.unchanged) throw new Error('update produced no change');
        if (peer === peers[1]) sessionChanges = applied.changes;
        peer.apply.push(ms);
        peer.render_.push(renderMs);
        // The enforcer's path: its compile and render, then this peer's transaction.
        peer.endToEnd.push(at[1] - at[0] + renderMs + ms);
        at.push(start, start + ms);
      }
      changes += sessionChanges;
      samples.push({ at, peers: order.map((p) => p.name), changes: sessionChanges });
    }
    observer.disconnect();
    const fallbacks = peers.map((p) => p.executor.fallbacks).join('/');
    out.push(`compile after one policy change: every local pod ${summary(fullCompile)}; incremental (${(recompiled / updates).toFixed(1)} pods compiled per change) ${summary(partialCompile)}`);
    out.push(`enforcer's path, compile (cache.model + incremental compile): ${summary(samples.map((x) => x.at[1] - x.at[0]))}`);
    out.push(`render (state for the kernel): ${summary(peers[1].render_)}${peers[2] ? `; code of --base: ${summary(peers[2].render_)}` : ''}`);
    out.push(`diff applied (${(changes / updates).toFixed(1)} changes per diff; fallbacks to a rebuild ${fallbacks}):`);
    for (const p of peers) out.push(`  ${p.name}: ${summary(p.apply)}`);
    const mean = (v: number[]) => (v.reduce((a, b) => a + b, 0) / v.length).toFixed(2);
    out.push(`CPU time per diff, mean over the run (little affected by the load): nft process user (parse, evaluate, cache) + system (netlink dumps, kernel commit); this process (diff render, batch file, session I/O):`);
    for (const p of peers) {
      const nft = p.session ? `nft user ${mean(p.nftUser)} + system ${mean(p.nftSystem)} ms; ` : '';
      out.push(`  ${p.name}: ${nft}this process ${mean(p.ownCpu)} ms (n=${p.ownCpu.length})`);
    }
    out.push(`one policy changed -> diff applied (incremental compile + render + apply, the enforcer's path):`);
    for (const p of peers) out.push(`  ${p.name}: ${summary(p.endToEnd)}`);
    const p50 = (v: number[]) => percentile([...v].sort((a, b) => a - b), 50);
    const p99 = (v: number[]) => percentile([...v].sort((a, b) => a - b), 99);
    for (const other of [peers[0], ...peers.slice(2)]) {
      out.push(`  ratio ${other.name} / session: diff applied p50 ${(p50(other.apply) / p50(peers[1].apply)).toFixed(2)}x, p99 ${(p99(other.apply) / p99(peers[1].apply)).toFixed(2)}x; end to end p50 ${(p50(other.endToEnd) / p50(peers[1].endToEnd)).toFixed(2)}x, p99 ${(p99(other.endToEnd) / p99(peers[1].endToEnd)).toFixed(2)}x`);
    }
    const sessionPeer = peers[1];
    const slowest = samples
      .map((x, i) => ({ x, e2e: sessionPeer.endToEnd[i] }))
      .sort((a, b) => b.e2e - a.e2e)
      .slice(0, 5);
    const gcIn = (from: number, to: number) =>
      gcPauses.filter((g) => g.end > from && g.start < to).map((g) => `${g.kind} GC ${(Math.min(g.end, to) - Math.max(g.start, from)).toFixed(1)} ms`);
    out.push(`slowest samples of the session path (phases; GC pauses inside each phase; ${gcPauses.length} GC pauses in the whole loop, ${gcPauses.reduce((t, g) => t + g.end - g.start, 0).toFixed(0)} ms):`);
    for (const { x, e2e } of slowest) {
      const j = x.peers.indexOf(sessionPeer.name);
      const [a0, a1, a2] = x.at;
      const [s0, s1] = [x.at[3 + 2 * j], x.at[4 + 2 * j]];
      const phase = (name: string, from: number, to: number) => {
        const gc = gcIn(from, to);
        return `${name} ${(to - from).toFixed(1)}${gc.length ? ` (${gc.join(', ')})` : ''}`;
      };
      out.push(`  ${e2e.toFixed(1)} ms: ${phase('compile', a0, a1)}, ${phase('render', a1, a2)}, ${phase('apply', s0, s1)} ms`);
    }
  } finally {
    for (const p of peers) await p.executor.close();
    for (const lab of labs) lab.tearDown();
  }
  return out;
}

const loadAverage = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');

async function main(): Promise<void> {
  // src/client/client.ts watch(): readline re-emits a watch stream's 'aborted' error and nothing
  // listens, so stopping an informer crashes the process (reported to the client's owner). The
  // bench tolerates exactly that error; anything else still fails it.
  process.on('uncaughtException', (err: Error & { code?: string }) => {
    if (err.code === 'ECONNRESET' && err.message === 'aborted') return;
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  });
  if (process.getuid?.() !== 0) throw new Error('run as root: the bench creates network namespaces and nftables tables');
  const iterations = arg('iterations', 30);
  process.stdout.write(`# flatnet NetworkPolicy bench (${os.cpus().length} CPUs, load average ${loadAverage()})\n\n`);
  if (!process.argv.includes('--scale-only')) await printEnforcement(iterations);
  process.stdout.write((await scaleBench(arg('updates', 50))).map((l) => `- ${l}`).join('\n') + '\n');
  process.stdout.write(`\nload average at the end: ${loadAverage()}\n`);
}

async function printEnforcement(iterations: number): Promise<void> {
  const { kernel, api } = await enforcementBench(iterations);
  const lines = [
    `enforcement, policy change -> first allowed packet (real UDP packets every 1 ms):`,
    `- kernel path (compile + one nft transaction): ${summary(kernel)}`,
    `- API path (API create -> informer -> compile -> nft): ${summary(api)}`,
    `- kube-network-policies published enforcement: 308-333 ms; ratio (theirs / our API-path p50): ${(KNP_ENFORCE_MS / percentile([...api].sort((a, b) => a - b), 50)).toFixed(1)}x`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
