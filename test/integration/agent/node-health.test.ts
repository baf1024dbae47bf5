// The agent's health against a real server: the kubelet's /healthz on 127.0.0.1:10248 inside
// the node's namespace (plain HTTP, curl), and the node's Ready condition following the runtime:
// the sandbox records directory replaced by a file makes the node NotReady (KubeletNotReady with
// the reason), putting it back makes it Ready again. Admission: pods bound to the node directly
// (spec.nodeName, no scheduler) beyond --max-pods fail OutOfpods, past what is left of the node's
// allocatable cpu OutOfcpu, a nodeSelector misfit fails NodeAffinity, as the kubelet rejects them.
// The kubelet's event recorder against the server: a
// repeated event is one Event whose count grows.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import type { Pod } from '../../../src/agent/pod-types.js';
import { EventRecorder } from '../../../src/controllers/events.js';
import { scaledQuantity } from '../../../src/controllers/resource-requests.js';
import { createLogger } from '../../../src/util/log.js';
import { createPod, sh, startAgentHarness, waitFor, waitForPod, type AgentHarness } from './harness.js';

const NODE = 'nh1';
const MAX_PODS = 2;
let h: AgentHarness;

before(async () => {
  h = await startAgentHarness(NODE, '172.31.99.31', { agentArgs: ['--max-pods', String(MAX_PODS)] });
});

after(async () => {
  await h?.stop();
});

function curlInNode(url: string): { code: number; body: string } {
  const out = sh('ip', ['netns', 'exec', h.nodeNetns, 'curl', '-s', '-w', '\n%{http_code}', url]);
  const i = out.lastIndexOf('\n');
  return { code: Number(out.slice(i + 1)), body: out.slice(0, i) };
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

async function readyCondition(): Promise<Condition | undefined> {
  const node = await h.client.get(R.nodes, undefined, NODE);
  return (node?.status as { conditions?: Condition[] } | undefined)?.conditions?.find((c) => c.type === 'Ready');
}

test('the kubelet /healthz answers on localhost in the node namespace, with the kubelet checks', () => {
  assert.deepEqual(curlInNode('http://127.0.0.1:10248/healthz'), { code: 200, body: 'ok' });
  assert.deepEqual(curlInNode('http://127.0.0.1:10248/healthz?verbose'), { code: 200, body: '[+]ping ok\n[+]log ok\n[+]syncloop ok\nhealthz check passed\n' });
  assert.deepEqual(curlInNode('http://127.0.0.1:10248/healthz/syncloop'), { code: 200, body: 'ok' });
  assert.equal(curlInNode('http://127.0.0.1:10248/healthz/nosuch').code, 404);
  assert.equal(curlInNode('http://127.0.0.1:10248/metrics').code, 404);
});

test('a new node registers NotReady, as a kubelet with no CNI network yet, and turns Ready once its runtime checked', async () => {
  // Nothing has broken this node yet: a NodeNotReady event can only come from its first status.
  const reasons = await waitFor('NodeNotReady and NodeReady events', async () => {
    const events = (await h.client.list(R.events, { namespace: 'default' })).items as { reason?: string; involvedObject?: { name?: string } }[];
    const mine = events.filter((e) => e.involvedObject?.name === NODE).map((e) => e.reason);
    return mine.includes('NodeNotReady') && mine.includes('NodeReady') ? mine : undefined;
  });
  assert.deepEqual(reasons.filter((r) => r === 'NodeNotReady'), ['NodeNotReady']);
});

test('a runtime that cannot record sandboxes makes the node NotReady with the reason; fixed, Ready again', async () => {
  const ready = await waitFor('node Ready', async () => ((await readyCondition())?.status === 'True' ? readyCondition() : undefined));
  assert.equal(ready!.reason, 'KubeletReady');
  const dir = join(h.dataDir, 'sandboxes');
  renameSync(dir, `${dir}.moved`);
  writeFileSync(dir, 'not a directory');
  try {
    const down = await waitFor('node NotReady', async () => {
      const c = await readyCondition();
      return c?.status === 'False' ? c : undefined;
    });
    assert.equal(down.reason, 'KubeletNotReady');
    assert.match(down.message, /^container runtime not ready: RuntimeReady=false reason:SandboxRecordsUnwritable message:cannot write .*sandboxes: ENOTDIR/);
    const get = await h.server.kubectl(['get', 'node', NODE]);
    assert.match(get.stdout, new RegExp(`${NODE}\\s+NotReady`));
  } finally {
    rmSync(dir, { force: true });
    renameSync(`${dir}.moved`, dir);
    mkdirSync(dir, { recursive: true });
  }
  const back = await waitFor('node Ready again', async () => {
    const c = await readyCondition();
    return c?.status === 'True' ? c : undefined;
  });
  assert.equal(back.reason, 'KubeletReady');
  assert.equal(back.message, 'kubelet is posting ready status');
});

interface EventShape {
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  source?: { component?: string; host?: string };
  involvedObject?: { name?: string };
}

async function eventsOf(name: string): Promise<EventShape[]> {
  const events = (await h.client.list(R.events, { namespace: 'default' })).items as EventShape[];
  return events.filter((e) => e.involvedObject?.name === name);
}

const bound = (name: string, spec: Partial<Pod['spec']> = {}): Omit<Pod, 'apiVersion' | 'kind'> => ({
  metadata: { name, namespace: 'default' },
  spec: { nodeName: NODE, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }], terminationGracePeriodSeconds: 0, ...spec },
});

