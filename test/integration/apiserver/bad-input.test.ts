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
