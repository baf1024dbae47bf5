// managedFields record what the request said, before mutating admission and allocation, as
// kube-apiserver's field manager runs ahead of admission: through the real kubectl, a created,
// applied, patched or replaced pod's managers never own the ServiceAccount admission's
// `kube-api-access-*` volume, its mounts or serviceAccountName; a Service's creator does not own
// the allocated clusterIP; pod status is not the creator's; server-side apply conflicts are still
// reported between managers and taken over with --force-conflicts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../support/server.js';

interface Entry {
  manager: string;
  operation: string;
  subresource?: string;
  fieldsV1: Record<string, unknown>;
}
interface ObjJson {
  metadata: { managedFields?: Entry[] };
  spec: Record<string, unknown>;
}

let s: TestServer;
const NS = 'mf-adm';

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: false });
  await kubectlOk(['create', 'namespace', NS]);
});
after(async () => {
  await s?.stop();
});

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await s.kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function getJson(kind: string, name: string): Promise<ObjJson> {
  return JSON.parse(await kubectlOk(['get', kind, name, '-n', NS, '-o', 'json', '--show-managed-fields'])) as ObjJson;
}

/** Every path (as `a.b.c`) a fieldsV1 tree names. */
function paths(tree: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [p, ...paths(v as Record<string, unknown>, p)];
  });
}

function admissionPaths(e: Entry): string[] {
  return paths(e.fieldsV1).filter((p) => /kube-api-access|f:volumeMounts|f:volumes|f:serviceAccountName|f:serviceAccount$|f:status/.test(p));
}

const podYaml = (name: string, image: string, labels = 'app: web') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {${labels}}
spec:
  containers:
  - name: c
    image: ${image}
`;

test('kubectl create: the creator owns what it sent and its defaults, not the token volume, mounts, serviceAccountName or status', async () => {
  await kubectlOk(['create', '-n', NS, '-f', '-'], podYaml('created', 'nginx'));
  const pod = await getJson('pod', 'created');
  assert.ok(((pod.spec.volumes ?? []) as { name: string }[]).some((v) => v.name.startsWith('kube-api-access-')), 'admission added the volume');
  assert.equal(pod.spec.serviceAccountName, 'default');
  const entries = pod.metadata.managedFields ?? [];
  assert.deepEqual(entries.map((e) => [e.manager, e.operation]), [['kubectl-create', 'Update']]);
  const owned = paths(entries[0].fieldsV1);
  for (const p of ['f:metadata.f:labels.f:app', 'f:spec.f:containers.k:{"name":"c"}.f:image', 'f:spec.f:containers.k:{"name":"c"}.f:imagePullPolicy']) assert.ok(owned.includes(p), `${p} in ${owned.join(' ')}`);
  assert.deepEqual(admissionPaths(entries[0]), []);
});

test('kubectl create service: the allocated clusterIP is nobody’s', async () => {
  await kubectlOk(['create', 'service', 'clusterip', 'web', '-n', NS, '--tcp', '80:8080']);
  const svc = await getJson('service', 'web');
  assert.match(String(svc.spec.clusterIP), /^10\.96\./);
  const owned = (svc.metadata.managedFields ?? []).flatMap((e) => paths(e.fieldsV1));
  assert.ok(owned.includes('f:spec.f:ports'), owned.join(' '));
  assert.deepEqual(owned.filter((p) => /clusterIP/.test(p)), []);
});

test('server-side apply: the applier owns its fields only; conflicts between managers still answer 409 and force takes them over', async () => {
  await kubectlOk(['apply', '--server-side', '--field-manager', 'team-a', '-n', NS, '-f', '-'], podYaml('applied', 'nginx'));
  let pod = await getJson('pod', 'applied');
  const a = (pod.metadata.managedFields ?? []).find((e) => e.manager === 'team-a');
  assert.ok(a);
  assert.equal(a.operation, 'Apply');
  assert.deepEqual(admissionPaths(a), []);
  assert.ok(((pod.spec.volumes ?? []) as unknown[]).length > 0);

  // team-a applies again with another label: no conflict with anyone (admission's additions are nobody's).
  await kubectlOk(['apply', '--server-side', '--field-manager', 'team-a', '-n', NS, '-f', '-'], podYaml('applied', 'nginx', 'app: web, tier: front'));
  const clash = await s.kubectl(['apply', '--server-side', '--field-manager', 'team-b', '-n', NS, '-f', '-'], podYaml('applied', 'busybox'));
  assert.notEqual(clash.code, 0);
  assert.match(clash.stderr, /conflict with "team-a"/);
  assert.match(clash.stderr, /\.spec\.containers\[name="c"\]\.image/);
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager', 'team-b', '-n', NS, '-f', '-'], podYaml('applied', 'busybox'));
  pod = await getJson('pod', 'applied');
  const b = (pod.metadata.managedFields ?? []).find((e) => e.manager === 'team-b');
  assert.ok(b && paths(b.fieldsV1).includes('f:spec.f:containers.k:{"name":"c"}.f:image'));
  const aAfter = (pod.metadata.managedFields ?? []).find((e) => e.manager === 'team-a');
  assert.ok(aAfter && !paths(aAfter.fieldsV1).includes('f:spec.f:containers.k:{"name":"c"}.f:image'), 'team-a lost the image');
});

test('patch and replace: the writer owns what it changed, never the admission additions it sent back', async () => {
  await kubectlOk(['create', '-n', NS, '-f', '-'], podYaml('patched', 'nginx'));
  await kubectlOk(['patch', 'pod', 'patched', '-n', NS, '--type', 'merge', '-p', '{"metadata":{"labels":{"extra":"1"}}}']);
  let pod = await getJson('pod', 'patched');
  const patch = (pod.metadata.managedFields ?? []).find((e) => e.manager === 'kubectl-patch');
  assert.ok(patch);
  assert.deepEqual(paths(patch.fieldsV1), ['f:metadata', 'f:metadata.f:labels', 'f:metadata.f:labels.f:extra']);

  // kubectl replace sends the whole pod back, volume included: unchanged fields are not taken over.
  const current = JSON.parse(await kubectlOk(['get', 'pod', 'patched', '-n', NS, '-o', 'json'])) as { metadata: { labels: Record<string, string> } };
  current.metadata.labels.replaced = 'yes';
  await kubectlOk(['replace', '-n', NS, '-f', '-'], JSON.stringify(current));
  pod = await getJson('pod', 'patched');
  const replace = (pod.metadata.managedFields ?? []).find((e) => e.manager === 'kubectl-replace');
  assert.ok(replace);
  assert.deepEqual(paths(replace.fieldsV1), ['f:metadata', 'f:metadata.f:labels', 'f:metadata.f:labels.f:replaced']);
  for (const e of pod.metadata.managedFields ?? []) assert.deepEqual(admissionPaths(e), [], e.manager);
});
