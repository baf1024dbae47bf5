// Bad input against a started server, through the real kubectl where kubectl can send it and raw
// HTTPS where it cannot: each is answered with the upstream status code and a message naming the
// problem, and after each the store is exactly as before (same global revision, same objects).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { R, type ResourceInfo } from '../../../src/api/resources.js';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'sqlite', controllers: false });
  // Something to collide with and to go stale.
  const made = await s.kubectl(['apply', '-f', '-'], `apiVersion: v1
kind: Service
metadata: {name: taken}
spec:
  type: NodePort
  selector: {app: taken}
  ports: [{port: 80, nodePort: 30080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: stale}
data: {a: "1"}
`);
  assert.equal(made.code, 0, made.stderr);
});
after(async () => {
  await s?.stop();
});

interface Snapshot {
  revision: string;
  objects: string[];
}

const watched: ResourceInfo[] = [R.configmaps, R.services, R.pods, R.deployments, R.namespaces, R.endpoints, R.secrets];

/** The store's global revision (every write bumps it) and every object of the resources bad input aims at. */
async function snapshot(): Promise<Snapshot> {
  const objects: string[] = [];
  let revision = '';
  for (const r of watched) {
    const list = await s.client.list(r);
    revision = list.metadata.resourceVersion!;
    for (const o of list.items) objects.push(`${r.plural} ${o.metadata.namespace ?? ''}/${o.metadata.name} ${o.metadata.resourceVersion}`);
  }
  return { revision, objects: objects.sort() };
}

/** Runs `attempt` and checks the store did not change. */
async function unchanged(attempt: () => Promise<void>): Promise<void> {
  const before = await snapshot();
  await attempt();
  assert.deepEqual(await snapshot(), before, 'bad input changed the store');
}

