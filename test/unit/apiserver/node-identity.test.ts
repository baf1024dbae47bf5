// The pure parts of node identity: bootstrap token checks, the CSR approval decision, the Node
// authorizer's rules, and the proxy path check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/api/types.js';
import { bootstrapTokenSecret, bootstrapTokenUser, parseToken } from '../../../src/apiserver/node-identity/bootstrap-token.js';
import { decideCsr } from '../../../src/apiserver/node-identity/csr-decision.js';
import { authorizeBootstrap, authorizeNode, nodeNameOf, type NodeGraph } from '../../../src/apiserver/node-identity/node-authorizer.js';
import { createCertificateRequest, newEcdsaKey } from '../../../src/apiserver/node-identity/pki.js';
import { parseTtl } from '../../../src/apiserver/node-identity/join.js';
import { checkProxyPath, kubeletEndpoint } from '../../../src/apiserver/proxy.js';
import { ApiStatusError } from '../../../src/apiserver/errors.js';
import { requestAttributes, type RequestAttributes } from '../../../src/apiserver/authorize.js';

test('bootstrap tokens: format, secret match, expiration, usage', () => {
  assert.equal(parseToken('abcdef.0123456789abcdef')?.id, 'abcdef');
  for (const bad of ['abcdef0123456789abcdef', 'ABCDEF.0123456789abcdef', 'abcde.0123456789abcdef', 'abcdef.0123456789abcde']) assert.equal(parseToken(bad), undefined, bad);
  const t = { id: 'abcdef', secret: '0123456789abcdef' };
  const now = new Date('2026-01-01T00:00:00Z');
  const secret = bootstrapTokenSecret(t, { ttlSeconds: 3600, now });
  assert.equal(secret.metadata.name, 'bootstrap-token-abcdef');
  const user = bootstrapTokenUser(t, secret, new Date(now.getTime() + 1000));
  assert.equal(user?.username, 'system:bootstrap:abcdef');
  assert.deepEqual(user?.groups, ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated']);
  assert.equal(bootstrapTokenUser(t, secret, new Date(now.getTime() + 3601_000)), undefined, 'expired');
  assert.equal(bootstrapTokenUser({ ...t, secret: 'ffffffffffffffff' }, secret, now), undefined, 'wrong secret');
  const noAuth = { ...secret, data: { ...(secret as unknown as { data: Record<string, string> }).data, 'usage-bootstrap-authentication': Buffer.from('false').toString('base64') } } as KubeObject;
  assert.equal(bootstrapTokenUser(t, noAuth, now), undefined, 'not for authentication');
  assert.equal(bootstrapTokenUser(t, { ...secret, type: 'Opaque' } as KubeObject, now), undefined, 'wrong Secret type');
  assert.throws(() => bootstrapTokenSecret(t, { ttlSeconds: 0, groups: ['system:masters'] }), /must start with system:bootstrappers:/);
  assert.equal(parseTtl('24h'), 86400);
  assert.equal(parseTtl('1h30m'), 5400);
  assert.equal(parseTtl('0'), 0);
  assert.throws(() => parseTtl('1d'), /not a duration/);
});

const key = newEcdsaKey();
function csr(signerName: string, cn: string, orgs: string[], usages: string[], requestor: { username: string; groups: string[] }, names = {}): KubeObject {
  const request = Buffer.from(createCertificateRequest(key, cn, orgs, names)).toString('base64');
  return { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'x' }, spec: { request, signerName, usages, ...requestor } };
}
const CLIENT = 'kubernetes.io/kube-apiserver-client-kubelet';
const SERVING = 'kubernetes.io/kubelet-serving';
const clientUsages = ['digital signature', 'key encipherment', 'client auth'];
const servingUsages = ['digital signature', 'key encipherment', 'server auth'];
const bootstrapper = { username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] };
const node1 = { username: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };

