// A container that is a process: started with `ip netns exec <pod netns>` (which also
// bind-mounts the pod's /etc/netns/<netns>/resolv.conf and hosts), then isolated as
// isolation-plan.ts says (own mount, PID and IPC namespaces, the pod's UTS namespace, the
// securityContext's user and capabilities), in its own process group so a stop reaches its
// children; a TTY comes from util-linux `script`.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Writable } from 'node:stream';
import { containerLaunchArgv, type ContainerLaunchInput } from './isolation-plan.js';
import { signalNumber } from './signals.js';

export interface ProcessExit {
  exitCode: number;
  signal?: number;
  reason: 'Completed' | 'Error' | 'StartError';
  message?: string;
}

export interface ProcessContainerOptions {
  /** Namespaces, mounts, identity and the program (see isolation-plan.ts). */
  launch: ContainerLaunchInput;
  env: Record<string, string>;
  workingDir?: string;
  stdin: boolean;
  onOutput(stream: 'stdout' | 'stderr', data: Buffer): void;
}

export interface RunningProcess {
  pid: number;
  /** The container's PID 1 (its first process in its own PID namespace), once it exists. */
  initPid(): number | undefined;
  stdin?: Writable;
  exited: Promise<ProcessExit>;
  signal(sig: NodeJS.Signals): void;
}

/** Quotes argv into one POSIX shell word list. */
export function shellQuote(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The path of `program` in `PATH`, or undefined when it cannot be run. */
export function findProgram(program: string, path: string): string | undefined {
  const candidates = program.includes('/') ? [program] : path.split(delimiter).map((d) => join(d, program));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

export function exitOf(code: number | null, signal: NodeJS.Signals | null): ProcessExit {
  if (signal) {
    const n = signalNumber(signal);
    return { exitCode: 128 + n, signal: n, reason: 'Error' };
  }
  return { exitCode: code ?? 1, reason: code === 0 ? 'Completed' : 'Error' };
}

/** The first child of `pid` (unshare's forked child: the container's PID 1). */
export function firstChild(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

export function startProcessContainer(opts: ProcessContainerOptions): RunningProcess {
  const program = opts.launch.argv[0];
  if (!program || !findProgram(program, opts.env.PATH ?? process.env.PATH ?? '')) {
    const message = `failed to create containerd task: exec: "${program ?? ''}": executable file not found in $PATH (flatnet runs commands from this machine)`;
    return { pid: 0, initPid: () => undefined, exited: Promise.resolve({ exitCode: 128, reason: 'StartError', message }), signal: () => undefined };
  }
  const [cmd, ...args] = containerLaunchArgv(opts.launch);
  // Without a PID namespace of its own, the spawned command becomes the container's program.
  const forks = !opts.launch.hostPID;
  const child: ChildProcess = spawn(cmd, args, {
    env: opts.launch.tty ? { TERM: 'xterm', ...opts.env } : opts.env,
    cwd: opts.workingDir || '/',
    detached: true,
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => opts.onOutput('stdout', c));
  child.stderr?.on('data', (c: Buffer) => opts.onOutput('stderr', c));
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<ProcessExit>((resolve) => {
    child.on('error', (err) => resolve({ exitCode: 128, reason: 'StartError', message: err.message }));
    child.on('close', (code, signal) => resolve(exitOf(code, signal)));
  });
  const initPid = () => (child.pid ? (forks ? firstChild(child.pid) : child.pid) : undefined);
  return {
    pid: child.pid ?? 0,
    initPid,
    stdin: child.stdin ?? undefined,
    exited,
    signal(sig) {
      if (!child.pid) return;
      try {
        // SIGTERM goes to the container's PID 1 (tini forwards it to the program; unshare
        // itself ignores it); SIGKILL takes the whole process group and so the PID namespace.
        if (sig === 'SIGKILL') process.kill(-child.pid, sig);
        else process.kill(initPid() ?? child.pid, sig);
      } catch {
        try {
          child.kill(sig);
        } catch {
          // already gone
        }
      }
    },
  };
}
