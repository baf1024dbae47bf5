// The agent's health against a real server: the kubelet's /healthz on 127.0.0.1:10248 inside
// the node's namespace (plain HTTP, curl), and the node's Ready condition following the runtime:
// the sandbox records directory replaced by a file makes the node NotReady (KubeletNotReady with
// the reason), putting it back makes it Ready again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import { sh, startAgentHarness, waitFor, type AgentHarness } from './harness.js';

const NODE = 'nh1';
let h: AgentHarness;

before(async () => {
  h = await startAgentHarness(NODE, '172.31.99.31');
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