test('CSR decisions: what csrapproving would approve, what csrsigning refuses, what it leaves alone', () => {
  assert.equal(decideCsr(csr(CLIENT, 'system:node:n1', ['system:nodes'], clientUsages, bootstrapper)).action, 'sign');
  assert.equal(decideCsr(csr(CLIENT, 'system:node:n1', ['system:nodes'], clientUsages, node1)).action, 'sign', 'renewal by the node itself');
  assert.equal(decideCsr(csr(CLIENT, 'system:node:n2', ['system:nodes'], clientUsages, node1)).action, 'ignore', 'a node asking for another node');
  assert.equal(decideCsr(csr(CLIENT, 'system:node:n1', ['system:nodes'], clientUsages, { username: 'alice', groups: [] })).action, 'ignore');
  const masters = decideCsr(csr(CLIENT, 'system:node:n1', ['system:masters'], clientUsages, bootstrapper));
  assert.equal(masters.action, 'fail');
  assert.equal(decideCsr(csr(CLIENT, 'admin', ['system:nodes'], clientUsages, bootstrapper)).action, 'fail');
  assert.equal(decideCsr(csr(CLIENT, 'system:node:n1', ['system:nodes'], [...clientUsages, 'server auth'], bootstrapper)).action, 'fail');
  assert.equal(decideCsr(csr(CLIENT, 'system:node:n1', ['system:nodes'], clientUsages, bootstrapper, { ips: ['10.0.0.1'] })).action, 'fail');
  // Usages as upstream's ValidateKubeletClientCSR: exactly these, "key encipherment" optional (the kubelet leaves it out for ECDSA keys).
  assert.equal(decideCsr(csr(CLIENT, 'system:node:n1', ['system:nodes'], ['client auth', 'digital signature'], node1)).action, 'sign');
  for (const usages of [['client auth'], ['key encipherment', 'client auth'], ['digital signature', 'client auth', 'client auth']]) {
    const refused = decideCsr(csr(CLIENT, 'system:node:n1', ['system:nodes'], usages, node1));
    assert.equal(refused.action === 'fail' && refused.message, `spec.usages must be "digital signature" and "client auth", with or without "key encipherment" (got ${JSON.stringify(usages)})`);
  }
  assert.equal(decideCsr(csr(SERVING, 'system:node:n1', ['system:nodes'], ['digital signature', 'server auth'], node1, { ips: ['10.0.0.1'] })).action, 'sign');
  assert.equal(decideCsr(csr(SERVING, 'system:node:n1', ['system:nodes'], ['server auth'], node1, { ips: ['10.0.0.1'] })).action, 'fail');
  assert.equal(decideCsr(csr(SERVING, 'system:node:n1', ['system:nodes'], servingUsages, node1, { ips: ['10.0.0.1'] })).action, 'sign');
  assert.equal(decideCsr(csr(SERVING, 'system:node:n1', ['system:nodes'], servingUsages, bootstrapper, { ips: ['10.0.0.1'] })).action, 'ignore', 'a bootstrap token gets no serving certificate');
  assert.equal(decideCsr(csr(SERVING, 'system:node:n2', ['system:nodes'], servingUsages, node1, { ips: ['10.0.0.1'] })).action, 'ignore');
  assert.equal(decideCsr(csr(SERVING, 'system:node:n1', ['system:nodes'], servingUsages, node1)).action, 'fail', 'no names');
  assert.equal(decideCsr(csr('example.com/other', 'system:node:n1', ['system:nodes'], clientUsages, bootstrapper)).action, 'ignore');
  const expiring = csr(CLIENT, 'system:node:n1', ['system:nodes'], clientUsages, bootstrapper);
  (expiring.spec as { expirationSeconds: number }).expirationSeconds = 3600;
  const d = decideCsr(expiring, new Date(0));
  assert.equal(d.action === 'sign' && d.notAfter.getTime(), 3600_000);
  const done = { ...expiring, status: { certificate: 'x' } };
  assert.equal(decideCsr(done).action, 'ignore', 'a signed request is not signed again');
});

