import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceAllocator } from '../../../src/apiserver/service-allocation.js';
import type { KubeObject } from '../../../src/api/types.js';

function svc(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }], ...spec } };
}
const spec = (o: KubeObject) => o.spec as Record<string, any>;
const fresh = () => new ServiceAllocator({ serviceCIDR: '10.96.0.0/16', nodePortRange: '30000-32767' });

test('dynamic cluster IPs skip .0, .1 (kubernetes) and .10 (kube-dns)', () => {
  const a = fresh();
  const got: string[] = [];
  for (let i = 0; i < 12; i++) {
    const s = svc(`s${i}`, {});
    assert.deepEqual(a.allocate(s), []);
    got.push(spec(s).clusterIP);
    assert.deepEqual(spec(s).clusterIPs, [spec(s).clusterIP]);
  }
  assert.ok(!got.includes('10.96.0.1'));
  assert.ok(!got.includes('10.96.0.10'));
  assert.ok(!got.includes('10.96.0.0'));
  assert.equal(new Set(got).size, 12);
  assert.deepEqual(spec(svc('x', {})).ipFamilies, undefined);
});

test('requested .1 and .10 are allowed; a taken IP is refused with upstream wording', () => {
  const a = fresh();
  const k = svc('kubernetes', { clusterIP: '10.96.0.1' });
  assert.deepEqual(a.allocate(k), []);
  const dns = svc('kube-dns', { clusterIP: '10.96.0.10' });
  assert.deepEqual(a.allocate(dns), []);
  assert.equal(spec(dns).clusterIP, '10.96.0.10');
  const five = svc('five', { clusterIP: '10.96.0.5' });
  assert.deepEqual(a.allocate(five), []);
  const again = svc('again', { clusterIPs: ['10.96.0.5'] });
  assert.deepEqual(a.allocate(again), [
    {
      type: 'FieldValueInvalid',
      field: 'spec.clusterIPs',
      message: 'Invalid value: []string{"10.96.0.5"}: failed to allocate IP 10.96.0.5: provided IP is already allocated',
    },
  ]);
  const outside = svc('outside', { clusterIP: '10.97.0.5' });
  const errs = a.allocate(outside);
  assert.equal(errs.length, 1);
  assert.match(errs[0]!.message, /the provided IP \(10\.97\.0\.5\) is not in the valid range\. The range of valid IPs is 10\.96\.0\.0\/16/);
});

test('headless gets None, ExternalName gets no IP', () => {
  const a = fresh();
  const h = svc('h', { clusterIP: 'None' });
  assert.deepEqual(a.allocate(h), []);
  assert.equal(spec(h).clusterIP, 'None');
  assert.deepEqual(spec(h).clusterIPs, ['None']);
  const e = svc('e', { type: 'ExternalName', externalName: 'example.com' });
  assert.deepEqual(a.allocate(e), []);
  assert.equal(spec(e).clusterIP, undefined);
});

test('release frees the IP for a later request', () => {
  const a = fresh();
  const s = svc('a', { clusterIP: '10.96.3.3' });
  a.allocate(s);
  assert.equal(a.allocate(svc('b', { clusterIP: '10.96.3.3' })).length, 1);
  a.release(s);
  assert.deepEqual(a.allocate(svc('b', { clusterIP: '10.96.3.3' })), []);
});

test('load marks existing allocations', () => {
  const a = fresh();
  a.load([svc('a', { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })]);
  assert.equal(a.allocate(svc('b', { clusterIP: '10.96.0.20' })).length, 1);
  const errs = a.allocate(svc('c', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }));
  assert.deepEqual(errs, [{ type: 'FieldValueInvalid', field: 'spec.ports[0].nodePort', message: 'Invalid value: 30080: provided port is already allocated' }]);
});

test('node ports: dynamic, requested, out of range, shared across protocols', () => {
  const a = fresh();
  const np = svc('np', { type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81, nodePort: 30081 }] });
  assert.deepEqual(a.allocate(np), []);
  const ports = spec(np).ports;
  assert.equal(ports[1].nodePort, 30081);
  assert.ok(ports[0].nodePort >= 30000 && ports[0].nodePort <= 32767 && ports[0].nodePort !== 30081);
  const bad = svc('bad', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] });
  assert.deepEqual(a.allocate(bad), [
    { type: 'FieldValueInvalid', field: 'spec.ports[0].nodePort', message: 'Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767' },
  ]);
  const dns = svc('dns', { type: 'NodePort', ports: [{ name: 'udp', port: 53, protocol: 'UDP' }, { name: 'tcp', port: 53, protocol: 'TCP' }] });
  assert.deepEqual(a.allocate(dns), []);
  assert.equal(spec(dns).ports[0].nodePort, spec(dns).ports[1].nodePort);
});

