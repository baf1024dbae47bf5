// Service type changes drop what only the old type needed, unless the user changed it too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropServiceTypeDependentFields, type ServiceLike } from '../../../src/api/validation/service-update.js';

const loadBalancer = (): ServiceLike => ({
  spec: {
    type: 'LoadBalancer',
    clusterIP: '10.96.0.7',
    clusterIPs: ['10.96.0.7'],
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
    ports: [{ port: 80, nodePort: 30080 }],
    externalTrafficPolicy: 'Local',
    healthCheckNodePort: 31000,
    allocateLoadBalancerNodePorts: true,
  },
  status: { loadBalancer: { ingress: [{ ip: '172.18.255.1' }] } },
});

test('LoadBalancer -> ClusterIP drops node ports, health check port, LB fields and the LB status', () => {
  const next = loadBalancer();
  next.spec!.type = 'ClusterIP';
  dropServiceTypeDependentFields(next, loadBalancer());
  assert.deepEqual(next.spec, { type: 'ClusterIP', clusterIP: '10.96.0.7', clusterIPs: ['10.96.0.7'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ port: 80 }] });
  assert.deepEqual(next.status, { loadBalancer: {} });
});

test('LoadBalancer -> NodePort keeps node ports, drops the health check port and the LB-only fields', () => {
  const next = loadBalancer();
  next.spec!.type = 'NodePort';
  dropServiceTypeDependentFields(next, loadBalancer());
  assert.equal(next.spec!.ports![0].nodePort, 30080);
  assert.equal(next.spec!.externalTrafficPolicy, 'Local');
  assert.equal(next.spec!.healthCheckNodePort, undefined);
  assert.equal(next.spec!.allocateLoadBalancerNodePorts, undefined);
});

test('a field the user changed with the type is kept (validation judges it)', () => {
  const next = loadBalancer();
  next.spec!.type = 'ClusterIP';
  next.spec!.ports = [{ port: 80, nodePort: 30099 }];
  next.spec!.externalTrafficPolicy = 'Cluster';
  dropServiceTypeDependentFields(next, loadBalancer());
  assert.equal(next.spec!.ports![0].nodePort, 30099);
  assert.equal(next.spec!.externalTrafficPolicy, 'Cluster');
});

test('ClusterIP -> ExternalName drops the cluster IPs and families', () => {
  const old: ServiceLike = { spec: { type: 'ClusterIP', clusterIP: '10.96.0.9', clusterIPs: ['10.96.0.9'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ port: 80 }] } };
  const next: ServiceLike = JSON.parse(JSON.stringify(old));
  next.spec!.type = 'ExternalName';
  next.spec!.externalName = 'example.com';
  dropServiceTypeDependentFields(next, old);
  assert.deepEqual(next.spec, { type: 'ExternalName', externalName: 'example.com', ports: [{ port: 80 }] });
});

test('no type change, nothing dropped', () => {
  const next = loadBalancer();
  dropServiceTypeDependentFields(next, loadBalancer());
  assert.deepEqual(next, loadBalancer());
});
