// Deleting a namespace with the controllers running: the namespace turns Terminating, its
// contents are removed, /finalize clears it, and kubectl's wait ends when it is gone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'sqlite', controllers: true });
});
after(async () => {
  await s?.stop();
});

test('kubectl delete namespace removes what it holds and then the namespace', async () => {
  const create = await s.kubectl(['create', 'namespace', 'team-a', '--dry-run=client', '-o', 'yaml']);
  assert.equal((await s.kubectl(['apply', '-f', '-'], create.stdout)).code, 0);
  const cm = await s.kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: team-a}\ndata: {a: "1"}\n');
  assert.equal(cm.code, 0, cm.stderr);
  const svc = await s.kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: team-a}\nspec: {selector: {app: api}, ports: [{port: 80}]}\n');
  assert.equal(svc.code, 0, svc.stderr);
  const del = await s.kubectl(['delete', 'namespace', 'team-a', '--timeout=60s']);
  assert.equal(del.code, 0, del.stderr);
  assert.match(del.stdout, /namespace "team-a" deleted/);
  const gone = await s.kubectl(['get', 'namespace', 'team-a']);
  assert.match(gone.stderr, /namespaces "team-a" not found/);
  const left = await s.client.list(R.configmaps, { namespace: 'team-a' });
  assert.equal(left.items.length, 0);
});

test('the default namespace cannot be deleted', async () => {
  const r = await s.kubectl(['delete', 'namespace', 'default']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /namespaces "default" is forbidden: this namespace may not be deleted/);
});
