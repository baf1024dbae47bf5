// The node's Ready condition follows its runtime, and cluster DNS reads the API as its own
// ServiceAccount, in one real one-node lab:
// - the DNS pods run as ServiceAccount kube-system/coredns (their projected token names it); with
//   the ClusterRoleBinding system:coredns removed a new DNS pod cannot sync and stays unready, and
//   it becomes ready and answers once the binding is back;
// - a runtime that stops answering (SIGSTOP) makes the agent report the node NotReady with reason
//   KubeletNotReady and "container runtime is down: ..." as `kubectl get nodes` / `describe node`
//   show it, and Ready again once it answers (SIGCONT), the pods untouched;
// - a killed runtime (SIGKILL): NodeNotReady then NodeReady events on the Node, the supervisor
//   starts a new runtime, the agent restarts the pods' containers and they serve again (nginx and DNS).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, run, startLab, type Lab } from '../../support/lab.js';
import { R } from '../../../src/api/resources.js';
import type { Pod } from '../../../src/agent/pod-types.js';

const NS = 'rthealth-e2e';
const NODE = 'node-1';
const NODE_NETNS = `flatnet-node-${NODE}`;
const SA_USER = 'system:serviceaccount:kube-system:coredns';

const manifests = `
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ${NS}}
spec:
  terminationGracePeriodSeconds: 2
  containers: [{name: nginx, image: nginx:1.25, ports: [{containerPort: 80}]}]
`;

let lab: Lab | undefined;
after(async () => {
  const l = lab;
  lab = undefined;
  if (!l) return;
  // Never leave a stopped runtime behind (down must be able to stop it).
  try {
    process.kill(pidOf(l, `runtime-${NODE}`), 'SIGCONT');
  } catch {
    // not running
  }
  await l.down();
});

const pidOf = (l: Lab, name: string) => Number(readFileSync(join(l.dataDir, 'pids', `${name}.pid`), 'utf8').trim());

async function readyPod(l: Lab, ns: string, name: string): Promise<Pod | undefined> {
  const p = await l.client.get<Pod>(R.pods, ns, name);
  return p?.status?.phase === 'Running' && p.status.containerStatuses?.every((c) => c.ready && c.state.running) ? p : undefined;
}

