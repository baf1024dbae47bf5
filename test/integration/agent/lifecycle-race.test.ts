// Pods deleted at random points of their creation, against the real agent in its own node
// namespace (real CNI plugins, netns, nftables): 100 pods, each deleted after a seeded random
// delay (gracefully or forced), then nothing of them may be left: no IPAM allocation on disk, no
// pod namespace, no sandbox record, no process, no nftables element or rule with the pod's IP.
// The seed is printed; LIFECYCLE_RACE_SEED=<n> replays the same delays and deletion kinds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import type { Pod } from '../../../src/agent/pod-types.js';
import { createPod, POD_PREFIX, sh, startAgentHarness, waitFor, waitForPod, type AgentHarness } from './harness.js';
import { prng as rng } from '../../support/prng.js';

const NODE = 'lr1';
const NODE_IP = '172.31.99.21';
const PODS = 100;
/** Pods in flight at once: deletions land while other pods' CNI ADDs run too. */
const CONCURRENCY = 8;
const seed = Number(process.env.LIFECYCLE_RACE_SEED ?? Math.floor(Math.random() * 1_000_000));
let h: AgentHarness;

before(async () => {
  h = await startAgentHarness(NODE, NODE_IP);
});

after(async () => {
  await h?.stop();
});

interface Seen {
  uids: Set<string>;
  ips: Set<string>;
  pids: Map<number, string>;
  netns: Set<string>;
}

/** What the agent recorded for the pods (IPs, PIDs, namespaces), sampled while they come and go. */
function sampleRecords(dataDir: string, seen: Seen): void {
  const dir = join(dataDir, 'sandboxes');
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) {
    try {
      const rec = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { uid: string; podIP?: string; pids?: number[]; netns: string };
      if (!seen.uids.has(rec.uid)) continue;
      if (rec.podIP) seen.ips.add(rec.podIP);
      seen.netns.add(rec.netns);
      for (const pid of rec.pids ?? []) if (!seen.pids.has(pid)) seen.pids.set(pid, processStartTime(pid) ?? '');
    } catch {
      // a record being written or removed
    }
  }
}

