// ValidatingAdmissionPolicy through kubectl and the real server: policies and bindings are served
// and validated (expressions compile; paramKind checked); a Deny binding refuses writes
// that fail a validation with its message and reason, a Warn binding returns a warning; match
// rules, namespace and object selectors, matchConditions, variables, messageExpression,
// failurePolicy and DELETE are honoured; policies do not apply to policy objects themselves.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../support/server.js';
import { binding, configMap, configMapRules, policy } from './admission-policy-manifests.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'sqlite', controllers: false });
});
after(async () => {
  await s?.stop();
});


test('policies and bindings are validated: expressions compile, paramKind is checked', async () => {
  const bad = await s.kubectlFails(['apply', '-f', '-'], policy('bad', { matchConstraints: configMapRules, validations: [{ expression: 'object.data.size() >' }] }));
  assert.match(bad, /spec\.validations\[0\]\.expression: Invalid value: "object\.data\.size\(\) >": compilation failed/);
  const notBool = await s.kubectlFails(['apply', '-f', '-'], policy('bad', { matchConstraints: configMapRules, validations: [{ expression: 'size(object.data)' }] }));
  assert.match(notBool, /must evaluate to bool/);
  const params = await s.kubectlFails(['apply', '-f', '-'], policy('bad', { paramKind: { apiVersion: 'a/b/c' }, matchConstraints: configMapRules, validations: [{ expression: 'true' }] }));
  assert.match(params, /spec\.paramKind\.apiVersion: Invalid value: "a\/b\/c": unexpected GroupVersion string: a\/b\/c/);
  assert.match(params, /spec\.paramKind\.kind: Required value/);
  const both = await s.kubectlFails(['apply', '-f', '-'], binding('bad', { policyName: 'x', validationActions: ['Deny', 'Warn'] }));
  assert.match(both, /must not contain both Deny and Warn/);
  assert.match(await s.kubectlOk(['api-resources', '--api-group=admissionregistration.k8s.io']), /validatingadmissionpolicies/);
});

test('a Deny binding refuses what fails a validation; selectors, conditions and variables decide where it applies', async () => {
  await s.kubectlOk(['create', 'namespace', 'guarded']);
  await s.kubectlOk(['label', 'namespace', 'guarded', 'policy=strict']);
  await s.kubectlOk(['apply', '-f', '-'], policy('small-configmaps', {
    matchConstraints: { ...configMapRules, namespaceSelector: { matchLabels: { policy: 'strict' } } },
    matchConditions: [{ name: 'not-exempt', expression: "!has(object.metadata.labels) || !('exempt' in object.metadata.labels)" }],
    variables: [{ name: 'keys', expression: 'has(object.data) ? object.data.size() : 0' }],
    validations: [
      { expression: 'variables.keys <= 2', messageExpression: "'a ConfigMap here holds at most 2 keys, not ' + string(variables.keys)", reason: 'Forbidden' },
      { expression: "!has(object.data) || !object.data.exists(k, k.startsWith('secret'))", message: 'no secret-looking keys' },
    ],
  }));
  await s.kubectlOk(['apply', '-f', '-'], binding('small-configmaps', { policyName: 'small-configmaps', validationActions: ['Deny'] }));

  await s.kubectlOk(['apply', '-f', '-'], configMap('fine', 'guarded', { a: '1', b: '2' }));
  const tooMany = await s.kubectlFails(['apply', '-f', '-'], configMap('big', 'guarded', { a: '1', b: '2', c: '3' }));
  assert.match(tooMany, /ValidatingAdmissionPolicy 'small-configmaps' with binding 'small-configmaps' denied request: a ConfigMap here holds at most 2 keys, not 3/);
  const secret = await s.kubectlFails(['apply', '-f', '-'], configMap('sec', 'guarded', { secretToken: 'x' }));
  assert.match(secret, /denied request: no secret-looking keys/);
  // The other namespace is not selected; an exempt object does not meet the condition.
  await s.kubectlOk(['apply', '-f', '-'], configMap('big', 'default', { a: '1', b: '2', c: '3' }));
  await s.kubectlOk(['apply', '-f', '-'], configMap('big', 'guarded', { a: '1', b: '2', c: '3' }, { exempt: 'yes' }));
  // An update is checked too, and a dry run as well.
  const update = await s.kubectlFails(['patch', 'configmap', 'fine', '-n', 'guarded', '--type=merge', '-p', '{"data":{"c":"3"}}']);
  assert.match(update, /at most 2 keys, not 3/);
  await s.kubectlFails(['apply', '--dry-run=server', '-f', '-'], configMap('dry', 'guarded', { a: '1', b: '2', c: '3' }));
});

