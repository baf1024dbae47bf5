import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryDelay, rotationDeadline } from '../../../src/agent/cert-rotation.js';
import { staleClientFiles } from '../../../src/agent/client-cert-files.js';
import { isNodeIdentity } from '../../../src/apiserver/auth-node-certificates.js';

test('rotation comes at a jittered 70-90% of the certificate lifetime, as the kubelet rotates', () => {
  const from = new Date('2026-01-01T00:00:00Z');
  const to = new Date('2026-01-11T00:00:00Z'); // 10 days
  const day = 86_400_000;
  assert.equal(rotationDeadline(from, to, () => 0).getTime(), from.getTime() + 7 * day);
  assert.equal(rotationDeadline(from, to, () => 0.5).getTime(), from.getTime() + 8 * day);
  assert.equal(rotationDeadline(from, to, () => 0.999999).getTime() < from.getTime() + 9 * day, true);
  for (let i = 0; i < 100; i++) {
    const at = rotationDeadline(from, to).getTime();
    assert.ok(at >= from.getTime() + 7 * day && at < from.getTime() + 9 * day, new Date(at).toISOString());
  }
});

test('a failed rotation is retried with doubling backoff from 5 s, at most 5 min, never past the end of the certificate', () => {
  const now = 1_000_000;
  const far = new Date(now + 86_400_000);
  assert.deepEqual([0, 1, 2, 3, 6, 7, 20].map((a) => retryDelay(a, now, far)), [5_000, 10_000, 20_000, 40_000, 300_000, 300_000, 300_000]);
  assert.equal(retryDelay(6, now, new Date(now + 42_000)), 42_000);
  assert.equal(retryDelay(0, now, new Date(now - 1)), 0);
});

test('node identities are what the CSR binding applies to: CN system:node:* or group system:nodes', () => {
  assert.equal(isNodeIdentity('system:node:n1', ['system:nodes']), true);
  assert.equal(isNodeIdentity('someone', ['system:nodes']), true);
  assert.equal(isNodeIdentity('system:node:n1', []), true);
  assert.equal(isNodeIdentity('kube-apiserver-kubelet-client', ['system:masters']), false);
});

test('after a rotation every node client certificate file but the pair in use is stale: the bootstrap pair, earlier rotations, temporary files', () => {
  const names = [
    'kubelet-client.crt', 'kubelet-client.key',
    'kubelet-client-20261207T101500123Z.crt', 'kubelet-client-20261207T101500123Z.key',
    'kubelet-client-20261207T111500456Z.crt', 'kubelet-client-20261207T111500456Z.key',
    'kubelet-client-20261207T111500456Z.key.0a1b2c3d.tmp', 'kubelet-client.crt.deadbeef.tmp',
    'kubelet-server.crt', 'kubelet-server.key', 'kubelet-client-notes.txt', 'ca.crt',
  ];
  assert.deepEqual(staleClientFiles(names, ['kubelet-client-20261207T111500456Z.crt', 'kubelet-client-20261207T111500456Z.key']), [
    'kubelet-client.crt', 'kubelet-client.key',
    'kubelet-client-20261207T101500123Z.crt', 'kubelet-client-20261207T101500123Z.key',
    'kubelet-client-20261207T111500456Z.key.0a1b2c3d.tmp', 'kubelet-client.crt.deadbeef.tmp',
  ]);
  // What the kubeconfig names is kept too (a re-bootstrap just wrote the bootstrap pair).
  assert.deepEqual(staleClientFiles(names.slice(0, 4), ['kubelet-client.crt', 'kubelet-client.key']), ['kubelet-client-20261207T101500123Z.crt', 'kubelet-client-20261207T101500123Z.key']);
});
