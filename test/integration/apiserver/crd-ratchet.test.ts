// Validation ratcheting through kubectl and the real server: an object created under a looser
// schema stays updatable after its CRD is tightened (an unrelated change is accepted, both for
// OpenAPI schema checks and CEL rules, including the format library), while changing the offending
// field to another bad value is refused with 422 naming it; a CEL rule failure that ratcheting
// allowed is answered as a Warning header; a transition rule is not ratcheted.
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

function crd(tight: boolean): string {
  const name: Record<string, unknown> = { type: 'string' };
  const host: Record<string, unknown> = { type: 'string' };
  const level: Record<string, unknown> = { type: 'string' };
  if (tight) {
    name.maxLength = 5;
    host['x-kubernetes-validations'] = [{ rule: '!format.dns1123Label().validate(self).hasValue()', messageExpression: "'host: ' + format.dns1123Label().validate(self).value().join(', ')" }];
    level['x-kubernetes-validations'] = [{ rule: "self != 'legacy' || oldSelf == 'legacy'", message: 'level cannot become legacy' }];
  }
  return JSON.stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'sprockets.ratchet.flatnet.dev' },
    spec: {
      group: 'ratchet.flatnet.dev',
      scope: 'Namespaced',
      names: { plural: 'sprockets', singular: 'sprocket', kind: 'Sprocket', listKind: 'SprocketList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { spec: { type: 'object', properties: { name, host, level, replicas: { type: 'integer' } } } },
            },
          },
        },
      ],
    },
  });
}

function sprocket(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'ratchet.flatnet.dev/v1', kind: 'Sprocket', metadata: { name, namespace: 'default' }, spec });
}

async function eventually(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('an object valid under the old schema stays updatable after the CRD is tightened, until its bad field changes', async () => {
  await s.kubectlOk(['apply', '-f', '-'], crd(false));
  await s.kubectlOk(['wait', '--for=condition=Established', 'crd/sprockets.ratchet.flatnet.dev', '--timeout=30s']);
  await s.kubectlOk(['apply', '-f', '-'], sprocket('old', { name: 'much-too-long', host: 'Not_A_Label', level: 'legacy', replicas: 1 }));

  await s.kubectlOk(['apply', '-f', '-'], crd(true));
  // the tightened schema is in force once a new bad object is refused
  await eventually('the tightened schema', async () => (await s.kubectl(['apply', '--dry-run=server', '-f', '-'], sprocket('probe', { name: 'much-too-long' }))).code !== 0);
  const fresh = await s.kubectlFails(['apply', '-f', '-'], sprocket('new', { name: 'much-too-long', host: 'Not_A_Label', replicas: 1 }));
  assert.match(fresh, /spec\.name: Too long: may not be more than 5 bytes/);
  assert.match(fresh, /spec\.host: Invalid value: "string": host: a lowercase RFC 1123 label must consist of/);

  // an unrelated change: accepted by patch and by apply, the bad values kept; the CEL rule that
  // ratcheting let pass comes back as a Warning header (as upstream), the OpenAPI maxLength does not
  const patched = await s.kubectl(['patch', 'sprocket', 'old', '--type=merge', '-p', '{"spec":{"replicas":2}}']);
  assert.equal(patched.code, 0, patched.stderr);
  assert.match(patched.stderr, /Warning: spec\.host: Invalid value: "string": host: a lowercase RFC 1123 label must consist of/);
  assert.doesNotMatch(patched.stderr, /spec\.name|spec\.level/);
  await s.kubectlOk(['apply', '-f', '-'], sprocket('old', { name: 'much-too-long', host: 'Not_A_Label', level: 'legacy', replicas: 3 }));
  const kept = JSON.parse(await s.kubectlOk(['get', 'sprocket', 'old', '-o', 'json'])) as { spec: Record<string, unknown> };
  assert.deepEqual(kept.spec, { name: 'much-too-long', host: 'Not_A_Label', level: 'legacy', replicas: 3 });

  // the offending fields changed to other bad values: 422 naming each
  const badName = await s.kubectl(['patch', 'sprocket', 'old', '--type=merge', '-p', '{"spec":{"name":"still-too-long"}}']);
  assert.notEqual(badName.code, 0);
  assert.match(badName.stderr, /is invalid: spec\.name: Too long: may not be more than 5 bytes/);
  const badHost = await s.kubectlFails(['patch', 'sprocket', 'old', '--type=merge', '-p', '{"spec":{"host":"Other_Bad"}}']);
  assert.match(badHost, /spec\.host: Invalid value: "string": host: a lowercase RFC 1123 label/);
  // a fix is accepted
  await s.kubectlOk(['patch', 'sprocket', 'old', '--type=merge', '-p', '{"spec":{"name":"ok","host":"fine"}}']);
});

test('the 422 of a changed bad value is an Invalid status with code 422; a transition rule is not ratcheted', async () => {
  await s.kubectlOk(['apply', '-f', '-'], sprocket('t1', { name: 'ok', host: 'fine', level: 'normal' }));
  const raw = await s.kubectl(['patch', 'sprocket', 't1', '--type=merge', '-p', '{"spec":{"name":"toolong"}}', '-v=8']);
  assert.notEqual(raw.code, 0);
  assert.match(raw.stderr, /Response Status: 422/);
  // level -> legacy fails the transition rule (old value not legacy)
  const legacy = await s.kubectlFails(['patch', 'sprocket', 't1', '--type=merge', '-p', '{"spec":{"level":"legacy"}}']);
  assert.match(legacy, /spec\.level: Invalid value: "string": level cannot become legacy/);
});
