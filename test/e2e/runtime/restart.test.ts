// The node runtime in a real one-node lab: pods (a built-in nginx and a `command:` busybox
// httpd) keep serving and keep their processes while the agent is killed with SIGKILL and
// restarted by the supervisor; they stay Running with restartCount unchanged; a pod deleted
// after the restart is still torn down; killing the runtime makes the agent report the
// containers exited and restart them (restartPolicy Always) once the supervisor brought it back.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, run, startLab, type Lab } from '../../support/lab.js';
import { R } from '../../../src/api/resources.js';
import type { Pod } from '../../../src/agent/pod-types.js';
import { RuntimeClient } from '../../../src/runtime/client.js';

const NS = 'runtime-e2e';
const NODE_NETNS = 'flatnet-node-node-1';

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
---
apiVersion: v1
kind: Pod
metadata: {name: box, namespace: ${NS}}
spec:
  terminationGracePeriodSeconds: 2
  containers: [{name: httpd, image: busybox:1.36, command: [busybox, httpd, -f, -p, '8080', -h, /etc]}]
---
apiVersion: v1
kind: Pod
metadata: {name: gone, namespace: ${NS}}
spec:
  terminationGracePeriodSeconds: 2
  containers: [{name: nginx, image: nginx:1.25}]
`;

let lab: Lab | undefined;
after(async () => {
  await lab?.down();
});

const pidOf = (l: Lab, name: string) => Number(readFileSync(join(l.dataDir, 'pids', `${name}.pid`), 'utf8').trim());

async function pod(l: Lab, name: string): Promise<Pod> {
  const p = await l.client.get<Pod>(R.pods, NS, name);
  if (!p) throw new Error(`pod ${NS}/${name} does not exist`);
  return p;
}

async function running(l: Lab, name: string): Promise<Pod | undefined> {
  const p = await pod(l, name);
  return p.status?.phase === 'Running' && p.status.containerStatuses?.every((c) => c.ready && c.state.running) ? p : undefined;
}

async function get(url: string): Promise<boolean> {
  const r = await run('ip', ['netns', 'exec', NODE_NETNS, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '3', url], { timeoutMs: 10_000 });
  return r.stdout.trim() === '200';
}

test('pods outlive an agent killed with SIGKILL; a killed runtime restarts its containers', async () => {
  lab = await startLab({ nodes: 1 });
  const l = lab;
  const runtime = new RuntimeClient(join(l.dataDir, 'nodes', 'node-1', 'runtime', 'runtime.sock'));
  await l.apply(manifests);
  const [web, box] = await Promise.all(['web', 'box', 'gone'].map((n) => eventually(`pod ${n} Running and ready`, () => running(l, n), 120_000)));
  const targets = [`http://${web.status!.podIP}/`, `http://${box.status!.podIP}:8080/hostname`];
  for (const t of targets) await eventually(`${t} to answer before the agent restart`, () => get(t), 30_000);
  const before = (await runtime.call('ListContainers', {})).containers;
  const boxBefore = before.find((c) => c.sandboxId === box.metadata.uid && c.state === 'RUNNING')!;
  assert.ok(boxBefore.pid > 0, 'the busybox container is a process of the runtime');
  assert.equal(before.find((c) => c.sandboxId === web.metadata.uid)?.state, 'RUNNING');
  const runtimePid = pidOf(l, 'runtime-node-1');

  // Traffic to both pods the whole time the agent is away and back.
  let failures = 0;
  let requests = 0;
  let traffic = true;
  const load = (async () => {
    while (traffic) {
      for (const t of targets) {
        requests++;
        if (!(await get(t))) failures++;
      }
    }
  })();

  const agentPid = pidOf(l, 'agent-node-1');
  const agentLog = join(l.dataDir, 'logs', 'agent-node-1.log');
  const logSize = readFileSync(agentLog).length;
  process.kill(agentPid, 'SIGKILL');
  await eventually('the supervisor to start a new agent', () => pidOf(l, 'agent-node-1') !== agentPid, 60_000);
  await eventually('the new agent to adopt both pods', () => (readFileSync(agentLog).subarray(logSize).toString().match(/pod adopted from the node runtime/g)?.length ?? 0) >= 3, 120_000);
  // A few more rounds of requests against the new agent's view.
  const settledAt = requests;
  await eventually('traffic after the adoption', () => requests >= settledAt + 10, 60_000);
  traffic = false;
  await load;
  assert.equal(failures, 0, `${failures} of ${requests} requests failed while the agent restarted`);

  const after = (await runtime.call('ListContainers', {})).containers;
  const boxAfter = after.find((c) => c.id === boxBefore.id)!;
  assert.equal(boxAfter.state, 'RUNNING');
  assert.equal(boxAfter.pid, boxBefore.pid, 'the busybox container kept its process');
  assert.equal(pidOf(l, 'runtime-node-1'), runtimePid, 'the runtime (which serves nginx) kept running');
  assert.ok(after.every((c) => c.attempt === 0), 'no container was started again');
  for (const name of ['web', 'box']) {
    const p = await pod(l, name);
    assert.equal(p.status?.phase, 'Running');
    assert.equal(p.status?.containerStatuses?.[0].restartCount, 0, `${name} keeps restartCount 0`);
  }

  // Deleting a pod after the agent restart still tears it down: containers, sandbox, namespace.
  const gone = await pod(l, 'gone');
  const goneNetns = (await run('ip', ['netns', 'list'])).stdout.split('\n').map((s) => s.split(' ')[0]).filter((n) => n.startsWith('flatnet-pod-'));
  await l.ok(['delete', 'pod', 'gone', '-n', NS, '--wait=true', '--timeout=60s']);
  await eventually('the runtime to forget the deleted pod', async () => !(await runtime.call('ListPodSandbox', {})).sandboxes.some((s) => s.id === gone.metadata.uid), 30_000);
  assert.ok(!(await runtime.call('ListContainers', {})).containers.some((c) => c.sandboxId === gone.metadata.uid));
  const netnsAfter = (await run('ip', ['netns', 'list'])).stdout.split('\n').map((s) => s.split(' ')[0]).filter((n) => n.startsWith('flatnet-pod-'));
  assert.equal(netnsAfter.length, goneNetns.length - 1, 'the deleted pod lost its network namespace');

  // Kill the runtime: the agent sees its containers exit and restarts them once it is back.
  process.kill(runtimePid, 'SIGKILL');
  await eventually('the supervisor to start a new runtime', () => existsSync(join(l.dataDir, 'pids', 'runtime-node-1.pid')) && pidOf(l, 'runtime-node-1') !== runtimePid, 60_000);
  for (const name of ['web', 'box']) {
    const p = await eventually(`${name} restarted and Running`, async () => {
      const r = await running(l, name);
      return r && (r.status!.containerStatuses![0].restartCount ?? 0) >= 1 ? r : undefined;
    }, 120_000);
    const last = p.status!.containerStatuses![0].lastState?.terminated;
    assert.ok(last && last.exitCode !== 0, `${name}: the previous run is reported terminated with a failure (${JSON.stringify(last)})`);
  }
  await eventually('both pods serving again', async () => (await get(targets[0])) && (await get(targets[1])), 60_000);
  const boxNow = (await runtime.call('ListContainers', { sandboxId: box.metadata.uid! })).containers.find((c) => c.state === 'RUNNING');
  assert.ok(boxNow && boxNow.pid !== boxBefore.pid, 'the busybox container runs in a new process');
  assert.ok(!existsSync(`/proc/${boxBefore.pid}`) || !readFileSync(`/proc/${boxBefore.pid}/cmdline`, 'utf8').includes('httpd'), 'the old busybox process is gone');
});
