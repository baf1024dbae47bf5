// modelInputsChanged: which updates of a Gateway, route or GatewayClass the route model can see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../../src/api/types.js';
import { modelInputsChanged, SPEC_ONLY_FIELDS } from '../../../../src/gateway/model/inputs.js';

const route: KubeObject = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'web', namespace: 'default', uid: 'u1', generation: 1, resourceVersion: '10', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] },
};
const withMeta = (m: Partial<KubeObject['metadata']>): KubeObject => ({ ...route, metadata: { ...route.metadata, resourceVersion: '11', ...m } });

test('a status write, a label or an annotation is no change to the model', () => {
  assert.equal(modelInputsChanged(route, { ...route, metadata: { ...route.metadata, resourceVersion: '11' }, status: { parents: [] } }), false);
  assert.equal(modelInputsChanged(route, withMeta({ labels: { a: 'b' }, annotations: { x: 'y' } })), false);
  assert.equal(modelInputsChanged(route, { ...route, spec: JSON.parse(JSON.stringify(route.spec)) }), false, 'an equal spec in another object');
});

test('spec, generation, identity and deletion are changes', () => {
  assert.equal(modelInputsChanged(route, { ...route, spec: { ...(route.spec as object), hostnames: ['a.example.com'] } }), true);
  assert.equal(modelInputsChanged(route, withMeta({ generation: 2 })), true);
  assert.equal(modelInputsChanged(route, withMeta({ uid: 'u2' })), true, 'deleted and created again under the same name');
  assert.equal(modelInputsChanged(route, withMeta({ deletionTimestamp: '2026-01-02T00:00:00Z' })), true);
  assert.equal(modelInputsChanged(route, withMeta({ creationTimestamp: '2026-01-03T00:00:00Z' })), true, 'precedence reads the creation time');
});

test('only kinds read through their spec are filtered; Ingresses (annotations), Services and slices are not', () => {
  for (const f of ['gateways', 'httpRoutes', 'grpcRoutes', 'tlsRoutes', 'tcpRoutes', 'udpRoutes', 'gatewayClasses']) assert.ok(SPEC_ONLY_FIELDS.has(f), f);
  for (const f of ['ingresses', 'services', 'endpointSlices', 'secrets', 'namespaces', 'referenceGrants']) assert.ok(!SPEC_ONLY_FIELDS.has(f), f);
});
