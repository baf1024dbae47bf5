// The lab supervisor: a small daemon `flatnet up` leaves behind. It runs the server and the
// agents listed in <data>/lab.json, writes their PID files, appends their output to
// <data>/logs/, restarts a process that exits (with growing back-off), and on SIGTERM stops
// them all (SIGTERM, then SIGKILL) and removes the PID files.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../util/log.js';
import type { LabProcess, LabState } from './plan.js';
import { stopPid } from './processes.js';
import { labNodeFlags, withNodeFlags } from './node-flags.js';

const log = createLogger('lab-supervisor');
const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
const HEALTHY_AFTER_MS = 30_000;

interface Supervised {
  spec: LabProcess;
  child?: ChildProcess;
  startedAt: number;
  backoffMs: number;
  restarts: number;
  timer?: NodeJS.Timeout;
}

export class LabSupervisor {
  private readonly procs: Supervised[];
  private stopping = false;

  constructor(private readonly state: LabState) {
    this.procs = state.plan.processes.map((spec) => ({ spec, startedAt: 0, backoffMs: MIN_BACKOFF_MS, restarts: 0 }));
  }

  private pidFile(name: string): string {
    return join(this.state.plan.paths.pids, `${name}.pid`);
  }

  start(): void {
    mkdirSync(this.state.plan.paths.pids, { recursive: true });
    mkdirSync(this.state.plan.paths.logs, { recursive: true });
    writeFileSync(this.pidFile('supervisor'), String(process.pid));
    for (const p of this.procs) this.launch(p);
  }

  private launch(p: Supervised): void {
    if (this.stopping) return;
    const waitFor = [p.spec.waitForFile, p.spec.envFile].filter((f): f is string => f !== undefined);
    if (waitFor.some((f) => !existsSync(f))) {
      p.timer = setTimeout(() => this.launch(p), 100);
      return;
    }
    const fd = openSync(p.spec.log, 'a');
    const argv = p.spec.program ? [p.spec.program, ...p.spec.args] : [...withNodeFlags(this.state.command, labNodeFlags(p.spec.name)), ...p.spec.args];
    // nsenter enters only the network namespace and then execs: the PID is the flatnet process's.
    const [cmd, ...args] = p.spec.netns ? ['nsenter', `--net=/run/netns/${p.spec.netns}`, '--', ...argv] : argv;
    const env = p.spec.envFile ? { ...process.env, ...(JSON.parse(readFileSync(p.spec.envFile, 'utf8')) as Record<string, string>) } : process.env;
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env });
    closeSync(fd);
    p.child = child;
    p.startedAt = Date.now();
    if (child.pid) writeFileSync(this.pidFile(p.spec.name), String(child.pid));
    log.info('started', { process: p.spec.name, pid: child.pid, restarts: p.restarts });
    child.on('exit', (code, signal) => {
      p.child = undefined;
      if (this.stopping) return;
      const lived = Date.now() - p.startedAt;
      if (lived > HEALTHY_AFTER_MS) p.backoffMs = MIN_BACKOFF_MS;
      log.warn('exited; restarting', { process: p.spec.name, code, signal, livedMs: lived, inMs: p.backoffMs, log: p.spec.log });
      p.restarts++;
      p.timer = setTimeout(() => this.launch(p), p.backoffMs);
      p.backoffMs = Math.min(p.backoffMs * 2, MAX_BACKOFF_MS);
    });
    child.on('error', (err) => log.error('cannot start', { process: p.spec.name, err: err.message }));
  }

  /** Stops the agents first, then the servers, then etcd (`up --ha`). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const p of this.procs) if (p.timer) clearTimeout(p.timer);
    const rank = (p: Supervised) => (p.spec.program ? 2 : p.spec.name === 'server' || p.spec.name.startsWith('server-') ? 1 : 0);
    for (const group of [0, 1, 2].map((r) => this.procs.filter((p) => rank(p) === r))) {
      await Promise.all(
        group.map(async (p) => {
          if (p.child?.pid) await stopPid(p.child.pid);
          try {
            unlinkSync(this.pidFile(p.spec.name));
          } catch {
            /* never started */
          }
        }),
      );
    }
    try {
      unlinkSync(this.pidFile('supervisor'));
    } catch {
      /* already gone */
    }
  }
}

export function readLabState(path: string): LabState {
  return JSON.parse(readFileSync(path, 'utf8')) as LabState;
}
