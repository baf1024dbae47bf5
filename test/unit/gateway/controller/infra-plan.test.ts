// What the gateway controller provisions for a Gateway and for the Ingress proxy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../../src/api/types.js';
import { gatewayProxyObjects, ingressProxyObjects, listenerPorts, proxyObjectUpdate } from '../../../../src/gateway/controller/infra-plan.js';
import { fitLabel, provisionedName, SPEC_HASH_ANNOTATION } from '../../../../src/gateway/controller/names.js';

const api = { host: '10.96.0.1', port: 443 };

function gateway(listeners: { name: string; port: number; protocol: string }[], extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'web', namespace: 'shop', uid: 'uid-1' },
    spec: { gatewayClassName: 'flatnet', listeners, ...extra },
  };
}

test('names follow <gateway>-<class>, cut with a hash beyond 63 characters', () => {
  assert.equal(provisionedName('web', 'flatnet'), 'web-flatnet');
  const long = provisionedName('a'.repeat(60), 'flatnet');
  assert.equal(long.length, 63);
  assert.match(long, /^a{54}-[0-9a-f]{8}$/);
  assert.notEqual(provisionedName('a'.repeat(60), 'flatnet2'), long);
  assert.equal(fitLabel('short'), 'short');
});

test('one Service port per distinct listener (port, protocol): UDP stays UDP, the rest is TCP', () => {
  const ports = listenerPorts(
    gateway([
      { name: 'http', port: 80, protocol: 'HTTP' },
      { name: 'http-2', port: 80, protocol: 'HTTP' },
      { name: 'https', port: 443, protocol: 'HTTPS' },
      { name: 'tls', port: 443, protocol: 'TLS' },
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
    ]),
  );
  assert.deepEqual(ports, [
    { name: 'tcp-53', port: 53, protocol: 'TCP' },
    { name: 'udp-53', port: 53, protocol: 'UDP' },
    { name: 'tcp-80', port: 80, protocol: 'TCP' },
    { name: 'tcp-443', port: 443, protocol: 'TCP' },
  ]);
});

test("a Gateway's Deployment, Service and Secret name, labels, owner, args, env, probe and ports", () => {
  const p = gatewayProxyObjects(gateway([{ name: 'http', port: 80, protocol: 'HTTP' }], { infrastructure: { labels: { team: 'a' } } }), 'flatnet', api);
  assert.equal(p.name, 'web-flatnet');
  assert.equal(p.secretName, 'web-flatnet-proxy-token');
  const d = p.deployment as any;
  assert.deepEqual(d.metadata.ownerReferences, [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: 'web', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
  assert.equal(d.metadata.labels['gateway.networking.k8s.io/gateway-name'], 'web');
  assert.equal(d.metadata.labels['app.kubernetes.io/managed-by'], 'flatnet');
  assert.equal(d.metadata.labels.team, 'a');
  const c = d.spec.template.spec.containers[0];
  assert.equal(c.image, 'flatnet/gateway');
  assert.deepEqual(c.args, ['--gateway', 'shop/web']);
  assert.deepEqual(c.env.slice(0, 2), [
    { name: 'FLATNET_PROXY_TOKEN', valueFrom: { secretKeyRef: { name: 'web-flatnet-proxy-token', key: 'token' } } },
    { name: 'FLATNET_PROXY_CA', valueFrom: { secretKeyRef: { name: 'web-flatnet-proxy-token', key: 'ca.crt' } } },
  ]);
  assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 15021 });
  assert.deepEqual(c.ports.map((x: any) => x.containerPort), [80, 15021]);
  const s = p.service as any;
  assert.equal(s.spec.type, 'LoadBalancer');
  assert.deepEqual(s.spec.selector, d.spec.selector.matchLabels);
  for (const [k, v] of Object.entries(s.spec.selector)) assert.equal(d.spec.template.metadata.labels[k], v);
  assert.deepEqual(s.spec.ports, [{ name: 'tcp-80', port: 80, targetPort: 80, protocol: 'TCP' }]);
});

test('the ingress proxy lives in flatnet-system on 80 and 443', () => {
  const p = ingressProxyObjects(api);
  assert.equal(`${p.namespace}/${p.name}`, 'flatnet-system/flatnet-ingress');
  assert.deepEqual((p.deployment as any).spec.template.spec.containers[0].args, ['--ingress']);
  assert.deepEqual((p.service as any).spec.ports.map((x: any) => x.port), [80, 443]);
  assert.equal(p.deployment.metadata.ownerReferences, undefined);
});

test('a Service update keeps allocated fields and node ports of the ports that stay; unchanged -> no update', () => {
  const before = gatewayProxyObjects(gateway([{ name: 'http', port: 80, protocol: 'HTTP' }]), 'flatnet', api).service;
  const stored: KubeObject = {
    ...before,
    metadata: { ...before.metadata, uid: 'svc-uid', resourceVersion: '7' },
    spec: { ...(before.spec as object), clusterIP: '10.96.3.4', clusterIPs: ['10.96.3.4'], ports: [{ name: 'tcp-80', port: 80, targetPort: 80, protocol: 'TCP', nodePort: 31000 }] },
    status: { loadBalancer: { ingress: [{ ip: '172.18.255.1' }] } },
  };
  assert.equal(proxyObjectUpdate(stored, before), undefined);
  const after = gatewayProxyObjects(gateway([{ name: 'http', port: 80, protocol: 'HTTP' }, { name: 'dns', port: 53, protocol: 'UDP' }]), 'flatnet', api).service;
  assert.notEqual(after.metadata.annotations![SPEC_HASH_ANNOTATION], before.metadata.annotations![SPEC_HASH_ANNOTATION]);
  const next = proxyObjectUpdate(stored, after)! as any;
  assert.equal(next.metadata.uid, 'svc-uid');
  assert.equal(next.metadata.resourceVersion, '7');
  assert.equal(next.spec.clusterIP, '10.96.3.4');
  assert.deepEqual(next.spec.ports, [
    { name: 'udp-53', port: 53, targetPort: 53, protocol: 'UDP' },
    { name: 'tcp-80', port: 80, targetPort: 80, protocol: 'TCP', nodePort: 31000 },
  ]);
  assert.equal(next.metadata.annotations[SPEC_HASH_ANNOTATION], after.metadata.annotations![SPEC_HASH_ANNOTATION]);
});

test('spec.addresses of type IPAddress asks the Service for that LoadBalancer address', () => {
  const p = gatewayProxyObjects(gateway([{ name: 'http', port: 80, protocol: 'HTTP' }], { addresses: [{ type: 'IPAddress', value: '172.18.255.7' }] }), 'flatnet', api);
  assert.equal((p.service.spec as any).loadBalancerIP, '172.18.255.7');
});
