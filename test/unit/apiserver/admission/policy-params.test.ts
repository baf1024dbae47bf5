// ValidatingAdmissionPolicy parameter resources: paramKind/paramRef validation with upstream's
// messages, paramKind resolution (built-in kinds and established CRDs) and param collection from a
// real in-memory store (by name, by selector, namespaces, not-found actions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../../../src/store/memory.js';
import type { KubeObject } from '../../../../src/api/types.js';
import { collectParams, gvkString, resolveParamKind } from '../../../../src/apiserver/admission/policy-params.js';
import { validateParamKind, validateParamRef, validateValidatingAdmissionPolicy } from '../../../../src/api/validation/admission-policy.js';

const messages = (errs: { field: string; message: string }[]) => errs.map((e) => `${e.field}: ${e.message}`);

test('paramKind: apiVersion and kind are checked as upstream does', () => {
  assert.deepEqual(validateParamKind({ apiVersion: 'v1', kind: 'ConfigMap' }), []);
  assert.deepEqual(validateParamKind({ apiVersion: 'example.com/v1', kind: 'LimitRange' }), []);
  assert.deepEqual(messages(validateParamKind({})), ['spec.paramKind.apiVersion: Required value', 'spec.paramKind.kind: Required value']);
  assert.deepEqual(messages(validateParamKind({ apiVersion: 'a/b/c', kind: 'X' })), ['spec.paramKind.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c']);
  assert.deepEqual(messages(validateParamKind({ apiVersion: 'example.com/', kind: 'X' })), ['spec.paramKind.apiVersion: Invalid value: "example.com/": version must be specified']);
  const [group] = messages(validateParamKind({ apiVersion: 'Bad_Group/v1', kind: 'X' }));
  assert.match(group, /^spec\.paramKind\.apiVersion: Invalid value: "Bad_Group": a lowercase RFC 1123 subdomain/);
  const [kind] = messages(validateParamKind({ apiVersion: 'v1', kind: 'Config_Map' }));
  assert.match(kind, /^spec\.paramKind\.kind: Invalid value: "Config_Map": may have mixed case, but should otherwise match: a DNS-1035 label/);
});

test('paramRef: name or selector, namespace, parameterNotFoundAction', () => {
  assert.deepEqual(validateParamRef(undefined), []);
  assert.deepEqual(validateParamRef({ name: 'limits', parameterNotFoundAction: 'Deny' }), []);
  assert.deepEqual(validateParamRef({ selector: {}, namespace: 'default', parameterNotFoundAction: 'Allow' }), []);
  assert.deepEqual(messages(validateParamRef({})), ['spec.paramRef: Required value: one of name or selector must be specified', 'spec.paramRef.parameterNotFoundAction: Required value']);
  assert.deepEqual(messages(validateParamRef({ name: 'a', selector: {}, parameterNotFoundAction: 'Maybe' })), [
    'spec.paramRef.name: Forbidden: name and selector are mutually exclusive',
    'spec.paramRef.selector: Forbidden: name and selector are mutually exclusive',
    'spec.paramRef.parameterNotFoundAction: Unsupported value: "Maybe": supported values: "Deny", "Allow"',
  ]);
  assert.deepEqual(messages(validateParamRef({ name: 'a/b', namespace: '..', parameterNotFoundAction: 'Deny' })), [
    'spec.paramRef.name: Invalid value: "a/b": may not contain \'/\'',
    'spec.paramRef.namespace: Invalid value: "..": may not be \'..\'',
  ]);
  const [selector] = messages(validateParamRef({ selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] }, parameterNotFoundAction: 'Deny' }));
  assert.match(selector, /^spec\.paramRef\.selector\.matchExpressions\[0\]\.operator: Invalid value: "Near": not a valid selector operator/);
});

test('params is declared only in the expressions of a policy with a paramKind', () => {
  const policy = (spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: 'p' },
    spec: { matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['CREATE'] }] }, ...spec },
  });
  const uses = { validations: [{ expression: "params.data.max == 'x'", messageExpression: "'max ' + params.data.max" }], matchConditions: [{ name: 'c', expression: 'params != null' }] };
  assert.deepEqual(validateValidatingAdmissionPolicy(policy({ ...uses, paramKind: { apiVersion: 'v1', kind: 'ConfigMap' } })), []);
  const without = messages(validateValidatingAdmissionPolicy(policy(uses)));
  assert.equal(without.length, 3, without.join('\n'));
  assert.match(without[0], /^spec\.validations\[0\]\.expression: Invalid value: .*compilation failed: .*params/);
  assert.match(without[1], /^spec\.validations\[0\]\.messageExpression: /);
  assert.match(without[2], /^spec\.matchConditions\[0\]\.expression: /);
});

