// A Node deleted while its agent runs (`kubectl delete node`), against a real server and the real
// `flatnet agent` joined with a bootstrap token: deleting the Node revokes its client certificate
// (401), the agent gets a new one with its bootstrap token and registers the Node again, as the
// kubelet does when its status update finds the Node gone; the Node is Ready again with a new uid,
// its Lease is owned by the new Node, and the pod bound to it keeps running. With its bootstrap
// token deleted, the agent cannot come back and says why in its log.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { ApiError, KubeClient } from '../../../src/client/client.js';
import { loadKubeconfig } from '../../../src/client/kubeconfig.js';
import { createPod, startAgentHarness, waitFor, waitForPod, type AgentHarness } from './harness.js';

const NODE = 'rr1';
let h: AgentHarness;

before(async () => {
  h = await startAgentHarness(NODE, '172.31.99.41');
});

after(async () => {
  await h?.stop();
});

type NodeObject = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };

const isReadyNode = (n: NodeObject | undefined) => n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
const agentLog = () => h.agent.logs.join('');

async function statusOf(client: KubeClient): Promise<number> {
  try {
    await client.request('GET', `/api/v1/nodes/${NODE}`);
    return 200;
  } catch (err) {
    if (err instanceof ApiError) return err.code;
    throw err;
  }
}

test('delete node: certificate revoked -> 401 -> new certificate with the bootstrap token -> Node registered again -> Ready; the Lease names the new Node; the bound pod keeps running', async () => {
  const first = await waitFor('the node Ready', async () => {
    const n = await h.client.get<NodeObject>(R.nodes, undefined, NODE);
    return isReadyNode(n) ? n : undefined;
  }, 60_000);
  await createPod(h.client, { metadata: { name: 'stays', namespace: 'default' }, spec: { nodeName: NODE, containers: [{ name: 'web', image: 'nginx' }] } });
  const pod = await waitForPod(h.client, 'default', 'stays', (p) => p.status?.phase === 'Running', 'Running', 60_000);
  // The node's certificate as it is before the delete (the agent replaces the files later).
  const before = loadKubeconfig(join(h.dataDir, 'kubelet.kubeconfig'));
  const oldCertClient = new KubeClient({ ...before, cert: Buffer.from(before.cert!), key: Buffer.from(before.key!) });
  try {
    assert.equal(await statusOf(oldCertClient), 200);
    await h.client.delete(R.nodes, undefined, NODE);
    assert.equal(await waitFor('the old certificate refused', async () => ((await statusOf(oldCertClient)) === 401 ? 401 : undefined)), 401);
  } finally {
    oldCertClient.close();
  }
  const again = await waitFor('the Node registered again and Ready', async () => {
    const n = await h.client.get<NodeObject>(R.nodes, undefined, NODE);
    return n && n.metadata.uid !== first.metadata.uid && isReadyNode(n) ? n : undefined;
  }, 120_000);
  const log = agentLog();
  assert.match(log, /refuses the node client certificate \(401 Unauthorized\).*asking for a new one with the bootstrap token/);
  assert.match(log, /the Node object is gone \(deleted\); registering the node again/);
  assert.notEqual(readFileSync(join(h.dataDir, 'pki', 'kubelet-client.crt'), 'utf8'), before.cert!.toString('utf8'), 'a new client certificate was written');
  await waitFor('the node Lease owned by the new Node', async () => {
    const lease = await h.client.get(R.leases, 'kube-node-lease', NODE);
    return (lease?.metadata as { ownerReferences?: { kind: string; uid: string }[] } | undefined)?.ownerReferences?.some((r) => r.kind === 'Node' && r.uid === again.metadata.uid) || undefined;
  }, 60_000);
  // Nothing removes a pod whose Node came back (upstream's pod GC waits 40 s before removing the pods of a missing Node).
  const still = await h.client.get(R.pods, 'default', 'stays');
  assert.equal(still?.metadata.uid, pod.metadata.uid);
  assert.equal((still?.status as { phase?: string } | undefined)?.phase, 'Running');
});

test('delete node after its bootstrap token is deleted: the agent cannot get a new certificate, does not come back, and logs that the token was refused', async () => {
  const tokens = (await h.client.list(R.secrets, { namespace: 'kube-system' })).items.filter((s) => s.metadata.name?.startsWith('bootstrap-token-'));
  assert.ok(tokens.length > 0, 'the harness joined with a bootstrap token');
  for (const t of tokens) await h.client.delete(R.secrets, 'kube-system', t.metadata.name!);
  const logged = agentLog().length;
  await h.client.delete(R.nodes, undefined, NODE);
  await waitFor('the agent saying the token was refused', () => (/bootstrap token of .* was refused \(401 Unauthorized\): it has expired or was deleted/.test(agentLog().slice(logged)) ? true : undefined), 90_000);
  assert.equal(await h.client.get(R.nodes, undefined, NODE), undefined, 'the Node is not registered again without credentials');
  assert.equal(h.agent.child.exitCode, null, 'the agent keeps running and retrying with backoff');
});
