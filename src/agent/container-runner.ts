// One container of a pod through its life: start (a built-in workload or a process), logs,
// probes, exit, restart with back-off under the pod's restartPolicy, and stop.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { planContainer, type ContainerPlan } from '../workloads/images.js';
import { WorkloadStartError, type RunningWorkload } from '../workloads/workload.js';
import { KubeClient } from '../client/client.js';
import { serviceAccountConnection } from '../runtime/workload-credentials.js';
import { RestartBackoff, shouldRestart, type BackoffPolicy } from './backoff.js';
import { ContainerLog } from './container-log.js';
import { startProcessContainer, type ProcessExit, type RunningProcess } from './container-process.js';
import { ContainerSecurityError, containerIdentity, execInContainerArgv, podNamespacesArgv, type ContainerIdentity, type IsolationContainerInput, type IsolationPodInput } from './isolation-plan.js';
import type { Container, ContainerState, ContainerStatus } from './pod-types.js';
import { ProbeState, type ProbeKind } from './probe-state.js';
import { runProbe } from './probe-run.js';
import { firstChild } from './container-process.js';
import type { RuntimeConnection } from '../runtime/agent-connection.js';
import { RuntimeLog } from '../runtime/remote-log.js';
import type { ContainerConfig, ContainerStatusReply } from '../runtime/api.js';

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
  /** The container's status changed; `readiness`: a probe flipped its readiness (reported at once, not batched). */
  changed(readiness?: boolean): void;
  /** A start-up step of the pod happened (its first container's create and start). */
  startupStep?(step: 'containerCreate' | 'containerStarted'): void;
  /** How the pod's process containers are isolated (see isolation-plan.ts). */
  isolation: {
    pod: IsolationPodInput;
    /** Directories covered by an empty tmpfs in every container. */
    hidden: string[];
    /** The projected ServiceAccount token directory, once written (undefined: no token). */
    serviceAccountDir(): string | undefined;
  };
  /**
   * The node runtime that runs this pod's containers (flatnet runtime): they then outlive the
   * agent. Undefined: the agent runs them itself (built-in workloads in its own process).
   */
  runtime?: { connection: RuntimeConnection; sandboxId: string; kubeconfig?: string };
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
  log: ContainerLog | RuntimeLog | undefined;
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
  /** The container in the node runtime (runtime mode): its id and the process it started. */
  private remote: { id: string; pid: number } | undefined;
  /** The Attach stream to the runtime container's stdin, opened at the first attach. */
  private remoteStdin: Writable | undefined;

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
    if (this.host.runtime) {
      if (!this.remote || this.spec.stdin !== true) return undefined;
      this.remoteStdin ??= this.host.runtime.connection.client.attachStdin(this.remote.id, true);
      return this.remoteStdin;
    }
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
    const runtime = this.host.runtime;
    const logPath = join(dir, `${attempt}.log`);
    this.log = runtime ? new RuntimeLog(logPath, runtime.connection.client, '') : new ContainerLog(logPath);
    this.status.containerID = containerID(this.host.podUid, this.spec.name, attempt);
    this.startedAtMs = Date.now();
    const startedAt = now();
    this.killedByProbe = false;
    for (const p of this.probes.values()) p.reset();
    this.status.started = false;
    this.status.ready = false;
    this.setState({ running: { startedAt } });
    this.host.event('Normal', 'Started', `Started container ${this.spec.name}`);
    if (runtime) {
      // Probes (and readiness) begin once the runtime started it: a built-in workload then listens.
      this.running = this.startInRuntime(runtime, this.plan, attempt, () => this.startProbes());
    } else if (this.plan.kind === 'builtin') {
      // A built-in workload is started once its sockets listen: only then do probes begin.
      this.running = this.startBuiltin(this.plan, () => this.startProbes());
    } else {
      this.running = this.startProcess(this.plan.argv, this.identity!);
      this.startProbes();
    }
    const current = this.running;
    void current.then((exit) => this.onExit(exit, startedAt));
  }

  /** The runtime's description of this container (what CreateContainer gets). */
  private runtimeConfig(runtime: NonNullable<ContainerHost['runtime']>, plan: Exclude<ContainerPlan, { kind: 'invalid' }>, attempt: number): ContainerConfig {
    const iso = this.host.isolation;
    const ports = (this.spec.ports ?? []).map((p) => ({ containerPort: p.containerPort, ...(p.protocol ? { protocol: p.protocol } : {}), ...(p.name ? { name: p.name } : {}) }));
    const base = { sandboxId: runtime.sandboxId, name: this.spec.name, attempt, env: this.env, ports };
    const serviceAccountDir = iso.serviceAccountDir();
    if (plan.kind === 'builtin') {
      // A workload that reads the API does so as the pod's ServiceAccount (its projected token), never as the node.
      const api = runtime.kubeconfig && serviceAccountDir ? { api: { kubeconfig: runtime.kubeconfig, tokenFile: join(serviceAccountDir, 'token') } } : {};
      return { ...base, run: { kind: 'builtin', image: this.spec.image ?? plan.image.name, args: plan.args, ...api } };
    }
    return {
      ...base,
      run: {
        kind: 'process',
        argv: plan.argv,
        identity: this.identity!,
        hostPID: iso.pod.hostPID === true,
        hostIPC: iso.pod.hostIPC === true,
        hidden: iso.hidden,
        ...(serviceAccountDir ? { serviceAccountDir } : {}),
        tty: this.spec.tty === true,
        stdin: this.spec.stdin === true,
        ...(this.spec.workingDir ? { workingDir: this.spec.workingDir } : {}),
      },
    };
  }

  /** Creates and starts the container in the node runtime; resolves with its exit. */
  private async startInRuntime(runtime: NonNullable<ContainerHost['runtime']>, plan: Exclude<ContainerPlan, { kind: 'invalid' }>, attempt: number, started: () => void): Promise<ProcessExit> {
    const client = runtime.connection.client;
    try {
      this.host.startupStep?.('containerCreate');
      const { containerId } = await client.call('CreateContainer', { config: this.runtimeConfig(runtime, plan, attempt) });
      this.log = new RuntimeLog(this.log!.path, client, containerId);
      const exited = runtime.connection.waitExit(containerId);
      const { container } = await client.call('StartContainer', { containerId });
      this.remote = { id: containerId, pid: container.pid };
      this.host.startupStep?.('containerStarted');
      if (container.pid) this.host.processStarted?.(container.pid);
      // The runtime keeps the previous run for `logs --previous`; older runs go.
      if (attempt >= 2) void client.call('RemoveContainer', { containerId: containerIdOfAttempt(containerId, attempt - 2) }).catch(() => undefined);
      if (this.stopping) void client.call('StopContainer', { containerId, graceSeconds: 0 }).catch(() => undefined);
      else if (container.state === 'RUNNING') started();
      return exitOfStatus(await exited);
    } catch (err) {
      return { exitCode: 128, reason: 'StartError', message: `the node runtime cannot start the container: ${(err as Error).message}` };
    }
  }

  /**
   * Takes over a container the node runtime already runs (or ran) for this pod, after an agent
   * restart: its restart count, start time, logs and process are the runtime's. A running one
   * is watched as if this agent had started it; an exited one is handled as a fresh exit
   * (restarted by the pod's restartPolicy).
   */
  adopt(c: ContainerStatusReply): void {
    const runtime = this.host.runtime;
    if (!runtime || this.stopping) return;
    this.plan = planContainer(this.spec.image, this.spec.command, this.spec.args, this.host.busyboxApplets);
    if (this.plan.kind === 'invalid') return this.start();
    try {
      this.env = this.host.env(this.spec);
      if (this.plan.kind === 'process') this.identity = containerIdentity(this.host.isolation.pod, this.spec as IsolationContainerInput);
    } catch {
      // The environment is only used by exec probes here; the runtime has the container's own.
    }
    this.status.imageID = `flatnet://builtin/${this.plan.image.name}`;
    this.status.restartCount = c.attempt;
    this.status.containerID = containerID(this.host.podUid, this.spec.name, c.attempt);
    if (c.attempt > 0) this.previousLogPath = join(this.host.logDir, this.spec.name, `${c.attempt - 1}.log`);
    this.log = new RuntimeLog(c.logPath, runtime.connection.client, c.id);
    const startedAt = c.startedAt ?? now();
    this.startedAtMs = Date.parse(startedAt);
    if (c.state !== 'RUNNING') {
      this.log.close();
      this.onExit(exitOfStatus(c), startedAt);
      return;
    }
    this.remote = { id: c.id, pid: c.pid };
    this.status.started = false;
    this.status.ready = false;
    this.setState({ running: { startedAt } });
    const current = (this.running = runtime.connection.waitExit(c.id, true).then(exitOfStatus));
    void current.then((exit) => this.onExit(exit, startedAt));
    this.startProbes();
  }

  private startProcess(argv: string[], identity: ContainerIdentity): Promise<ProcessExit> {
    const log = this.log as ContainerLog;
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

  /** The API client of an in-agent built-in workload: the pod's ServiceAccount token at the node's server, or none. */
  private serviceAccountClient(): KubeClient | undefined {
    const dir = this.host.isolation.serviceAccountDir();
    return dir && this.host.client ? new KubeClient(serviceAccountConnection(this.host.client.connection, join(dir, 'token'))) : undefined;
  }

  private async startBuiltin(plan: Extract<ContainerPlan, { kind: 'builtin' }>, listening: () => void): Promise<ProcessExit> {
    const log = this.log as ContainerLog;
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
        client: this.serviceAccountClient(),
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
    this.remote = undefined;
    this.remoteStdin?.destroy();
    this.remoteStdin = undefined;
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
      this.host.changed(true);
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
    if (this.host.runtime) {
      // The runtime sends SIGTERM, waits the grace period and sends SIGKILL itself.
      const id = this.remote?.id;
      if (id) await this.host.runtime.connection.client.call('StopContainer', { containerId: id, graceSeconds }).catch(() => undefined);
      await running;
      return;
    }
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
    // In the node runtime the container keeps running for the next agent; only our follower ends.
    if (this.host.runtime) this.log?.close();
  }

  /**
   * The command line that runs `argv` inside this container (exec, exec probes): in its
   * namespaces and as its user when it is a process, in the pod's namespaces beside a built-in
   * workload; undefined when a process container is not running (nothing to enter).
   */
  execCommandLine(argv: string[], tty: boolean): string[] | undefined {
    if (this.plan?.kind === 'builtin') return podNamespacesArgv({ netns: this.host.netns, utsPath: this.host.utsPath, argv, tty });
    const remotePid = this.remote?.pid;
    const initPid = remotePid ? (this.host.isolation.pod.hostPID === true ? remotePid : firstChild(remotePid)) : this.process?.initPid();
    if (!initPid || !this.identity) return undefined;
    return execInContainerArgv(initPid, { hostPID: this.host.isolation.pod.hostPID === true, identity: this.identity, argv, tty });
  }

  /** Closes stdin (stdinOnce after the attach that used it ended). */
  closeStdin(): void {
    this.process?.stdin?.end();
    this.remoteStdin?.end();
  }
}


/** The exit of a container as the node runtime reports it. */
function exitOfStatus(c: ContainerStatusReply): ProcessExit {
  const code = c.exitCode ?? 255;
  const exit: ProcessExit = { exitCode: code, reason: c.reason === 'StartError' ? 'StartError' : code === 0 ? 'Completed' : 'Error' };
  if (c.signal) exit.signal = c.signal;
  if (c.message) exit.message = c.message;
  return exit;
}

/** The id of another attempt of the same container (ids end in -<attempt>). */
function containerIdOfAttempt(id: string, attempt: number): string {
  return id.replace(/-\d+$/, `-${attempt}`);
}
