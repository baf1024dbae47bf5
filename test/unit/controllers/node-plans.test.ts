import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignPodCIDRs, PodCIDRSpace } from '../../../src/controllers/node-ipam-plan.js';
import { lastHeartbeat, unknownConditions } from '../../../src/controllers/node-lifecycle-plan.js';
import type { Node } from '../../../src/controllers/types.js';

function node(name: string, created: string, podCIDR?: string): Node {
  return { metadata: { name, creationTimestamp: created }, spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {} };
}

test('nodes get /24s in order of creation, keeping what they have', () => {
  const space = new PodCIDRSpace('10.244.0.0/16');
  const nodes = [node('b', '2026-01-01T00:00:02Z'), node('a', '2026-01-01T00:00:01Z'), node('c', '2026-01-01T00:00:00Z', '10.244.0.0/24')];
  assert.deepEqual(assignPodCIDRs(space, nodes), [
    { node: 'a', podCIDR: '10.244.1.0/24' },
    { node: 'b', podCIDR: '10.244.2.0/24' },
  ]);
  // A deleted node's range is reused by the next node.
  const later = [node('c', '2026-01-01T00:00:00Z', '10.244.0.0/24'), node('b', '2026-01-01T00:00:02Z', '10.244.2.0/24'), node('d', '2026-01-01T00:00:03Z')];
  assert.deepEqual(assignPodCIDRs(space, later), [{ node: 'd', podCIDR: '10.244.1.0/24' }]);
});

test('a pod CIDR runs out and is refused when smaller than a /24', () => {
  const space = new PodCIDRSpace('10.244.0.0/23');
  assert.equal(space.count, 2);
  const nodes = ['a', 'b', 'c'].map((n, i) => node(n, `2026-01-01T00:00:0${i}Z`));
  assert.deepEqual(assignPodCIDRs(space, nodes).map((a) => a.podCIDR), ['10.244.0.0/24', '10.244.1.0/24']);
  assert.throws(() => new PodCIDRSpace('10.244.0.0/25'), /smaller than one node's \/24/);
});

test('a silent node goes Unknown after the grace period, once', () => {
  const n: Node = {
    metadata: { name: 'n1' },
    status: {
      conditions: [
        { type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: '2026-01-01T00:00:00Z' },
        { type: 'MemoryPressure', status: 'False' },
      ],
    },
  };
  const lease = '2026-01-01T00:00:10.123456Z';
  const beat = lastHeartbeat(n, lease, 0);
  assert.equal(beat, Date.parse('2026-01-01T00:00:10.123Z'));
  assert.equal(unknownConditions(n, beat + 39_000, beat, 40_000), undefined);
  const conds = unknownConditions(n, beat + 41_000, beat, 40_000)!;
  assert.deepEqual(
    conds.map((c) => [c.type, c.status, c.reason, c.message]),
    [
      ['Ready', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'],
      ['MemoryPressure', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'],
    ],
  );
  assert.equal(unknownConditions({ ...n, status: { conditions: conds } }, beat + 99_000, beat, 40_000), undefined);
  const never = unknownConditions({ metadata: { name: 'x' } }, 100_000, 0, 40_000)!;
  assert.equal(never[0]!.reason, 'NodeStatusNeverUpdated');
});