test('admission: a pod bound past what the admitted pods leave of the node\'s allocatable cpu fails OutOfcpu with the kubelet\'s figures and a Warning event', async () => {
  const node = await h.client.get(R.nodes, undefined, NODE);
  const cpu = (node?.status as { allocatable?: Record<string, string> } | undefined)?.allocatable?.cpu;
  const capacity = scaledQuantity(cpu, 3);
  assert.ok(capacity !== undefined && capacity >= 2, `the Node reports an allocatable cpu (got ${cpu})`);
  const half = Math.floor(capacity / 2);
  const requesting = (milli: number): Partial<Pod['spec']> => ({ containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], resources: { requests: { cpu: `${milli}m` } } }] });
  await createPod(h.client, bound('res-half', requesting(half)));
  await waitForPod(h.client, 'default', 'res-half', (p) => p.status?.phase === 'Running', 'Running');
  // The whole allocatable would fit an empty node, not beside the pod admitted.
  await createPod(h.client, bound('res-all', requesting(capacity)));
  const rejected = await waitForPod(h.client, 'default', 'res-all', (p) => p.status?.phase === 'Failed', 'Failed');
  const detail = `Node didn't have enough resource: cpu, requested: ${capacity}, used: ${half}, capacity: ${capacity}`;
  assert.deepEqual({ reason: rejected.status?.reason, message: rejected.status?.message }, { reason: 'OutOfcpu', message: `Pod was rejected: ${detail}` });
  const [ev] = await waitFor('the OutOfcpu event', async () => {
    const evs = (await eventsOf('res-all')).filter((e) => e.reason === 'OutOfcpu');
    return evs.length > 0 ? evs : undefined;
  });
  assert.deepEqual({ type: ev.type, message: ev.message, source: ev.source }, { type: 'Warning', message: detail, source: { component: 'kubelet', host: NODE } });
  assert.match((await h.server.kubectl(['get', 'pod', 'res-all'])).stdout, /res-all\s+0\/1\s+OutOfcpu/);
  assert.ok(!existsSync(join(h.dataDir, 'sandboxes', `${rejected.metadata.uid}.json`)), 'no sandbox for a rejected pod');
  await h.client.delete(R.pods, 'default', 'res-all', { gracePeriodSeconds: 0 });
  // Deleted gracefully, the pod leaves the API only once the agent stopped it: its slot is free for the next test.
  await h.client.delete(R.pods, 'default', 'res-half', { gracePeriodSeconds: 1 });
  await waitFor('res-half gone', async () => ((await h.client.get(R.pods, 'default', 'res-half')) ? undefined : true));
});

