// The status the agent reports for a pod, computed from its containers' statuses: the phase
// (as the kubelet derives it) and the conditions, keeping lastTransitionTime when a
// condition's status did not change.
import type { ContainerStatus, PodCondition, PodStatus } from './pod-types.js';

export interface PodStatusInput {
  restartPolicy?: string;
  sandboxReady: boolean;
  initStatuses: ContainerStatus[];
  initContainerCount: number;
  statuses: ContainerStatus[];
  podIP?: string;
  hostIP?: string;
  startTime?: string;
  previous?: PodCondition[];
  now: string;
  /** A pod-level failure, such as a sandbox that cannot be created. */
  message?: string;
  reason?: string;
}

export function podPhase(input: Pick<PodStatusInput, 'restartPolicy' | 'initStatuses' | 'initContainerCount' | 'statuses'>): NonNullable<PodStatus['phase']> {
  const initDone = input.initStatuses.length === input.initContainerCount && input.initStatuses.every((s) => s.state.terminated?.exitCode === 0);
  if (!initDone) {
    const failedInit = input.initStatuses.some((s) => s.state.terminated && s.state.terminated.exitCode !== 0);
    if (failedInit && input.restartPolicy === 'Never') return 'Failed';
    return 'Pending';
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of input.statuses) {
    if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState.terminated) {
      stopped++;
      if (s.lastState.terminated.exitCode === 0) succeeded++;
    } else waiting++;
  }
  if (input.statuses.length === 0 || waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (input.restartPolicy === 'Never' || input.restartPolicy === 'OnFailure') {
      if (stopped === succeeded) return 'Succeeded';
      return input.restartPolicy === 'Never' ? 'Failed' : 'Running';
    }
    return 'Running';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, previous: PodCondition[] | undefined, now: string, reason?: string, message?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const old = previous?.find((c) => c.type === type);
  const c: PodCondition = { type, status, lastProbeTime: null, lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now };
  if (!ok && reason) c.reason = reason;
  if (!ok && message) c.message = message;
  return c;
}

export function computePodStatus(input: PodStatusInput): PodStatus {
  const phase = podPhase(input);
  const done = phase === 'Succeeded' || phase === 'Failed';
  const unready = input.statuses.filter((s) => !s.ready).map((s) => s.name);
  const initPending = input.initStatuses.length < input.initContainerCount || input.initStatuses.some((s) => s.state.terminated?.exitCode !== 0);
  const initNames = initPending ? input.initStatuses.filter((s) => s.state.terminated?.exitCode !== 0).map((s) => s.name) : [];
  const containersReady = !done && unready.length === 0 && input.statuses.length > 0;
  const notReadyReason = done ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMessage = done ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  const conditions: PodCondition[] = [
    condition('PodReadyToStartContainers', input.sandboxReady, input.previous, input.now),
    condition('Initialized', !initPending || done, input.previous, input.now, 'ContainersNotInitialized', `containers with incomplete status: [${initNames.join(' ')}]`),
    condition('Ready', containersReady, input.previous, input.now, notReadyReason, notReadyMessage),
    condition('ContainersReady', containersReady, input.previous, input.now, notReadyReason, notReadyMessage),
    condition('PodScheduled', true, input.previous, input.now),
  ];
  const status: PodStatus = { phase, conditions, containerStatuses: input.statuses, qosClass: 'BestEffort' };
  if (input.initContainerCount > 0) status.initContainerStatuses = input.initStatuses;
  if (input.hostIP) {
    status.hostIP = input.hostIP;
    status.hostIPs = [{ ip: input.hostIP }];
  }
  if (input.podIP) {
    status.podIP = input.podIP;
    status.podIPs = [{ ip: input.podIP }];
  }
  if (input.startTime) status.startTime = input.startTime;
  if (input.message) status.message = input.message;
  if (input.reason) status.reason = input.reason;
  return status;
}
