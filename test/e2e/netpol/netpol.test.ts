// NetworkPolicy in a real lab, as seeds 001 and 003 teach it: the manifests are applied with kubectl
// and checked with real connections from pods: default deny, allow-frontend-to-backend, the DNS
// egress allowance, and the metadata-service ipBlock except (a real listener stands at
// 169.254.169.254 in the outside namespace, so a refused flow is the policy's doing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { requireFreeLab, requireRoot } from '../../support/prerequisites.js';

const repo = new URL('../../../', import.meta.url).pathname;
const flatnet = join(repo, 'bin/flatnet');
const NS = 'production';
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';
const METADATA_IP = '169.254.169.254';
const EXT_IP = '172.18.0.200';


const workloads = `
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}, labels: {name: ${NS}}}
---
apiVersion: v1
kind: Pod
metadata: {name: backend, namespace: ${NS}, labels: {app: backend}}
spec:
  containers: [{name: api, image: ${AGNHOST}, args: [netexec, --http-port=8080], ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: ${NS}}
spec:
  selector: {app: backend}
  ports: [{port: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: frontend, namespace: ${NS}, labels: {app: frontend}}
spec:
  containers: [{name: ui, image: ${AGNHOST}, args: [netexec, --http-port=80]}]
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: ${NS}, labels: {app: other}}
spec:
  containers: [{name: sh, image: ${AGNHOST}, args: [netexec, --http-port=80]}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ${NS}, labels: {app: web}}
spec:
  containers: [{name: sh, image: ${AGNHOST}, args: [netexec, --http-port=80]}]
`;

// Seed 001: deny all ingress in the namespace, then allow the frontend to the backend on 8080.
const seed001 = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all-ingress, namespace: ${NS}}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress: []
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-frontend-to-backend, namespace: ${NS}}
spec:
  podSelector: {matchLabels: {app: backend}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: frontend}}}]
    ports: [{protocol: TCP, port: 8080}]
`;

// Seed 003: "Default deny + allow DNS egress" for every pod, and the web tier's egress control.
const seed003 = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-dns, namespace: ${NS}}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {name: kube-system}}}]
    ports: [{protocol: UDP, port: 53}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-external-dns, namespace: ${NS}}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {name: kube-system}}}]
    ports: [{protocol: UDP, port: 53}]
  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [${METADATA_IP}/32]}}]
    ports: [{protocol: TCP, port: 443}]
`;