test('a failed allocation changes nothing', () => {
  const a = fresh();
  a.allocate(svc('taken', { type: 'NodePort', ports: [{ port: 80, nodePort: 30100 }] }));
  const s = svc('s', { clusterIP: '10.96.0.50', type: 'NodePort', ports: [{ port: 80, nodePort: 30200 }, { port: 81, nodePort: 30100 }] });
  assert.equal(a.allocate(s).length, 1);
  assert.deepEqual(a.allocate(svc('t', { clusterIP: '10.96.0.50', type: 'NodePort', ports: [{ port: 80, nodePort: 30200 }] })), []);
});

test('dry run fills values and records nothing', () => {
  const a = fresh();
  const s = svc('s', { clusterIP: '10.96.0.50' });
  assert.deepEqual(a.allocate(s, undefined, { dryRun: true }), []);
  assert.deepEqual(a.allocate(svc('t', { clusterIP: '10.96.0.50' })), []);
});

test('healthCheckNodePort for LoadBalancer with externalTrafficPolicy Local', () => {
  const a = fresh();
  const lb = svc('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
  assert.deepEqual(a.allocate(lb), []);
  assert.ok(spec(lb).healthCheckNodePort >= 30000);
  assert.notEqual(spec(lb).healthCheckNodePort, spec(lb).ports[0].nodePort);
  const cl = svc('cl', { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' });
  a.allocate(cl);
  assert.equal(spec(cl).healthCheckNodePort, undefined);
  const noPorts = svc('np', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false });
  a.allocate(noPorts);
  assert.equal(spec(noPorts).ports[0].nodePort, undefined);
});

test('update keeps allocations, releases removed ports, and NodePort -> ClusterIP drops node ports', () => {
  const a = fresh();
  const v1 = svc('s', { type: 'NodePort', ports: [{ name: 'a', port: 80, protocol: 'TCP' }, { name: 'b', port: 81, protocol: 'TCP' }] });
  a.allocate(v1);
  const [p80, p81] = spec(v1).ports.map((p: any) => p.nodePort);
  const ip = spec(v1).clusterIP;
  // The user re-applies without clusterIP/nodePorts and drops port 81.
  const v2 = svc('s', { type: 'NodePort', ports: [{ name: 'a', port: 80, protocol: 'TCP' }] });
  assert.deepEqual(a.allocate(v2, v1), []);
  assert.equal(spec(v2).clusterIP, ip);
  assert.equal(spec(v2).ports[0].nodePort, p80);
  assert.deepEqual(a.allocate(svc('other', { type: 'NodePort', ports: [{ port: 1, nodePort: p81 }] })), []);
  const v3 = svc('s', { type: 'ClusterIP', clusterIP: ip, ports: [{ name: 'a', port: 80, protocol: 'TCP', nodePort: p80 }] });
  assert.deepEqual(a.allocate(v3, v2), []);
  assert.equal(spec(v3).ports[0].nodePort, undefined);
  assert.deepEqual(a.allocate(svc('again', { type: 'NodePort', ports: [{ port: 1, nodePort: p80 }] })), []);
  // Requesting the IP it already holds is fine on update.
  const v4 = svc('s', { clusterIP: ip });
  assert.deepEqual(a.allocate(v4, v3), []);
  // Changing to ExternalName frees the IP.
  const v5 = svc('s', { type: 'ExternalName', externalName: 'x.example' });
  assert.deepEqual(a.allocate(v5, v4), []);
  assert.deepEqual(a.allocate(svc('t', { clusterIP: ip })), []);
});

test('a full range answers an error', () => {
  const a = new ServiceAllocator({ serviceCIDR: '10.96.0.0/28', nodePortRange: '30000-30001' });
  const made: string[] = [];
  // 16 addresses minus network, broadcast, .1 and .10.
  for (let i = 0; i < 12; i++) {
    const s = svc(`s${i}`, {});
    assert.deepEqual(a.allocate(s), [], `service ${i}`);
    made.push(spec(s).clusterIP);
  }
  assert.equal(a.allocate(svc('full', {})).length, 1);
  assert.ok(!made.includes('10.96.0.15'));
  assert.deepEqual(a.allocate(svc('n1', { type: 'NodePort', clusterIP: 'None' })), []);
  assert.deepEqual(a.allocate(svc('n2', { type: 'NodePort', clusterIP: 'None' })), []);
  assert.match(a.allocate(svc('n3', { type: 'NodePort', clusterIP: 'None' }))[0]!.message, /range is full/);
});

test('bad configuration is refused with a clear error', () => {
  assert.throws(() => new ServiceAllocator({ serviceCIDR: '10.96.0.0', nodePortRange: '30000-32767' }), /invalid CIDR/);
  assert.throws(() => new ServiceAllocator({ serviceCIDR: '10.96.0.0/16', nodePortRange: '32767-30000' }), /invalid node port range/);
});