test('admission: a nodeSelector misfit fails NodeAffinity and a pod bound past --max-pods OutOfpods, as the kubelet rejects them; finished pods hold no slot', async () => {
  const running = (p: Pod) => p.status?.phase === 'Running';
  const failed = (p: Pod) => p.status?.phase === 'Failed';
  // The node's labels do not match this pod's nodeSelector.
  await createPod(h.client, bound('adm-sel', { nodeSelector: { 'flatnet.test/disk': 'ssd' } }));
  const misfit = await waitForPod(h.client, 'default', 'adm-sel', failed, 'Failed');
  assert.equal(misfit.status?.reason, 'NodeAffinity');
  assert.equal(misfit.status?.message, "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector");
  // Labelled just now (the agent's copy of its Node is older): admitted.
  assert.equal((await h.server.kubectl(['label', 'node', NODE, 'flatnet.test/disk=ssd'])).code, 0);
  await createPod(h.client, bound('adm-sel2', { nodeSelector: { 'flatnet.test/disk': 'ssd' } }));
  // A pod that finished holds no slot.
  await createPod(h.client, bound('adm-done', { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['true'] }] }));
  await waitForPod(h.client, 'default', 'adm-done', (p) => p.status?.phase === 'Succeeded', 'Succeeded');
  await createPod(h.client, bound('adm-1'));
  await waitForPod(h.client, 'default', 'adm-sel2', running, 'Running');
  await waitForPod(h.client, 'default', 'adm-1', running, 'Running');

  await createPod(h.client, bound('adm-3'));
  const full = await waitForPod(h.client, 'default', 'adm-3', failed, 'Failed');
  const detail = `Node didn't have enough resource: pods, requested: 1, used: 2, capacity: ${MAX_PODS}`;
  assert.equal(full.status?.reason, 'OutOfpods');
  assert.equal(full.status?.message, `Pod was rejected: ${detail}`);
  const [ev] = await waitFor('the OutOfpods event', async () => {
    const evs = (await eventsOf('adm-3')).filter((e) => e.reason === 'OutOfpods');
    return evs.length > 0 ? evs : undefined;
  });
  assert.deepEqual({ type: ev.type, message: ev.message, source: ev.source }, { type: 'Warning', message: detail, source: { component: 'kubelet', host: NODE } });
  const get = await h.server.kubectl(['get', 'pod', 'adm-3']);
  assert.match(get.stdout, /adm-3\s+0\/1\s+OutOfpods/);
  assert.ok(!existsSync(join(h.dataDir, 'sandboxes', `${full.metadata.uid}.json`)), 'no sandbox for a rejected pod');
  for (const name of ['adm-sel', 'adm-sel2', 'adm-done', 'adm-1', 'adm-3']) await h.client.delete(R.pods, 'default', name, { gracePeriodSeconds: 0 }).catch(() => undefined);
});

test('a repeated event is counted on the Event written first (a patch of count and lastTimestamp), written again when that Event is gone', async () => {
  const recorder = new EventRecorder(h.client, 'kubelet', createLogger('test'), { host: NODE, instance: NODE });
  const pod = await createPod(h.client, bound('ev-repeat', { nodeSelector: { 'flatnet.test/none': 'x' } }));
  const message = 'Failed to create pod sandbox: plugin type="flatnet-bridge" failed (add): test';
  for (let i = 0; i < 3; i++) recorder.record({ ...pod, apiVersion: 'v1', kind: 'Pod' }, 'Warning', 'FailedCreatePodSandBox', message);
  await recorder.idle();
  const repeated = async () => (await eventsOf('ev-repeat')).filter((e) => e.reason === 'FailedCreatePodSandBox') as (EventShape & { metadata: { name: string }; firstTimestamp: string; lastTimestamp: string })[];
  const once = await repeated();
  assert.equal(once.length, 1, 'one Event for the three');
  assert.equal(once[0].count, 3);
  assert.deepEqual(once[0].source, { component: 'kubelet', host: NODE });
  assert.ok(once[0].lastTimestamp >= once[0].firstTimestamp);
  // The Event expired or was deleted: the next repeat writes it again, counting on.
  await h.client.delete(R.events, 'default', once[0].metadata.name);
  recorder.record({ ...pod, apiVersion: 'v1', kind: 'Pod' }, 'Warning', 'FailedCreatePodSandBox', message);
  await recorder.idle();
  const again = await repeated();
  assert.deepEqual(again.map((e) => e.count), [4]);
  // The agent's own rejection event of this pod (NodeAffinity, or OutOfpods while the pods deleted above still terminate) stays a separate Event.
  const rejected = await waitForPod(h.client, 'default', 'ev-repeat', (p) => p.status?.phase === 'Failed', 'Failed');
  await waitFor('the rejection event', async () => ((await eventsOf('ev-repeat')).some((e) => e.reason === rejected.status?.reason && e.count === 1) ? true : undefined));
  await h.client.delete(R.pods, 'default', 'ev-repeat', { gracePeriodSeconds: 0 });
});
