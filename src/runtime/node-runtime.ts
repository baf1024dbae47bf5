// The node runtime's state: pod sandboxes and their containers. A container is either a
// program of this machine started in its own namespaces (container-process.ts, in its own
// process group, outliving any agent) or a built-in workload served inside this process on
// sockets opened in the pod's network namespace. Every change is emitted as a ContainerEvent
// and written to the state file, so a restarted runtime knows what ran before it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient } from '../client/client.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { serviceAccountConnection } from './workload-credentials.js';
import { ContainerLog } from '../agent/container-log.js';
import { startProcessContainer, type ProcessExit, type RunningProcess } from '../agent/container-process.js';
import { findBuiltinImage, loadWorkload } from '../workloads/images.js';
import { WorkloadStartError, type RunningWorkload } from '../workloads/workload.js';
import type { Logger } from '../util/log.js';
import { RuntimeApiError, containerIdOf, invalid, type ContainerConfig, type ContainerEvent, type ContainerStatusReply, type PodSandboxConfig, type SandboxStatusReply } from './api.js';
import { processRef, stillRunning, type ProcessRef } from './process-identity.js';
import { RuntimeStateFile, type SavedContainer } from './state-file.js';

interface Sandbox {
  config: PodSandboxConfig;
  state: 'READY' | 'NOTREADY';
}

interface Container {
  config: ContainerConfig;
  status: ContainerStatusReply;
  log?: ContainerLog;
  process?: RunningProcess;
  processRef?: ProcessRef;
  workload?: RunningWorkload;
  /** Resolves when the running container exited and its status says so. */
  exited?: Promise<void>;
  /** Ends a built-in workload from outside (an exception thrown in its context). */
  crash?: (err: Error) => void;
}

const now = () => new Date().toISOString();

/** The message a container stopped by a runtime restart carries. */
export const RUNTIME_RESTARTED = 'the node runtime restarted; the container was stopped';

export class NodeRuntime extends EventEmitter {
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly containers = new Map<string, Container>();
  /** The container whose code runs now (for exceptions thrown by a built-in workload). */
  private readonly current = new AsyncLocalStorage<string>();
  /** The state file write the changes of this turn of the event loop wait for. */
  private writeScheduled: Promise<void> | undefined;

  constructor(
    private readonly state: RuntimeStateFile,
    private readonly log: Logger,
  ) {
    super();
    this.setMaxListeners(0);
  }

