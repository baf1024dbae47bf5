// One pod's lifecycle on this node as a pure state machine, the way the kubelet's pod workers
// order a pod's work: syncing -> terminating -> terminated. At most one operation (set up,
// release, tear down) runs for a pod at a time; a deletion that arrives while the sandbox is
// being set up cancels the set-up, waits for it to return (a CNI ADD in flight completes), and
// only then tears the pod down, exactly once. The driver (pod-lifecycle-driver.ts) runs the
// actions this returns and feeds back `operationDone` when an operation returns.

export type LifecyclePhase = 'syncing' | 'terminating' | 'terminated';

/** The operation in flight for the pod, if any. */
export type LifecycleOperation = 'none' | 'setUp' | 'release' | 'tearDown';

export interface PodLifecycleState {
  readonly phase: LifecyclePhase;
  readonly busy: LifecycleOperation;
  /** The set-up ran (or runs): the sandbox and containers exist or are being made. */
  readonly setUpStarted: boolean;
  /** The sandbox was released (the pod finished: Succeeded/Failed) or a release runs. */
  readonly released: boolean;
  /** The pod finished while another operation ran: release once it returns. */
  readonly releaseWanted: boolean;
  /** Grace period for the tear-down (the shortest asked for). */
  readonly graceSeconds: number;
  /** The pod's API object has a deletionTimestamp: complete its deletion after the tear-down. */
  readonly confirmDeletion: boolean;
}

export type PodLifecycleEvent =
  /** The pod is bound here and alive (first seen, or seen again). */
  | { readonly type: 'sync' }
  /** The pod's containers all finished (phase Succeeded/Failed): give its address back. */
  | { readonly type: 'finished' }
  /**
   * The pod goes: `confirm` when its API object carries a deletionTimestamp (the agent completes
   * the deletion after the tear-down); not when the object is already gone or replaced.
   */
  | { readonly type: 'delete'; readonly graceSeconds: number; readonly confirm: boolean }
  /** The operation in flight returned (successfully or not). */
  | { readonly type: 'operationDone' };

export type PodLifecycleAction =
  | { readonly type: 'setUp' }
  | { readonly type: 'release' }
  /** Ask the set-up in flight to stop at its next step (it still returns; the tear-down waits). */
  | { readonly type: 'cancelSetUp' }
  | { readonly type: 'tearDown'; readonly graceSeconds: number }
  | { readonly type: 'confirmDeletion' }
  /** The pod is gone from this node: drop every trace of it in memory. */
  | { readonly type: 'forget' };

export interface PodLifecycleStep {
  readonly state: PodLifecycleState;
  readonly actions: readonly PodLifecycleAction[];
}

/** The operations that run asynchronously and end with an `operationDone` event. */
export const ASYNC_ACTIONS: ReadonlySet<PodLifecycleAction['type']> = new Set(['setUp', 'release', 'tearDown']);

export function initialLifecycleState(): PodLifecycleState {
  return { phase: 'syncing', busy: 'none', setUpStarted: false, released: false, releaseWanted: false, graceSeconds: Number.POSITIVE_INFINITY, confirmDeletion: false };
}

const none: readonly PodLifecycleAction[] = [];

function step(state: PodLifecycleState, actions: readonly PodLifecycleAction[] = none): PodLifecycleStep {
  return { state, actions };
}

function startTearDown(state: PodLifecycleState): PodLifecycleStep {
  return step({ ...state, phase: 'terminating', busy: 'tearDown', releaseWanted: false }, [{ type: 'tearDown', graceSeconds: state.graceSeconds }]);
}

function onSyncing(state: PodLifecycleState, event: PodLifecycleEvent): PodLifecycleStep {
  switch (event.type) {
    case 'sync':
      if (state.setUpStarted || state.busy !== 'none') return step(state);
      return step({ ...state, busy: 'setUp', setUpStarted: true }, [{ type: 'setUp' }]);
    case 'finished':
      if (!state.setUpStarted || state.released) return step(state);
      if (state.busy !== 'none') return step({ ...state, releaseWanted: true });
      return step({ ...state, busy: 'release', released: true, releaseWanted: false }, [{ type: 'release' }]);
    case 'delete': {
      const next: PodLifecycleState = { ...state, phase: 'terminating', releaseWanted: false, graceSeconds: Math.min(state.graceSeconds, event.graceSeconds), confirmDeletion: event.confirm };
      if (state.busy === 'none') return startTearDown(next);
      // An operation runs: the tear-down waits for it to return; a set-up is told to stop early.
      return step(next, state.busy === 'setUp' ? [{ type: 'cancelSetUp' }] : none);
    }
    case 'operationDone':
      if (state.busy === 'none') return step(state);
      if (state.releaseWanted && !state.released) return step({ ...state, busy: 'release', released: true, releaseWanted: false }, [{ type: 'release' }]);
      return step({ ...state, busy: 'none', releaseWanted: false });
  }
}

function onTerminating(state: PodLifecycleState, event: PodLifecycleEvent): PodLifecycleStep {
  switch (event.type) {
    case 'sync':
    case 'finished':
      return step(state);
    case 'delete':
      // A second deletion (the object gone after its deletionTimestamp, a shorter grace): the
      // tear-down that runs or waits covers it; only what is still ahead can change.
      return step({ ...state, graceSeconds: state.busy === 'tearDown' ? state.graceSeconds : Math.min(state.graceSeconds, event.graceSeconds), confirmDeletion: state.confirmDeletion || event.confirm });
    case 'operationDone':
      if (state.busy === 'none') return step(state);
      if (state.busy !== 'tearDown') return startTearDown(state);
      return step({ ...state, phase: 'terminated', busy: 'none' }, state.confirmDeletion ? [{ type: 'confirmDeletion' }, { type: 'forget' }] : [{ type: 'forget' }]);
  }
}

/** The next state of a pod's lifecycle and what to do, for one event. Pure. */
export function transition(state: PodLifecycleState, event: PodLifecycleEvent): PodLifecycleStep {
  switch (state.phase) {
    case 'syncing':
      return onSyncing(state, event);
    case 'terminating':
      return onTerminating(state, event);
    case 'terminated':
      // Nothing is left on this node; the pod is forgotten.
      return step(state);
  }
}
