// 100 pods on one node: all become Ready and answer from their own IP; the agent's memory per
// pod and the pod start latency are reported (numbers, not thresholds).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { R } from '../../../src/api/resources.js';
import type { Pod } from '../../../src/agent/pod-types.js';
import { httpGetInNetns } from '../../../src/workloads/agnhost.js';
import { createPod, isReady, startAgentHarness, waitFor, type AgentHarness } from './harness.js';

const PODS = Number(process.env.FLATNET_SCALE_PODS ?? 100);
let h: AgentHarness;

before(async () => {
  h = await startAgentHarness('scale', '172.31.99.21');
});

after(async () => {
  await h?.stop();
});

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

const idle = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(`${PODS} agnhost pods on one node`, { timeout: 600_000 }, async (t) => {
  const pid = h.agent.child.pid!;
  await idle(4000); // brokers of the start-up gone
  const baseline = rssKiB(pid);
  const created = new Map<string, number>();
  await Promise.all(
    Array.from({ length: PODS }, async (_, i) => {
      const name = `scale-${i}`;
      created.set(name, Date.now());
      await createPod(h.client, { metadata: { name, namespace: 'default', labels: { app: 'scale' } }, spec: { containers: [{ name: 'netexec', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080', '--udp-port=-1'] }] } });
    }),
  );
  const readyAt = new Map<string, number>();
  await waitFor(
    `${PODS} pods Ready`,
    async () => {
      const list = await h.client.list<Pod>(R.pods, { namespace: 'default', labelSelector: 'app=scale' });
      for (const p of list.items) if (isReady(p) && !readyAt.has(p.metadata.name!)) readyAt.set(p.metadata.name!, Date.now());
      return readyAt.size === PODS || undefined;
    },
    540_000,
  );
  const list = await h.client.list<Pod>(R.pods, { namespace: 'default', labelSelector: 'app=scale' });
  const ips = new Set(list.items.map((p) => p.status?.podIP));
  assert.equal(ips.size, PODS, 'every pod has its own IP');
  for (const p of list.items.slice(0, 10)) assert.equal(await httpGetInNetns(h.nodeNetns, p.status!.podIP!, 8080, '/hostname', 5000), p.metadata.name);
  await idle(5000);
  const loaded = rssKiB(pid);
  const latencies = [...readyAt].map(([name, at]) => at - created.get(name)!).sort((a, b) => a - b);
  const perPodKiB = (loaded - baseline) / PODS;
  t.diagnostic(`agent RSS ${Math.round(baseline / 1024)} MiB idle -> ${Math.round(loaded / 1024)} MiB with ${PODS} pods: ${perPodKiB.toFixed(0)} KiB per pod`);
  t.diagnostic(`create -> Ready latency: median ${latencies[Math.floor(PODS / 2)]} ms, p90 ${latencies[Math.floor(PODS * 0.9)]} ms, max ${latencies[PODS - 1]} ms (${PODS} created at once)`);
  const started = h.agent.logs.join('').split('\n').filter((l) => l.includes('"msg":"pod started"')).map((l) => JSON.parse(l) as { sandboxMs: number; startMs: number });
  const sandboxMs = started.map((s) => s.sandboxMs).sort((a, b) => a - b);
  t.diagnostic(`sandbox (netns + CNI ADD) per pod: median ${sandboxMs[Math.floor(sandboxMs.length / 2)]} ms, max ${sandboxMs[sandboxMs.length - 1]} ms`);
  const seenAfter = list.items.map((p) => Date.parse(p.status!.startTime!) - created.get(p.metadata.name!)!).sort((a, b) => a - b);
  t.diagnostic(`create -> agent starts the pod (scheduling + watch): median ${seenAfter[Math.floor(seenAfter.length / 2)]} ms, max ${seenAfter[seenAfter.length - 1]} ms`);
  assert.ok(loaded > 0);
});
