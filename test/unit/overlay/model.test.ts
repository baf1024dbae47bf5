import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredOverlay, diffOverlay, isEmptyDiff, masqueradeRules, overlayNodeFromObject, vtepAddress, type OverlayNode } from '../../../src/overlay/model.js';
import { vtepMacForNode, vxlanMtu } from '../../../src/overlay/kernel.js';

const nodes: OverlayNode[] = [
  { name: 'node-1', podCIDR: '10.244.1.0/24', internalIP: '172.18.0.11', vtepMac: '0e:00:00:00:00:01' },
  { name: 'node-2', podCIDR: '10.244.2.0/24', internalIP: '172.18.0.12', vtepMac: '0E:00:00:00:00:02' },
  { name: 'node-3', podCIDR: '10.244.3.0/24', internalIP: '172.18.0.13' }, // no VTEP MAC published yet
  { name: 'node-4', internalIP: '172.18.0.14', vtepMac: '0e:00:00:00:00:04' }, // no pod CIDR yet
  { name: 'node-5', podCIDR: '10.244.1.0/25', internalIP: '172.18.0.15', vtepMac: '0e:00:00:00:00:05' }, // overlaps ours
];
const opts = { self: 'node-1', underlayDevice: 'eth0', podCIDR: '10.244.1.0/24' };

test('vxlan: one route, one permanent neighbour and one FDB entry per programmable remote node', () => {
  const s = desiredOverlay(nodes, { ...opts, mode: 'vxlan' });
  assert.deepEqual(s.routes, [{ dst: '10.244.2.0/24', via: '10.244.2.0', dev: 'flatnet.1', onlink: true }]);
  assert.deepEqual(s.neighbours, [{ ip: '10.244.2.0', mac: '0e:00:00:00:00:02' }]);
  assert.deepEqual(s.fdb, [{ mac: '0e:00:00:00:00:02', dst: '172.18.0.12' }]);
});

test('host-gw: a direct route via the node address; no VTEP MAC needed', () => {
  const s = desiredOverlay(nodes, { ...opts, mode: 'host-gw' });
  assert.deepEqual(s.routes.map((r) => `${r.dst} via ${r.via} dev ${r.dev}`), ['10.244.2.0/24 via 172.18.0.12 dev eth0', '10.244.3.0/24 via 172.18.0.13 dev eth0']);
  assert.deepEqual(s.neighbours, []);
  assert.deepEqual(s.fdb, []);
});

test('diff: adds, removals and changed entries', () => {
  const before = desiredOverlay(nodes, { ...opts, mode: 'vxlan' });
  const moved = nodes.map((n) => (n.name === 'node-2' ? { ...n, internalIP: '172.18.0.22' } : n));
  moved.push({ name: 'node-6', podCIDR: '10.244.6.0/24', internalIP: '172.18.0.16', vtepMac: '0e:00:00:00:00:06' });
  const after = desiredOverlay(moved, { ...opts, mode: 'vxlan' });
  const d = diffOverlay(before, after);
  assert.deepEqual(d.addFdb, [{ mac: '0e:00:00:00:00:02', dst: '172.18.0.22' }, { mac: '0e:00:00:00:00:06', dst: '172.18.0.16' }]);
  assert.deepEqual(d.addRoutes.map((r) => r.dst), ['10.244.6.0/24']);
  assert.deepEqual(d.delRoutes, []);
  const gone = diffOverlay(after, desiredOverlay(moved.filter((n) => n.name !== 'node-6'), { ...opts, mode: 'vxlan' }));
  assert.deepEqual(gone.delRoutes.map((r) => r.dst), ['10.244.6.0/24']);
  assert.deepEqual(gone.delFdb.map((f) => f.mac), ['0e:00:00:00:00:06']);
  assert.ok(isEmptyDiff(diffOverlay(after, after)));
});

test('node objects, VTEP addresses, MACs, MTU and masquerade rule', () => {
  const n = overlayNodeFromObject({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-2', annotations: { 'flatnet.dev/vtep-mac': '0e:aa:bb:cc:dd:ee' } },
    spec: { podCIDR: '10.244.2.0/24', podCIDRs: ['10.244.2.0/24', 'fd00:2::/64'] },
    status: { addresses: [{ type: 'Hostname', address: 'node-2' }, { type: 'InternalIP', address: '172.18.0.12' }] },
  } as never);
  assert.deepEqual(n, { name: 'node-2', podCIDR: '10.244.2.0/24', internalIP: '172.18.0.12', vtepMac: '0e:aa:bb:cc:dd:ee' });
  assert.equal(vtepAddress('10.244.7.0/24'), '10.244.7.0');
  assert.equal(vtepMacForNode('node-1'), vtepMacForNode('node-1'));
  assert.notEqual(vtepMacForNode('node-1'), vtepMacForNode('node-2'));
  assert.match(vtepMacForNode('node-1'), /^0e(:[0-9a-f]{2}){5}$/);
  assert.equal(vxlanMtu(1500), 1450);
  assert.deepEqual(masqueradeRules('10.244.0.0/16'), ['ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade']);
});
