// Cached authentication and indexed RBAC never outlive a revocation: with the real server and
// kubectl, a ServiceAccount token that has been verified (and so is in the token cache) gets 403
// on the very next request after its RoleBinding is deleted, works again when it is recreated,
// and gets 401 on the next request after its ServiceAccount is deleted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'sqlite', controllers: false });
});
after(async () => {
  await s?.stop();
});

async function ok(args: string[]): Promise<string> {
  const r = await s.kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('a cached ServiceAccount token stops at once when its binding or its ServiceAccount is deleted', async () => {
  await ok(['create', 'namespace', 'rev']);
  await ok(['-n', 'rev', 'create', 'serviceaccount', 'bot']);
  const token = (await ok(['-n', 'rev', 'create', 'token', 'bot', '--duration', '20m'])).trim();
  const asBot = (args: string[]) => s.kubectl(['--token', token, '-n', 'rev', ...args]);

  const before = await asBot(['get', 'configmaps']);
  assert.match(before.stderr, /Error from server \(Forbidden\): configmaps is forbidden: User "system:serviceaccount:rev:bot" cannot list resource "configmaps"/);

  await ok(['-n', 'rev', 'create', 'rolebinding', 'bot-view', '--clusterrole=view', '--serviceaccount=rev:bot']);
  for (let i = 0; i < 3; i++) {
    const r = await asBot(['get', 'configmaps']);
    assert.equal(r.code, 0, `allowed while bound (request ${i}): ${r.stderr}`);
  }

  await ok(['-n', 'rev', 'delete', 'rolebinding', 'bot-view']);
  const unbound = await asBot(['get', 'configmaps']);
  assert.notEqual(unbound.code, 0, 'the next request after the binding is deleted is refused');
  assert.match(unbound.stderr, /\(Forbidden\): configmaps is forbidden/);

  await ok(['-n', 'rev', 'create', 'rolebinding', 'bot-view', '--clusterrole=view', '--serviceaccount=rev:bot']);
  assert.equal((await asBot(['get', 'configmaps'])).code, 0, 'bound again: allowed at once');

  await ok(['-n', 'rev', 'delete', 'serviceaccount', 'bot']);
  const gone = await asBot(['get', 'configmaps']);
  assert.notEqual(gone.code, 0, 'the next request after the ServiceAccount is deleted is refused');
  assert.match(gone.stderr, /Unauthorized|must be logged in/);

  // Recreated under the same name, the account has another uid: the old token stays refused.
  await ok(['-n', 'rev', 'create', 'serviceaccount', 'bot']);
  const recreated = await asBot(['get', 'configmaps']);
  assert.notEqual(recreated.code, 0);
  assert.match(recreated.stderr, /Unauthorized|must be logged in/);
});
