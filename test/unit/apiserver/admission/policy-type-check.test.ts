// The type check behind a ValidatingAdmissionPolicy's status.typeChecking: which kinds are checked
// (upstream's typesToCheck), which field selections are undefined in their schemas, and the warning
// text in cel-go's issue form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../../src/api/types.js';
import { R, findResource } from '../../../../src/api/resources.js';
import { schemaFor } from '../../../../src/api/schema/index.js';
import { formatIssue, kindsToCheck, typeCheckPolicy, undefinedFields } from '../../../../src/apiserver/admission/policy-type-check.js';
import { builtinKind, desiredPolicyStatus, kindResolver } from '../../../../src/controllers/validating-policy-status.js';

const policy = (rules: Record<string, unknown>[], validations: Record<string, unknown>[], meta: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicy',
  metadata: { name: 'p', ...meta },
  spec: { matchConstraints: { resourceRules: rules }, validations },
});
const rule = (apiGroups: string[], apiVersions: string[], resources: string[]) => ({ apiGroups, apiVersions, resources, operations: ['CREATE'] });

test('the kinds checked: rules without wildcard groups or versions, resources without * or subresources, sorted', () => {
  const p = policy([rule(['apps'], ['v1'], ['deployments', 'replicasets', 'deployments/status', '*']), rule([''], ['v1'], ['configmaps']), rule(['*'], ['v1'], ['pods']), rule([''], ['*'], ['pods'])], []);
  assert.deepEqual(kindsToCheck(p, builtinKind).map((k) => `${k.group}/${k.version}, Kind=${k.kind}`), ['/v1, Kind=ConfigMap', 'apps/v1, Kind=Deployment', 'apps/v1, Kind=ReplicaSet']);
  assert.deepEqual(kindsToCheck(p, () => undefined), []);
});

test('field selections on object and oldObject are checked through lists, maps, indexes and macros', () => {
  const deployment = schemaFor(R.deployments)!;
  assert.deepEqual(undefinedFields('object.spec.replicas <= 5 && oldObject.metadata.labels["a"] == "b"', deployment), []);
  assert.deepEqual(undefinedFields("object.spec.template.spec.containers.all(c, c.image.startsWith('r/') && c.imagePullPolicy != '')", deployment), []);
  assert.deepEqual(undefinedFields('has(object.spec.paused) && object.metadata.annotations.exists(k, k.startsWith("x"))', deployment), []);
  assert.deepEqual(undefinedFields('object.spec.replica > 1', deployment), [{ offset: 11, message: "undefined field 'replica'" }]);
  assert.deepEqual(
    undefinedFields("object.spec.template.spec.containers.exists(c, c.imag == 'x') || has(object.spec.foo)", deployment).map((i) => i.message),
    ["undefined field 'imag'", "undefined field 'foo'"],
  );
  // What is not object/oldObject (variables, params, request) is not checked.
  assert.deepEqual(undefinedFields('variables.x.y && params.a.b && request.userInfo.nope', deployment), []);
});

test('issues read as cel-go displays them', () => {
  assert.equal(formatIssue('object.spec.replica > 1', { offset: 11, message: "undefined field 'replica'" }), "ERROR: <input>:1:12: undefined field 'replica'\n | object.spec.replica > 1\n | ...........^");
  assert.equal(formatIssue('true &&\n  object.x', { offset: 16, message: "undefined field 'x'" }), "ERROR: <input>:2:9: undefined field 'x'\n |   object.x\n | ........^");
});

test('a policy gets one warning per failing expression, naming each matched kind', () => {
  const p = policy([rule(['apps'], ['v1'], ['deployments', 'replicasets'])], [
    { expression: 'object.spec.replicas <= 5' },
    { expression: 'object.spec.replica <= 5', messageExpression: "'too many: ' + string(object.spec.replicaz)" },
  ]);
  const warnings = typeCheckPolicy(p, builtinKind);
  assert.deepEqual(warnings.map((w) => w.fieldRef), ['spec.validations[1].expression', 'spec.validations[1].messageExpression']);
  assert.equal(
    warnings[0].warning,
    "apps/v1, Kind=Deployment: ERROR: <input>:1:12: undefined field 'replica'\n | object.spec.replica <= 5\n | ...........^\n\n" +
      "apps/v1, Kind=ReplicaSet: ERROR: <input>:1:12: undefined field 'replica'\n | object.spec.replica <= 5\n | ...........^\n",
  );
  assert.ok(findResource('apps', 'v1', 'deployments'));
});

test('the controller writes status only when the generation is ahead of observedGeneration, keeping conditions', () => {
  const p = policy([rule([''], ['v1'], ['configmaps'])], [{ expression: 'object.dat.size() < 3' }], { generation: 2 });
  p.status = { observedGeneration: 1, conditions: [{ type: 'X', status: 'True' }] };
  const status = desiredPolicyStatus(p)!;
  assert.equal(status.observedGeneration, 2);
  assert.deepEqual(status.conditions, [{ type: 'X', status: 'True' }]);
  assert.match(JSON.stringify(status.typeChecking), /spec\.validations\[0\]\.expression.*\/v1, Kind=ConfigMap: ERROR: <input>:1:7: undefined field 'dat'/);
  assert.equal(desiredPolicyStatus({ ...p, status: { observedGeneration: 2 } }), undefined);
  const clean = policy([rule([''], ['v1'], ['configmaps'])], [{ expression: 'object.data.size() < 3' }], { generation: 1 });
  assert.deepEqual(desiredPolicyStatus(clean), { observedGeneration: 1, typeChecking: {} });
});

test('established custom resources are checked against their schema; a schema that preserves unknown fields is not', () => {
  const crd = (name: string, schema: Record<string, unknown>): KubeObject =>
    ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${name}s.example.com` },
      spec: { group: 'example.com', scope: 'Namespaced', names: { plural: `${name}s`, kind: name }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }] },
      status: { acceptedNames: { plural: `${name}s`, kind: name }, conditions: [{ type: 'Established', status: 'True' }] },
    }) as unknown as KubeObject;
  const resolve = kindResolver([
    crd('widget', { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } }),
    crd('blob', { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }),
  ]);
  const p = policy([rule(['example.com'], ['v1'], ['widgets', 'blobs'])], [{ expression: 'object.spec.sise < 3 && object.metadata.name != ""' }]);
  const warnings = typeCheckPolicy(p, resolve);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0].warning, /^example\.com\/v1, Kind=widget: ERROR: <input>:1:12: undefined field 'sise'/);
  assert.doesNotMatch(warnings[0].warning, /Kind=blob/);
  assert.equal(kindsToCheck(p, resolve).length, 2);
});
