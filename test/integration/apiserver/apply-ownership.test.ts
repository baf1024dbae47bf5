// Server-side apply through the real kubectl: taking over fields that already hold the applied
// values is recorded, and conflicts name the other manager the way kube-apiserver does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../../support/server.js';

const deployment = (replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
`;

test('apply --server-side ownership and conflicts', async (t) => {
  const server = await startTestServer({ store: 'memory', controllers: false });
  t.after(() => server.stop());
  const ok = async (args: string[], input?: string) => {
    const r = await server.kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await ok(['apply', '-f', '-'], deployment(2));
  await ok(['apply', '--server-side', '-f', '-'], deployment(2));
  const managed = JSON.parse(await ok(['get', 'deploy', 'web', '-o', 'json', '--show-managed-fields'])).metadata.managedFields as { manager: string; operation: string }[];
  assert.ok(
    managed.some((m) => m.manager === 'kubectl' && m.operation === 'Apply'),
    `an apply of unchanged values must still record its manager: ${JSON.stringify(managed.map((m) => `${m.manager}/${m.operation}`))}`,
  );

  await ok(['scale', 'deploy', 'web', '--replicas=5']);
  const conflict = await server.kubectl(['apply', '--server-side', '-f', '-'], deployment(3));
  assert.notEqual(conflict.code, 0);
  assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "[^"]+" using apps\/v1( at \S+)?: \.spec\.replicas/);
  await ok(['apply', '--server-side', '--force-conflicts', '-f', '-'], deployment(3));
  assert.equal(JSON.parse(await ok(['get', 'deploy', 'web', '-o', 'json'])).spec.replicas, 3);
});

test('apply --server-side --subresource=status writes the status and records its manager', async (t) => {
  const server = await startTestServer({ store: 'memory', controllers: false });
  t.after(() => server.stop());
  const ok = async (args: string[], input?: string) => {
    const r = await server.kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await ok(['apply', '--server-side', '-f', '-'], deployment(2));
  const withStatus = `${deployment(7)}status:\n  observedGeneration: 1\n  conditions:\n  - type: Available\n    status: "True"\n    reason: Tested\n`;
  await ok(['apply', '--server-side', '--subresource=status', '--field-manager=status-writer', '-f', '-'], withStatus);
  const obj = JSON.parse(await ok(['get', 'deploy', 'web', '-o', 'json', '--show-managed-fields']));
  assert.equal(obj.spec.replicas, 2, 'the status subresource does not change the spec');
  assert.deepEqual(obj.status.conditions.map((c: { type: string; reason: string }) => `${c.type}/${c.reason}`), ['Available/Tested']);
  const entry = (obj.metadata.managedFields as { manager: string; operation: string; subresource?: string }[]).find((m) => m.manager === 'status-writer');
  assert.equal(entry?.operation, 'Apply');
  assert.equal(entry?.subresource, 'status');

  // An update through the status subresource is recorded as that subresource's Update, apart from the main resource's.
  await ok(['patch', 'deploy', 'web', '--subresource=status', '--type=merge', '-p', '{"status":{"observedGeneration":3}}']);
  const patched = JSON.parse(await ok(['get', 'deploy', 'web', '-o', 'json', '--show-managed-fields']));
  const update = (patched.metadata.managedFields as { manager: string; operation: string; subresource?: string }[]).find((m) => m.manager === 'kubectl-patch');
  assert.equal(update?.operation, 'Update');
  assert.equal(update?.subresource, 'status');
});
