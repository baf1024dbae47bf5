import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computePodStatus, podPhase } from '../../../src/agent/pod-status.js';
import type { ContainerStatus } from '../../../src/agent/pod-types.js';

const running = (name: string, ready = true): ContainerStatus => ({ name, state: { running: { startedAt: 't' } }, lastState: {}, ready, restartCount: 0, image: 'x', imageID: '' });
const terminated = (name: string, exitCode: number): ContainerStatus => ({ name, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' } }, lastState: {}, ready: false, restartCount: 0, image: 'x', imageID: '' });
const waiting = (name: string, reason: string, last?: number): ContainerStatus => ({
  name,
  state: { waiting: { reason } },
  lastState: last === undefined ? {} : { terminated: { exitCode: last } },
  ready: false,
  restartCount: last === undefined ? 0 : 1,
  image: 'x',
  imageID: '',
});

const phase = (statuses: ContainerStatus[], restartPolicy = 'Always', initStatuses: ContainerStatus[] = [], initContainerCount = 0) => podPhase({ statuses, restartPolicy, initStatuses, initContainerCount });

test('phase follows the kubelet rules', () => {
  assert.equal(phase([waiting('a', 'ContainerCreating')]), 'Pending');
  assert.equal(phase([running('a'), waiting('b', 'ImageNotBuiltIn')]), 'Pending');
  assert.equal(phase([running('a')]), 'Running');
  assert.equal(phase([waiting('a', 'CrashLoopBackOff', 1)]), 'Running', 'a crash-looping container was started: Running');
  assert.equal(phase([terminated('a', 0)], 'Never'), 'Succeeded');
  assert.equal(phase([terminated('a', 0), terminated('b', 2)], 'Never'), 'Failed');
  assert.equal(phase([terminated('a', 2)], 'OnFailure'), 'Running');
  assert.equal(phase([terminated('a', 0)], 'OnFailure'), 'Succeeded');
  assert.equal(phase([running('a')], 'Always', [running('init')], 1), 'Pending', 'an init container still runs');
  assert.equal(phase([waiting('a', 'PodInitializing')], 'Never', [terminated('init', 1)], 1), 'Failed');
});

test('conditions: Ready and ContainersReady list unready containers; transition times are kept', () => {
  const first = computePodStatus({ sandboxReady: true, initStatuses: [], initContainerCount: 0, statuses: [running('a'), running('b', false)], podIP: '10.244.0.5', hostIP: '172.18.0.10', now: 'T1' });
  assert.equal(first.phase, 'Running');
  const ready = first.conditions!.find((c) => c.type === 'Ready')!;
  assert.equal(ready.status, 'False');
  assert.equal(ready.reason, 'ContainersNotReady');
  assert.equal(ready.message, 'containers with unready status: [b]');
  assert.deepEqual(first.podIPs, [{ ip: '10.244.0.5' }]);
  assert.deepEqual(first.hostIPs, [{ ip: '172.18.0.10' }]);
  assert.deepEqual(first.conditions!.map((c) => c.type), ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

  const second = computePodStatus({ sandboxReady: true, initStatuses: [], initContainerCount: 0, statuses: [running('a'), running('b')], previous: first.conditions, now: 'T2' });
  const ready2 = second.conditions!.find((c) => c.type === 'Ready')!;
  assert.equal(ready2.status, 'True');
  assert.equal(ready2.lastTransitionTime, 'T2');
  assert.equal(second.conditions!.find((c) => c.type === 'PodScheduled')!.lastTransitionTime, 'T1', 'unchanged conditions keep their time');
});

test('a completed pod is not Ready, with reason PodCompleted', () => {
  const s = computePodStatus({ restartPolicy: 'Never', sandboxReady: true, initStatuses: [], initContainerCount: 0, statuses: [terminated('a', 0)], now: 'T' });
  assert.equal(s.phase, 'Succeeded');
  assert.equal(s.conditions!.find((c) => c.type === 'Ready')!.reason, 'PodCompleted');
});
