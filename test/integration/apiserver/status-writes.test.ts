// Writes to the status subresource through the real kubectl (`patch --subresource=status`) and
// raw HTTP against a real server, kind by kind as upstream 1.32's status strategies make them:
// pods/status keeps spec and ownerReferences but takes label, annotation and finalizer changes;
// deployments/status keeps labels too; services/status keeps only the spec; a CRD's status keeps
// its metadata; a custom resource's status write changes status alone. No status write bumps
// metadata.generation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: false });
});
after(async () => {
  await s?.stop();
});

async function kubectlJson(args: string[], input?: string): Promise<Record<string, any>> {
  const r = await s.kubectl([...args, '-o', 'json'], input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, any>;
}

const statusPatch = (kind: string, name: string, patch: object, type = 'merge') => kubectlJson(['patch', kind, name, '--subresource=status', `--type=${type}`, '-p', JSON.stringify(patch)]);

test('pods/status: labels, annotations and finalizers change; spec and ownerReferences do not', async () => {
  await kubectlJson(
    ['create', '-f', '-'],
    `apiVersion: v1
kind: Pod
metadata:
  name: p
  labels: {app: one}
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owner, uid: 11111111-2222-3333-4444-555555555555}]
spec:
  containers: [{name: c, image: nginx}]`,
  );
  const out = await statusPatch('pod', 'p', {
    metadata: { labels: { app: 'two', extra: 'x' }, annotations: { seen: 'yes' }, finalizers: ['example.com/hold'], ownerReferences: [] },
    spec: { activeDeadlineSeconds: 5, nodeName: 'elsewhere' },
    status: { phase: 'Running', message: 'from status' },
  });
  assert.deepEqual(out.metadata.labels, { app: 'two', extra: 'x' });
  assert.deepEqual(out.metadata.annotations, { seen: 'yes' });
  assert.deepEqual(out.metadata.finalizers, ['example.com/hold']);
  assert.equal(out.metadata.ownerReferences[0].name, 'owner');
  assert.equal(out.spec.activeDeadlineSeconds, undefined);
  assert.equal(out.spec.nodeName, undefined);
  assert.deepEqual([out.status.phase, out.status.message], ['Running', 'from status']);
  const stored = await kubectlJson(['get', 'pod', 'p']);
  assert.deepEqual(stored.metadata.labels, { app: 'two', extra: 'x' });
  await kubectlJson(['patch', 'pod', 'p', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
});

test('deployments/status keeps labels and spec; annotations change; generation does not move', async () => {
  await kubectlJson(['create', 'deployment', 'd', '--image=nginx']);
  const before = await kubectlJson(['get', 'deployment', 'd']);
  const out = await statusPatch('deployment', 'd', { metadata: { labels: { app: 'changed' }, annotations: { note: 'n' } }, spec: { replicas: 7 }, status: { replicas: 1, observedGeneration: 1 } });
  assert.deepEqual(out.metadata.labels, before.metadata.labels);
  assert.equal(out.metadata.annotations.note, 'n');
  assert.equal(out.spec.replicas, before.spec.replicas);
  assert.equal(out.metadata.generation, before.metadata.generation);
  assert.equal(out.status.replicas, 1);
});

test('services/status over raw HTTP (PUT): spec stays, labels are the request\'s', async () => {
  await kubectlJson(['create', 'service', 'clusterip', 's', '--tcp=80:8080']);
  const svc = await kubectlJson(['get', 'service', 's']);
  svc.metadata.labels = { tier: 'edge' };
  svc.spec.ports[0].port = 81;
  svc.status = { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } };
  const res = await s.client.request<Record<string, any>>('PUT', '/api/v1/namespaces/default/services/s/status', svc);
  assert.deepEqual(res.metadata.labels, { tier: 'edge' });
  assert.equal(res.spec.ports[0].port, 80);
  assert.equal(res.status.loadBalancer.ingress[0].ip, '192.0.2.10');
});

test('CRD and custom resource status: the CRD keeps its labels, the custom resource keeps all metadata', async () => {
  await kubectlJson(
    ['apply', '-f', '-'],
    `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com, labels: {owner: team}}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true`,
  );
  const crd = await statusPatch('crd', 'widgets.example.com', { metadata: { labels: { owner: 'other' } }, status: { conditions: [] } });
  assert.deepEqual(crd.metadata.labels, { owner: 'team' });
  let ready = false;
  for (let i = 0; i < 100 && !ready; i++) {
    ready = (await s.kubectl(['get', 'widgets'])).code === 0;
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(ready, 'the widgets resource is served');
  await kubectlJson(['create', '-f', '-'], `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, labels: {a: b}}\nspec: {size: 1}\n`);
  const w = await statusPatch('widget', 'w', { metadata: { labels: { a: 'c' } }, spec: { size: 2 }, status: { ok: true } });
  assert.deepEqual([w.metadata.labels, w.spec, w.status], [{ a: 'b' }, { size: 1 }, { ok: true }]);
});