const pods: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'ns' }, spec: { nodeName: 'n1', volumes: [{ name: 'v', secret: { secretName: 's-vol' } }, { name: 'p', persistentVolumeClaim: { claimName: 'claim' } }], containers: [{ name: 'c', envFrom: [{ configMapRef: { name: 'cm' } }] }], serviceAccountName: 'sa' } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b', namespace: 'ns' }, spec: { nodeName: 'n2', containers: [{ name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's-other', key: 'k' } } }] }] } },
];
const graph: NodeGraph = {
  pod: (ns, name) => pods.find((p) => p.metadata.namespace === ns && p.metadata.name === name),
  podsOn: (node) => pods.filter((p) => (p.spec as { nodeName?: string }).nodeName === node),
};
const req = (verb: string, resource: string, name = '', namespace = '', subresource = '', apiGroup = ''): RequestAttributes => ({ resourceRequest: true, verb, apiGroup, resource, subresource, namespace, name });

test('the Node authorizer: own objects, referenced objects, the agent\'s reads; nothing else', () => {
  assert.equal(nodeNameOf({ username: 'system:node:n1', groups: ['system:nodes'] }), 'n1');
  assert.equal(nodeNameOf({ username: 'system:node:n1', groups: [] }), undefined, 'the group is needed too');
  const allow = (a: RequestAttributes) => authorizeNode('n1', a, graph) === 'allow';
  assert.ok(allow(req('patch', 'nodes', 'n1', '', 'status')));
  assert.ok(!allow(req('patch', 'nodes', 'n2', '', 'status')));
  assert.ok(!allow(req('update', 'nodes', 'n2')));
  assert.ok(allow(req('watch', 'nodes')));
  assert.ok(allow(req('get', 'leases', 'n1', 'kube-node-lease', '', 'coordination.k8s.io')));
  assert.ok(!allow(req('get', 'leases', 'n2', 'kube-node-lease', '', 'coordination.k8s.io')));
  assert.ok(!allow(req('get', 'leases', 'n1', 'default', '', 'coordination.k8s.io')));
  assert.ok(allow(req('get', 'secrets', 's-vol', 'ns')));
  assert.ok(!allow(req('get', 'secrets', 's-other', 'ns')), 'a secret of a pod on n2');
  assert.ok(!allow(req('list', 'secrets', '', 'ns')));
  assert.ok(allow(req('get', 'configmaps', 'cm', 'ns')));
  assert.ok(allow(req('get', 'persistentvolumeclaims', 'claim', 'ns')));
  assert.ok(allow(req('create', 'serviceaccounts', 'sa', 'ns', 'token')));
  assert.ok(!allow(req('create', 'serviceaccounts', 'default', 'ns', 'token')));
  assert.ok(allow(req('patch', 'pods', 'a', 'ns', 'status')));
  assert.ok(!allow(req('patch', 'pods', 'b', 'ns', 'status')));
  assert.ok(allow(req('delete', 'pods', 'a', 'ns')));
  assert.ok(!allow(req('delete', 'pods', 'b', 'ns')));
  assert.ok(!allow(req('create', 'pods', '', 'ns')));
  assert.ok(!allow(req('delete', 'services', 'web', 'ns')));
  assert.ok(allow(req('watch', 'services')));
  assert.ok(allow(req('list', 'endpointslices', '', '', '', 'discovery.k8s.io')));
  assert.ok(allow(req('watch', 'networkpolicies', '', '', '', 'networking.k8s.io')));
  assert.ok(!allow(req('create', 'networkpolicies', '', 'ns', '', 'networking.k8s.io')));
  assert.ok(!allow(req('get', 'pods', 'a', 'ns', 'exec')));
  assert.ok(!allow(req('list', 'clusterroles', '', '', '', 'rbac.authorization.k8s.io')));
  assert.equal(authorizeBootstrap(req('create', 'certificatesigningrequests', '', '', '', 'certificates.k8s.io')), 'allow');
  assert.equal(authorizeBootstrap(req('list', 'pods')), 'no-opinion');
  assert.equal(authorizeBootstrap(req('update', 'certificatesigningrequests', 'x', '', 'approval', 'certificates.k8s.io')), 'no-opinion');
});