/** The start time of a process (field 22 of /proc/<pid>/stat): tells a reused PID from ours. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function ipamAllocations(dataDir: string): string[] {
  const root = join(dataDir, 'cni', 'networks');
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const net of readdirSync(root)) for (const f of readdirSync(join(root, net))) if (/^\d+\.\d+\.\d+\.\d+$/.test(f)) out.push(`${net}/${f}`);
  return out;
}

test(`${PODS} pods deleted at random points of their creation leak nothing (seed ${seed})`, { timeout: 600_000 }, async (t) => {
  t.diagnostic(`LIFECYCLE_RACE_SEED=${seed}`);
  console.log(`lifecycle race seed: ${seed} (replay with LIFECYCLE_RACE_SEED=${seed})`);
  const random = rng(seed);
  // How long one pod takes to Running here and now: the deletion points spread over 0-3x that
  // (before the agent sees the pod, during the netns and CNI ADD, during container start, after).
  const started = Date.now();
  const calibration = await createPod(h.client, { metadata: { name: 'race-calibrate', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } });
  await waitForPod(h.client, 'default', 'race-calibrate', (p) => p.status?.phase === 'Running', 'Running', 120_000);
  const creationMs = Date.now() - started;
  await h.client.delete(R.pods, 'default', 'race-calibrate', { gracePeriodSeconds: 0 });
  t.diagnostic(`one pod took ${creationMs} ms to Running; deletions land within 0-${creationMs * 3} ms of creation`);
  const plan = Array.from({ length: PODS }, (_, i) => ({
    name: `race-${i}`,
    delayMs: Math.floor(random() * creationMs * 3),
    forced: random() < 0.3,
  }));
  const seen: Seen = { uids: new Set([calibration.metadata.uid!]), ips: new Set(), pids: new Map(), netns: new Set() };
  const sampler = setInterval(() => sampleRecords(h.dataDir, seen), 10);
  const kinds = { running: 0, pending: 0 };
  try {
    let next = 0;
    const lane = async () => {
      while (next < plan.length) {
        const p = plan[next++];
        const pod = await createPod(h.client, {
          metadata: { name: p.name, namespace: 'default' },
          spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done'] }] },
        });
        seen.uids.add(pod.metadata.uid!);
        await new Promise((r) => setTimeout(r, p.delayMs));
        const current = await h.client.get<Pod>(R.pods, 'default', p.name);
        if (current?.status?.phase === 'Running') kinds.running++;
        else kinds.pending++;
        await h.client.delete(R.pods, 'default', p.name, p.forced ? { gracePeriodSeconds: 0 } : {});
        // The name comes back only once the agent confirmed the deletion (or it was forced).
        await waitFor(`pod ${p.name} gone`, async () => ((await h.client.get(R.pods, 'default', p.name)) ? undefined : true), 60_000).catch((err: Error) => {
          const lines = h.agent.logs.join('').split('\n').filter((l) => l.includes(p.name) || l.includes(pod.metadata.uid!) || /"level":"(warn|error)"/.test(l));
          throw new Error(`${err.message} (deleted ${p.forced ? 'forced' : 'gracefully'} after ${p.delayMs} ms); the agent's log about it:\n${lines.slice(-40).join('\n')}`);
        });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    t.diagnostic(`deleted while Running: ${kinds.running}, before Running: ${kinds.pending}`);
    // Forced deletions return before the agent tears down: wait for the records to drain.
    await waitFor('every sandbox record removed', () => {
      sampleRecords(h.dataDir, seen);
      const left = readdirSync(join(h.dataDir, 'sandboxes')).filter((f) => f.endsWith('.json'));
      return left.length === 0 ? true : undefined;
    }, 60_000).catch((err: Error) => assert.fail(`${err.message}: ${readdirSync(join(h.dataDir, 'sandboxes')).join(' ')}`));
  } finally {
    clearInterval(sampler);
  }
  assert.ok(seen.ips.size > 0, 'some pods got an address before their deletion (else the test did not exercise the ADD)');
  assert.ok(seen.pids.size > 0, 'some pods started their process before their deletion');

  assert.deepEqual(ipamAllocations(h.dataDir), [], 'IPAM allocations left on disk');
  const namespaces = sh('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(POD_PREFIX));
  assert.deepEqual(namespaces, [], 'pod network namespaces left');
  const etcLeft = existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((n) => n.startsWith(POD_PREFIX)) : [];
  assert.deepEqual(etcLeft, [], '/etc/netns directories left');
  const utsLeft = existsSync('/run/flatnet/uts') ? readdirSync('/run/flatnet/uts').filter((n) => n.startsWith(POD_PREFIX)) : [];
  assert.deepEqual(utsLeft, [], 'UTS namespace mounts left');
  const alive = [...seen.pids].filter(([pid, start]) => start !== '' && processStartTime(pid) === start).map(([pid]) => pid);
  assert.deepEqual(alive, [], 'container processes left running');
  const ruleset = sh('ip', ['netns', 'exec', h.nodeNetns, 'nft', 'list', 'ruleset']);
  const mentioned = [...seen.ips].filter((ip) => new RegExp(`(^|[^0-9.])${ip.replace(/\./g, '\\.')}([^0-9.]|$)`).test(ruleset));
  assert.deepEqual(mentioned, [], `nftables elements or rules still naming pod IPs:\n${ruleset}`);
  const agentState = await h.client.list<Pod>(R.pods, { namespace: 'default' });
  assert.deepEqual(agentState.items.map((p) => p.metadata.name), [], 'pods left in the API');
  t.diagnostic(`pods with an address seen: ${seen.ips.size}, processes seen: ${seen.pids.size}, namespaces seen: ${seen.netns.size}`);
});
