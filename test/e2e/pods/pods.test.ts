// Pods in a real lab (`flatnet up`), with both overlays: pod to pod on one node and across
// nodes with the client's own IP seen by the server, nodes reaching pods, hostPort from
// flatnet-ext, and kubectl exec/logs/port-forward through the lab's API server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { requireRoot } from '../../support/prerequisites.js';

const repo = new URL('../../../', import.meta.url).pathname;
const flatnet = join(repo, 'bin/flatnet');
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';
const NS = 'pods-e2e';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function portBusy(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => done(false));
  });
}

async function eventually<T>(what: string, fn: () => T | undefined | false, tries = 120, delayMs = 500): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const v = fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(delayMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

const manifests = (nodes: string[]) => `
apiVersion: v1
kind: Namespace
metadata:
  name: ${NS}
  # The server pod's hostPort needs the privileged Pod Security level (baseline is the default).
  labels: {pod-security.kubernetes.io/enforce: privileged, pod-security.kubernetes.io/warn: privileged, pod-security.kubernetes.io/audit: privileged}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: ${NS}}
spec:
  nodeName: ${nodes[0]}
  containers:
  - {name: netexec, image: ${AGNHOST}, args: [netexec, --http-port=8080, --udp-port=8081], ports: [{containerPort: 8080, hostPort: 18080}]}
  - {name: sidecar, image: busybox:1.36, command: [sh, -c, 'echo sidecar up; while true; do sleep 1; done']}
---
apiVersion: v1
kind: Pod
metadata: {name: near, namespace: ${NS}}
spec:
  nodeName: ${nodes[0]}
  containers: [{name: netexec, image: ${AGNHOST}, args: [netexec, --http-port=8080]}]
---
apiVersion: v1
kind: Pod
metadata: {name: far, namespace: ${NS}}
spec:
  nodeName: ${nodes[1]}
  containers: [{name: netexec, image: ${AGNHOST}, args: [netexec, --http-port=8080]}]
`;

for (const overlay of ['vxlan', 'host-gw'] as const) {
  test(`pods in a two-node lab (${overlay})`, { timeout: 900_000 }, async (t) => {
    requireRoot('it starts a flatnet lab: network namespaces, nftables');
    // One lab at a time on a machine: wait for another run's lab to go away.
    for (let i = 0; i < 600 && (await portBusy(6443)); i++) await sleep(1000);
    const dataDir = join(mkdtempSync(join(tmpdir(), 'flatnet-e2e-pods-')), 'data');
    t.after(() => {
      spawnSync(flatnet, ['down', '--data-dir', dataDir], { encoding: 'utf8' });
      rmSync(dirname(dataDir), { recursive: true, force: true });
    });
    const up = spawnSync(flatnet, ['up', '--nodes', '2', '--overlay', overlay, '--dns', 'false', '--data-dir', dataDir], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(up.status, 0, up.stdout + up.stderr);
    const env = { ...process.env, KUBECONFIG: `${dataDir}/admin.kubeconfig` };
    const kubectl = (args: string[], input?: string) => spawnSync('kubectl', args, { encoding: 'utf8', env, input, timeout: 120_000 });
    const ok = (args: string[], input?: string) => {
      const r = kubectl(args, input);
      assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
      return r.stdout;
    };
    const inNetns = (ns: string, ...cmd: string[]) => spawnSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', timeout: 30_000 });
    const curl = (ns: string, url: string) => inNetns(ns, 'curl', '-sS', '--max-time', '5', url);

    const nodes = ok(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}'])
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .sort();
    assert.equal(nodes.length, 2);
    ok(['apply', '-f', '-'], manifests(nodes.map((n) => n[0])));
    ok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/server', 'pod/near', 'pod/far', '--timeout=180s']);
    const ip = (pod: string) => ok(['-n', NS, 'get', 'pod', pod, '-o', 'jsonpath={.status.podIP}']);
    const [server, near, far] = [ip('server'), ip('near'), ip('far')];
    const dial = (from: string, to: string) =>
      JSON.parse(curl(`flatnet-node-${from === far ? nodes[1][0] : nodes[0][0]}`, `http://${from}:8080/dial?request=clientip&protocol=http&host=${to}&port=8080&tries=1`).stdout) as { responses: string[]; errors: string[] };

    await t.test('the nodes reach their pods', () => {
      assert.equal(curl(`flatnet-node-${nodes[0][0]}`, `http://${server}:8080/hostname`).stdout, 'server');
      assert.equal(curl(`flatnet-node-${nodes[1][0]}`, `http://${far}:8080/hostname`).stdout, 'far');
    });

    await t.test('pod to pod on one node: the server sees the client pod IP', () => {
      const r = dial(near, server);
      assert.deepEqual(r.errors, []);
      assert.equal(r.responses[0].split(':')[0], near);
    });

    await t.test(`pod to pod across nodes over ${overlay}: the server sees the client pod IP (no NAT)`, async () => {
      const r = await eventually('a cross-node answer', () => {
        const x = dial(far, server);
        return x.responses.length > 0 ? x : undefined;
      });
      assert.equal(r.responses[0].split(':')[0], far);
      const back = dial(server, far);
      assert.equal(back.responses[0].split(':')[0], server);
      const udp = JSON.parse(curl(`flatnet-node-${nodes[1][0]}`, `http://${far}:8080/dial?request=hostname&protocol=udp&host=${server}&port=8081`).stdout) as { responses: string[] };
      assert.deepEqual(udp.responses, ['server']);
    });

    await t.test('a node reaches pods of the other node', () => {
      assert.equal(curl(`flatnet-node-${nodes[1][0]}`, `http://${server}:8080/hostname`).stdout, 'server');
    });

    await t.test('hostPort answers on the node address from flatnet-ext', async () => {
      const r = await eventually('hostPort 18080', () => {
        const x = curl('flatnet-ext', `http://${nodes[0][1]}:18080/hostname`);
        return x.status === 0 ? x : undefined;
      }, 20);
      assert.equal(r.stdout, 'server');
    });

    await t.test('two containers of a pod over localhost; kubectl exec and logs through the API server', () => {
      assert.equal(ok(['-n', NS, 'exec', 'server', '-c', 'sidecar', '--', 'wget', '-qO-', 'http://localhost:8080/hostname']), 'server');
      const three = kubectl(['-n', NS, 'exec', 'server', '-c', 'sidecar', '--', 'sh', '-c', 'exit 3']);
      assert.equal(three.status, 3);
      assert.equal(ok(['-n', NS, 'logs', 'server', '-c', 'sidecar']), 'sidecar up\n');
    });

    await t.test('kubectl port-forward through the API server', async () => {
      const port = 19000 + Math.floor(Math.random() * 500);
      const pf = spawn('kubectl', ['-n', NS, 'port-forward', 'pod/far', `${port}:8080`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        const body = await eventually('port-forward', () => {
          const r = spawnSync('curl', ['-sS', '--max-time', '3', `http://127.0.0.1:${port}/hostname`], { encoding: 'utf8' });
          return r.status === 0 ? r.stdout : undefined;
        }, 30);
        assert.equal(body, 'far');
      } finally {
        pf.kill();
      }
    });

    await t.test('a recreated pod gets a new IP', () => {
      ok(['-n', NS, 'delete', 'pod', 'near']);
      ok(['apply', '-f', '-'], manifests(nodes.map((n) => n[0])));
      ok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/near', '--timeout=120s']);
      assert.notEqual(ip('near'), near);
    });
  });
}
