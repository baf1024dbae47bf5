// A container that is a process: started with `ip netns exec <pod netns>` (which also
// bind-mounts the pod's /etc/netns/<netns>/resolv.conf and hosts), in its own process group
// so a stop reaches its children; a TTY comes from util-linux `script`.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Writable } from 'node:stream';
import { signalNumber } from './signals.js';

export interface ProcessExit {
  exitCode: number;
  signal?: number;
  reason: 'Completed' | 'Error' | 'StartError';
  message?: string;
}

export interface ProcessContainerOptions {
  netns: string;
  /** The pod's UTS namespace (its hostname), entered with nsenter. */
  utsPath?: string;
  argv: string[];
  env: Record<string, string>;
  workingDir?: string;
  tty: boolean;
  stdin: boolean;
  onOutput(stream: 'stdout' | 'stderr', data: Buffer): void;
}

export interface RunningProcess {
  pid: number;
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

/**
 * The command line actually spawned: `ip netns exec` (network namespace and /etc/netns files),
 * `nsenter --uts` (the pod's hostname), and `script` around the program for a TTY.
 */
export function processArgv(opts: Pick<ProcessContainerOptions, 'netns' | 'argv' | 'tty' | 'utsPath'>): string[] {
  const inner = opts.tty ? ['script', '-qfec', shellQuote(opts.argv), '/dev/null'] : opts.argv;
  const uts = opts.utsPath ? ['nsenter', `--uts=${opts.utsPath}`, '--'] : [];
  // netns '' is a host-network pod of an agent in the host's own namespace.
  const net = opts.netns ? ['ip', 'netns', 'exec', opts.netns] : [];
  return [...net, ...uts, ...inner];
}

export function exitOf(code: number | null, signal: NodeJS.Signals | null): ProcessExit {
  if (signal) {
    const n = signalNumber(signal);
    return { exitCode: 128 + n, signal: n, reason: 'Error' };
  }
  return { exitCode: code ?? 1, reason: code === 0 ? 'Completed' : 'Error' };
}

export function startProcessContainer(opts: ProcessContainerOptions): RunningProcess {
  const program = opts.argv[0];
  if (!program || !findProgram(program, opts.env.PATH ?? process.env.PATH ?? '')) {
    const message = `failed to create containerd task: exec: "${program ?? ''}": executable file not found in $PATH (flatnet runs commands from this machine)`;
    return { pid: 0, exited: Promise.resolve({ exitCode: 128, reason: 'StartError', message }), signal: () => undefined };
  }
  const [cmd, ...args] = processArgv(opts);
  const child: ChildProcess = spawn(cmd, args, {
    env: opts.tty ? { TERM: 'xterm', ...opts.env } : opts.env,
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
  return {
    pid: child.pid ?? 0,
    stdin: child.stdin ?? undefined,
    exited,
    signal(sig) {
      if (!child.pid) return;
      try {
        // As with a container's PID 1, SIGTERM goes to the main process only (it may forward
        // it); SIGKILL takes the whole process group.
        process.kill(sig === 'SIGKILL' ? -child.pid : child.pid, sig);
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
