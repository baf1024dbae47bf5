import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type RequestUser, allowed, forbiddenStatus, requestAttributes } from '../../../src/apiserver/authorize.js';

const proxy: RequestUser = { kind: 'gateway-proxy', username: 'system:serviceaccount:ns:gw' };
const admin: RequestUser = { kind: 'admin', username: 'admin' };
const q = (s = '') => new URLSearchParams(s);

test('request attributes as upstream describes them', () => {
  assert.deepEqual(requestAttributes('GET', '/api/v1/namespaces/default/pods', q()), { resourceRequest: true, verb: 'list', apiGroup: '', resource: 'pods', subresource: '', namespace: 'default', name: '' });
  assert.deepEqual(requestAttributes('GET', '/apis/gateway.networking.k8s.io/v1/gateways', q('watch=true')), { resourceRequest: true, verb: 'watch', apiGroup: 'gateway.networking.k8s.io', resource: 'gateways', subresource: '', namespace: '', name: '' });
  assert.deepEqual(requestAttributes('GET', '/api/v1/namespaces/kube-system', q()), { resourceRequest: true, verb: 'get', apiGroup: '', resource: 'namespaces', subresource: '', namespace: 'kube-system', name: 'kube-system' });
  assert.deepEqual(requestAttributes('PUT', '/api/v1/namespaces/x/finalize', q()), { resourceRequest: true, verb: 'update', apiGroup: '', resource: 'namespaces', subresource: 'finalize', namespace: 'x', name: 'x' });
  assert.deepEqual(requestAttributes('GET', '/api/v1/namespaces/d/pods/p/exec', q('command=sh')), { resourceRequest: true, verb: 'create', apiGroup: '', resource: 'pods', subresource: 'exec', namespace: 'd', name: 'p' });
  assert.deepEqual(requestAttributes('DELETE', '/api/v1/namespaces/d/services', q()), { resourceRequest: true, verb: 'deletecollection', apiGroup: '', resource: 'services', subresource: '', namespace: 'd', name: '' });
  assert.deepEqual(requestAttributes('GET', '/apis/gateway.networking.k8s.io/v1', q()), { resourceRequest: false, verb: 'get', path: '/apis/gateway.networking.k8s.io/v1' });
  assert.deepEqual(requestAttributes('HEAD', '/metrics', q()), { resourceRequest: false, verb: 'get', path: '/metrics' });
});

test('the proxy reads what the route model needs and nothing else', () => {
  const can = (method: string, path: string, query = '') => allowed(proxy, requestAttributes(method, path, q(query)));
  for (const path of [
    '/apis/gateway.networking.k8s.io/v1/gatewayclasses',
    '/apis/gateway.networking.k8s.io/v1/namespaces/ns/gateways/gw',
    '/apis/gateway.networking.k8s.io/v1/httproutes',
    '/apis/gateway.networking.k8s.io/v1/referencegrants',
    '/api/v1/services',
    '/api/v1/secrets',
    '/api/v1/namespaces',
    '/api/v1/namespaces/default/endpoints/kubernetes',
    '/apis/discovery.k8s.io/v1/endpointslices',
    '/apis/networking.k8s.io/v1/ingresses',
    '/apis/networking.k8s.io/v1/ingressclasses',
  ]) {
    assert.ok(can('GET', path), path);
    assert.ok(can('GET', path, 'watch=true'), `watch ${path}`);
  }
  for (const path of ['/api', '/apis', '/api/v1', '/apis/gateway.networking.k8s.io', '/apis/gateway.networking.k8s.io/v1', '/version', '/openapi/v3', '/openapi/v3/apis/apps/v1', '/healthz']) assert.ok(can('GET', path), path);
  assert.ok(!can('POST', '/api/v1/namespaces/default/pods'));
  assert.ok(!can('GET', '/api/v1/pods'), 'pods are not needed');
  assert.ok(!can('GET', '/api/v1/configmaps'));
  assert.ok(!can('DELETE', '/api/v1/namespaces/default/services/web'));
  assert.ok(!can('PATCH', '/apis/gateway.networking.k8s.io/v1/namespaces/ns/gateways/gw/status'));
  assert.ok(!can('GET', '/apis/gateway.networking.k8s.io/v1/namespaces/ns/gateways/gw/status'), 'no subresources');
  assert.ok(!can('GET', '/api/v1/namespaces/default/services/web/proxy'));
  assert.ok(!can('GET', '/api/v1/namespaces/default/pods/p/exec', 'command=sh'));
  assert.ok(!can('POST', '/api/v1/namespaces/default/pods/p/portforward'));
  assert.ok(!can('GET', '/metrics'));
  assert.ok(!can('POST', '/apis'));
  assert.ok(allowed(admin, requestAttributes('DELETE', '/api/v1/namespaces/default/pods/p', q())), 'the admin may do anything');
});

test('denials are worded as upstream words them', () => {
  const deny = (method: string, path: string) => forbiddenStatus(proxy, requestAttributes(method, path, q()));
  assert.deepEqual(deny('POST', '/api/v1/namespaces/default/pods'), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'pods is forbidden: User "system:serviceaccount:ns:gw" cannot create resource "pods" in API group "" in the namespace "default"',
    reason: 'Forbidden',
    details: { kind: 'pods' },
    code: 403,
  });
  assert.equal(deny('DELETE', '/api/v1/namespaces/default/services/web').message, 'services "web" is forbidden: User "system:serviceaccount:ns:gw" cannot delete resource "services" in API group "" in the namespace "default"');
  assert.equal(deny('GET', '/api/v1/namespaces/d/pods/p/exec').message, 'pods "p" is forbidden: User "system:serviceaccount:ns:gw" cannot create resource "pods/exec" in API group "" in the namespace "d"');
  const status = deny('PATCH', '/apis/gateway.networking.k8s.io/v1/gatewayclasses/c');
  assert.equal(status.message, 'gatewayclasses.gateway.networking.k8s.io "c" is forbidden: User "system:serviceaccount:ns:gw" cannot patch resource "gatewayclasses" in API group "gateway.networking.k8s.io" at the cluster scope');
  assert.deepEqual(status.details, { kind: 'gatewayclasses', name: 'c', group: 'gateway.networking.k8s.io' });
  assert.equal(deny('GET', '/metrics').message, 'forbidden: User "system:serviceaccount:ns:gw" cannot get path "/metrics"');
});
