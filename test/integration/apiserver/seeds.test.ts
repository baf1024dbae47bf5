// Every Kubernetes object in the seed documents (kept as fixtures in test/fixtures/seeds) applies
// with the real kubectl, is stored, and reads back under its name.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { startTestServer, type TestServer } from '../../support/server.js';
import { seedFixtures } from '../../fixtures/seeds/fixtures.js';

const manifests = seedFixtures();
let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: false });
  const namespaces = new Set(manifests.map((m) => (parse(m.yaml) as { metadata?: { namespace?: string } }).metadata?.namespace).filter((n): n is string => !!n));
  for (const ns of namespaces) {
    const r = await s.kubectl(['create', 'namespace', ns, '--dry-run=client', '-o', 'yaml']);
    await s.kubectl(['apply', '-f', '-'], r.stdout);
  }
});
after(async () => {
  await s?.stop();
});

test('the seeds hold manifests of several kinds', () => {
  const kinds = new Set(manifests.map((m) => m.kind));
  for (const k of ['Service', 'Ingress', 'NetworkPolicy', 'Pod', 'Gateway', 'HTTPRoute']) assert.ok(kinds.has(k), `no ${k} found in the seeds`);
});

for (const m of manifests) {
  test(`seed ${m.source}: ${m.kind} ${m.name} applies and reads back`, async () => {
    const applied = await s.kubectl(['apply', '-f', '-'], m.yaml);
    assert.equal(applied.code, 0, `kubectl apply failed:\n${applied.stderr}\n--- manifest ---\n${m.yaml}`);
    const ns = (parse(m.yaml) as { metadata?: { namespace?: string } }).metadata?.namespace ?? 'default';
    const got = await s.kubectl(['get', m.kind.toLowerCase() + (m.kind === 'Gateway' || m.kind === 'HTTPRoute' ? '.gateway.networking.k8s.io' : ''), m.name, '-n', ns, '-o', 'json']);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(JSON.parse(got.stdout).metadata.name, m.name);
  });
}
