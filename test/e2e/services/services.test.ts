// Services in a real lab, as the seed documents use them: the manifests are applied with kubectl and
// reached from pods, from nodes and from flatnet-ext (the outside client on the underlay).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { requireRoot } from '../../support/prerequisites.js';

const repo = new URL('../../../', import.meta.url).pathname;
const flatnet = join(repo, 'bin/flatnet');
const NS = 'svc-e2e';
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';

// From the seeds: backend-service (ClusterIP, named targetPort, ClientIP affinity), frontend-service
// (NodePort 30080), web-service (LoadBalancer with loadBalancerSourceRanges), database-headless,
// plus a plain ClusterIP Service to see the spread and one whose selector matches nothing.
const manifests = `
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: backend, namespace: ${NS}}
spec:
  replicas: 3
  selector: {matchLabels: {app: backend, tier: api}}
  template:
    metadata: {labels: {app: backend, tier: api, app.kubernetes.io/name: web, app.kubernetes.io/part-of: frontend}}
    spec:
      containers:
      - {name: http, image: ${AGNHOST}, args: [netexec, --http-port=8080], ports: [{name: http, containerPort: 8080}]}
      - {name: metrics, image: ${AGNHOST}, args: [netexec, --http-port=9100, --udp-port=9101], ports: [{name: metrics, containerPort: 9100}]}
---
apiVersion: v1
kind: Service
metadata: {name: backend-service, namespace: ${NS}}
spec:
  type: ClusterIP
  selector: {app: backend, tier: api}
  ports:
  - {name: http, protocol: TCP, port: 80, targetPort: 8080}
  - {name: metrics, protocol: TCP, port: 9090, targetPort: metrics}
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 10800}}
---
apiVersion: v1
kind: Service
metadata: {name: spread, namespace: ${NS}}
spec:
  selector: {app: backend}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: frontend-service, namespace: ${NS}}
spec:
  type: NodePort
  selector: {app: backend}
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: web-service, namespace: ${NS}}
spec:
  type: LoadBalancer
  selector: {app: backend}
  ports: [{name: http, port: 80, targetPort: 8080}]
  loadBalancerSourceRanges: [10.0.0.0/8, 172.16.0.0/12]
---
apiVersion: v1
kind: Service
metadata: {name: database-headless, namespace: ${NS}}
spec:
  clusterIP: None
  selector: {app: cassandra}
  ports: [{name: cql, port: 9042, targetPort: 9042}]
---
apiVersion: v1
kind: Service
metadata: {name: nobody, namespace: ${NS}}
spec:
  selector: {app: nobody}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${NS}}
spec:
  containers: [{name: client, image: busybox:1.36, command: [sleep, '3600']}]
`;

async function eventually<T>(what: string, fn: () => T | undefined | false, tries = 60, delayMs = 500): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const v = fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, delayMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

