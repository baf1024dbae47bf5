// The Node this agent writes: the kubelet endpoint lives in the status (daemonEndpoints and the
// InternalIP, as upstream's kubelet reports it), not in an annotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeConditions, nodeMetadata, nodeStatus, readyCondition, type NodeFacts } from '../../../src/agent/node-status.js';

const facts: NodeFacts = {
  nodeName: 'n1',
  nodeIP: '10.0.0.7',
  arch: 'amd64',
  cpus: 2,
  memoryBytes: 4 * 1024 ** 3,
  kernelVersion: '6.1.0',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  machineID: 'm',
  bootID: 'b',
  kubeletEndpoint: '10.0.0.7:10250',
  networkReady: true,
};

test('the Node metadata carries the labels kubelets set and no kubelet-endpoint annotation', () => {
  const meta = nodeMetadata(facts);
  assert.equal(meta.labels?.['kubernetes.io/hostname'], 'n1');
  assert.deepEqual(meta.annotations, { 'node.alpha.kubernetes.io/ttl': '0' });
});

test('the kubelet endpoint is in the status: daemonEndpoints port and the InternalIP', () => {
  const status = nodeStatus(facts, new Date(0).toISOString()) as { daemonEndpoints: unknown; addresses: { type: string; address: string }[] };
  assert.deepEqual(status.daemonEndpoints, { kubeletEndpoint: { Port: 10250 } });
  assert.deepEqual(status.addresses[0], { type: 'InternalIP', address: '10.0.0.7' });
});

test('Ready follows the runtime: KubeletReady, or KubeletNotReady with its errors, keeping the transition time', () => {
  const t0 = '2026-01-01T00:00:00Z';
  const t1 = '2026-01-01T00:00:10Z';
  const ready = nodeConditions(facts, t0).find((c) => c.type === 'Ready')!;
  assert.deepEqual({ status: ready.status, reason: ready.reason, message: ready.message }, { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' });
  const down = nodeConditions({ ...facts, runtimeErrors: ['container runtime is down: x'] }, t1, [ready]).find((c) => c.type === 'Ready')!;
  assert.deepEqual({ status: down.status, reason: down.reason, message: down.message, lastTransitionTime: down.lastTransitionTime }, { status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down: x', lastTransitionTime: t1 });
  const two = readyCondition(['a', 'b'], t1, [down]);
  assert.equal(two.message, '[a, b]');
  assert.equal(two.lastTransitionTime, t1, 'still False: the transition time stays');
  assert.equal(readyCondition([], t1, [ready]).lastTransitionTime, t0);
});
