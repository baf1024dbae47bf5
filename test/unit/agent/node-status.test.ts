// The Node this agent writes: the kubelet endpoint lives in the status (daemonEndpoints and the
// InternalIP, as upstream's kubelet reports it), not in an annotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeMetadata, nodeStatus, type NodeFacts } from '../../../src/agent/node-status.js';

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
