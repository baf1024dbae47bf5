// `flatnet policy explain|matrix` against the real API server: objects made with kubectl,
// the command run as a user runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { startTestServer } from '../../support/server.js';

const main = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

async function flatnet(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', main, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const manifests = `
apiVersion: v1
kind: Namespace
metadata: {name: production, labels: {name: production}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all-ingress, namespace: production}
spec: {podSelector: {}, policyTypes: [Ingress], ingress: []}
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
`;

test('flatnet policy explain and matrix read the cluster through the API', async (t) => {
  const server = await startTestServer({ controllers: false });
  t.after(() => server.stop());
  const apply = await server.kubectl(['apply', '-f', '-'], manifests);
  assert.equal(apply.code, 0, apply.stderr);
  const pods: [string, string, string][] = [
    ['frontend', 'frontend', '10.244.1.11'],
    ['backend', 'backend', '10.244.1.12'],
    ['monitoring', 'monitoring', '10.244.1.13'],
  ];
  for (const [name, app, ip] of pods) {
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: 'production', name, labels: { app } },
      spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'agnhost', ports: [{ name: 'http', containerPort: 8080 }] }] },
    };
    const created = await server.client.create(R.pods, pod);
    created.status = { phase: 'Running', podIP: ip, podIPs: [{ ip }] };
    await server.client.updateStatus(R.pods, created);
  }
  const kc = ['--kubeconfig', server.kubeconfig];

  await t.test('explain: an allowed flow names the rule', async () => {
    const r = await flatnet(['policy', 'explain', 'production/frontend', 'production/backend', '8080/tcp', ...kc]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ingress of production\/backend: isolated by production\/allow-frontend-to-backend, production\/deny-all-ingress -> allowed/);
    assert.match(r.stdout, /allowed by production\/allow-frontend-to-backend ingress\[0\] from\[0\], ports\[0\]/);
    assert.match(r.stdout, /verdict: ALLOWED/);
  });

  await t.test('explain: a denied flow says no rule allows it', async () => {
    const r = await flatnet(['policy', 'explain', 'production/monitoring', 'production/backend', '8080', ...kc]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no ingress rule of them allows 10\.244\.1\.13 on TCP\/8080/);
    assert.match(r.stdout, /verdict: DENIED/);
  });

  await t.test('explain: an outside address as the source', async () => {
    const r = await flatnet(['policy', 'explain', '192.0.2.7', 'production/backend', '8080/tcp', ...kc]);
    assert.match(r.stdout, /egress: not isolated/);
    assert.match(r.stdout, /verdict: DENIED/);
  });

  await t.test('explain: errors name what is wrong', async () => {
    const missing = await flatnet(['policy', 'explain', 'production/nope', 'production/backend', '8080', ...kc]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /source pod production\/nope does not exist/);
    const badPort = await flatnet(['policy', 'explain', 'production/frontend', 'production/backend', '80/icmp', ...kc]);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /"80\/icmp" is not PORT\[\/PROTOCOL\]/);
  });

  await t.test('matrix', async () => {
    const r = await flatnet(['policy', 'matrix', '-n', 'production', ...kc]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('TCP/8080'));
    assert.ok(at > 0, r.stdout);
    // Sorted: backend (1), frontend (2), monitoring (3).
    assert.equal(lines[at + 2], 'production/backend      -  X  X');
    assert.equal(lines[at + 3], 'production/frontend     .  -  X');
    assert.equal(lines[at + 4], 'production/monitoring   X  X  -');
  });
});
