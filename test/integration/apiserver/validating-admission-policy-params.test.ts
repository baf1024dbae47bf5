// ValidatingAdmissionPolicy parameter resources through kubectl, HTTP and the real server: a
// ConfigMap param by name (Deny when missing, a change counts on the next request, Allow admits),
// params by label selector (one evaluation per param: one warning each), a custom resource as the
// param kind, the configuration errors upstream reports, and bad paramKind/paramRef input (422
// naming the field, nothing stored).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../support/server.js';
import { binding, configMap, configMapRules, policy } from './admission-policy-manifests.js';
import { ApiError } from '../../../src/client/client.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'sqlite', controllers: false });
});
after(async () => {
  await s?.stop();
});

const checked = (label: string) => ({ objectSelector: { matchLabels: { [label]: 'yes' } } });
const keysAtMost = {
  paramKind: { apiVersion: 'v1', kind: 'ConfigMap' },
  matchConstraints: configMapRules,
  validations: [{ expression: 'size(object.data) <= int(params.data.maxKeys)', messageExpression: "'at most ' + params.data.maxKeys + ' keys (' + params.metadata.name + ')'" }],
};

test('bad paramKind and paramRef are refused with 422 naming the field, and nothing is stored', async () => {
  const refused = await s.client
    .request('POST', '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings', JSON.parse(binding('bad-ref', { policyName: 'x', validationActions: ['Deny'], paramRef: { name: 'a', selector: {}, parameterNotFoundAction: 'Sometimes' } })))
    .then(
      () => assert.fail('a binding with a bad paramRef was stored'),
      (err: unknown) => err as ApiError,
    );
  assert.ok(refused instanceof ApiError, String(refused));
  assert.equal(refused.code, 422);
  assert.equal(refused.reason, 'Invalid');
  const fields = (refused.status.details?.causes ?? []).map((c) => `${c.field}: ${c.message}`);
  assert.ok(fields.some((f) => /^spec\.paramRef\.name: .*name and selector are mutually exclusive/.test(f)), fields.join('\n'));
  assert.ok(fields.some((f) => /^spec\.paramRef\.parameterNotFoundAction: .*"Sometimes"/.test(f)), fields.join('\n'));
  assert.match(refused.message, /spec\.paramRef\.parameterNotFoundAction: Unsupported value: "Sometimes": supported values: "Deny", "Allow"/);
  const missing = await s.kubectlFails(['apply', '-f', '-'], binding('bad-ref', { policyName: 'x', validationActions: ['Deny'], paramRef: { namespace: 'default' } }));
  assert.match(missing, /spec\.paramRef: Required value: one of name or selector must be specified/);
  assert.match(missing, /spec\.paramRef\.parameterNotFoundAction: Required value/);
  const kind = await s.kubectlFails(['apply', '-f', '-'], policy('bad-kind', { ...keysAtMost, paramKind: { apiVersion: 'Example.com/v1', kind: 'Limit' } }));
  assert.match(kind, /spec\.paramKind\.apiVersion: Invalid value: "Example\.com": a lowercase RFC 1123 subdomain/);
  const noParams = await s.kubectlFails(['apply', '-f', '-'], policy('bad-kind', { ...keysAtMost, paramKind: undefined }));
  assert.match(noParams, /spec\.validations\[0\]\.expression: Invalid value: .*compilation failed/);
  assert.match(await s.kubectlOk(['get', 'validatingadmissionpolicies,validatingadmissionpolicybindings', '-o', 'name']), /^$/);
});