async function eventually(what: string, check: () => boolean, tries = 60, delayMs = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, delayMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('NetworkPolicies from the seeds, enforced on real traffic', { timeout: 600_000 }, async (t) => {
  requireRoot('it starts a flatnet lab: network namespaces, nftables');
  requireFreeLab();
  const dataDir = join(mkdtempSync(join(tmpdir(), 'flatnet-e2e-np-')), 'data');
  const listeners: ChildProcess[] = [];
  t.after(() => {
    for (const l of listeners) l.kill();
    spawnSync(flatnet, ['down', '--data-dir', dataDir], { encoding: 'utf8' });
    rmSync(dirname(dataDir), { recursive: true, force: true });
  });
  const up = spawnSync(flatnet, ['up', '--nodes', '2', '--data-dir', dataDir], { encoding: 'utf8', timeout: 240_000 });
  assert.equal(up.status, 0, up.stdout + up.stderr);
  const env = { ...process.env, KUBECONFIG: `${dataDir}/admin.kubeconfig` };
  const kubectl = (args: string[], input?: string) => spawnSync('kubectl', args, { encoding: 'utf8', env, input, timeout: 120_000 });
  const ok = (args: string[], input?: string) => {
    const r = kubectl(args, input);
    assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  // A connection from inside a pod (the pod's own namespace, DNS and routes), 2 s at most.
  const connects = (pod: string, url: string) => kubectl(['-n', NS, 'exec', pod, '--', 'curl', '-sS', '-o', '/dev/null', '--max-time', '2', url]).status === 0;
  const podIP = (name: string) => ok(['-n', NS, 'get', 'pod', name, '-o', 'jsonpath={.status.podIP}']).trim();
  const explain = (...args: string[]) => spawnSync(flatnet, ['policy', 'explain', ...args, '--kubeconfig', `${dataDir}/admin.kubeconfig`], { encoding: 'utf8' });

  // The seed's namespaceSelector {name: kube-system} needs that label, as the seed's readers add it.
  ok(['label', 'namespace', 'kube-system', 'name=kube-system', '--overwrite']);
  ok(['apply', '-f', '-'], workloads);
  ok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/backend', 'pod/frontend', 'pod/other', 'pod/web', '--timeout=120s']);

  await t.test('without policies every pod reaches the backend', async () => {
    await eventually('frontend -> backend:8080', () => connects('frontend', 'http://backend:8080/hostname'));
    assert.ok(connects('other', 'http://backend:8080/hostname'));
  });

  await t.test('seed 001: default deny ingress, then only the frontend reaches the backend on 8080', async () => {
    ok(['apply', '-f', '-'], seed001);
    await eventually('other -> backend refused', () => !connects('other', 'http://backend:8080/hostname'));
    assert.ok(connects('frontend', 'http://backend:8080/hostname'), 'frontend -> backend:8080 must stay allowed');
    assert.ok(!connects('backend', `http://${podIP('frontend')}/hostname`), 'deny-all-ingress must isolate the frontend too');
    const why = explain(`${NS}/frontend`, `${NS}/backend`, '8080/tcp');
    assert.equal(why.status, 0, why.stderr);
    assert.match(why.stdout, /verdict: ALLOWED/);
    assert.match(why.stdout, /allow-frontend-to-backend/);
  });

  await t.test('seed 003: default deny egress except DNS; names still resolve, connections do not leave', async () => {
    ok(['apply', '-f', '-'], seed003);
    await eventually('frontend -> backend refused by its own egress policy', () => !connects('frontend', 'http://backend:8080/hostname'));
    const resolved = kubectl(['-n', NS, 'exec', 'frontend', '--', 'getent', 'hosts', 'backend']);
    assert.equal(resolved.status, 0, `DNS must stay allowed: ${resolved.stderr}`);
    assert.match(resolved.stdout, /^10\.96\.\d+\.\d+\s+backend/m);
  });

  await t.test('seed 003: the web tier reaches TCP 443 anywhere except the metadata service', async () => {
    // Listeners on 443 at the outside client's address and at the metadata address, routed from the switch.
    spawnSync('ip', ['-n', 'flatnet-ext', 'addr', 'add', `${METADATA_IP}/32`, 'dev', 'lo']);
    spawnSync('ip', ['-n', 'flatnet-lab', 'route', 'replace', `${METADATA_IP}/32`, 'via', EXT_IP]);
    listeners.push(spawn('ip', ['netns', 'exec', 'flatnet-ext', 'socat', 'TCP-LISTEN:443,fork,reuseaddr', 'SYSTEM:echo open'], { stdio: 'ignore' }));
    await eventually('the outside listener', () => spawnSync('ip', ['netns', 'exec', 'flatnet-ext', 'curl', '-s', '--max-time', '1', `telnet://${METADATA_IP}:443`], { encoding: 'utf8' }).stdout.includes('open'));
    const tcp443 = (pod: string, ip: string) => kubectl(['-n', NS, 'exec', pod, '--', 'curl', '-s', '--max-time', '2', `telnet://${ip}:443`]).stdout.includes('open');
    await eventually('web -> outside:443', () => tcp443('web', EXT_IP));
    assert.ok(!tcp443('web', METADATA_IP), 'the metadata service must be refused by the except clause');
    assert.ok(!tcp443('other', EXT_IP), 'pods other than web have DNS egress only');
    const why = explain(`${NS}/web`, METADATA_IP, '443/tcp');
    assert.match(why.stdout, /verdict: DENIED/);
  });

});