test('a Warn binding answers a warning and stores the object', async () => {
  await s.kubectlOk(['apply', '-f', '-'], policy('labelled', { matchConstraints: configMapRules, validations: [{ expression: "has(object.metadata.labels) && 'team' in object.metadata.labels", message: 'ConfigMaps should name their team' }] }));
  await s.kubectlOk(['apply', '-f', '-'], binding('labelled', { policyName: 'labelled', validationActions: ['Warn'], matchResources: { objectSelector: { matchExpressions: [{ key: 'checked', operator: 'Exists' }] } } }));
  // The warning is on stderr: both streams are read.
  const warned = await s.kubectl(['apply', '-f', '-'], configMap('warned', 'default', { a: '1' }, { checked: 'yes' }));
  assert.equal(warned.code, 0, warned.stderr);
  const out = warned.stdout + warned.stderr;
  assert.match(out, /Warning: Validation failed for ValidatingAdmissionPolicy 'labelled' with binding 'labelled': ConfigMaps should name their team/);
  assert.match(await s.kubectlOk(['get', 'configmap', 'warned', '-o', 'name']), /configmap\/warned/);
  const applied = await s.kubectl(['apply', '-f', '-'], configMap('unchecked', 'default', { a: '1' }));
  assert.equal(applied.code, 0, applied.stderr);
  const unchecked = applied.stdout + applied.stderr;
  assert.doesNotMatch(unchecked, /Warning/);
});

test('failurePolicy decides an expression that errors; DELETE rules see oldObject; policy objects are exempt', async () => {
  const deleteRules = { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['DELETE'] }] };
  await s.kubectlOk(['apply', '-f', '-'], policy('keep-pinned', { matchConstraints: deleteRules, validations: [{ expression: "object == null && !(has(oldObject.metadata.labels) && 'pinned' in oldObject.metadata.labels)", message: 'pinned ConfigMaps stay' }] }));
  await s.kubectlOk(['apply', '-f', '-'], binding('keep-pinned', { policyName: 'keep-pinned', validationActions: ['Deny'] }));
  await s.kubectlOk(['apply', '-f', '-'], configMap('pinned', 'default', { a: '1' }, { pinned: 'yes' }));
  assert.match(await s.kubectlFails(['delete', 'configmap', 'pinned']), /denied request: pinned ConfigMaps stay/);
  await s.kubectlOk(['delete', 'configmap', 'unchecked']);

  const erring = { matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['CREATE'] }] }, validations: [{ expression: "object.data.missingKey == 'x'" }] };
  await s.kubectlOk(['apply', '-f', '-'], policy('erring', { ...erring, failurePolicy: 'Fail' }));
  await s.kubectlOk(['apply', '-f', '-'], binding('erring', { policyName: 'erring', validationActions: ['Deny'] }));
  assert.match(await s.kubectlFails(['apply', '-f', '-'], configMap('e1', 'default', { a: '1' })), /expression 'object\.data\.missingKey == 'x'' resulted in error/);
  await s.kubectlOk(['apply', '-f', '-'], policy('erring', { ...erring, failurePolicy: 'Ignore' }));
  await s.kubectlOk(['apply', '-f', '-'], configMap('e1', 'default', { a: '1' }));

  // A policy matching everything cannot lock out changes to policies and bindings.
  await s.kubectlOk(['apply', '-f', '-'], policy('deny-all', { matchConstraints: { resourceRules: [{ apiGroups: ['*'], apiVersions: ['*'], resources: ['*'], operations: ['*'] }] }, validations: [{ expression: 'false' }] }));
  await s.kubectlOk(['apply', '-f', '-'], binding('deny-all', { policyName: 'deny-all', validationActions: ['Deny'] }));
  assert.match(await s.kubectlFails(['apply', '-f', '-'], configMap('e2', 'default', { a: '1' })), /deny-all/);
  await s.kubectlOk(['delete', 'validatingadmissionpolicybinding', 'deny-all']);
  await s.kubectlOk(['apply', '-f', '-'], configMap('e2', 'default', { a: '1' }));
});