test('a ConfigMap param by name: Deny when missing, a change counts on the next request, Allow admits without it', async () => {
  await s.kubectlOk(['apply', '-f', '-'], policy('keys-at-most', keysAtMost));
  await s.kubectlOk(['apply', '-f', '-'], binding('keys-at-most', { policyName: 'keys-at-most', validationActions: ['Deny'], matchResources: checked('by-name'), paramRef: { name: 'limits', namespace: 'default', parameterNotFoundAction: 'Deny' } }));
  const missing = await s.kubectlFails(['apply', '-f', '-'], configMap('c1', 'default', { a: '1' }, { 'by-name': 'yes' }));
  assert.match(missing, /ValidatingAdmissionPolicy 'keys-at-most' with binding 'keys-at-most' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction/);

  await s.kubectlOk(['apply', '-f', '-'], configMap('limits', 'default', { maxKeys: '2' }));
  assert.match(await s.kubectlFails(['apply', '-f', '-'], configMap('c1', 'default', { a: '1', b: '2', c: '3' }, { 'by-name': 'yes' })), /denied request: at most 2 keys \(limits\)/);
  await s.kubectlOk(['apply', '-f', '-'], configMap('c1', 'default', { a: '1', b: '2' }, { 'by-name': 'yes' }));
  // The param is read on every request: raising the limit lets the next request through.
  await s.kubectlOk(['patch', 'configmap', 'limits', '--type=merge', '-p', '{"data":{"maxKeys":"3"}}']);
  await s.kubectlOk(['apply', '-f', '-'], configMap('c1', 'default', { a: '1', b: '2', c: '3' }, { 'by-name': 'yes' }));
  assert.match(await s.kubectlFails(['apply', '-f', '-'], configMap('c1', 'default', { a: '1', b: '2', c: '3', d: '4' }, { 'by-name': 'yes' })), /at most 3 keys/);

  // Allow: without the param, the binding admits.
  await s.kubectlOk(['delete', 'configmap', 'limits']);
  await s.kubectlOk(['apply', '-f', '-'], binding('keys-at-most', { policyName: 'keys-at-most', validationActions: ['Deny'], matchResources: checked('by-name'), paramRef: { name: 'limits', namespace: 'default', parameterNotFoundAction: 'Allow' } }));
  await s.kubectlOk(['apply', '-f', '-'], configMap('c1', 'default', { a: '1', b: '2', c: '3', d: '4' }, { 'by-name': 'yes' }));
  // Without namespace, a namespaced param is looked up in the request's namespace.
  await s.kubectlOk(['create', 'namespace', 'team-a']);
  await s.kubectlOk(['apply', '-f', '-'], configMap('limits', 'team-a', { maxKeys: '1' }));
  await s.kubectlOk(['apply', '-f', '-'], binding('keys-at-most', { policyName: 'keys-at-most', validationActions: ['Deny'], matchResources: checked('by-name'), paramRef: { name: 'limits', parameterNotFoundAction: 'Deny' } }));
  assert.match(await s.kubectlFails(['apply', '-f', '-'], configMap('c2', 'team-a', { a: '1', b: '2' }, { 'by-name': 'yes' })), /at most 1 keys/);
  assert.match(await s.kubectlFails(['apply', '-f', '-'], configMap('c2', 'default', { a: '1' }, { 'by-name': 'yes' })), /no params found/);
});

test('params by selector: one evaluation per matching param', async () => {
  await s.kubectlOk(['apply', '-f', '-'], configMap('limit-loose', 'default', { maxKeys: '5' }, { role: 'key-limit' }));
  await s.kubectlOk(['apply', '-f', '-'], configMap('limit-strict', 'default', { maxKeys: '1' }, { role: 'key-limit' }));
  await s.kubectlOk(['apply', '-f', '-'], configMap('limit-stricter', 'default', { maxKeys: '0' }, { role: 'key-limit' }));
  await s.kubectlOk(['apply', '-f', '-'], binding('keys-by-selector', { policyName: 'keys-at-most', validationActions: ['Warn'], matchResources: checked('by-selector'), paramRef: { selector: { matchLabels: { role: 'key-limit' } }, namespace: 'default', parameterNotFoundAction: 'Deny' } }));
  const warned = await s.kubectl(['apply', '-f', '-'], configMap('c3', 'default', { a: '1', b: '2' }, { 'by-selector': 'yes' }));
  assert.equal(warned.code, 0, warned.stderr);
  const out = warned.stdout + warned.stderr;
  assert.match(out, /Warning: Validation failed for ValidatingAdmissionPolicy 'keys-at-most' with binding 'keys-by-selector': at most 1 keys \(limit-strict\)/);
  assert.match(out, /Warning: Validation failed for ValidatingAdmissionPolicy 'keys-at-most' with binding 'keys-by-selector': at most 0 keys \(limit-stricter\)/);
  assert.doesNotMatch(out, /limit-loose/);
});

