// The real kubectl against a started flatnet server: creates, applies, gets, describes, patches,
// replaces, deletes, dry runs and bad input, each answered as upstream answers it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'sqlite', controllers: false });
});
after(async () => {
  await s?.stop();
});

/** kubectl that must succeed; answers stdout. */

/** kubectl that must fail; answers stderr. */

/** A raw HTTPS request with (or without) the admin token. */
function raw(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}, token = true): Promise<{ code: number; body: string; headers: Record<string, unknown> }> {
  const url = new URL(s.url);
  const ca = readFileSync(join(s.dataDir, 'ca.crt'));
  const tok = readFileSync(join(s.dataDir, 'admin.token'), 'utf8').trim();
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: url.hostname, port: url.port, method, path, ca, headers: { ...(token ? { authorization: `Bearer ${tok}` } : {}), 'content-type': 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const webManifest = `apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
`;

test('version reports minor 32 and health endpoints answer anonymously', async () => {
  const v = JSON.parse((await raw('GET', '/version', undefined, {}, false)).body);
  assert.equal(v.major, '1');
  assert.equal(v.minor, '32');
  for (const p of ['/healthz', '/readyz', '/livez']) assert.equal((await raw('GET', p, undefined, {}, false)).code, 200);
});

test('requests without a valid token get 401 Status', async () => {
  const res = await raw('GET', '/api/v1/namespaces', undefined, {}, false);
  assert.equal(res.code, 401);
  const st = JSON.parse(res.body);
  assert.equal(st.kind, 'Status');
  assert.equal(st.reason, 'Unauthorized');
  const bad = await raw('GET', '/api/v1/namespaces', undefined, { authorization: 'Bearer nope' }, false);
  assert.equal(bad.code, 401);
});

test('default namespaces and the kubernetes Service exist', async () => {
  const out = await s.kubectlOk(['get', 'ns', '-o', 'name']);
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.match(out, new RegExp(`namespace/${ns}\\b`));
  const svc = JSON.parse(await s.kubectlOk(['get', 'svc', 'kubernetes', '-o', 'json']));
  assert.equal(svc.spec.clusterIP, '10.96.0.1');
});

test('apply -f creates, a second apply is unchanged, get shows columns, labels and -A', async () => {
  assert.match(await s.kubectlOk(['apply', '-f', '-'], webManifest), /service\/web created[\s\S]*deployment.apps\/web created/);
  assert.match(await s.kubectlOk(['apply', '-f', '-'], webManifest), /service\/web unchanged[\s\S]*deployment.apps\/web unchanged/);
  const wide = await s.kubectlOk(['get', 'svc', 'web', '-o', 'wide']);
  assert.match(wide, /NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR/);
  assert.match(wide, /web\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+80\/TCP\s+\S+\s+app=web/);
  assert.match(await s.kubectlOk(['get', 'deploy', '--show-labels']), /web\s+0\/2\s+.*app=web/);
  const all = await s.kubectlOk(['get', 'svc', '-A']);
  assert.match(all, /NAMESPACE\s+NAME/);
  assert.match(all, /default\s+web\s+ClusterIP/);
  const obj = JSON.parse(await s.kubectlOk(['get', 'deploy', 'web', '-o', 'json']));
  assert.equal(obj.metadata.generation, 1);
  assert.match(obj.metadata.uid, /^[0-9a-f-]{36}$/);
  assert.match(obj.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(obj.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
});

test('describe svc shows the service and its endpoints', async () => {
  const out = await s.kubectlOk(['describe', 'svc', 'web']);
  assert.match(out, /Name:\s+web/);
  assert.match(out, /Selector:\s+app=web/);
  assert.match(out, /TargetPort:\s+8080\/TCP/);
});

test('label, and patch with merge, json and strategic types', async () => {
  await s.kubectlOk(['label', 'svc', 'web', 'tier=frontend']);
  assert.match(await s.kubectlOk(['get', 'svc', '-l', 'tier=frontend', '-o', 'name']), /service\/web/);
  await s.kubectlOk(['patch', 'svc', 'web', '--type', 'merge', '-p', '{"metadata":{"annotations":{"a":"1"}}}']);
  await s.kubectlOk(['patch', 'svc', 'web', '--type', 'json', '-p', '[{"op":"add","path":"/metadata/annotations/b","value":"2"}]']);
  await s.kubectlOk(['patch', 'deploy', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}}']);
  const svc = JSON.parse(await s.kubectlOk(['get', 'svc', 'web', '-o', 'json']));
  assert.equal(svc.metadata.annotations.a, '1');
  assert.equal(svc.metadata.annotations.b, '2');
  const dep = JSON.parse(await s.kubectlOk(['get', 'deploy', 'web', '-o', 'json']));
  assert.equal(dep.spec.template.spec.containers.length, 1);
  assert.equal(dep.spec.template.spec.containers[0].image, 'nginx:1.27');
  assert.equal(dep.metadata.generation, 2, 'a spec change bumps generation');
});

test('scale answers an autoscaling/v1 Scale', async () => {
  assert.match(await s.kubectlOk(['scale', 'deploy', 'web', '--replicas=3']), /deployment.apps\/web scaled/);
  const dep = JSON.parse(await s.kubectlOk(['get', 'deploy', 'web', '-o', 'json']));
  assert.equal(dep.spec.replicas, 3);
});

test('apply --server-side creates and updates', async () => {
  const cm = `apiVersion: v1
kind: ConfigMap
metadata: {name: ssa}
data: {a: "1"}
`;
  await s.kubectlOk(['apply', '--server-side', '-f', '-'], cm);
  await s.kubectlOk(['apply', '--server-side', '-f', '-'], cm.replace('"1"', '"2"'));
  const got = JSON.parse(await s.kubectlOk(['get', 'cm', 'ssa', '-o', 'json', '--show-managed-fields']));
  assert.equal(got.data.a, '2');
  assert.ok(got.metadata.managedFields.some((m: { manager: string }) => m.manager === 'kubectl'));
});

test('replace with a stale resourceVersion is a 409 Conflict and changes nothing', async () => {
  const cm = JSON.parse(await s.kubectlOk(['create', 'cm', 'rep', '--from-literal=a=1', '--dry-run=client', '-o', 'json']));
  await s.kubectlOk(['create', '-f', '-'], JSON.stringify(cm));
  const live = JSON.parse(await s.kubectlOk(['get', 'cm', 'rep', '-o', 'json']));
  live.data.a = '2';
  await s.kubectlOk(['replace', '-f', '-'], JSON.stringify(live));
  live.data.a = '3';
  const err = await s.kubectlFails(['replace', '-f', '-'], JSON.stringify(live));
  assert.match(err, /Operation cannot be fulfilled on configmaps "rep": the object has been modified; please apply your changes to the latest version and try again/);
  assert.equal(JSON.parse(await s.kubectlOk(['get', 'cm', 'rep', '-o', 'json'])).data.a, '2');
});

test('dry-run=server validates and stores nothing', async () => {
  const out = await s.kubectlOk(['create', 'cm', 'dry', '--from-literal=a=1', '--dry-run=server', '-o', 'json']);
  assert.equal(JSON.parse(out).metadata.name, 'dry');
  assert.match(await s.kubectlFails(['get', 'cm', 'dry']), /configmaps "dry" not found/);
  const svcBefore = JSON.parse(await s.kubectlOk(['get', 'svc', 'web', '-o', 'json']));
  await s.kubectlOk(['delete', 'svc', 'web', '--dry-run=server']);
  assert.equal(JSON.parse(await s.kubectlOk(['get', 'svc', 'web', '-o', 'json'])).metadata.resourceVersion, svcBefore.metadata.resourceVersion);
});

test('an invalid name is 422 Invalid naming the field', async () => {
  const err = await s.kubectlFails(['create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n');
  assert.match(err, /ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  const svcErr = await s.kubectlFails(['create', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: 1abc}\nspec: {ports: [{port: 80}]}\n');
  assert.match(svcErr, /metadata.name: Invalid value: "1abc": a DNS-1035 label/);
});

test('an unknown field with Strict validation is 400 naming the field', async () => {
  const err = await s.kubectlFails(['create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: strict}\nspec: {foo: 1}\n');
  assert.match(err, /unknown field "spec"/);
  assert.match(await s.kubectlFails(['get', 'cm', 'strict']), /not found/);
});

test('an unknown kind is refused and names the kind', async () => {
  const err = await s.kubectlFails(['apply', '--validate=false', '-f', '-'], 'apiVersion: v1\nkind: Frobnicator\nmetadata: {name: x}\n');
  assert.match(err, /no matches for kind "Frobnicator" in version "v1"/);
  const res = await raw('POST', '/api/v1/namespaces/default/pods', JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' } }));
  assert.equal(res.code, 400);
  assert.match(JSON.parse(res.body).message, /kind in the data \(Service\) does not match the expected kind \(Pod\)/);
});

test('malformed JSON and YAML bodies are 400 with the decoder message', async () => {
  const json = await raw('POST', '/api/v1/namespaces/default/configmaps', '{"metadata": {"name": ');
  assert.equal(json.code, 400);
  const st = JSON.parse(json.body);
  assert.equal(st.reason, 'BadRequest');
  assert.match(st.message, /not valid JSON/);
  const yaml = await raw('POST', '/api/v1/namespaces/default/configmaps', 'metadata: {name: [x\n', { 'content-type': 'application/yaml' });
  assert.equal(yaml.code, 400);
  assert.match(JSON.parse(yaml.body).message, /not valid YAML/);
  const kerr = await s.kubectlFails(['create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [broken\n');
  assert.match(kerr, /error/i);
});

test('a body over 3 MiB is 413 RequestEntityTooLarge and nothing is stored', async () => {
  const big = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { x: 'a'.repeat(3 * 1024 * 1024 + 10) } });
  const res = await raw('POST', '/api/v1/namespaces/default/configmaps', big);
  assert.equal(res.code, 413);
  assert.equal(JSON.parse(res.body).reason, 'RequestEntityTooLarge');
  assert.equal(await s.client.get(R.configmaps, 'default', 'big'), undefined);
});

test('creating in a missing namespace is 404 naming the namespace', async () => {
  const err = await s.kubectlFails(['create', 'cm', 'x', '--from-literal=a=b', '-n', 'nowhere', '--dry-run=server', '-o', 'name']);
  assert.match(err, /namespaces "nowhere" not found/);
});

test('get -w shows a change as it arrives', async () => {
  const child = spawn('kubectl', ['--kubeconfig', s.kubeconfig, 'get', 'cm', '-w'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const seen = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no watch output for watched-cm:\n${out}`)), 20_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (/watched-cm\s+1\s/.test(out)) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  try {
    // Wait for the initial list to print, then change something.
    while (!/NAME\s+DATA\s+AGE/.test(out)) await new Promise((r) => setTimeout(r, 50));
    await s.kubectlOk(['create', 'cm', 'watched-cm', '--from-literal=k=v']);
    await seen;
  } finally {
    child.kill();
  }
});

test('delete removes the object and get then says NotFound', async () => {
  assert.match(await s.kubectlOk(['delete', 'deploy', 'web']), /deployment.apps "web" deleted/);
  assert.match(await s.kubectlFails(['get', 'deploy', 'web']), /Error from server \(NotFound\): deployments.apps "web" not found/);
});

test('list paging with limit and continue returns every object once', async () => {
  for (let i = 0; i < 7; i++) await s.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `page-${i}`, namespace: 'default', labels: { paging: 'yes' } } });
  const names: string[] = [];
  let cont: string | undefined;
  let pages = 0;
  do {
    const list = await s.client.list(R.configmaps, { namespace: 'default', labelSelector: 'paging=yes', limit: 3, continue: cont });
    names.push(...list.items.map((i) => i.metadata.name!));
    cont = list.metadata.continue;
    pages++;
  } while (cont);
  assert.equal(pages, 3);
  assert.deepEqual(names, [0, 1, 2, 3, 4, 5, 6].map((i) => `page-${i}`));
  const bad = await raw('GET', '/api/v1/configmaps?limit=2&continue=garbage');
  assert.equal(bad.code, 400);
});

test('an unsupported field selector is 400 like upstream', async () => {
  const res = await raw('GET', '/api/v1/configmaps?fieldSelector=spec.nodeName%3Dx');
  assert.equal(res.code, 400);
  assert.equal(JSON.parse(res.body).message, 'field label not supported: spec.nodeName');
});

test('server-side apply conflicts between managers are 409 with FieldManagerConflict causes; --force-conflicts takes over', async () => {
  const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: owned}\ndata: {a: "${v}"}\n`;
  await s.kubectlOk(['apply', '--server-side', '--field-manager=alice', '-f', '-'], cm('1'));
  const err = await s.kubectlFails(['apply', '--server-side', '--field-manager=bob', '-f', '-'], cm('2'));
  assert.match(err, /Apply failed with 1 conflict: conflict with "alice"/);
  assert.match(err, /\.data\.a/);
  await s.kubectlOk(['apply', '--server-side', '--field-manager=bob', '--force-conflicts', '-f', '-'], cm('2'));
  assert.equal(JSON.parse(await s.kubectlOk(['get', 'cm', 'owned', '-o', 'json'])).data.a, '2');
});

test('kubectl create <generator> sends protobuf and is stored as JSON', async () => {
  assert.match(await s.kubectlOk(['create', 'deployment', 'proto', '--image=nginx', '--replicas=2']), /deployment.apps\/proto created/);
  const dep = JSON.parse(await s.kubectlOk(['get', 'deploy', 'proto', '-o', 'json']));
  assert.equal(dep.spec.replicas, 2);
  assert.equal(dep.spec.template.spec.containers[0].image, 'nginx');
  assert.match(await s.kubectlOk(['create', 'secret', 'generic', 'proto-secret', '--from-literal=k=v']), /secret\/proto-secret created/);
  const secret = JSON.parse(await s.kubectlOk(['get', 'secret', 'proto-secret', '-o', 'json']));
  assert.equal(Buffer.from(secret.data.k, 'base64').toString(), 'v');
});

test('kubectl patch on a Gateway API kind (strategic by default) is applied as a merge patch', async () => {
  await s.kubectlOk(['apply', '-f', '-'], 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r1}\nspec:\n  hostnames: [a.example.com]\n');
  await s.kubectlOk(['patch', 'httproute', 'r1', '-p', '{"spec":{"hostnames":["b.example.com"]}}']);
  const route = JSON.parse(await s.kubectlOk(['get', 'httproute', 'r1', '-o', 'json']));
  assert.deepEqual(route.spec.hostnames, ['b.example.com']);
});

test('the status subresource changes only status', async () => {
  await s.kubectlOk(['patch', 'deploy', 'proto', '--subresource=status', '--type=merge', '-p', '{"status":{"observedGeneration":7},"spec":{"replicas":9}}']);
  const dep = JSON.parse(await s.kubectlOk(['get', 'deploy', 'proto', '-o', 'json']));
  assert.equal(dep.status.observedGeneration, 7);
  assert.equal(dep.spec.replicas, 2);
});

test('fieldValidation=Warn stores the object and answers a Warning header', async () => {
  const res = await raw('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Warn', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'warned' }, bogus: 1 }));
  assert.equal(res.code, 201);
  assert.match(String(res.headers.warning), /^299 - "unknown field \\"bogus\\""/);
});

test('/metrics counts requests by verb, resource and code', async () => {
  const res = await raw('GET', '/metrics');
  assert.equal(res.code, 200);
  assert.match(res.body, /apiserver_request_total\{verb="list",resource="configmaps",code="200"\} \d+/);
  assert.match(res.body, /apiserver_storage_objects\{resource="\/configmaps"\} \d+/);
});

test('flatnet kubeconfig prints the admin kubeconfig path of a data dir', async () => {
  const out = await new Promise<{ code: number; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'kubeconfig', '--data-dir', s.dataDir], { cwd: join(import.meta.dirname, '../../..') });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout }));
  });
  assert.equal(out.code, 0);
  assert.equal(out.stdout.trim(), s.kubeconfig);
});

test('a bound pod is deleted gracefully; --grace-period=0 --force removes it at once', async () => {
  await s.kubectlOk(['apply', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: graceful}\nspec:\n  nodeName: node-x\n  terminationGracePeriodSeconds: 30\n  containers: [{name: c, image: busybox}]\n');
  await s.kubectlOk(['delete', 'pod', 'graceful', '--wait=false']);
  const pod = JSON.parse(await s.kubectlOk(['get', 'pod', 'graceful', '-o', 'json']));
  assert.ok(pod.metadata.deletionTimestamp, 'marked for deletion');
  assert.equal(pod.metadata.deletionGracePeriodSeconds, 30);
  assert.match(await s.kubectlOk(['get', 'pods', '--field-selector', 'spec.nodeName=node-x', '-o', 'name']), /pod\/graceful/);
  await s.kubectlOk(['delete', 'pod', 'graceful', '--grace-period=0', '--force']);
  assert.match(await s.kubectlFails(['get', 'pod', 'graceful']), /pods "graceful" not found/);
});

test('finalizers keep a deleted object until they are removed', async () => {
  await s.kubectlOk(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, finalizers: [example.com/hold]}\n');
  await s.kubectlOk(['delete', 'cm', 'held', '--wait=false']);
  const held = JSON.parse(await s.kubectlOk(['get', 'cm', 'held', '-o', 'json']));
  assert.ok(held.metadata.deletionTimestamp);
  await s.kubectlOk(['patch', 'cm', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  assert.match(await s.kubectlFails(['get', 'cm', 'held']), /configmaps "held" not found/);
});

test('an apply patch without fieldManager is 400', async () => {
  const res = await raw('PATCH', '/api/v1/namespaces/default/configmaps/nomgr', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nomgr' } }), { 'content-type': 'application/apply-patch+yaml' });
  assert.equal(res.code, 400);
  assert.match(JSON.parse(res.body).message, /fieldManager/);
});
