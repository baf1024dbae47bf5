// ValidatingAdmissionPolicy through kubectl and the real server: policies and bindings are served
// and validated (expressions compile; parameter resources refused); a Deny binding refuses writes
// that fail a validation with its message and reason, a Warn binding returns a warning; match
// rules, namespace and object selectors, matchConditions, variables, messageExpression,
// failurePolicy and DELETE are honoured; policies do not apply to policy objects themselves.
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

async function run(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return s.kubectl(args, input);
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await run(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout + r.stderr;
}

async function fails(args: string[], input?: string): Promise<string> {
  const r = await run(args, input);
  assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} should have failed:\n${r.stdout}`);
  return r.stderr;
}

const policy = (name: string, spec: Record<string, unknown>) => JSON.stringify({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name }, spec });
const binding = (name: string, spec: Record<string, unknown>) => JSON.stringify({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name }, spec });
const configMap = (name: string, ns: string, data: Record<string, string>, labels: Record<string, string> = {}) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels }, data });

const configMapRules = { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['CREATE', 'UPDATE'] }] };

test('policies and bindings are validated: expressions compile, parameter resources are refused', async () => {
  const bad = await fails(['apply', '-f', '-'], policy('bad', { matchConstraints: configMapRules, validations: [{ expression: 'object.data.size() >' }] }));
  assert.match(bad, /spec\.validations\[0\]\.expression: Invalid value: "object\.data\.size\(\) >": compilation failed/);
  const notBool = await fails(['apply', '-f', '-'], policy('bad', { matchConstraints: configMapRules, validations: [{ expression: 'size(object.data)' }] }));
  assert.match(notBool, /must evaluate to bool/);
  const params = await fails(['apply', '-f', '-'], policy('bad', { paramKind: { apiVersion: 'v1', kind: 'ConfigMap' }, matchConstraints: configMapRules, validations: [{ expression: 'true' }] }));
  assert.match(params, /spec\.paramKind: Forbidden: flatnet does not support parameter resources/);
  const both = await fails(['apply', '-f', '-'], binding('bad', { policyName: 'x', validationActions: ['Deny', 'Warn'] }));
  assert.match(both, /must not contain both Deny and Warn/);
  assert.match(await ok(['api-resources', '--api-group=admissionregistration.k8s.io']), /validatingadmissionpolicies/);
});

test('a Deny binding refuses what fails a validation; selectors, conditions and variables decide where it applies', async () => {
  await ok(['create', 'namespace', 'guarded']);
  await ok(['label', 'namespace', 'guarded', 'policy=strict']);
  await ok(['apply', '-f', '-'], policy('small-configmaps', {
    matchConstraints: { ...configMapRules, namespaceSelector: { matchLabels: { policy: 'strict' } } },
    matchConditions: [{ name: 'not-exempt', expression: "!has(object.metadata.labels) || !('exempt' in object.metadata.labels)" }],
    variables: [{ name: 'keys', expression: 'has(object.data) ? object.data.size() : 0' }],
    validations: [
      { expression: 'variables.keys <= 2', messageExpression: "'a ConfigMap here holds at most 2 keys, not ' + string(variables.keys)", reason: 'Forbidden' },
      { expression: "!has(object.data) || !object.data.exists(k, k.startsWith('secret'))", message: 'no secret-looking keys' },
    ],
  }));
  await ok(['apply', '-f', '-'], binding('small-configmaps', { policyName: 'small-configmaps', validationActions: ['Deny'] }));

  await ok(['apply', '-f', '-'], configMap('fine', 'guarded', { a: '1', b: '2' }));
  const tooMany = await fails(['apply', '-f', '-'], configMap('big', 'guarded', { a: '1', b: '2', c: '3' }));
  assert.match(tooMany, /ValidatingAdmissionPolicy 'small-configmaps' with binding 'small-configmaps' denied request: a ConfigMap here holds at most 2 keys, not 3/);
  const secret = await fails(['apply', '-f', '-'], configMap('sec', 'guarded', { secretToken: 'x' }));
  assert.match(secret, /denied request: no secret-looking keys/);
  // The other namespace is not selected; an exempt object does not meet the condition.
  await ok(['apply', '-f', '-'], configMap('big', 'default', { a: '1', b: '2', c: '3' }));
  await ok(['apply', '-f', '-'], configMap('big', 'guarded', { a: '1', b: '2', c: '3' }, { exempt: 'yes' }));
  // An update is checked too, and a dry run as well.
  const update = await fails(['patch', 'configmap', 'fine', '-n', 'guarded', '--type=merge', '-p', '{"data":{"c":"3"}}']);
  assert.match(update, /at most 2 keys, not 3/);
  assert.equal((await run(['apply', '--dry-run=server', '-f', '-'], configMap('dry', 'guarded', { a: '1', b: '2', c: '3' }))).code === 0, false);
});

test('a Warn binding answers a warning and stores the object', async () => {
  await ok(['apply', '-f', '-'], policy('labelled', { matchConstraints: configMapRules, validations: [{ expression: "has(object.metadata.labels) && 'team' in object.metadata.labels", message: 'ConfigMaps should name their team' }] }));
  await ok(['apply', '-f', '-'], binding('labelled', { policyName: 'labelled', validationActions: ['Warn'], matchResources: { objectSelector: { matchExpressions: [{ key: 'checked', operator: 'Exists' }] } } }));
  const out = await ok(['apply', '-f', '-'], configMap('warned', 'default', { a: '1' }, { checked: 'yes' }));
  assert.match(out, /Warning: Validation failed for ValidatingAdmissionPolicy 'labelled' with binding 'labelled': ConfigMaps should name their team/);
  assert.match(await ok(['get', 'configmap', 'warned', '-o', 'name']), /configmap\/warned/);
  const unchecked = await ok(['apply', '-f', '-'], configMap('unchecked', 'default', { a: '1' }));
  assert.doesNotMatch(unchecked, /Warning/);
});

test('failurePolicy decides an expression that errors; DELETE rules see oldObject; policy objects are exempt', async () => {
  const deleteRules = { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['DELETE'] }] };
  await ok(['apply', '-f', '-'], policy('keep-pinned', { matchConstraints: deleteRules, validations: [{ expression: "object == null && !(has(oldObject.metadata.labels) && 'pinned' in oldObject.metadata.labels)", message: 'pinned ConfigMaps stay' }] }));
  await ok(['apply', '-f', '-'], binding('keep-pinned', { policyName: 'keep-pinned', validationActions: ['Deny'] }));
  await ok(['apply', '-f', '-'], configMap('pinned', 'default', { a: '1' }, { pinned: 'yes' }));
  assert.match(await fails(['delete', 'configmap', 'pinned']), /denied request: pinned ConfigMaps stay/);
  await ok(['delete', 'configmap', 'unchecked']);

  const erring = { matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['CREATE'] }] }, validations: [{ expression: "object.data.missingKey == 'x'" }] };
  await ok(['apply', '-f', '-'], policy('erring', { ...erring, failurePolicy: 'Fail' }));
  await ok(['apply', '-f', '-'], binding('erring', { policyName: 'erring', validationActions: ['Deny'] }));
  assert.match(await fails(['apply', '-f', '-'], configMap('e1', 'default', { a: '1' })), /expression 'object\.data\.missingKey == 'x'' resulted in error/);
  await ok(['apply', '-f', '-'], policy('erring', { ...erring, failurePolicy: 'Ignore' }));
  await ok(['apply', '-f', '-'], configMap('e1', 'default', { a: '1' }));

  // A policy matching everything cannot lock out changes to policies and bindings.
  await ok(['apply', '-f', '-'], policy('deny-all', { matchConstraints: { resourceRules: [{ apiGroups: ['*'], apiVersions: ['*'], resources: ['*'], operations: ['*'] }] }, validations: [{ expression: 'false' }] }));
  await ok(['apply', '-f', '-'], binding('deny-all', { policyName: 'deny-all', validationActions: ['Deny'] }));
  assert.match(await fails(['apply', '-f', '-'], configMap('e2', 'default', { a: '1' })), /deny-all/);
  await ok(['delete', 'validatingadmissionpolicybinding', 'deny-all']);
  await ok(['apply', '-f', '-'], configMap('e2', 'default', { a: '1' }));
});