test('a custom resource as the param kind; configuration errors follow failurePolicy', async () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'keylimits.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Cluster',
      names: { plural: 'keylimits', singular: 'keylimit', kind: 'KeyLimit' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { maxKeys: { type: 'integer' } } } } }],
    },
  };
  await s.kubectlOk(['apply', '-f', '-'], JSON.stringify(crd));
  await s.kubectlOk(['wait', '--for=condition=Established', 'crd/keylimits.example.com', '--timeout=60s']);
  const crdPolicy = {
    paramKind: { apiVersion: 'example.com/v1', kind: 'KeyLimit' },
    matchConstraints: configMapRules,
    validations: [{ expression: 'size(object.data) <= params.maxKeys', messageExpression: "'at most ' + string(params.maxKeys) + ' keys'" }],
  };
  await s.kubectlOk(['apply', '-f', '-'], policy('crd-keys', crdPolicy));
  await s.kubectlOk(['apply', '-f', '-'], binding('crd-keys', { policyName: 'crd-keys', validationActions: ['Deny'], matchResources: checked('by-crd'), paramRef: { name: 'cluster', parameterNotFoundAction: 'Deny' } }));
  await s.kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'example.com/v1', kind: 'KeyLimit', metadata: { name: 'cluster' }, maxKeys: 1 }));
  assert.match(await s.kubectlFails(['apply', '-f', '-'], configMap('c4', 'default', { a: '1', b: '2' }, { 'by-crd': 'yes' })), /ValidatingAdmissionPolicy 'crd-keys' with binding 'crd-keys' denied request: at most 1 keys/);
  await s.kubectlOk(['apply', '-f', '-'], configMap('c4', 'default', { a: '1' }, { 'by-crd': 'yes' }));

  // A namespace on the paramRef of a cluster-scoped kind is a configuration error.
  await s.kubectlOk(['apply', '-f', '-'], binding('crd-keys', { policyName: 'crd-keys', validationActions: ['Deny'], matchResources: checked('by-crd'), paramRef: { name: 'cluster', namespace: 'default', parameterNotFoundAction: 'Deny' } }));
  assert.match(await s.kubectlFails(['apply', '-f', '-'], configMap('c4', 'default', { a: '2' }, { 'by-crd': 'yes' })), /failed to configure binding: paramRef\.namespace must not be provided for a cluster-scoped `paramKind`/);

  // A paramKind nothing serves: the policy's configuration error (Fail denies, Ignore admits).
  await s.kubectlOk(['apply', '-f', '-'], policy('crd-keys', { ...crdPolicy, paramKind: { apiVersion: 'example.com/v1', kind: 'Nope' } }));
  const unserved = await s.kubectlFails(['apply', '-f', '-'], configMap('c4', 'default', { a: '3' }, { 'by-crd': 'yes' }));
  assert.match(unserved, /ValidatingAdmissionPolicy 'crd-keys' denied request: failed to configure policy: failed to find resource referenced by paramKind: 'example\.com\/v1, Kind=Nope'/);
  await s.kubectlOk(['apply', '-f', '-'], policy('crd-keys', { ...crdPolicy, paramKind: { apiVersion: 'example.com/v1', kind: 'Nope' }, failurePolicy: 'Ignore' }));
  await s.kubectlOk(['apply', '-f', '-'], configMap('c4', 'default', { a: '3' }, { 'by-crd': 'yes' }));
});