test('the Node authorizer: a referenced Secret or ConfigMap may be listed and watched by name, nothing wider', () => {
  const allow = (a: RequestAttributes) => authorizeNode('n1', a, graph) === 'allow';
  // The name of a list or watch comes from fieldSelector=metadata.name=<name> (requestAttributes).
  const byName = (verb: string, selector: string, ns = 'ns', resource = 'configmaps') => requestAttributes('GET', `/api/v1/namespaces/${ns}/${resource}`, new URLSearchParams({ ...(verb === 'watch' ? { watch: 'true' } : {}), fieldSelector: selector }));
  assert.ok(allow(byName('watch', 'metadata.name=cm')));
  assert.ok(allow(byName('list', 'metadata.name==cm')));
  assert.ok(allow(byName('watch', 'metadata.name=s-vol', 'ns', 'secrets')));
  assert.ok(!allow(byName('watch', 'metadata.name=s-other', 'ns', 'secrets')), 'a secret of a pod on n2');
  assert.ok(!allow(byName('watch', 'metadata.name=other')), 'a ConfigMap no pod of n1 refers to');
  assert.ok(!allow(byName('watch', 'metadata.name=cm', 'elsewhere')), 'the same name in another namespace');
  assert.ok(!allow(byName('watch', 'metadata.name!=cm')), 'a negated selector names nothing');
  assert.ok(!allow(byName('list', 'metadata.namespace=ns')));
  assert.ok(!allow(requestAttributes('GET', '/api/v1/namespaces/ns/configmaps', new URLSearchParams({ watch: 'true' }))));
  assert.ok(!allow(requestAttributes('GET', '/api/v1/configmaps', new URLSearchParams({ watch: 'true', fieldSelector: 'metadata.name=cm' }))), 'across namespaces');
  assert.ok(!allow(req('delete', 'configmaps', 'cm', 'ns')));
  assert.ok(!allow(req('update', 'configmaps', 'cm', 'ns')));
  assert.ok(!allow(req('list', 'persistentvolumeclaims', 'claim', 'ns')), 'claims stay get-only');
});

test('proxy paths: every spelling of a dot segment or an encoded separator is refused', () => {
  const refused = (p: string) => {
    try {
      checkProxyPath(p);
      return false;
    } catch (err) {
      assert.ok(err instanceof ApiStatusError && err.code === 400);
      return true;
    }
  };
  for (const p of ['/a/../b', '/a/./b', '/a/%2e%2e/b', '/a/%2E./b', '/a/.%2e/b', '/a%2fb', '/a%2Fb', '/a%5cb', '/a\\b', '/a/%252e%252e/b', '/a/%25252f', '/a%00', '/a/%zz', '..']) assert.ok(refused(p), p);
  for (const p of ['/api/v1/namespaces/default/pods/web.1/log?x=../..', '/api/v1/nodes/n1/proxy/metrics', '/a/...', '/a/.hidden', '/a/%41']) assert.ok(!refused(p), p);
});

test('the kubelet endpoint comes from the node status only', () => {
  const node = (metadata: object, status: object) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', ...metadata }, status }) as KubeObject;
  assert.equal(kubeletEndpoint(node({ annotations: { 'flatnet.dev/kubelet-endpoint': '10.0.0.9:1' } }, {})), undefined);
  assert.deepEqual(kubeletEndpoint(node({}, { addresses: [{ type: 'Hostname', address: 'n' }, { type: 'InternalIP', address: '10.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 10250 } } })), { host: '10.0.0.1', port: 10250 });
  assert.deepEqual(kubeletEndpoint(node({}, { addresses: [{ type: 'ExternalIP', address: '192.0.2.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 10250 } } })), { host: '192.0.2.1', port: 10250 });
  assert.equal(kubeletEndpoint(node({}, { addresses: [{ type: 'InternalIP', address: 'evil.example' }], daemonEndpoints: { kubeletEndpoint: { Port: 10250 } } })), undefined);
  assert.equal(kubeletEndpoint(node({}, { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 0 } } })), undefined);
});
