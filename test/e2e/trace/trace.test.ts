// `flatnet trace` in a real two-node lab (VXLAN), on the seeds' scenarios: the frontend reaching
// the backend Service allowed by seed 001's policy (DNS search path, DNAT, VXLAN hop), the
// monitoring pod denied (the kernel's drop matches the model), a pod reaching a Service whose
// endpoint is on the other node, the outside client reaching a NodePort; then a drop rule put in
// a node's nftables by hand, which trace must report as a BUG. Trace tables never stay behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireFreeLab, requireRoot, requireTool } from '../../support/prerequisites.js';
import { FLATNET, run, startLab, type Lab } from '../../support/lab.js';

const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';
const NODE_PORT = 30080;

const manifests = `
apiVersion: v1
kind: Namespace
metadata: {name: production, labels: {name: production}}
---
apiVersion: v1
kind: Pod
metadata: {name: backend, namespace: production, labels: {app: backend}}
spec:
  nodeName: node-2
  containers: [{name: api, image: ${AGNHOST}, args: [netexec, --http-port=8080], ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: production}
spec:
  selector: {app: backend}
  ports: [{port: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: frontend, namespace: production, labels: {app: frontend}}
spec:
  nodeName: node-1
  containers: [{name: ui, image: ${AGNHOST}, args: [netexec, --http-port=80]}]
---
apiVersion: v1
kind: Pod
metadata: {name: monitoring, namespace: production, labels: {app: monitoring}}
spec:
  nodeName: node-1
  containers: [{name: mon, image: ${AGNHOST}, args: [netexec, --http-port=80]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all-ingress, namespace: production}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress: []
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-frontend-to-backend, namespace: production}
spec:
  podSelector: {matchLabels: {app: backend}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: frontend}}}]
    ports: [{protocol: TCP, port: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  nodeName: node-2
  containers: [{name: web, image: ${AGNHOST}, args: [netexec, --http-port=80], ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, nodePort: ${NODE_PORT}}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
spec:
  nodeName: node-1
  containers: [{name: c, image: ${AGNHOST}, args: [netexec, --http-port=80]}]
`;

interface Json {
  [k: string]: any;
}

