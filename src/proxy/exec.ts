// Runs a program in a node's network namespace (`nsenter --net`, lighter than `ip netns exec`),
// feeding it stdin and answering its output; a non-zero exit throws with what the program said.
import { spawn } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${command} failed (exit ${code}): ${stderr.trim().split('\n').slice(0, 6).join(' | ')}`);
    this.name = 'CommandError';
  }
}

/** The argv that runs `cmd` inside namespace `netns` (undefined: the current one). */
export function inNetns(netns: string | undefined, cmd: string, args: string[]): [string, string[]] {
  if (!netns) return [cmd, args];
  return ['nsenter', [`--net=/run/netns/${netns}`, '--', cmd, ...args]];
}

export function run(netns: string | undefined, cmd: string, args: string[], input?: string): Promise<RunResult> {
  const [file, argv] = inNetns(netns, cmd, args);
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout, stderr });
      else reject(new CommandError(`${cmd} ${args.join(' ')}`, code, stderr || stdout));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}