async function kubectlFails(args: string[], input?: string): Promise<string> {
  const r = await s.kubectl(args, input);
  assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} should have failed:\n${r.stdout}`);
  return r.stderr;
}

function raw(method: string, path: string, body: string, contentType = 'application/json'): Promise<{ code: number; status: { kind: string; code: number; reason: string; message: string; details?: { causes?: { field?: string; message: string }[] } } }> {
  const url = new URL(s.url);
  const ca = readFileSync(join(s.dataDir, 'ca.crt'));
  const token = readFileSync(join(s.dataDir, 'admin.token'), 'utf8').trim();
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': contentType, accept: 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    const req = https.request({ host: url.hostname, port: url.port, method, path, ca, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => {
        try {
          resolve({ code: res.statusCode ?? 0, status: JSON.parse(text) });
        } catch {
          reject(new Error(`not a JSON Status (${res.statusCode}): ${text.slice(0, 300)}`));
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('malformed JSON is 400 BadRequest naming the decode error', () =>
  unchanged(async () => {
    const r = await raw('POST', '/api/v1/namespaces/default/configmaps', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},');
    assert.equal(r.code, 400);
    assert.equal(r.status.kind, 'Status');
    assert.equal(r.status.reason, 'BadRequest');
    assert.match(r.status.message, /not valid JSON/);
  }));

test('malformed YAML is 400 BadRequest naming the decode error', () =>
  unchanged(async () => {
    const r = await raw('POST', '/api/v1/namespaces/default/configmaps', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [oops\n', 'application/yaml');
    assert.equal(r.code, 400);
    assert.equal(r.status.reason, 'BadRequest');
    assert.match(r.status.message, /not valid YAML/);
  }));

test('an unknown kind: kubectl names it, the server answers 404 for its path and 400 for a kind that does not fit the path', () =>
  unchanged(async () => {
    assert.match(await kubectlFails(['apply', '--validate=false', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n'), /no matches for kind "Widget" in version "example.com\/v1"/);
    const missing = await raw('POST', '/apis/example.com/v1/namespaces/default/widgets', '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}}');
    assert.equal(missing.code, 404);
    assert.equal(missing.status.reason, 'NotFound');
    const unknownResource = await raw('POST', '/api/v1/namespaces/default/widgets', '{"apiVersion":"v1","kind":"Widget","metadata":{"name":"w"}}');
    assert.equal(unknownResource.code, 404);
    assert.equal(unknownResource.status.message, 'the server could not find the requested resource');
    const wrong = await raw('POST', '/api/v1/namespaces/default/configmaps', '{"apiVersion":"v1","kind":"Widget","metadata":{"name":"w"}}');
    assert.equal(wrong.code, 400);
    assert.match(wrong.status.message, /Widget/);
  }));

test('an unknown field is 400 naming the field (kubectl sends fieldValidation=Strict)', () =>
  unchanged(async () => {
    const err = await kubectlFails(['create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo}\ndatta: {a: "1"}\n');
    assert.match(err, /BadRequest/);
    assert.match(err, /unknown field "datta"/);
    const nested = await kubectlFails(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: typo}\nspec: {ports: [{port: 80, prot: 8080}]}\n');
    assert.match(nested, /unknown field "spec.ports\[0\].prot"/);
  }));

test('an invalid name is 422 Invalid with a cause naming metadata.name', () =>
  unchanged(async () => {
    assert.match(await kubectlFails(['create', 'configmap', 'Not_Valid', '--from-literal=a=1']), /ConfigMap "Not_Valid" is invalid: metadata.name: Invalid value: "Not_Valid"/);
    const r = await raw('POST', '/api/v1/namespaces/default/configmaps', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_Valid"}}');
    assert.equal(r.code, 422);
    assert.equal(r.status.reason, 'Invalid');
    assert.equal(r.status.details?.causes?.[0]?.field, 'metadata.name');
  }));

test('a body over 3 MiB is 413 RequestEntityTooLarge, also when kubectl sends it', () =>
  unchanged(async () => {
    const big = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'huge' }, data: { x: 'a'.repeat(3 * 1024 * 1024 + 1) } });
    const r = await raw('POST', '/api/v1/namespaces/default/configmaps', big);
    assert.equal(r.code, 413);
    assert.equal(r.status.reason, 'RequestEntityTooLarge');
    assert.match(r.status.message, /limit is 3145728/);
    assert.match(await kubectlFails(['create', '-f', '-'], big), /Request entity too large: limit is 3145728/);
  }));

test('a stale resourceVersion is 409 Conflict for replace, patch and delete preconditions', () =>
  unchanged(async () => {
    const live = JSON.parse((await s.kubectl(['get', 'cm', 'stale', '-o', 'json'])).stdout);
    const old = { ...live, metadata: { ...live.metadata, resourceVersion: '1' }, data: { a: 'changed' } };
    assert.match(await kubectlFails(['replace', '-f', '-'], JSON.stringify(old)), /Operation cannot be fulfilled on configmaps "stale": the object has been modified/);
    const patch = await kubectlFails(['patch', 'cm', 'stale', '--type=merge', '-p', '{"metadata":{"resourceVersion":"1"},"data":{"a":"changed"}}']);
    assert.match(patch, /Operation cannot be fulfilled on configmaps "stale": the object has been modified/);
    const del = await raw('DELETE', '/api/v1/namespaces/default/configmaps/stale', JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: '1' } }));
    assert.equal(del.code, 409);
    assert.equal(del.status.reason, 'Conflict');
    assert.match(del.status.message, /Precondition failed: ResourceVersion in precondition: 1/);
  }));

test('a NodePort already in use is 422 naming spec.ports[0].nodePort', () =>
  unchanged(async () => {
    const err = await kubectlFails(['create', 'service', 'nodeport', 'again', '--tcp=80:8080', '--node-port=30080']);
    assert.match(err, /Service "again" is invalid: spec.ports\[0\].nodePort: Invalid value: 30080: provided port is already allocated/);
    const out = await kubectlFails(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: out}\nspec: {type: NodePort, ports: [{port: 80, nodePort: 80}]}\n');
    assert.match(out, /spec.ports\[0\].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767/);
  }));

// ---- typed decoding: wrong JSON types are 400 as kube-apiserver's decoder words them ----

const deployment = (spec: Record<string, unknown>) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'typed' },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
  });

const typedCases: { what: string; path: string; body: string; message: string }[] = [
  { what: 'metadata.name as a number', path: '/api/v1/namespaces/default/configmaps', body: '{"metadata":{"name":5}}', message: 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string' },
  { what: 'ownerReferences as an object', path: '/api/v1/namespaces/default/configmaps', body: '{"metadata":{"name":"o","ownerReferences":{}}}', message: 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal object into Go struct field ObjectMeta.metadata.ownerReferences of type []v1.OwnerReference' },
  { what: 'labels as an array', path: '/api/v1/namespaces/default/configmaps', body: '{"metadata":{"name":"l","labels":["x"]}}', message: 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string' },
  { what: 'an object-valued ConfigMap datum', path: '/api/v1/namespaces/default/configmaps', body: '{"metadata":{"name":"d"},"data":{"x":{"y":1}}}', message: 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal object into Go struct field ConfigMap.data of type string' },
  { what: 'Secret data that is not base64', path: '/api/v1/namespaces/default/secrets', body: '{"metadata":{"name":"s"},"data":{"x":"not base64!"}}', message: 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3' },
  { what: 'replicas as a string', path: '/apis/apps/v1/namespaces/default/deployments', body: deployment({ replicas: '3' }), message: 'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32' },
  { what: 'replicas out of int32', path: '/apis/apps/v1/namespaces/default/deployments', body: deployment({ replicas: 3000000000 }), message: 'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32' },
  { what: 'a container port as a string', path: '/api/v1/namespaces/default/pods', body: '{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x","ports":[{"containerPort":"80"}]}]}}', message: 'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32' },
  { what: 'a Service port list as an object', path: '/api/v1/namespaces/default/services', body: '{"metadata":{"name":"svc"},"spec":{"ports":{"port":80}}}', message: 'Service in version "v1" cannot be handled as a Service: json: cannot unmarshal object into Go struct field ServiceSpec.spec.ports of type []v1.ServicePort' },
];

for (const c of typedCases) {
  test(`typed decoding: ${c.what} is 400 BadRequest naming the field`, () =>
    unchanged(async () => {
      const r = await raw('POST', c.path, c.body);
      assert.equal(r.code, 400, JSON.stringify(r.status));
      assert.equal(r.status.reason, 'BadRequest');
      assert.equal(r.status.message, c.message);
    }));
}

test('typed decoding applies to updates and to the result of every patch type', () =>
  unchanged(async () => {
    const put = await raw('PUT', '/api/v1/namespaces/default/configmaps/stale', '{"metadata":{"name":"stale","labels":"x"}}');
    assert.equal(put.code, 400);
    assert.match(put.status.message, /cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map\[string\]string/);
    const merge = await raw('PATCH', '/api/v1/namespaces/default/configmaps/stale', '{"data":{"a":1}}', 'application/merge-patch+json');
    assert.equal(merge.code, 400);
    assert.equal(merge.status.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string');
    const json = await raw('PATCH', '/api/v1/namespaces/default/configmaps/stale', '[{"op":"add","path":"/metadata/finalizers","value":"x"}]', 'application/json-patch+json');
    assert.equal(json.code, 400);
    assert.match(json.status.message, /cannot unmarshal string into Go struct field ObjectMeta.metadata.finalizers of type \[\]string/);
    const smp = await raw('PATCH', '/api/v1/services/x', '{}', 'application/strategic-merge-patch+json');
    assert.equal(smp.code, 404);
    const apply = await raw('PATCH', '/api/v1/namespaces/default/configmaps/stale?fieldManager=t', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"stale"},"data":{"a":true}}', 'application/apply-patch+yaml');
    assert.equal(apply.code, 400);
    assert.match(apply.status.message, /cannot unmarshal bool into Go struct field ConfigMap.data of type string/);
  }));

test('a body nested 5,000 deep is 400, never a 500 stack overflow (JSON, YAML, patches)', () =>
  unchanged(async () => {
    const deep = `{"metadata":{"name":"deep"},"data":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const r = await raw('POST', '/api/v1/namespaces/default/configmaps', deep);
    assert.equal(r.code, 400);
    assert.equal(r.status.message, 'the request body is nested too deeply: exceeded max depth of 1000');
    const unknownField = `{"metadata":{"name":"deep"},"x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    assert.equal((await raw('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Ignore', unknownField)).code, 400);
    const patch = await raw('PATCH', '/api/v1/namespaces/default/configmaps/stale', `{"x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`, 'application/merge-patch+json');
    assert.equal(patch.code, 400);
    const yaml = await raw('POST', '/api/v1/namespaces/default/configmaps', `metadata: {name: deep}\nx: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, 'application/yaml');
    assert.equal(yaml.code, 400, JSON.stringify(yaml.status));
    assert.equal(yaml.status.reason, 'BadRequest');
  }));

test('a JSON patch of repeated copy operations cannot grow an object past 3 MiB: 422', () =>
  unchanged(async () => {
    const ops: unknown[] = [{ op: 'add', path: '/metadata/annotations', value: { seed: 'y'.repeat(1000) } }];
    for (let i = 0; i < 17; i++) ops.push({ op: 'copy', from: '/metadata/annotations', path: `/metadata/annotations/c${i}` });
    const grow = await raw('PATCH', '/api/v1/namespaces/default/configmaps/stale', JSON.stringify(ops), 'application/json-patch+json');
    assert.equal(grow.code, 422);
    assert.equal(grow.status.reason, 'Invalid');
    assert.match(grow.status.message, /^Unable to complete the copy, the accumulated size increase of copy is \d+, exceeding the limit 3145728$/);
  }));

test('patches that each fit the body limit cannot grow an object past the store limit: 413', async () => {
  const made = await raw('POST', '/apis/apps/v1/namespaces/default/deployments', deployment({ replicas: 0 }).replace('"typed"', '"grown"'));
  assert.equal(made.code, 201);
  const env = (name: string) => JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'c', env: [{ name, value: 'v'.repeat(1_000_000) }] }] } } } });
  try {
    assert.equal((await raw('PATCH', '/apis/apps/v1/namespaces/default/deployments/grown', env('A'), 'application/strategic-merge-patch+json')).code, 200);
    await unchanged(async () => {
      const over = await raw('PATCH', '/apis/apps/v1/namespaces/default/deployments/grown', env('B'), 'application/strategic-merge-patch+json');
      assert.equal(over.code, 413);
      assert.equal(over.status.reason, 'RequestEntityTooLarge');
      assert.match(over.status.message, /^Request entity too large: the object would be \d+ bytes, over the store's limit of 1572864 bytes$/);
    });
  } finally {
    await s.client.delete(R.deployments, 'default', 'grown');
  }
});

test('ConfigMap data over 1 MiB is 422 whether it is sent or made by a patch', () =>
  unchanged(async () => {
    const r = await raw('PATCH', '/api/v1/namespaces/default/configmaps/stale', JSON.stringify({ data: { big: 'x'.repeat(1024 * 1024) } }), 'application/merge-patch+json');
    assert.equal(r.code, 422);
    assert.equal(r.status.message, 'ConfigMap "stale" is invalid: []: Too long: may not be more than 1048576 bytes');
  }));

test('server-side apply with a stale metadata.resourceVersion is 409 Conflict', () =>
  unchanged(async () => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stale', resourceVersion: '1' }, data: { a: 'applied' } });
    const r = await raw('PATCH', '/api/v1/namespaces/default/configmaps/stale?fieldManager=racer&force=true', body, 'application/apply-patch+yaml');
    assert.equal(r.code, 409);
    assert.equal(r.status.reason, 'Conflict');
    assert.equal(r.status.message, 'Operation cannot be fulfilled on configmaps "stale": the object has been modified; please apply your changes to the latest version and try again');
  }));

test('no new finalizer can be added to an object that is being deleted (422)', async () => {
  const made = await raw('POST', '/api/v1/namespaces/default/configmaps', '{"metadata":{"name":"dying","finalizers":["example.com/keep"]}}');
  assert.equal(made.code, 201);
  const del = await raw('DELETE', '/api/v1/namespaces/default/configmaps/dying', '');
  assert.equal(del.code, 200);
  await unchanged(async () => {
    const r = await raw('PATCH', '/api/v1/namespaces/default/configmaps/dying', '{"metadata":{"finalizers":["example.com/keep","example.com/more"]}}', 'application/merge-patch+json');
    assert.equal(r.code, 422);
    assert.equal(r.status.message, 'ConfigMap "dying" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/more"}');
  });
  const done = await raw('PATCH', '/api/v1/namespaces/default/configmaps/dying', '{"metadata":{"finalizers":null}}', 'application/merge-patch+json');
  assert.equal(done.code, 200);
});
