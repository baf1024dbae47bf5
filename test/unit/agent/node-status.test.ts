// The Node this agent writes: the kubelet endpoint lives in the status (daemonEndpoints and the
// InternalIP, as upstream's kubelet reports it), not in an annotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CNI_NOT_INITIALIZED, hostFacts } from '../../../src/agent/node-registration.js';
import { nodeConditions, nodeMetadata, nodeReadyEvent, nodeStatus, parseMaxPods, readyCondition, type NodeFacts } from '../../../src/agent/node-status.js';

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

test('a Ready change is recorded as the kubelet records it: NodeReady / NodeNotReady on the Node', () => {
  const now = new Date('2026-01-02T03:04:05.678Z');
  const down = nodeReadyEvent('n1', false, now) as unknown as Record<string, any>;
  assert.equal(down.reason, 'NodeNotReady');
  assert.equal(down.message, 'Node n1 status is now: NodeNotReady');
  assert.equal(down.type, 'Normal');
  assert.equal(down.metadata.namespace, 'default');
  assert.match(down.metadata.name, /^n1\.[0-9a-f]+$/);
  // kubectl describe node finds a node's events by kind, name and uid = the node's name.
  assert.deepEqual(down.involvedObject, { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'n1' });
  assert.deepEqual(down.source, { component: 'kubelet', host: 'n1' });
  assert.equal(down.firstTimestamp, '2026-01-02T03:04:05Z');
  const up = nodeReadyEvent('n1', true, now) as unknown as Record<string, any>;
  assert.equal(up.reason, 'NodeReady');
  assert.equal(up.message, 'Node n1 status is now: NodeReady');
  assert.notEqual(up.metadata.name, down.metadata.name);
});

test('a runtime that is down makes the node NotReady with the kubelet\'s reason and message', () => {
  const c = readyCondition(['container runtime is down: lost the connection to the node runtime at /x.sock; reconnecting'], '2026-01-01T00:00:00Z');
  assert.equal(c.status, 'False');
  assert.equal(c.reason, 'KubeletNotReady');
  assert.equal(c.message, 'container runtime is down: lost the connection to the node runtime at /x.sock; reconnecting');
});

test('capacity and allocatable pods are --max-pods (default 110, as the kubelet\'s)', () => {
  type Resources = { capacity: Record<string, string>; allocatable: Record<string, string> };
  const byDefault = nodeStatus(facts, new Date(0).toISOString()) as Resources;
  assert.equal(byDefault.capacity.pods, '110');
  assert.equal(byDefault.allocatable.pods, '110');
  const raised = nodeStatus({ ...facts, maxPods: 260 }, new Date(0).toISOString()) as Resources;
  assert.equal(raised.capacity.pods, '260');
  assert.equal(raised.allocatable.pods, '260');
});

test('--max-pods takes a whole number of pods from 1; anything else is an error naming the flag', () => {
  assert.equal(parseMaxPods('253'), 253);
  for (const bad of ['0', '-1', '2.5', '1e3', 'many', '', '99999999999999999999']) {
    assert.deepEqual(parseMaxPods(bad), { error: `--max-pods must be a whole number of pods from 1 (got "${bad}")` });
  }
});

test('a freshly registered node is not Ready until its runtime has a CNI network, in the kubelet words', () => {
  const fresh = hostFacts('n1', '10.0.0.7', '10.0.0.7:10250');
  const ready = nodeConditions(fresh, new Date(0).toISOString()).find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'False');
  assert.equal(ready?.reason, 'KubeletNotReady');
  assert.equal(ready?.message, CNI_NOT_INITIALIZED);
});
