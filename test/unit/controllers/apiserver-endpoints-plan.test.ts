import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  APISERVER_LEASE_LABEL,
  apiServerLeaseName,
  desiredKubernetesEndpoints,
  desiredKubernetesSlices,
  kubernetesTargetPort,
  liveApiServers,
  microTime,
  renewedApiServerLease,
} from '../../../src/controllers/apiserver-endpoints-plan.js';

const t0 = Date.parse('2026-12-06T22:00:00Z');

test('a renewed lease names the server by address and port, keeps acquireTime and moves renewTime', () => {
  const a = { ip: '172.18.0.1', port: 6444 };
  const first = renewedApiServerLease(a, t0);
  assert.equal(first.metadata.name, 'apiserver-endpoint-172-18-0-1-6444');
  assert.equal(apiServerLeaseName(a), first.metadata.name);
  assert.equal(first.metadata.labels![APISERVER_LEASE_LABEL], 'true');
  assert.deepEqual(first.spec, { holderIdentity: '172.18.0.1:6444', leaseDurationSeconds: 15, acquireTime: '2026-12-06T22:00:00.000000Z', renewTime: '2026-12-06T22:00:00.000000Z' });
  const stored = { ...first, metadata: { ...first.metadata, resourceVersion: '9', uid: 'u' } };
  const next = renewedApiServerLease(a, t0 + 5000, stored);
  assert.equal(next.metadata.resourceVersion, '9');
  assert.equal((next.spec as any).acquireTime, '2026-12-06T22:00:00.000000Z');
  assert.equal((next.spec as any).renewTime, microTime(t0 + 5000));
});

test('only leases renewed within their duration count, sorted by port then address; the first expiry is reported', () => {
  const lease = (ip: string, port: number, renewedAt: number) => renewedApiServerLease({ ip, port }, renewedAt);
  const leases = [
    lease('172.18.0.1', 6444, t0 - 2_000),
    lease('10.0.0.2', 6443, t0 - 14_000),
    lease('10.0.0.9', 6443, t0 - 16_000), // expired
    { ...lease('10.0.0.3', 6443, t0), metadata: { name: 'other', namespace: 'kube-system', labels: {} } }, // not an endpoint lease
    { ...lease('10.0.0.4', 6443, t0), spec: { holderIdentity: 'host_uuid', renewTime: microTime(t0), leaseDurationSeconds: 15 } }, // not an address
  ];
  const { live, nextExpiryMs } = liveApiServers(leases, t0);
  assert.deepEqual(live, [{ ip: '10.0.0.2', port: 6443 }, { ip: '172.18.0.1', port: 6444 }]);
  assert.equal(nextExpiryMs, t0 + 1_000);
  assert.deepEqual(liveApiServers(leases, t0 + 12_999).live, [{ ip: '172.18.0.1', port: 6444 }]);
  assert.deepEqual(liveApiServers(leases, t0 + 13_000).live, []);
});

test('servers on one port share one subset and the kubernetes slice, as upstream; two ports give two of each and a named targetPort', () => {
  const same = [{ ip: '10.0.0.1', port: 6443 }, { ip: '10.0.0.2', port: 6443 }];
  assert.equal(kubernetesTargetPort(same), 6443);
  assert.deepEqual(desiredKubernetesEndpoints(same).subsets, [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }]);
  const slices = desiredKubernetesSlices(same);
  assert.deepEqual(slices.map((s) => s.metadata.name), ['kubernetes']);
  assert.deepEqual((slices[0].endpoints as any[]).map((e) => e.addresses[0]), ['10.0.0.1', '10.0.0.2']);
  const lab = [{ ip: '172.18.0.1', port: 6443 }, { ip: '172.18.0.1', port: 6444 }];
  assert.equal(kubernetesTargetPort(lab), 'https');
  assert.deepEqual((desiredKubernetesEndpoints(lab).subsets as any[]).map((s) => s.ports[0].port), [6443, 6444]);
  assert.deepEqual(desiredKubernetesSlices(lab).map((s) => [s.metadata.name, (s.ports as any[])[0].port]), [['kubernetes', 6443], ['kubernetes-6444', 6444]]);
});
