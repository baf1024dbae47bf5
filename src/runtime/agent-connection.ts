// The agent's connection to its node runtime: waits for the runtime to answer, follows its
// ContainerEvents stream and hands each container's exit to whoever waits for it. When the
// stream breaks (the runtime died), every container the agent waits on is reported exited (the
// agent restarts it by the pod's restartPolicy once the runtime is back), and the connection
// retries until the runtime answers again; containers that were still running then are ones
// the agent already gave up, so they are stopped and removed. While connected, the runtime is
// pinged every second: one that stops answering (hung, stopped) turns the connection unhealthy
// until it answers again; each change of health is reported at once (the node's Ready follows).
import type { Logger } from '../util/log.js';
import type { ContainerStatusReply } from './api.js';
import { RuntimeClient, type EventStream } from './client.js';
import { planReconcile, type KeptPod, type ReconcilePlan } from './reconcile.js';

/** How a container the agent waited on ended when the runtime went away. */
export const RUNTIME_GONE = 'the node runtime went away';

const RETRY_MS = 500;
/** How often a connected runtime is asked for /version, and how long it may take to answer. */
export const PING_INTERVAL_MS = 1000;
export const PING_TIMEOUT_MS = 2000;

/** The connection's view of the runtime: up, or down with the reason (for the node's Ready condition). */
export type RuntimeHealth = { up: true } | { up: false; reason: string };

export class RuntimeConnection {
  readonly client: RuntimeClient;
  private stream: EventStream | undefined;
  private readonly waiters = new Map<string, ((c: ContainerStatusReply) => void)[]>();
  /** Containers reported exited because the runtime went away (stopped if they still run). */
  private readonly lost = new Set<string>();
  private stopped = false;
  private up = false;
  private downSince: number | undefined;
  /** Why the runtime is not usable now (undefined: connected and answering). */
  private problem: string | undefined = 'not connected to the node runtime yet';
  private readonly listeners: ((h: RuntimeHealth) => void)[] = [];
  private pingTimer: NodeJS.Timeout | undefined;

  constructor(
    socketPath: string,
    private readonly log: Logger,
  ) {
    this.client = new RuntimeClient(socketPath);
  }

  /** Whether the runtime answers now (the node's readiness reflects it). */
  get healthy(): boolean {
    return this.problem === undefined;
  }

  health(): RuntimeHealth {
    return this.problem === undefined ? { up: true } : { up: false, reason: this.problem };
  }

  /** Called on every change of health(), at once. */
  onHealthChange(listener: (h: RuntimeHealth) => void): void {
    this.listeners.push(listener);
  }

  private setProblem(problem: string | undefined): void {
    if (problem === this.problem) return;
    this.problem = problem;
    const h = this.health();
    for (const l of this.listeners) l(h);
  }

  private schedulePing(): void {
    if (this.stopped || !this.up) return;
    this.pingTimer = setTimeout(() => {
      this.pingTimer = undefined;
      void this.client.ping(PING_TIMEOUT_MS).then(
        () => this.up && this.setProblem(undefined),
        (err: Error) => {
          if (!this.up) return;
          if (this.problem === undefined) this.log.warn('the node runtime stopped answering', { socket: this.client.socketPath, err: err.message });
          this.setProblem(err.message);
        },
      ).finally(() => this.schedulePing());
    }, PING_INTERVAL_MS);
  }

  /** Resolves once the runtime answered and its event stream is open. */
  async open(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const v = await this.client.connect();
        this.stream = await this.client.events((e) => {
          if (e.type === 'exited' || e.type === 'removed') this.settle(e.container);
        });
        this.up = true;
        this.log.info('connected to the node runtime', { socket: this.client.socketPath, api: v.using, runtimeVersion: v.runtimeVersion, afterMs: this.downSince ? Date.now() - this.downSince : 0 });
        this.downSince = undefined;
        void this.stream.ended.then(() => this.onStreamEnd());
        await this.stopLost();
        this.setProblem(undefined);
        this.schedulePing();
        return;
      } catch (err) {
        if (attempt % 20 === 0) this.log.warn('the node runtime does not answer; retrying', { socket: this.client.socketPath, err: (err as Error).message });
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private onStreamEnd(): void {
    this.stream = undefined;
    this.up = false;
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    if (this.stopped) return;
    this.downSince = Date.now();
    this.setProblem(`lost the connection to the node runtime at ${this.client.socketPath}; reconnecting`);
    this.log.warn('lost the node runtime: its containers are reported exited', { waiting: this.waiters.size });
    for (const [id, list] of [...this.waiters]) {
      this.waiters.delete(id);
      this.lost.add(id);
      const gone = { id, state: 'EXITED', exitCode: 255, reason: 'Error', message: RUNTIME_GONE } as ContainerStatusReply;
      for (const w of list) w(gone);
    }
    void this.open();
  }

  /** Containers given up while the runtime was unreachable but still running: stop and remove them. */
  private async stopLost(): Promise<void> {
    if (this.lost.size === 0) return;
    const running = (await this.client.call('ListContainers', {})).containers.filter((c) => this.lost.has(c.id));
    for (const c of running) await this.client.call('RemoveContainer', { containerId: c.id }).catch(() => undefined);
    this.lost.clear();
  }

  private settle(c: ContainerStatusReply): void {
    const list = this.waiters.get(c.id);
    if (!list) return;
    this.waiters.delete(c.id);
    for (const w of list) w(c);
  }

  /**
   * Resolves with the container's status once it exited (register before starting it, so a fast
   * exit is not missed). The status is checked once now for a container that exited before.
   */
  waitExit(id: string, checkNow = false): Promise<ContainerStatusReply> {
    return new Promise((resolve) => {
      if (!this.up) return resolve({ id, state: 'EXITED', exitCode: 255, reason: 'Error', message: RUNTIME_GONE } as ContainerStatusReply);
      this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]);
      if (checkNow) {
        void this.client.call('ContainerStatus', { containerId: id }).then(
          (r) => r.container.state === 'EXITED' && this.settle(r.container),
          () => this.settle({ id, state: 'EXITED', exitCode: 255, reason: 'Error', message: `${RUNTIME_GONE}: the container is unknown to it` } as ContainerStatusReply),
        );
      }
    });
  }

  /**
   * On agent start: what the runtime has, set against the pods this agent keeps; containers and
   * sandboxes it does not keep are stopped and removed now. Returns the containers to adopt.
   */
  async reconcile(kept: KeptPod[]): Promise<ReconcilePlan> {
    const sandboxes = (await this.client.call('ListPodSandbox', {})).sandboxes.map((s) => s.id);
    const containers = (await this.client.call('ListContainers', {})).containers;
    const plan = planReconcile(sandboxes, containers, kept);
    for (const id of plan.removeSandboxes) {
      this.log.info('removing a runtime sandbox of a pod no longer here', { sandbox: id });
      await this.client.call('RemovePodSandbox', { sandboxId: id });
    }
    for (const id of plan.removeContainers) await this.client.call('RemoveContainer', { containerId: id });
    return plan;
  }

  stop(): void {
    this.stopped = true;
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.stream?.close();
  }
}
