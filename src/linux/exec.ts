// Runs the kernel tools flatnet drives (ip, bridge, nft, sysctl, conntrack), optionally inside a
// named network namespace, feeding a batch on stdin. A failure carries the command line, the
// exit code and the tool's stderr so the caller can tell the person what went wrong.
import { spawn } from 'node:child_process';

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly input?: string,
  ) {
    const shown = input && input.length < 4000 ? `\n--- input ---\n${input}` : '';
    super(`command failed (exit ${exitCode ?? 'signal'}): ${argv.join(' ')}\n${stderr.trim()}${shown}`);
    this.name = 'CommandError';
  }
}

export interface RunOptions {
  /** Text written to the command's stdin (a batch for `ip -batch -`, `nft -f -`...). */
  input?: string;
  /** Run inside this named network namespace (`ip netns exec`). */
  netns?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** The argv that runs `argv` inside `netns` (or `argv` itself without one). */
export function inNetns(netns: string | undefined, argv: string[]): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
}

/** Runs a command to completion; throws CommandError on a non-zero exit. */
export function runCommand(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const full = inNetns(opts.netns, argv);
  return new Promise((resolve, reject) => {
    const child = spawn(full[0], full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => reject(new CommandError(full, null, e.message, opts.input)));
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout, stderr });
      else reject(new CommandError(full, code, stderr || stdout, opts.input));
    });
    child.stdin.on('error', () => {
      /* the command may exit before reading its input; the exit code tells */
    });
    child.stdin.end(opts.input ?? '');
  });
}