async function dnsPods(l: Lab): Promise<Pod[]> {
  const list = JSON.parse(await l.ok(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-dns', '-o', 'json'])) as { items: Pod[] };
  return list.items.filter((p) => !p.metadata.deletionTimestamp);
}

async function dig(name: string): Promise<string> {
  const r = await run('ip', ['netns', 'exec', NODE_NETNS, 'dig', '+short', '+time=2', '+tries=1', '@10.96.0.10', name, 'A'], { timeoutMs: 10_000 });
  return r.stdout.trim();
}

async function httpOk(url: string): Promise<boolean> {
  const r = await run('ip', ['netns', 'exec', NODE_NETNS, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '3', url], { timeoutMs: 10_000 });
  return r.stdout.trim() === '200';
}

/** The STATUS column of `kubectl get nodes` for the node. */
async function nodeStatusColumn(l: Lab): Promise<string> {
  const out = await l.ok(['get', 'nodes', NODE, '--no-headers']);
  return out.trim().split(/\s+/)[1];
}

function jwtSubject(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { sub: string }).sub;
}

test('node Ready follows the runtime; cluster DNS runs as its ServiceAccount', { timeout: 900_000 }, async (t) => {
  lab = await startLab({ nodes: 1 });
  const l = lab;
  await l.apply(manifests);
  const web = await eventually('pod web Running and ready', () => readyPod(l, NS, 'web'), 120_000);
  const webURL = `http://${web.status!.podIP}/`;
  await eventually('nginx to answer', () => httpOk(webURL), 30_000);
  await eventually('cluster DNS to answer', async () => (await dig('kubernetes.default.svc.cluster.local')) === '10.96.0.1', 60_000);

  await t.test('the DNS pods run as ServiceAccount kube-system/coredns with the projected token', async () => {
    const pods = await dnsPods(l);
    assert.ok(pods.length >= 1, 'DNS pods exist');
    for (const p of pods) {
      assert.equal(p.spec.serviceAccountName, 'coredns');
      // The token the node runtime hands the DNS server: the pod's own projected token.
      const tokenFile = join(l.dataDir, 'nodes', NODE, 'tokens', p.metadata.uid!, 'token');
      assert.ok(existsSync(tokenFile), `${tokenFile} exists`);
      assert.equal(jwtSubject(readFileSync(tokenFile, 'utf8').trim()), SA_USER);
    }
    assert.match(await l.ok(['get', 'clusterrole', 'system:coredns', '-o', 'jsonpath={.rules[*].resources}']), /endpointslices/);
    const canI = await l.kubectl(['auth', 'can-i', 'list', 'secrets', '--as', SA_USER]);
    assert.equal(canI.stdout.trim(), 'no', 'coredns may not read Secrets');
  });

  await t.test('without the ClusterRoleBinding system:coredns a new DNS pod stays unready; with it back it answers', async () => {
    await l.ok(['delete', 'clusterrolebinding', 'system:coredns']);
    const before = await dnsPods(l);
    const victim = before[0];
    await l.ok(['-n', 'kube-system', 'delete', 'pod', victim.metadata.name!, '--wait=true', '--timeout=60s']);
    const known = new Set(before.map((p) => p.metadata.uid));
    const replacement = await eventually('a replacement DNS pod with its container running', async () => (await dnsPods(l)).find((p) => !known.has(p.metadata.uid) && p.status?.containerStatuses?.[0]?.state.running), 120_000);
    // Its readiness probe (/ready: the informers synced) keeps failing: it cannot list as coredns.
    for (let i = 0; i < 8; i++) {
      const p = await l.client.get<Pod>(R.pods, 'kube-system', replacement.metadata.name!);
      assert.equal(p?.status?.containerStatuses?.[0]?.ready, false, 'not ready without the binding');
      await new Promise((r) => setTimeout(r, 1000));
    }
    const described = await l.ok(['-n', 'kube-system', 'describe', 'pod', replacement.metadata.name!]);
    assert.match(described, /Readiness probe failed/);
    await l.ok(['create', 'clusterrolebinding', 'system:coredns', '--clusterrole=system:coredns', '--serviceaccount=kube-system:coredns']);
    await eventually('the replacement DNS pod ready once the binding is back', () => readyPod(l, 'kube-system', replacement.metadata.name!), 120_000);
    assert.equal(await eventually('DNS to answer', async () => (await dig('kube-dns.kube-system.svc.cluster.local')) || undefined, 60_000), '10.96.0.10');
  });

  await t.test('a runtime that stops answering: NotReady with the kubelet reason, Ready again when it answers', async () => {
    const runtimePid = pidOf(l, `runtime-${NODE}`);
    const webBefore = (await l.client.get<Pod>(R.pods, NS, 'web'))!;
    assert.equal(await nodeStatusColumn(l), 'Ready');
    const stoppedAt = Date.now();
    process.kill(runtimePid, 'SIGSTOP');
    try {
      await eventually('kubectl get nodes to show NotReady', async () => (await nodeStatusColumn(l)) === 'NotReady', 60_000);
      t.diagnostic(`NotReady shown ${Date.now() - stoppedAt} ms after SIGSTOP`);
      const ready = JSON.parse(await l.ok(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")]}'])) as { status: string; reason: string; message: string };
      assert.equal(ready.status, 'False');
      assert.equal(ready.reason, 'KubeletNotReady');
      assert.match(ready.message, /^container runtime is down: the node runtime at \S+runtime\.sock did not answer \/version within 2s$/);
      const described = await l.ok(['describe', 'node', NODE]);
      assert.match(described, /Ready\s+False\s.*KubeletNotReady\s+container runtime is down/);
      assert.match(described, /NodeNotReady\s.*Node node-1 status is now: NodeNotReady/);
    } finally {
      process.kill(runtimePid, 'SIGCONT');
    }
    await eventually('kubectl get nodes to show Ready', async () => (await nodeStatusColumn(l)) === 'Ready', 60_000);
    assert.equal(pidOf(l, `runtime-${NODE}`), runtimePid, 'the same runtime process');
    await eventually('nginx to answer after SIGCONT', () => httpOk(webURL), 30_000);
    const webAfter = (await l.client.get<Pod>(R.pods, NS, 'web'))!;
    assert.equal(webAfter.status?.containerStatuses?.[0].restartCount, webBefore.status?.containerStatuses?.[0].restartCount, 'the pod was not restarted');
  });

  await t.test('a killed runtime: NodeNotReady then NodeReady, and the pods recover', async () => {
    const runtimePid = pidOf(l, `runtime-${NODE}`);
    const nodeEvents = async (reason: string) => Number((await l.ok(['get', 'events', '-n', 'default', '--field-selector', `involvedObject.kind=Node,involvedObject.name=${NODE},reason=${reason}`, '-o', 'jsonpath={.items[*].count}'])).split(/\s+/).filter(Boolean).reduce((a, c) => a + Number(c), 0));
    const notReadyBefore = await nodeEvents('NodeNotReady');
    const readyBefore = await nodeEvents('NodeReady');
    const webRestarts = (await l.client.get<Pod>(R.pods, NS, 'web'))!.status!.containerStatuses![0].restartCount ?? 0;
    process.kill(runtimePid, 'SIGKILL');
    await eventually('a NodeNotReady event', async () => (await nodeEvents('NodeNotReady')) > notReadyBefore, 60_000);
    await eventually('the supervisor to start a new runtime', () => existsSync(join(l.dataDir, 'pids', `runtime-${NODE}.pid`)) && pidOf(l, `runtime-${NODE}`) !== runtimePid, 60_000);
    await eventually('a NodeReady event', async () => (await nodeEvents('NodeReady')) > readyBefore, 120_000);
    await eventually('kubectl get nodes to show Ready', async () => (await nodeStatusColumn(l)) === 'Ready', 60_000);
    const web2 = await eventually('web restarted and ready', async () => {
      const p = await readyPod(l, NS, 'web');
      return p && (p.status!.containerStatuses![0].restartCount ?? 0) > webRestarts ? p : undefined;
    }, 120_000);
    assert.ok(web2.status!.containerStatuses![0].lastState?.terminated, 'the previous run is reported terminated');
    await eventually('nginx to answer again', () => httpOk(webURL), 60_000);
    for (const p of await dnsPods(l)) await eventually(`DNS pod ${p.metadata.name} ready again`, () => readyPod(l, 'kube-system', p.metadata.name!), 120_000);
    assert.equal(await eventually('DNS to answer again', async () => (await dig('kubernetes.default.svc.cluster.local')) || undefined, 60_000), '10.96.0.1');
    const described = await l.ok(['describe', 'node', NODE]);
    assert.match(described, /Ready\s+True\s.*KubeletReady/);
    assert.match(described, /NodeReady\s.*Node node-1 status is now: NodeReady/);
  });
});
