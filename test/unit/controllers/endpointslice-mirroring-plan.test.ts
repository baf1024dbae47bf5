import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mirroredGroups, shouldMirror } from '../../../src/controllers/endpointslice-mirroring-plan.js';
import { planSlices, MIRROR_MANAGED_BY } from '../../../src/controllers/endpointslice-plan.js';
import type { Endpoints } from '../../../src/controllers/endpoints-plan.js';
import { makeService } from './fixtures.js';

const ep: Endpoints = {
  metadata: { name: 'db', namespace: 'default' },
  subsets: [
    { addresses: [{ ip: '192.0.2.1' }, { ip: '192.0.2.2', hostname: 'two' }], notReadyAddresses: [{ ip: '192.0.2.3' }], ports: [{ name: 'sql', port: 5432, protocol: 'TCP' }] },
    { addresses: [{ ip: '2001:db8::1' }], ports: [{ port: 53, protocol: 'UDP' }] },
  ],
};

test('user Endpoints of a selector-less Service are mirrored (IPv4, ready from addresses)', () => {
  const svc = makeService('db', { selector: undefined });
  assert.equal(shouldMirror(svc, ep), true);
  assert.equal(shouldMirror(makeService('db'), ep), false);
  assert.equal(shouldMirror(svc, { ...ep, metadata: { ...ep.metadata, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } } }), false);
  const groups = mirroredGroups(ep);
  assert.equal(groups.size, 1);
  const plan = planSlices(svc, groups, [], () => 'db-abcde', MIRROR_MANAGED_BY);
  const [slice] = plan.create;
  assert.equal(slice!.metadata.labels!['endpointslice.kubernetes.io/managed-by'], MIRROR_MANAGED_BY);
  assert.deepEqual(slice!.ports, [{ name: 'sql', port: 5432, protocol: 'TCP' }]);
  assert.deepEqual(
    slice!.endpoints!.map((e) => [e.addresses[0], e.conditions.ready, e.hostname]),
    [
      ['192.0.2.1', true, undefined],
      ['192.0.2.2', true, 'two'],
      ['192.0.2.3', false, undefined],
    ],
  );
});

test('at most 1000 addresses are mirrored', () => {
  const big: Endpoints = { metadata: { name: 'big' }, subsets: [{ addresses: Array.from({ length: 1200 }, (_, i) => ({ ip: `10.1.${Math.floor(i / 250)}.${i % 250}` })), ports: [{ port: 80 }] as never }] };
  assert.equal([...mirroredGroups(big).values()][0]!.endpoints.size, 1000);
});