test('flatnet trace follows real probes and flags where the kernel and the models disagree', { timeout: 900_000 }, async (t) => {
  requireRoot('it starts a flatnet lab and traces nftables in its namespaces');
  requireFreeLab();
  requireTool('dig', 'Debian package dnsutils (bind9-dnsutils)');
  requireTool('nft', 'Debian package nftables');
  requireTool('/usr/bin/python3', 'Debian package python3');
  const lab: Lab = await startLab({ nodes: 2 });
  t.after(() => lab.down());
  const trace = (args: string[]) => run(FLATNET, ['trace', ...args, '--data-dir', lab.dataDir], { env: lab.env, timeoutMs: 120_000 });
  const traceJson = async (args: string[], wantCode: number): Promise<Json> => {
    const r = await trace([...args, '-o', 'json']);
    assert.equal(r.code, wantCode, `flatnet trace ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
    return JSON.parse(r.stdout) as Json;
  };
  const podIP = async (ns: string, name: string) => (await lab.ok(['-n', ns, 'get', 'pod', name, '-o', 'jsonpath={.status.podIP}'])).trim();
  const traceTablesLeft = async () => {
    const left: string[] = [];
    for (const node of ['node-1', 'node-2']) {
      const r = await run('ip', ['netns', 'exec', `flatnet-node-${node}`, 'nft', 'list', 'tables']);
      for (const line of r.stdout.split('\n')) if (line.includes('flatnet-trace')) left.push(`${node}: ${line}`);
    }
    return left;
  };

  await lab.apply(manifests);
  await lab.ok(['-n', 'production', 'wait', '--for=condition=Ready', 'pod/backend', 'pod/frontend', 'pod/monitoring', '--timeout=180s']);
  await lab.ok(['-n', 'default', 'wait', '--for=condition=Ready', 'pod/web', 'pod/client', '--timeout=180s']);
  const backend = await podIP('production', 'backend');
  const web = await podIP('default', 'web');
  // The policies are in place once the monitoring pod can no longer reach the backend.
  const denied = async () => (await lab.kubectl(['-n', 'production', 'exec', 'monitoring', '--', 'curl', '-sS', '-o', '/dev/null', '--max-time', '2', `http://${backend}:8080/hostname`])).code !== 0;
  for (let i = 0; i < 60 && !(await denied()); i++) await new Promise((r) => setTimeout(r, 500));

  await t.test('frontend -> backend (a Service name through the search path) is allowed, DNAT to the other node over VXLAN', async () => {
    const r = await traceJson(['production/frontend', 'backend', '8080/tcp'], 0);
    assert.equal(r.dns.ndots, 5);
    assert.equal(r.dns.queries[0].name, 'backend.production.svc.cluster.local.', JSON.stringify(r.dns));
    assert.equal(r.dns.queries[0].status, 'NOERROR');
    const svc = r.prediction.service;
    assert.equal(svc.service, 'production/backend');
    assert.equal(svc.dnatNode, 'node-1');
    assert.deepEqual(svc.candidates.map((c: Json) => c.ip), [backend]);
    const path = r.prediction.paths[0];
    assert.equal(path.hop.kind, 'overlay');
    assert.equal(path.hop.mode, 'vxlan');
    assert.equal(path.policy.allowed, true);
    assert.match(path.policy.stages[1].reason, /allow-frontend-to-backend/);
    assert.equal(r.kernel.probe.result, 'connected');
    assert.equal(r.kernel.facts.dnatTo.ip, backend);
    assert.deepEqual(r.kernel.facts.reachedNodes.sort(), ['node-1', 'node-2']);
    const hits = r.kernel.facts.rulesHit as Json[];
    assert.ok(hits.some((h) => h.node === 'node-1' && h.table === 'flatnet-proxy' && /^pick-1$/.test(h.chain)), `no DNAT rule in the hits: ${JSON.stringify(hits, null, 1)}`);
    assert.ok(hits.some((h) => h.node === 'node-2' && h.table === 'flatnet-policy' && h.chain.startsWith('in-') && h.verdict === 'return'), `no ingress allow on node-2: ${JSON.stringify(hits, null, 1)}`);
    assert.equal(r.kernel.routes[0].route.dev, 'flatnet.1');
    assert.equal(r.bugs, 0, JSON.stringify(r.findings));
  });

  await t.test('monitoring -> backend is denied: the kernel drops it where the model says', async () => {
    const r = await traceJson(['production/monitoring', 'production/backend', '8080'], 0);
    assert.equal(r.prediction.expected, 'dropped');
    assert.equal(r.prediction.paths[0].policy.stages[1].allowed, false);
    assert.equal(r.kernel.probe.result, 'timeout');
    assert.equal(r.kernel.facts.drop.node, 'node-2');
    assert.equal(r.kernel.facts.drop.table, 'flatnet-policy');
    assert.match(r.kernel.facts.drop.meaning, /ingress not allowed by any NetworkPolicy/);
    assert.equal(r.bugs, 0, JSON.stringify(r.findings));
  });

  await t.test('a pod -> a Service whose only endpoint is on the other node, through VXLAN (text output)', async () => {
    const r = await trace(['client', 'web', '80']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    process.stdout.write(`--- flatnet trace client web 80\n${r.stdout}`);
    assert.match(r.stdout, /web\.default\.svc\.cluster\.local\. +NOERROR/);
    assert.match(r.stdout, new RegExp(`candidate ${web.replace(/\./g, '\\.')}:80 default/web on node-2`));
    assert.match(r.stdout, /node-1 -> node-2 over VXLAN: dev flatnet\.1 via 10\.244\.\d+\.0/);
    assert.match(r.stdout, /route on node-1 to [\d.]+: flatnet\.1 via/);
    assert.match(r.stdout, /: connected/);
    assert.doesNotMatch(r.stdout, /^BUG/m);
  });

  await t.test('the outside client -> a NodePort on node-1, DNAT to the endpoint on node-2', async () => {
    const r = await traceJson(['flatnet-ext', 'node:node-1', `${NODE_PORT}/tcp`], 0);
    assert.equal(r.prediction.service.via, 'NodePort');
    assert.equal(r.prediction.service.dnatNode, 'node-1');
    assert.equal(r.prediction.service.masquerade, true);
    assert.equal(r.kernel.probe.result, 'connected');
    assert.equal(r.kernel.facts.dnatTo.ip, web);
    assert.ok(r.kernel.facts.reachedNodes.includes('node-2'), 'node-2 must see the probe (matched by its DSCP after masquerade)');
    assert.ok((r.kernel.facts.rulesHit as Json[]).some((h) => /^pick-nodeport-1$/.test(h.chain)));
    assert.equal(r.bugs, 0, JSON.stringify(r.findings));
  });

  await t.test('a drop rule inserted by hand on node-2: trace reports a BUG and exits 1', async () => {
    const rules = `table inet trb-by-hand {\n  chain byhand {\n    type filter hook forward priority -200; policy accept;\n    ip daddr ${backend} tcp dport 8080 drop\n  }\n}\n`;
    const add = await run('ip', ['netns', 'exec', 'flatnet-node-node-2', 'nft', '-f', '-'], { input: rules });
    assert.equal(add.code, 0, add.stderr);
    try {
      const text = await trace(['production/frontend', 'production/backend', '8080']);
      assert.equal(text.code, 1, text.stdout + text.stderr);
      process.stdout.write(`--- flatnet trace production/frontend production/backend 8080 (with a drop rule by hand)\n${text.stdout}`);
      assert.match(text.stdout, /^BUG the model says the flow is allowed, but the kernel dropped the probe at node-2: inet trb-by-hand byhand handle \d+/m);
      assert.match(text.stdout, /not flatnet/);
    } finally {
      await run('ip', ['netns', 'exec', 'flatnet-node-node-2', 'nft', 'delete', 'table', 'inet', 'trb-by-hand']);
    }
  });

  await t.test('bad input is a usage error naming the argument; no trace table is left behind', async () => {
    const r = await trace(['production/nosuch', 'backend', '8080']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /FROM: pod production\/nosuch does not exist/);
    const p = await trace(['production/frontend', 'backend', '99999']);
    assert.equal(p.code, 2);
    assert.match(p.stderr, /is not PORT\[\/PROTOCOL\]/);
    assert.deepEqual(await traceTablesLeft(), []);
  });
});
