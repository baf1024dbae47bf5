import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildServicePorts, cidrContains, endpointsForPolicy, slimEndpointSlice, slimService, usableEndpoints, type Endpoint } from '../../../src/proxy/model.js';
import { eps, svc } from './fixtures.js';

test('slimService keeps what the proxy needs and defaults the rest', () => {
  const s = slimService(
    svc('a', { type: 'LoadBalancer', clusterIP: '10.96.0.5', externalIPs: ['1.2.3.4', 'fd00::1'], sessionAffinity: 'ClientIP', ports: [{ name: 'x', port: 80, nodePort: 30001 }] }, { loadBalancer: { ingress: [{ ip: '172.18.255.3' }, { ip: '172.18.255.4', ipMode: 'Proxy' }, { hostname: 'lb.example' }] } }),
  );
  assert.equal(s.clusterIP, '10.96.0.5');
  assert.deepEqual(s.externalIPs, ['1.2.3.4'], 'IPv6 left out');
  assert.deepEqual(s.loadBalancerIPs, ['172.18.255.3'], 'only VIP-mode addresses');
  assert.equal(s.affinityTimeoutSeconds, 10800, 'default ClientIP timeout is 3 hours');
  assert.deepEqual(s.ports, [{ name: 'x', protocol: 'TCP', port: 80, nodePort: 30001 }]);
  assert.equal(s.externalTrafficPolicy, 'Cluster');
});

test('headless and ExternalName Services get no service ports', () => {
  assert.deepEqual(buildServicePorts(slimService(svc('h', { clusterIP: 'None', ports: [{ port: 80 }] })), [], 'n'), []);
  assert.deepEqual(buildServicePorts(slimService(svc('e', { type: 'ExternalName', externalName: 'x.example' })), [], 'n'), []);
});

test('slices join by port name and protocol; endpoints are deduplicated and sorted', () => {
  const s = slimService(svc('m', { clusterIP: '10.96.0.6', ports: [{ name: 'http', port: 80 }, { name: 'metrics', port: 9090 }] }));
  const a = slimEndpointSlice(eps('m', [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9100 }], [{ ip: '10.244.1.9' }, { ip: '10.244.1.10' }], 'm-1'))!;
  const b = slimEndpointSlice(eps('m', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.9' }, { ip: '10.244.2.1', node: 'other' }], 'm-2'))!;
  const ports = buildServicePorts(s, [a, b], 'node-a');
  assert.deepEqual(
    ports.map((p) => [p.key, p.endpoints.map((e) => `${e.ip}:${e.port}${e.local ? ' local' : ''}`)]),
    [
      ['default/m:http/TCP', ['10.244.1.9:8080 local', '10.244.1.10:8080 local', '10.244.2.1:8080']],
      ['default/m:metrics/TCP', ['10.244.1.9:9100 local', '10.244.1.10:9100 local']],
    ],
  );
});

test('slices without the service-name label or not IPv4 are ignored', () => {
  const noLabel = eps('x', [{ port: 80 }], [{ ip: '10.0.0.1' }]);
  delete noLabel.metadata.labels;
  assert.equal(slimEndpointSlice(noLabel), undefined);
  assert.equal(slimEndpointSlice({ ...eps('x', [{ port: 80 }], []), addressType: 'IPv6' }), undefined);
});

const ep = (ip: string, o: Partial<Endpoint> = {}): Endpoint => ({ ip, port: 80, ready: true, serving: true, terminating: false, local: true, ...o });

test('terminating endpoints serve only when nothing is ready', () => {
  const draining = ep('10.0.0.2', { ready: false, serving: true, terminating: true });
  const gone = ep('10.0.0.3', { ready: false, serving: false, terminating: true });
  assert.deepEqual(usableEndpoints([ep('10.0.0.1'), draining]).map((e) => e.ip), ['10.0.0.1']);
  assert.deepEqual(usableEndpoints([draining, gone]).map((e) => e.ip), ['10.0.0.2']);
  assert.deepEqual(usableEndpoints([gone, ep('10.0.0.4', { ready: false, serving: false })]), []);
});

test('Local policy keeps node-local endpoints, with the terminating fallback among them', () => {
  const list = [ep('10.0.0.1', { local: false }), ep('10.0.0.2', { ready: false, terminating: true })];
  assert.deepEqual(endpointsForPolicy(list, 'Cluster').map((e) => e.ip), ['10.0.0.1']);
  assert.deepEqual(endpointsForPolicy(list, 'Local').map((e) => e.ip), ['10.0.0.2']);
});

test('cidrContains', () => {
  assert.ok(cidrContains('10.244.0.0/16', '10.244.3.4'));
  assert.ok(!cidrContains('10.244.0.0/16', '10.245.0.1'));
  assert.ok(cidrContains('0.0.0.0/0', '1.2.3.4'));
  assert.ok(cidrContains('1.2.3.4', '1.2.3.4'));
});