  /**
   * Loads what a previous run of the runtime left: sandboxes stay; a container that was running
   * lost its log pipes and its supervisor with that run, so its leftover process group is killed
   * and it is reported EXITED (the agent restarts it by the pod's restartPolicy).
   */
  recover(): void {
    const saved = this.state.load();
    for (const s of saved.sandboxes) this.sandboxes.set(s.config.uid, { config: s.config, state: s.state });
    for (const c of saved.containers) {
      const status = { ...c.status };
      if (status.state === 'RUNNING' || status.state === 'CREATED') {
        if (c.processRef && stillRunning(c.processRef)) {
          this.log.info('killing a container left by a previous runtime', { container: status.id, pid: c.processRef.pid });
          try {
            process.kill(-c.processRef.pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
        Object.assign(status, { state: 'EXITED', exitCode: 255, reason: 'Error', message: RUNTIME_RESTARTED, finishedAt: now(), pid: 0, initPid: 0 });
      }
      this.containers.set(status.id, { config: c.config, status });
    }
    this.flushState();
  }

  /**
   * An exception no one caught: when it was thrown by a built-in workload's code, that container
   * dies with it (exit code 2, as a Go program's panic); the runtime itself keeps running.
   */
  uncaught(err: Error): boolean {
    const id = this.current.getStore();
    const c = id ? this.containers.get(id) : undefined;
    if (!c?.crash) return false;
    c.crash(err);
    return true;
  }

  runPodSandbox(config: PodSandboxConfig): string {
    const existing = this.sandboxes.get(config.uid);
    if (existing && existing.state === 'NOTREADY') throw new RuntimeApiError(409, `sandbox ${config.uid} was stopped; remove it before running the pod again`);
    this.sandboxes.set(config.uid, { config, state: 'READY' });
    mkdirSync(config.logDir, { recursive: true, mode: 0o700 });
    this.save();
    return config.uid;
  }

  async stopPodSandbox(sandboxId: string, graceSeconds: number): Promise<void> {
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox) return; // already gone: stopping is idempotent, as the CRI's
    sandbox.state = 'NOTREADY';
    await Promise.all(this.containersOf(sandboxId).map((c) => this.stopContainer(c.status.id, graceSeconds)));
    this.save();
  }

  async removePodSandbox(sandboxId: string): Promise<void> {
    if (!this.sandboxes.has(sandboxId)) return;
    await this.stopPodSandbox(sandboxId, 0);
    for (const c of this.containersOf(sandboxId)) await this.removeContainer(c.status.id);
    this.sandboxes.delete(sandboxId);
    this.save();
  }

  listPodSandbox(): SandboxStatusReply[] {
    return [...this.sandboxes.values()].map((s) => ({ id: s.config.uid, config: s.config, state: s.state, containers: this.containersOf(s.config.uid).length }));
  }

  createContainer(config: ContainerConfig): string {
    const sandbox = this.sandboxes.get(config.sandboxId);
    if (!sandbox) throw new RuntimeApiError(404, `config.sandboxId: no sandbox "${config.sandboxId}" (RunPodSandbox first)`);
    if (sandbox.state !== 'READY') throw new RuntimeApiError(409, `config.sandboxId: sandbox "${config.sandboxId}" is stopped`);
    if (config.run.kind === 'builtin') {
      const image = findBuiltinImage(config.run.image);
      if (!image?.main) throw invalid(`config.run.image: "${config.run.image}" is not a built-in workload image`);
    }
    const id = containerIdOf(config.sandboxId, config.name, config.attempt);
    if (this.containers.has(id)) throw new RuntimeApiError(409, `container ${id} (${config.name}, attempt ${config.attempt}) already exists; remove it first`);
    const dir = join(sandbox.config.logDir, config.name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const status: ContainerStatusReply = {
      id,
      sandboxId: config.sandboxId,
      name: config.name,
      attempt: config.attempt,
      state: 'CREATED',
      kind: config.run.kind,
      pid: 0,
      initPid: 0,
      createdAt: now(),
      logPath: join(dir, `${config.attempt}.log`),
    };
    this.containers.set(id, { config, status });
    this.save();
    return id;
  }

  /**
   * Starts a CREATED container. Resolves once a process is spawned, or once a built-in workload
   * listens (or failed): as a container's start is reported, its ports answer.
   */
  async startContainer(id: string): Promise<ContainerStatusReply> {
    const c = this.get(id);
    if (c.status.state !== 'CREATED') throw new RuntimeApiError(409, `container ${id} is ${c.status.state}; only a CREATED container starts`);
    const sandbox = this.sandboxes.get(c.config.sandboxId)!;
    const log = new ContainerLog(c.status.logPath);
    c.log = log;
    c.status.state = 'RUNNING';
    c.status.startedAt = now();
    let listening: Promise<void> = Promise.resolve();
    const finished = c.config.run.kind === 'process' ? this.launchProcess(c, sandbox.config) : this.current.run(id, () => this.launchBuiltin(c, sandbox.config, (ready) => (listening = ready)));
    c.exited = finished.then((exit) => this.onExit(c, exit));
    this.emitEvent('started', c);
    this.save();
    await Promise.race([listening, c.exited]);
    return this.snapshot(c);
  }

  private launchProcess(c: Container, sandbox: PodSandboxConfig): Promise<ProcessExit> {
    const run = c.config.run;
    if (run.kind !== 'process') throw new Error('not a process container');
    const log = c.log!;
    const proc = startProcessContainer({
      launch: { netns: sandbox.netns, utsPath: sandbox.utsPath, hostPID: run.hostPID, hostIPC: run.hostIPC, identity: run.identity, hidden: run.hidden, serviceAccountDir: run.serviceAccountDir, argv: run.argv, tty: run.tty },
      env: c.config.env,
      workingDir: run.workingDir,
      stdin: run.stdin,
      onOutput: (stream, data) => log.write(stream, data),
    });
    c.process = proc;
    c.status.pid = proc.pid;
    if (proc.pid) c.processRef = processRef(proc.pid);
    return proc.exited.then((exit) => {
      if (exit.message) log.write('stderr', exit.message + '\n');
      return exit;
    });
  }

  private launchBuiltin(c: Container, sandbox: PodSandboxConfig, started: (listening: Promise<void>) => void): Promise<ProcessExit> {
    const run = c.config.run;
    if (run.kind !== 'builtin') throw new Error('not a built-in container');
    const log = c.log!;
    let crashed!: (exit: ProcessExit) => void;
    const crash = new Promise<ProcessExit>((resolve) => (crashed = resolve));
    c.crash = (err) => {
      log.write('stderr', `panic: ${err.stack ?? err.message}\n`);
      c.workload?.stop();
      crashed({ exitCode: 2, reason: 'Error', message: err.message });
    };
    const main = findBuiltinImage(run.image)!.main!;
    let listened!: () => void;
    started(new Promise<void>((resolve) => (listened = resolve)));
    let client: KubeClient | undefined;
    const running = (async (): Promise<ProcessExit> => {
      try {
        // The pod's own ServiceAccount token (never the node's identity) at the node's API server.
        if (run.api) client = new KubeClient(serviceAccountConnection(loadKubeconfig(run.api.kubeconfig), run.api.tokenFile));
        const workload = await main({
          netns: sandbox.netns,
          podIP: sandbox.podIP,
          hostname: sandbox.hostname,
          namespace: sandbox.namespace,
          podName: sandbox.name,
          args: run.args,
          env: c.config.env,
          ports: c.config.ports,
          client,
          stdout: (t) => log.write('stdout', t),
          stderr: (t) => log.write('stderr', t),
        });
        c.workload = workload;
        listened();
        if (c.status.state !== 'RUNNING') workload.stop();
        const code = await workload.exited;
        return code === 0 ? { exitCode: 0, reason: 'Completed' } : { exitCode: code, reason: 'Error' };
      } catch (err) {
        const message = (err as Error).message;
        log.write('stderr', message + '\n');
        return { exitCode: err instanceof WorkloadStartError ? err.exitCode : 1, reason: 'Error', message };
      }
    })();
    void running.finally(() => client?.close());
    return Promise.race([running, crash]);
  }

  private onExit(c: Container, exit: ProcessExit): void {
    if (c.status.state === 'EXITED') return;
    c.log?.close();
    c.process = undefined;
    c.workload = undefined;
    c.crash = undefined;
    Object.assign(c.status, { state: 'EXITED', finishedAt: now(), exitCode: exit.exitCode, reason: exit.reason, initPid: 0 });
    if (exit.signal) c.status.signal = exit.signal;
    if (exit.message) c.status.message = exit.message;
    this.emitEvent('exited', c);
    this.save();
  }

  /** SIGTERM (or the workload's stop), SIGKILL after `graceSeconds`; resolves once it exited. */
  async stopContainer(id: string, graceSeconds: number): Promise<ContainerStatusReply> {
    const c = this.get(id);
    if (c.status.state === 'CREATED') {
      this.onExit(c, { exitCode: 0, reason: 'Completed', message: 'stopped before it started' });
      return { ...c.status };
    }
    if (c.status.state !== 'RUNNING') return { ...c.status };
    if (c.workload) c.workload.stop();
    else c.process?.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (c.process) c.process.signal('SIGKILL');
        // A workload that ignores its stop within the grace period is declared dead.
        else this.onExit(c, { exitCode: 137, signal: 9, reason: 'Error', message: 'the workload did not stop within its grace period' });
        resolve();
      }, graceSeconds * 1000);
    });
    await Promise.race([c.exited, killed]);
    clearTimeout(timer);
    await c.exited;
    return { ...c.status };
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    if (c.status.state !== 'EXITED') await this.stopContainer(id, 0);
    this.containers.delete(id);
    this.emit('event', { type: 'removed', container: { ...c.status } } satisfies ContainerEvent);
    this.save();
  }

  listContainers(sandboxId?: string): ContainerStatusReply[] {
    const all = [...this.containers.values()].map((c) => this.snapshot(c));
    return sandboxId ? all.filter((c) => c.sandboxId === sandboxId) : all;
  }

  containerStatus(id: string): ContainerStatusReply {
    return this.snapshot(this.get(id));
  }

  /**
   * PullImage: the images are built in, so "pulling" one loads its workload's code, which a
   * container of it would otherwise load as it starts. Answers the image's reference.
   */
  async pullImage(image: string): Promise<string> {
    const found = findBuiltinImage(image);
    if (!found) throw invalid(`image: "${image}" is not a built-in image`);
    await loadWorkload(found);
    return `flatnet://builtin/${found.name}`;
  }

  /** The container's log, for ContainerLogs (undefined once it is closed). */
  liveLog(id: string): ContainerLog | undefined {
    const log = this.get(id).log;
    return log && !log.closed ? log : undefined;
  }

  /** The stdin of a running process container created with stdin (undefined otherwise). */
  stdinOf(id: string): Writable | undefined {
    const c = this.get(id);
    return c.status.state === 'RUNNING' ? c.process?.stdin : undefined;
  }

  /** Resolves when the container exited (at once when it is not running). */
  async exitOf(id: string): Promise<void> {
    await this.get(id).exited;
  }

  /** Stops every container (the runtime's own shutdown, not an agent's). */
  async shutdown(graceSeconds: number): Promise<void> {
    await Promise.all([...this.containers.values()].filter((c) => c.status.state === 'RUNNING').map((c) => this.stopContainer(c.status.id, graceSeconds)));
  }

  private snapshot(c: Container): ContainerStatusReply {
    const initPid = c.status.state === 'RUNNING' ? (c.process?.initPid() ?? 0) : 0;
    return { ...c.status, initPid };
  }

  private get(id: string): Container {
    const c = this.containers.get(id);
    if (!c) throw new RuntimeApiError(404, `no container "${id}"`);
    return c;
  }

  private containersOf(sandboxId: string): Container[] {
    return [...this.containers.values()].filter((c) => c.config.sandboxId === sandboxId);
  }

  private emitEvent(type: ContainerEvent['type'], c: Container): void {
    this.emit('event', { type, container: this.snapshot(c) } satisfies ContainerEvent);
  }

  /**
   * Every change is written to the state file; the changes of one turn of the event loop (a burst
   * of pods) share one write. A caller that must not answer before its change is on disk awaits
   * persisted() (group commit).
   */
  private save(): void {
    if (this.writeScheduled) return;
    this.writeScheduled = new Promise<void>((resolve) =>
      setImmediate(() => {
        this.writeScheduled = undefined;
        this.flushState();
        resolve();
      }),
    );
  }

  /** Resolves once every change made so far is in the state file. */
  async persisted(): Promise<void> {
    await this.writeScheduled;
  }

  /** Writes the state file now. */
  flushState(): void {
    const containers: SavedContainer[] = [...this.containers.values()].map((c) => ({ config: c.config, status: c.status, ...(c.processRef ? { processRef: c.processRef } : {}) }));
    try {
      this.state.save({ sandboxes: [...this.sandboxes.values()], containers });
    } catch (err) {
      this.log.error('cannot write the runtime state file', { err: (err as Error).message });
    }
  }
}
