// kubectl drain in a real two-node lab: a Deployment behind a NodePort Service and a
// PodDisruptionBudget; draining one node evicts its pods one disruption at a time (the budget's
// 429 is seen), the replacements run on the other node, the Service keeps answering from
// flatnet-ext throughout, the drained node carries the unschedulable taint, and uncordon opens it
// again for new pods.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, requestFromExt, startLab, type Lab } from '../../support/lab.js';
import { R } from '../../../src/api/resources.js';
import type { Node, Pod } from '../../../src/controllers/types.js';
import type { PodDisruptionBudget } from '../../../src/controllers/disruption-plan.js';

const NS = 'drain-e2e';
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';
const NODE_PORT = 30181;

const manifests = `
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - {name: http, image: ${AGNHOST}, args: [netexec, --http-port=8080], ports: [{containerPort: 8080}], readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${NS}}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: ${NODE_PORT}}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: ${NS}}
spec:
  minAvailable: 3
  selector: {matchLabels: {app: web}}
`;

let lab: Lab | undefined;

after(async () => {
  await lab?.down();
});

function internalIP(node: Node): string {
  const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!ip) throw new Error(`node ${node.metadata.name} has no InternalIP`);
  return ip;
}

async function webPods(l: Lab): Promise<Pod[]> {
  return (await l.client.list<Pod>(R.pods, { namespace: NS, labelSelector: 'app=web' })).items.filter((p) => !p.metadata.deletionTimestamp);
}

const failures: string[] = [];

/**
 * One GET /hostname through the NodePort, as a client that retries would make it: up to 4
 * attempts, 300 ms apart (a connection may reach a pod that is stopping before the proxy has
 * dropped its endpoint, as with kube-proxy). Each failed attempt is kept for the diagnostics.
 */
async function ask(address: string): Promise<string | undefined> {
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 300));
    try {
      const a = await requestFromExt({ address, port: NODE_PORT, path: '/hostname', timeoutMs: 3000 });
      if (a.status === 200) return a.body.trim();
      failures.push(`HTTP ${a.status}`);
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  return undefined;
}

test('drain a lab node under a PodDisruptionBudget; the Service keeps answering; uncordon', async (t) => {
  lab = await startLab({ nodes: 2 });
  const l = lab;
  const nodes = (await l.client.list<Node>(R.nodes)).items;
  assert.equal(nodes.length, 2);
  await l.apply(manifests);
  await l.ok(['-n', NS, 'rollout', 'status', 'deployment/web', '--timeout=180s']);
  await eventually('budget allows one disruption', async () => (await l.client.get<PodDisruptionBudget>(R.poddisruptionbudgets, NS, 'web'))?.status?.disruptionsAllowed === 1, 60_000);
  const pods = await webPods(l);
  const perNode = new Map<string, number>();
  for (const p of pods) perNode.set(p.spec.nodeName!, (perNode.get(p.spec.nodeName!) ?? 0) + 1);
  // Drain the node with the most replicas (the scheduler spreads them 2 and 2).
  const [drained] = [...perNode.entries()].sort((a, b) => b[1] - a[1])[0]!;
  const stays = nodes.find((n) => n.metadata.name !== drained)!;
  const address = internalIP(stays);
  assert.ok(await ask(address), 'the Service answers before the drain');

  // Ask the Service continuously while the node drains.
  let draining = true;
  const answers: (string | undefined)[] = [];
  const prober = (async () => {
    while (draining) answers.push(await ask(address));
  })();
  const started = Date.now();
  const drain = await l.kubectl(['drain', drained, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=240s']);
  const drainMs = Date.now() - started;
  draining = false;
  await prober;
  t.diagnostic(`drain of ${drained} took ${drainMs} ms; ${answers.length} requests through the NodePort meanwhile, ${answers.filter((a) => a === undefined).length} unanswered; failed attempts (retried): ${failures.length} ${JSON.stringify([...new Set(failures)])}`);
  assert.equal(drain.code, 0, `kubectl drain: ${drain.stdout}${drain.stderr}`);
  assert.match(drain.stdout, new RegExp(`node/${drained} cordoned`));
  assert.match(drain.stdout, new RegExp(`node/${drained} drained`));
  for (const p of pods.filter((x) => x.spec.nodeName === drained)) assert.match(drain.stdout, new RegExp(`pod/${p.metadata.name} evicted`));
  assert.match(drain.stderr, /Cannot evict pod as it would violate the pod's disruption budget/, 'the budget held the second eviction back (429) until a replacement was ready');
  assert.ok(answers.length > 0);
  assert.deepEqual(answers.filter((a) => a === undefined), [], `every request during the drain was answered (${answers.length} asked)`);

  await l.ok(['-n', NS, 'rollout', 'status', 'deployment/web', '--timeout=180s']);
  const moved = await webPods(l);
  assert.equal(moved.length, 4);
  assert.deepEqual([...new Set(moved.map((p) => p.spec.nodeName))], [stays.metadata.name], 'every replica runs on the node that stayed');
  const names = new Set(moved.map((p) => p.metadata.name));
  const served = await eventually('an answer from a replacement pod', async () => {
    const who = await ask(address);
    return who && names.has(who) && who;
  });
  assert.ok(names.has(served));

  const node = (await l.client.get<Node>(R.nodes, undefined, drained))!;
  assert.equal(node.spec?.unschedulable, true);
  await eventually('unschedulable taint', async () => (await l.client.get<Node>(R.nodes, undefined, drained))?.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unschedulable' && t.effect === 'NoSchedule'));
  assert.match(await l.ok(['get', 'node', drained]), /SchedulingDisabled/);

  await l.ok(['uncordon', drained]);
  await eventually('taint removed', async () => !(await l.client.get<Node>(R.nodes, undefined, drained))?.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unschedulable'));
  await l.ok(['-n', NS, 'scale', 'deployment/web', '--replicas=6']);
  await eventually('a new replica on the uncordoned node', async () => (await webPods(l)).some((p) => p.spec.nodeName === drained), 120_000);
  await l.ok(['-n', NS, 'rollout', 'status', 'deployment/web', '--timeout=180s']);
});
