import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceChangeTracker } from '../../../src/proxy/change-tracker.js';
import { MAX_SHARED_PICK, renderBase, renderFullScript, renderService } from '../../../src/proxy/nftables/render.js';
import { assertGolden, eps, sampleCluster, svc } from './fixtures.js';

const cfg = { clusterCIDR: '10.244.0.0/16', sctp: false };

function trackerWith(objs: ReturnType<typeof sampleCluster>): ServiceChangeTracker {
  const t = new ServiceChangeTracker('node-a');
  for (const s of objs.services) t.serviceUpdated(s);
  for (const s of objs.slices) t.sliceUpdated(s);
  return t;
}

test('the sample cluster renders to the golden nftables table', () => {
  const t = trackerWith(sampleCluster());
  const fragments = [renderBase(cfg), ...[...t.takeAll().entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, ports]) => renderService(ports, cfg))];
  assertGolden('nftables-sample.nft', renderFullScript(fragments));
});

test('a Service is only elements: no chain of its own without affinity', () => {
  const t = trackerWith(sampleCluster());
  const web = renderService(t.servicePorts('default/web'), cfg);
  assert.deepEqual(web.chains, []);
  assert.deepEqual(web.sets, []);
  assert.deepEqual(
    web.elements.map((e) => `${e.set}: ${e.key}${e.value ? ` : ${e.value}` : ''}`),
    [
      'service-ips: 10.96.0.10 . tcp . 80 : goto pick-2',
      'endpoints: 10.96.0.10 . tcp . 80 . 0 : 10.244.1.2 . 8080',
      'endpoints: 10.96.0.10 . tcp . 80 . 1 : 10.244.2.2 . 8080',
      'cluster-ips: 10.96.0.10 . tcp . 80',
      'hairpin: 10.244.1.2 . 10.244.1.2',
      'hairpin: 10.244.2.2 . 10.244.2.2',
    ],
  );
});

test('no endpoints: reject; Local policy without local endpoints: drop', () => {
  const t = new ServiceChangeTracker('node-a');
  t.serviceUpdated(svc('x', { type: 'NodePort', clusterIP: '10.96.0.20', externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Local', ports: [{ name: 'p', port: 80, nodePort: 30090 }] }));
  t.sliceUpdated(eps('x', [{ name: 'p', port: 80 }], [{ ip: '10.244.2.9', node: 'node-b' }]));
  const f = renderService(t.servicePorts('default/x'), cfg);
  assert.deepEqual(
    f.elements.filter((e) => e.set.startsWith('no-endpoint')).map((e) => `${e.set}: ${e.key} : ${e.value}`),
    ['no-endpoint-services: 10.96.0.20 . tcp . 80 : drop', 'no-endpoint-nodeports: tcp . 30090 : drop'],
  );
  t.sliceUpdated(eps('x', [{ name: 'p', port: 80 }], []));
  const none = renderService(t.servicePorts('default/x'), cfg);
  assert.ok(none.elements.every((e) => !e.set.startsWith('no-endpoint') || e.value === 'goto reject-chain'));
});

test('SCTP ports get no rules when the kernel lacks SCTP', () => {
  const t = new ServiceChangeTracker('node-a');
  t.serviceUpdated(svc('s', { clusterIP: '10.96.0.21', ports: [{ name: 's', port: 9, protocol: 'SCTP' }] }));
  t.sliceUpdated(eps('s', [{ name: 's', port: 9, protocol: 'SCTP' }], [{ ip: '10.244.1.2' }]));
  assert.deepEqual(renderService(t.servicePorts('default/s'), cfg).elements, []);
  assert.ok(renderService(t.servicePorts('default/s'), { ...cfg, sctp: true }).elements.some((e) => e.key === '10.96.0.21 . sctp . 9'));
});

test('more endpoints than the shared pick chains: a chain with an inline map', () => {
  const t = new ServiceChangeTracker('node-a');
  t.serviceUpdated(svc('big', { clusterIP: '10.96.0.22', ports: [{ name: 'p', port: 80 }] }));
  const many = Array.from({ length: MAX_SHARED_PICK + 1 }, (_, i) => ({ ip: `10.244.3.${i + 2}` }));
  t.sliceUpdated(eps('big', [{ name: 'p', port: 8080 }], many));
  const f = renderService(t.servicePorts('default/big'), cfg);
  assert.equal(f.chains.length, 1);
  assert.match(f.chains[0].rules[0], new RegExp(`^meta l4proto tcp dnat ip to numgen random mod ${MAX_SHARED_PICK + 1} map \\{ 0 : 10\\.244\\.3\\.2 \\. 8080, `));
  assert.equal(f.elements.find((e) => e.set === 'service-ips')?.value, `goto ${f.chains[0].name}`);
  assert.ok(!f.elements.some((e) => e.set === 'endpoints'));
});
