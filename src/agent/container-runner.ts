// One container of a pod through its life: start (a built-in workload or a process), logs,
// probes, exit, restart with back-off under the pod's restartPolicy, and stop.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { planContainer, type ContainerPlan } from '../workloads/images.js';
import { WorkloadStartError, type RunningWorkload } from '../workloads/workload.js';
import type { KubeClient } from '../client/client.js';
import { RestartBackoff, shouldRestart, type BackoffPolicy } from './backoff.js';
import { ContainerLog } from './container-log.js';
import { startProcessContainer, type ProcessExit, type RunningProcess } from './container-process.js';
import { ContainerSecurityError, containerIdentity, execInContainerArgv, podNamespacesArgv, type ContainerIdentity, type IsolationContainerInput, type IsolationPodInput } from './isolation-plan.js';
import type { Container, ContainerState, ContainerStatus } from './pod-types.js';
import { ProbeState, type ProbeKind } from './probe-state.js';
import { runProbe } from './probe-run.js';

export interface ContainerHost {
  /** The pod's sandbox namespace and address. */
  netns: string;
  utsPath?: string;
  podIP: string;
  nodeNetns?: string;
  hostname: string;
  namespace: string;
  podName: string;
  podUid: string;
  restartPolicy: string;
  logDir: string;
  busyboxApplets: ReadonlySet<string>;
  client?: KubeClient;
  backoff?: BackoffPolicy;
  /** The container's environment; throws ContainerConfigError when a reference is missing. */
  env(container: Container): Record<string, string>;
  /** Reads the ConfigMaps and Secrets the environment refers to again. */
  refreshReferences(): Promise<void>;
  changed(): void;
  /** How the pod's process containers are isolated (see isolation-plan.ts). */
  isolation: {
    pod: IsolationPodInput;
    /** Directories covered by an empty tmpfs in every container. */
    hidden: string[];
    /** The projected ServiceAccount token directory, once written (undefined: no token). */
    serviceAccountDir(): string | undefined;
  };
  /** A process container started (its pid is recorded for a later agent). */
  processStarted?(pid: number): void;
  event(type: 'Normal' | 'Warning', reason: string, message: string): void;
}

const now = () => new Date().toISOString();

export function containerID(podUid: string, name: string, attempt: number): string {
  return `flatnet://${podUid.replace(/-/g, '').slice(0, 12)}-${name}-${attempt}`;
}

export class ContainerRunner {
  status: ContainerStatus;
  log: ContainerLog | undefined;
  previousLogPath: string | undefined;
  private process: RunningProcess | undefined;
  private workload: RunningWorkload | undefined;
  private readonly probes = new Map<ProbeKind, ProbeState>();
  private readonly probeTimers = new Set<NodeJS.Timeout>();
  private readonly backoff: RestartBackoff;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private killedByProbe = false;
  private startedAtMs = 0;
  private running: Promise<ProcessExit> | undefined;
  private readonly finishedWaiters: ((exit: ProcessExit) => void)[] = [];
  env: Record<string, string> = {};
  plan: ContainerPlan | undefined;
  private identity: ContainerIdentity | undefined;

  constructor(
    readonly spec: Container,
    private readonly host: ContainerHost,
    /** Init containers run once to completion (and are retried only on failure). */
    readonly init = false,
    initialReason = 'ContainerCreating',
  ) {
    this.backoff = new RestartBackoff(host.backoff);
    this.status = {
      name: spec.name,
      state: { waiting: { reason: initialReason } },
      lastState: {},
      ready: false,
      restartCount: 0,
      image: spec.image ?? '',
      imageID: '',
      started: false,
    };
    for (const [kind, probe] of [
      ['startup', spec.startupProbe],
      ['liveness', spec.livenessProbe],
      ['readiness', spec.readinessProbe],
    ] as const) {
      if (probe && !init) this.probes.set(kind, new ProbeState(kind, probe));
    }
  }

  get stdin(): Writable | undefined {
    return this.process?.stdin;
  }

  get isRunning(): boolean {
    return this.status.state.running !== undefined;
  }

  /** Resolves with the next exit (for init containers run to completion). */
  nextExit(): Promise<ProcessExit> {
    return new Promise((resolve) => this.finishedWaiters.push(resolve));
  }

  private setState(state: ContainerState): void {
    this.status.state = state;
    this.host.changed();
  }

