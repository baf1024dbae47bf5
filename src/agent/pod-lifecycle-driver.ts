// Runs each pod's lifecycle state machine (pod-lifecycle.ts): every event for a pod UID goes
// through its machine in arrival order, each action it returns is carried out, and an
// operation's return is fed back as `operationDone`, so one pod's operations never overlap.
import { ASYNC_ACTIONS, initialLifecycleState, transition, type PodLifecycleAction, type PodLifecycleEvent, type PodLifecycleState } from './pod-lifecycle.js';

/** What the driver does for a pod; the async operations' failures are the handler's to log. */
export interface PodLifecycleHandlers {
  setUp(uid: string): Promise<void>;
  release(uid: string): Promise<void>;
  cancelSetUp(uid: string): void;
  tearDown(uid: string, graceSeconds: number): Promise<void>;
  confirmDeletion(uid: string): Promise<void>;
  forget(uid: string): void;
  /** An operation threw: the machine moves on as if it returned. */
  failed(uid: string, action: PodLifecycleAction['type'], err: Error): void;
}

export class PodLifecycles {
  private readonly states = new Map<string, PodLifecycleState>();
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly handlers: PodLifecycleHandlers) {}

  /** Feeds one event to the pod's machine; a pod first seen starts in `syncing`. */
  send(uid: string, event: PodLifecycleEvent): void {
    const current = this.states.get(uid);
    if (!current && event.type !== 'sync') return; // nothing of this pod on this node
    const { state, actions } = transition(current ?? initialLifecycleState(), event);
    this.states.set(uid, state);
    for (const action of actions) this.run(uid, action);
  }

  /** The pod's state (undefined once forgotten or never seen). */
  state(uid: string): PodLifecycleState | undefined {
    return this.states.get(uid);
  }

  get size(): number {
    return this.states.size;
  }

  /** Resolves when no operation runs for any pod (those that start meanwhile included). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private run(uid: string, action: PodLifecycleAction): void {
    const h = this.handlers;
    if (action.type === 'cancelSetUp') return h.cancelSetUp(uid);
    if (action.type === 'forget') {
      this.states.delete(uid);
      return h.forget(uid);
    }
    let operation: Promise<void>;
    try {
      operation =
        action.type === 'setUp' ? h.setUp(uid)
        : action.type === 'release' ? h.release(uid)
        : action.type === 'tearDown' ? h.tearDown(uid, action.graceSeconds)
        : h.confirmDeletion(uid);
    } catch (err) {
      operation = Promise.reject(err as Error);
    }
    const tracked = operation
      .catch((err: Error) => h.failed(uid, action.type, err))
      .then(() => {
        this.pending.delete(tracked);
        if (ASYNC_ACTIONS.has(action.type)) this.send(uid, { type: 'operationDone' });
      });
    this.pending.add(tracked);
  }
}
