import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceChangeTracker } from '../../../src/proxy/change-tracker.js';
import { staleUdpFlows } from '../../../src/proxy/conntrack.js';
import { healthResponse, healthTargets } from '../../../src/proxy/healthcheck.js';
import { eps, svc } from './fixtures.js';

const dns = svc('dns', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }, { name: 'tcp', port: 53, protocol: 'TCP' }] });
const slice = (ips: string[]) =>
  eps('dns', [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'tcp', port: 5353 }], ips.map((ip) => ({ ip })));

test('a removed UDP endpoint has its flows deleted; TCP is never touched', () => {
  const t = new ServiceChangeTracker('node-a');
  t.serviceUpdated(dns);
  t.sliceUpdated(slice(['10.244.1.2', '10.244.1.3']));
  const before = t.servicePorts('default/dns');
  t.sliceUpdated(slice(['10.244.1.3']));
  const after = t.servicePorts('default/dns');
  assert.deepEqual(
    staleUdpFlows(before, after).map((f) => f.args.join(' ')),
    ['-p udp --orig-dst 10.96.0.10 --orig-port-dst 53 --reply-src 10.244.1.2', '-p udp --orig-port-dst 30053 --reply-src 10.244.1.2'],
  );
});

test('a UDP Service getting its first endpoint has its old flows deleted', () => {
  const t = new ServiceChangeTracker('node-a');
  t.serviceUpdated(dns);
  const before = t.servicePorts('default/dns');
  t.sliceUpdated(slice(['10.244.1.2']));
  assert.deepEqual(
    staleUdpFlows(before, t.servicePorts('default/dns')).map((f) => f.args.join(' ')),
    ['-p udp --orig-dst 10.96.0.10 --orig-port-dst 53', '-p udp --orig-port-dst 30053'],
  );
  assert.deepEqual(staleUdpFlows(t.servicePorts('default/dns'), t.servicePorts('default/dns')), []);
});

test('health-check ports count ready local endpoints: 200 with some, 503 without', () => {
  const t = new ServiceChangeTracker('node-a');
  t.serviceUpdated(svc('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.11', externalTrafficPolicy: 'Local', healthCheckNodePort: 32100, ports: [{ name: 'a', port: 80, nodePort: 30001 }] }));
  t.sliceUpdated(eps('lb', [{ name: 'a', port: 80 }], [{ ip: '10.244.1.2' }, { ip: '10.244.2.2', node: 'node-b' }]));
  const targets = healthTargets(new Map([['default/lb', t.servicePorts('default/lb')]]));
  assert.deepEqual([...targets.keys()], [32100]);
  const ok = healthResponse(targets.get(32100)!);
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body), { service: { namespace: 'default', name: 'lb' }, localEndpoints: 1, serviceProxyHealthy: true });
  assert.equal(healthResponse({ namespace: 'default', name: 'lb', localEndpoints: 0 }).status, 503);
});