  /** Starts the container (again); never throws: failures become the container's state. */
  start(): void {
    if (this.stopping) return;
    this.plan = planContainer(this.spec.image, this.spec.command, this.spec.args, this.host.busyboxApplets);
    if (this.plan.kind === 'invalid') {
      this.setState({ waiting: { reason: this.plan.reason, message: this.plan.message } });
      this.host.event('Warning', 'Failed', `Failed to pull image "${this.spec.image}": ${this.plan.message}`);
      return;
    }
    this.status.imageID = `flatnet://builtin/${this.plan.image.name}`;
    try {
      this.env = this.host.env(this.spec);
      if (this.plan.kind === 'process') this.identity = containerIdentity(this.host.isolation.pod, this.spec as IsolationContainerInput);
    } catch (err) {
      if (err instanceof ContainerSecurityError) {
        // The spec itself is refused: retried with back-off as the kubelet does, without reading references.
        this.setState({ waiting: { reason: err.reason, message: err.message } });
        this.host.event('Warning', 'Failed', `Error: ${err.message}`);
        this.restartTimer = setTimeout(() => {
          this.restartTimer = undefined;
          this.start();
        }, 10_000);
        return;
      }
      this.setState({ waiting: { reason: 'CreateContainerConfigError', message: (err as Error).message } });
      this.host.event('Warning', 'Failed', `Error: ${(err as Error).message}`);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        void this.host.refreshReferences().then(() => this.start());
      }, 5000);
      return;
    }
    const attempt = this.status.restartCount;
    const dir = join(this.host.logDir, this.spec.name);
    mkdirSync(dir, { recursive: true });
    if (this.log) {
      this.previousLogPath = this.log.path;
      this.log.close();
    }
    this.log = new ContainerLog(join(dir, `${attempt}.log`));
    this.status.containerID = containerID(this.host.podUid, this.spec.name, attempt);
    this.startedAtMs = Date.now();
    const startedAt = now();
    this.killedByProbe = false;
    for (const p of this.probes.values()) p.reset();
    this.status.started = false;
    this.status.ready = false;
    this.setState({ running: { startedAt } });
    this.host.event('Normal', 'Started', `Started container ${this.spec.name}`);
    if (this.plan.kind === 'builtin') {
      // A built-in workload is started once its sockets listen: only then do probes begin.
      this.running = this.startBuiltin(this.plan, () => this.startProbes());
    } else {
      this.running = this.startProcess(this.plan.argv, this.identity!);
      this.startProbes();
    }
    const current = this.running;
    void current.then((exit) => this.onExit(exit, startedAt));
  }

  private startProcess(argv: string[], identity: ContainerIdentity): Promise<ProcessExit> {
    const log = this.log!;
    const iso = this.host.isolation;
    this.process = startProcessContainer({
      launch: {
        netns: this.host.netns,
        utsPath: this.host.utsPath,
        hostPID: iso.pod.hostPID === true,
        hostIPC: iso.pod.hostIPC === true,
        identity,
        hidden: iso.hidden,
        serviceAccountDir: iso.serviceAccountDir(),
        argv,
        tty: this.spec.tty === true,
      },
      env: this.env,
      workingDir: this.spec.workingDir,
      stdin: this.spec.stdin === true,
      onOutput: (stream, data) => log.write(stream, data),
    });
    if (this.process.pid) this.host.processStarted?.(this.process.pid);
    return this.process.exited.then((exit) => {
      if (exit.message) log.write('stderr', exit.message + '\n');
      return exit;
    });
  }

  private async startBuiltin(plan: Extract<ContainerPlan, { kind: 'builtin' }>, listening: () => void): Promise<ProcessExit> {
    const log = this.log!;
    try {
      this.workload = await plan.main({
        netns: this.host.netns,
        podIP: this.host.podIP,
        hostname: this.host.hostname,
        namespace: this.host.namespace,
        podName: this.host.podName,
        args: plan.args,
        env: this.env,
        ports: this.spec.ports ?? [],
        client: this.host.client,
        stdout: (t) => log.write('stdout', t),
        stderr: (t) => log.write('stderr', t),
      });
      if (this.stopping) this.workload.stop();
      else listening();
      const code = await this.workload.exited;
      return code === 0 ? { exitCode: 0, reason: 'Completed' } : { exitCode: code, reason: 'Error' };
    } catch (err) {
      const message = (err as Error).message;
      log.write('stderr', message + '\n');
      const code = err instanceof WorkloadStartError ? err.exitCode : 1;
      return { exitCode: code, reason: 'Error', message };
    }
  }

  private onExit(exit: ProcessExit, startedAt: string): void {
    this.stopProbes();
    this.process = undefined;
    this.workload = undefined;
    this.running = undefined;
    this.log?.close();
    const terminated: NonNullable<ContainerState['terminated']> = {
      exitCode: exit.exitCode,
      reason: exit.reason,
      startedAt,
      finishedAt: now(),
      containerID: this.status.containerID,
    };
    if (exit.signal) terminated.signal = exit.signal;
    if (exit.message) terminated.message = exit.message;
    this.status.ready = false;
    this.status.started = false;
    for (const w of this.finishedWaiters.splice(0)) w(exit);
    const restart = !this.stopping && (this.killedByProbe ? this.host.restartPolicy !== 'Never' : this.init ? exit.exitCode !== 0 && this.host.restartPolicy !== 'Never' : shouldRestart(this.host.restartPolicy, exit.exitCode));
    if (!restart) {
      this.setState({ terminated });
      return;
    }
    this.status.lastState = { terminated };
    this.status.restartCount++;
    const delay = this.backoff.next(Date.now() - this.startedAtMs);
    if (delay === 0) {
      this.setState({ terminated });
      this.start();
      return;
    }
    const message = `back-off ${Math.round(delay / 1000)}s restarting failed container=${this.spec.name} pod=${this.host.podName}_${this.host.namespace}(${this.host.podUid})`;
    this.setState({ waiting: { reason: 'CrashLoopBackOff', message } });
    this.host.event('Warning', 'BackOff', 'Back-off restarting failed container');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.start();
    }, delay);
  }

  private startProbes(): void {
    if (this.probes.size === 0) {
      this.status.started = true;
      this.status.ready = true;
      this.host.changed();
      return;
    }
    const startup = this.probes.get('startup');
    if (startup) this.schedule(startup, startup.firstDelayMs());
    else this.afterStartup();
  }

  private afterStartup(): void {
    this.status.started = true;
    const readiness = this.probes.get('readiness');
    const liveness = this.probes.get('liveness');
    if (!readiness) this.status.ready = true;
    this.host.changed();
    if (readiness) this.schedule(readiness, readiness.firstDelayMs());
    if (liveness) this.schedule(liveness, liveness.firstDelayMs());
  }

  private schedule(state: ProbeState, delayMs: number): void {
    const timer = setTimeout(() => {
      this.probeTimers.delete(timer);
      void this.probeOnce(state);
    }, delayMs);
    this.probeTimers.add(timer);
  }

  private async probeOnce(state: ProbeState): Promise<void> {
    if (!this.isRunning || this.stopping) return;
    const probe = state.kind === 'startup' ? this.spec.startupProbe! : state.kind === 'liveness' ? this.spec.livenessProbe! : this.spec.readinessProbe!;
    const attemptID = this.status.containerID;
    const outcome = await runProbe(probe, { podIP: this.host.podIP, podNetns: this.host.netns, nodeNetns: this.host.nodeNetns, container: this.spec, env: this.env, commandLine: (argv) => this.execCommandLine(argv, false) }, state.timing.timeoutMs);
    if (attemptID !== this.status.containerID || !this.isRunning || this.stopping) return;
    if (!outcome.ok) this.host.event('Warning', 'Unhealthy', `${state.kind[0].toUpperCase()}${state.kind.slice(1)} probe failed: ${outcome.message ?? ''}`);
    const verdict = state.record(outcome.ok);
    if (state.kind === 'startup') {
      if (verdict === 'succeeded') return this.afterStartup();
      if (verdict === 'failed') return this.killForProbe('startup', outcome.message);
    } else if (state.kind === 'liveness') {
      if (verdict === 'failed') return this.killForProbe('liveness', outcome.message);
    } else if (verdict !== 'unchanged') {
      this.status.ready = state.result;
      this.host.changed();
    }
    this.schedule(state, state.timing.periodMs);
  }

  private killForProbe(kind: ProbeKind, message?: string): void {
    this.host.event('Normal', 'Killing', `Container ${this.spec.name} failed ${kind} probe, will be restarted${message ? `: ${message}` : ''}`);
    this.killedByProbe = true;
    void this.kill(this.spec.livenessProbe?.terminationGracePeriodSeconds ?? 30, false);
  }

  private stopProbes(): void {
    for (const t of this.probeTimers) clearTimeout(t);
    this.probeTimers.clear();
  }

  /** Sends SIGTERM (or stops the workload), then SIGKILL after `graceSeconds`. */
  private async kill(graceSeconds: number, final: boolean): Promise<void> {
    if (final) this.stopping = true;
    const running = this.running;
    if (!running) return;
    if (this.workload) this.workload.stop();
    else this.process?.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.process?.signal('SIGKILL');
        resolve();
      }, graceSeconds * 1000);
    });
    await Promise.race([running.then(() => undefined), killed]);
    clearTimeout(timer);
    await running;
  }

  /** Stops the container for good (pod deletion). */
  async stop(graceSeconds: number): Promise<void> {
    this.stopping = true;
    this.stopProbes();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.kill(graceSeconds, true);
    this.log?.close();
  }

  /**
   * Lets go of the container without stopping its process, for an agent that exits and leaves
   * the pod to the next one; built-in workloads live in this process, so they end.
   */
  abandon(): void {
    this.stopping = true;
    this.stopProbes();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.workload?.stop();
  }

  /**
   * The command line that runs `argv` inside this container (exec, exec probes): in its
   * namespaces and as its user when it is a process, in the pod's namespaces beside a built-in
   * workload; undefined when a process container is not running (nothing to enter).
   */
  execCommandLine(argv: string[], tty: boolean): string[] | undefined {
    if (this.plan?.kind === 'builtin') return podNamespacesArgv({ netns: this.host.netns, utsPath: this.host.utsPath, argv, tty });
    const initPid = this.process?.initPid();
    if (!initPid || !this.identity) return undefined;
    return execInContainerArgv(initPid, { hostPID: this.host.isolation.pod.hostPID === true, identity: this.identity, argv, tty });
  }

  /** Closes stdin (stdinOnce after the attach that used it ended). */
  closeStdin(): void {
    this.process?.stdin?.end();
  }
}

