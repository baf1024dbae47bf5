// One `ip -batch -` process for the batches of many pods. A burst of pods asks for the same kind
// of kernel work at once (veths on the node's bridge, network namespaces): each process start
// costs far more than its lines, so the batches that wait for the same `ip` invocation (same
// namespace, same flags) run together in one process while the previous one runs. Every caller
// keeps the semantics of running its own batch alone: `ip -batch` stops at the first failed line,
// so callers before that line succeeded (with their own `show` answers), the caller of that line
// gets the failure with the line number counted in its own batch, and callers after it (nothing of
// theirs was applied) run again in the next process.
import { spawn } from 'node:child_process';
import { CommandError, runCommand } from '../linux/exec.js';

/** Lines whose answer (with -j) is one JSON array line; every other known verb prints nothing. */
const SHOW = /^(?:link|address|addr|route|neigh|neighbour|rule|netns)\s+(?:show|list|ls)\b/;
const QUIET = /^(?:link|address|addr|route|neigh|neighbour|rule|netns)\s+(?:add|set|del|delete|replace|change|flush)\b/;

/** Whether a batch can share a process: every line's output is known (a show answers one line, others none). */
export function mergeable(lines: readonly string[]): boolean {
  return lines.every((l) => SHOW.test(l.trim()) || QUIET.test(l.trim()));
}

export function showCount(lines: readonly string[]): number {
  return lines.filter((l) => SHOW.test(l.trim())).length;
}

/** What became of one caller's batch in a merged run. */
export type CallerOutcome = { kind: 'done'; shown: unknown[][] } | { kind: 'failed'; stderr: string; failedLine: number } | { kind: 'again' };

/**
 * Splits the result of running `batches` as one `ip -batch` back into one outcome per batch.
 * `failedAt` is the 1-based merged line `ip` stopped at (undefined: every line ran), `shown` the
 * JSON arrays printed, in order. Pure.
 */
export function splitMergedRun(batches: readonly (readonly string[])[], shown: readonly unknown[][], failedAt: number | undefined, stderr: string): CallerOutcome[] {
  const out: CallerOutcome[] = [];
  let first = 1;
  let next = 0;
  for (const lines of batches) {
    const last = first + lines.length - 1;
    if (failedAt === undefined || failedAt > last) {
      const n = showCount(lines);
      out.push({ kind: 'done', shown: shown.slice(next, next + n) as unknown[][] });
      next += n;
    } else if (failedAt >= first) {
      const own = failedAt - first + 1;
      out.push({ kind: 'failed', failedLine: own, stderr: stderr.replace(/Command failed -:\d+/, `Command failed -:${own}`) });
    } else out.push({ kind: 'again' });
    first = last + 1;
  }
  return out;
}

/** The line `ip -batch` stopped at, from its stderr ("Command failed -:N"). */
export function failedLineOf(stderr: string): number | undefined {
  const m = /Command failed -:(\d+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** Runs `argv` with `input`; answers its exit code and both outputs (a failed batch's stdout still answers the lines before it). */
function runIp(argv: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => reject(new CommandError(argv, null, e.message, input)));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

interface Waiting {
  lines: string[];
  resolve(shown: unknown[][]): void;
  reject(err: Error): void;
}

function parseShown(stdout: string): unknown[][] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('['))
    .map((l) => JSON.parse(l) as unknown[]);
}

/** Batches for one `ip` argv (e.g. `ip -n NODE -j -batch -`): at most one process at a time; waiting batches share the next. */
class IpBatchQueue {
  private waiting: Waiting[] = [];
  private running = false;

  constructor(private readonly argv: string[]) {}

  get key(): string {
    return this.argv.join(' ');
  }

  submit(lines: string[]): Promise<unknown[][]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ lines, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const taken = this.waiting;
        this.waiting = [];
        const again = await this.runMerged(taken);
        this.waiting = [...again, ...this.waiting];
      }
    } finally {
      this.running = false;
      if (this.waiting.length === 0 && queues.get(this.key) === this) queues.delete(this.key);
    }
  }

  /** Runs the batches in one process; answers those to run again. */
  private async runMerged(batch: Waiting[]): Promise<Waiting[]> {
    const input = batch.map((w) => w.lines.join('\n')).join('\n') + '\n';
    let run: { code: number | null; stdout: string; stderr: string };
    try {
      run = await runIp(this.argv, input);
    } catch (err) {
      for (const w of batch) w.reject(err as Error);
      return [];
    }
    const { stdout, stderr } = run;
    const failedAt = run.code === 0 ? undefined : failedLineOf(stderr);
    if (run.code !== 0 && failedAt === undefined) {
      // Not a failed line (the tool itself failed): every caller gets the failure.
      const err = new CommandError(this.argv, run.code, stderr || stdout, input);
      for (const w of batch) w.reject(err);
      return [];
    }
    let shown: unknown[][];
    try {
      shown = parseShown(stdout);
    } catch (err) {
      for (const w of batch) w.reject(err as Error);
      return [];
    }
    const outcomes = splitMergedRun(batch.map((w) => w.lines), shown, failedAt, stderr);
    const again: Waiting[] = [];
    outcomes.forEach((o, i) => {
      const w = batch[i];
      if (o.kind === 'done') w.resolve(o.shown);
      else if (o.kind === 'failed') w.reject(new CommandError(this.argv, 1, o.stderr, w.lines.join('\n') + '\n'));
      else again.push(w);
    });
    return again;
  }
}

const queues = new Map<string, IpBatchQueue>();

/**
 * Runs `lines` through `ip [-n netns] [-j] -batch -`, sharing the process with other batches for
 * the same namespace and flags that wait meanwhile. With `json`, answers the JSON array of each
 * `show` line of this batch, in order. Fails as a lone `ip -batch` of these lines would.
 */
export function coalescedIpBatch(netns: string | undefined, lines: string[], opts: { json?: boolean } = {}): Promise<unknown[][]> {
  if (lines.length === 0) return Promise.resolve([]);
  const argv = ['ip', ...(netns ? ['-n', netns] : []), ...(opts.json ? ['-j'] : []), '-batch', '-'];
  if (!mergeable(lines)) return runCommand(argv, { input: lines.join('\n') + '\n' }).then(({ stdout }) => (opts.json ? parseShown(stdout) : []));
  const key = argv.join(' ');
  let q = queues.get(key);
  if (!q) {
    q = new IpBatchQueue(argv);
    queues.set(key, q);
  }
  return q.submit(lines);
}