function storeWith(objects: [string, KubeObject][]): MemoryStore {
  const store = new MemoryStore();
  for (const [key, obj] of objects) store.create(key, obj);
  return store;
}

const cm = (ns: string, name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: ns, name, labels }, data });

test('paramKind resolves built-in kinds and established CRDs, and names what it cannot find as upstream does', () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'limits.example.com' },
    spec: { group: 'example.com', scope: 'Cluster', names: { plural: 'limits', kind: 'Limit' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }] },
    status: { acceptedNames: { plural: 'limits', kind: 'Limit' }, conditions: [{ type: 'Established', status: 'True' }] },
  } as unknown as KubeObject;
  const store = storeWith([['apiextensions.k8s.io/customresourcedefinitions', crd]]);
  assert.deepEqual(resolveParamKind(store, { apiVersion: 'v1', kind: 'ConfigMap' }), { key: '/configmaps', namespaced: true });
  const custom = resolveParamKind(store, { apiVersion: 'example.com/v1', kind: 'Limit' });
  assert.ok(!('error' in custom));
  assert.equal(custom.key, 'example.com/limits');
  assert.equal(custom.namespaced, false);
  assert.deepEqual(resolveParamKind(store, { apiVersion: 'example.com/v2', kind: 'Limit' }), { error: "failed to find resource referenced by paramKind: 'example.com/v2, Kind=Limit'" });
  assert.deepEqual(resolveParamKind(store, { apiVersion: 'v1', kind: 'Nope' }), { error: "failed to find resource referenced by paramKind: '/v1, Kind=Nope'" });
  assert.equal(gvkString('apps/v1', 'Deployment'), 'apps/v1, Kind=Deployment');
});

test('params are collected by name or selector from the live store; not found follows the action', () => {
  const store = storeWith([
    ['/configmaps', cm('default', 'limits', {}, { max: '2' })],
    ['/configmaps', cm('default', 'b', { role: 'limit' })],
    ['/configmaps', cm('default', 'a', { role: 'limit' })],
    ['/configmaps', cm('other', 'c', { role: 'limit' })],
  ]);
  const configMaps = { key: '/configmaps', namespaced: true };
  const names = (r: ReturnType<typeof collectParams>) => ('error' in r ? r : r.map((p) => (p ? `${p.metadata.namespace}/${p.metadata.name}` : null)));
  assert.deepEqual(names(collectParams(store, configMaps, undefined, 'default')), [null]);
  assert.deepEqual(names(collectParams(store, configMaps, { name: 'limits', parameterNotFoundAction: 'Deny' }, 'default')), ['default/limits']);
  // paramRef.namespace wins over the request's namespace.
  assert.deepEqual(names(collectParams(store, configMaps, { name: 'limits', namespace: 'default', parameterNotFoundAction: 'Deny' }, 'other')), ['default/limits']);
  assert.deepEqual(names(collectParams(store, configMaps, { name: 'limits', parameterNotFoundAction: 'Deny' }, 'other')), { error: 'no params found for policy binding with `Deny` parameterNotFoundAction' });
  assert.deepEqual(names(collectParams(store, configMaps, { name: 'limits', parameterNotFoundAction: 'Allow' }, 'other')), []);
  assert.deepEqual(names(collectParams(store, configMaps, { selector: { matchLabels: { role: 'limit' } }, parameterNotFoundAction: 'Deny' }, 'default')), ['default/a', 'default/b']);
  assert.deepEqual(names(collectParams(store, configMaps, { name: 'limits', parameterNotFoundAction: 'Deny' }, '')), { error: 'cannot use namespaced paramRef in policy binding that matches cluster-scoped resources' });
  // A change of a param counts from the next read: nothing is cached.
  store.delete('/configmaps', 'default', 'a');
  assert.deepEqual(names(collectParams(store, configMaps, { selector: { matchLabels: { role: 'limit' } }, parameterNotFoundAction: 'Deny' }, 'default')), ['default/b']);
  const clusterScoped = { key: 'example.com/limits', namespaced: false };
  assert.deepEqual(names(collectParams(store, clusterScoped, { name: 'x', namespace: 'default', parameterNotFoundAction: 'Deny' }, 'default')), { error: 'paramRef.namespace must not be provided for a cluster-scoped `paramKind`' });
});
