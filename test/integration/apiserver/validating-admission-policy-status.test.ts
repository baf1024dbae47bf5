// ValidatingAdmissionPolicy status through the real server and its controllers: metadata.generation
// counts spec changes, and the status controller writes status.observedGeneration and
// status.typeChecking.expressionWarnings (an expression that names a field the matched kind does not
// have), clearing them when the policy is fixed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../support/server.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'sqlite', controllers: true });
});
after(async () => {
  await s?.stop();
});

const policy = (validations: Record<string, unknown>[]) =>
  JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: 'replica-limit' },
    spec: { matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], operations: ['CREATE', 'UPDATE'] }] }, validations },
  });

type Status = { observedGeneration?: number; typeChecking?: { expressionWarnings?: { fieldRef: string; warning: string }[] } };

/** Polls the policy until its status has observed `generation` (a liveness bound, not a timing assertion). */
async function observed(generation: number): Promise<KubeObject & { status?: Status }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const p = (await s.client.get(R.validatingadmissionpolicies, undefined, 'replica-limit')) as KubeObject & { status?: Status };
    if (p && (p.status?.observedGeneration ?? 0) >= generation) return p;
    if (Date.now() > deadline) assert.fail(`status never observed generation ${generation}: ${JSON.stringify(p?.status)}\n${s.logs().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('typeChecking warns about fields the matched kind does not have, and observedGeneration follows the spec', async () => {
  await s.kubectlOk(['apply', '-f', '-'], policy([{ expression: 'object.spec.replica <= 5', messageExpression: "'at most 5, not ' + string(object.spec.replicas)" }]));
  const first = await observed(1);
  assert.equal(first.metadata.generation, 1);
  assert.deepEqual(first.status?.typeChecking?.expressionWarnings, [
    { fieldRef: 'spec.validations[0].expression', warning: "apps/v1, Kind=Deployment: ERROR: <input>:1:12: undefined field 'replica'\n | object.spec.replica <= 5\n | ...........^\n" },
  ]);
  // kubectl shows it too.
  assert.match(await s.kubectlOk(['get', 'validatingadmissionpolicy', 'replica-limit', '-o', 'jsonpath={.status.typeChecking.expressionWarnings[0].fieldRef}']), /^spec\.validations\[0\]\.expression$/);

  // A label change is not a new generation; the fixed spec is, and its status has no warnings.
  await s.kubectlOk(['label', 'validatingadmissionpolicy', 'replica-limit', 'team=a']);
  assert.equal((await s.client.get(R.validatingadmissionpolicies, undefined, 'replica-limit'))?.metadata.generation, 1);
  await s.kubectlOk(['apply', '-f', '-'], policy([{ expression: 'object.spec.replicas <= 5' }]));
  const fixed = await observed(2);
  assert.equal(fixed.metadata.generation, 2);
  assert.deepEqual(fixed.status?.typeChecking, {});
});