for (const proxyMode of ['nftables', 'iptables'] as const) test(`Services from the seeds, reached from pods, nodes and outside (proxy mode ${proxyMode})`, { timeout: 600_000 }, async (t) => {
  requireRoot('it starts a flatnet lab: network namespaces, nftables');
  const dataDir = join(mkdtempSync(join(tmpdir(), 'flatnet-e2e-svc-')), 'data');
  t.after(() => {
    spawnSync(flatnet, ['down', '--data-dir', dataDir], { encoding: 'utf8' });
    rmSync(dirname(dataDir), { recursive: true, force: true });
  });
  const up = spawnSync(flatnet, ['up', '--nodes', '2', '--proxy-mode', proxyMode, '--data-dir', dataDir], { encoding: 'utf8', timeout: 240_000 });
  assert.equal(up.status, 0, up.stdout + up.stderr);
  const env = { ...process.env, KUBECONFIG: `${dataDir}/admin.kubeconfig` };
  const kubectl = (args: string[], input?: string) => spawnSync('kubectl', args, { encoding: 'utf8', env, input, timeout: 120_000 });
  const ok = (args: string[], input?: string) => {
    const r = kubectl(args, input);
    assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const inNetns = (ns: string, ...cmd: string[]) => spawnSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', timeout: 30_000 });
  const curl = (ns: string, url: string) => inNetns(ns, 'curl', '-sS', '--max-time', '3', url);
  // (no -T: busybox 1.35's wget crashes with a timeout option on this machine)
  const wget = (url: string) => kubectl(['-n', NS, 'exec', 'client', '--', 'wget', '-qO-', url]);

  ok(['apply', '-f', '-'], manifests);
  const rollout = kubectl(['-n', NS, 'rollout', 'status', 'deployment/backend', '--timeout=180s']);
  if (rollout.status !== 0) {
    const pods = kubectl(['-n', NS, 'get', 'pods', '-o', 'wide']).stdout;
    const describe = kubectl(['-n', NS, 'describe', 'pods', '-l', 'app=backend']).stdout.slice(-4000);
    assert.fail(`backend did not roll out: ${rollout.stdout}${rollout.stderr}\n${pods}\n${describe}`);
  }
  ok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/client', '--timeout=120s']);
  const backendPods = new Set(ok(['-n', NS, 'get', 'pods', '-l', 'app=backend', '-o', 'jsonpath={.items[*].metadata.name}']).split(' '));
  assert.equal(backendPods.size, 3);
  const nodes = ok(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}'])
    .trim()
    .split('\n')
    .map((l) => {
      const [name, ip] = l.split(' ');
      return { name, ip, netns: `flatnet-node-${name}` };
    });
  assert.equal(nodes.length, 2);

  await t.test('ClusterIP from a pod by name spreads over the endpoints', async () => {
    const seen = new Set<string>();
    await eventually('answers from the spread Service', () => wget('http://spread/hostname').status === 0);
    for (let i = 0; i < 30; i++) {
      const r = wget('http://spread/hostname');
      assert.equal(r.status, 0, r.stderr);
      seen.add(r.stdout.trim());
    }
    assert.ok([...seen].every((h) => backendPods.has(h)), [...seen].join(','));
    assert.ok(seen.size >= 2, `30 new connections reached only ${[...seen].join(',')}`);
  });

  await t.test('sessionAffinity ClientIP keeps the client on one pod; a named targetPort works', async () => {
    const answers = new Set<string>();
    for (let i = 0; i < 10; i++) answers.add(wget('http://backend-service/hostname').stdout.trim());
    assert.equal(answers.size, 1, [...answers].join(','));
    const metrics = wget(`http://backend-service.${NS}.svc.cluster.local:9090/hostname`);
    assert.equal(metrics.status, 0, metrics.stderr);
    assert.ok(backendPods.has(metrics.stdout.trim()));
  });

  await t.test('a Service without endpoints refuses the connection', () => {
    const r = wget('http://nobody/');
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /refused/i);
  });

  await t.test('ClusterIP from the nodes, NodePort from outside on every node', async () => {
    const ip = ok(['-n', NS, 'get', 'svc', 'spread', '-o', 'jsonpath={.spec.clusterIP}']);
    for (const n of nodes) {
      const r = curl(n.netns, `http://${ip}/hostname`);
      assert.equal(r.status, 0, `${n.name}: ${r.stderr}`);
      assert.ok(backendPods.has(r.stdout.trim()));
      const np = curl('flatnet-ext', `http://${n.ip}:30080/hostname`);
      assert.equal(np.status, 0, `NodePort on ${n.name}: ${np.stderr}`);
      assert.ok(backendPods.has(np.stdout.trim()));
    }
  });

  await t.test('LoadBalancer address from the pool, reachable from flatnet-ext (in its source ranges)', async () => {
    const lbIP = await eventually('an address from the pool', () => ok(['-n', NS, 'get', 'svc', 'web-service', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']).trim(), 20);
    assert.match(lbIP, /^172\.18\.255\.\d+$/);
    const r = await eventually(`curl ${lbIP} from flatnet-ext`, () => {
      const x = curl('flatnet-ext', `http://${lbIP}/hostname`);
      return x.status === 0 && x;
    }, 20);
    assert.ok(backendPods.has(r.stdout.trim()));
  });

  await t.test('flatnet proxy rules shows the Services of each node', () => {
    const r = spawnSync(flatnet, ['proxy', 'rules', '--data-dir', dataDir, '--node', nodes[0].name], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${NS}/backend-service:http\\n\\s+\\d+\\.\\d+\\.\\d+\\.\\d+:80/tcp\\s+-> .*\\[sessionAffinity ClientIP\\]`));
    assert.match(r.stdout, new RegExp(`${NS}/frontend-service:http\\n(.*\\n)*?\\s+nodePort 30080/tcp\\s+-> `));
    assert.match(r.stdout, new RegExp(`${NS}/nobody:\\n\\s+.*-> reject \\(no endpoints\\)`));
    assert.doesNotMatch(r.stdout, /database-headless/);
  });
});
