// A long-lived `nft -i` process per network namespace, fed one atomic batch per line, so an
// nftables change costs no process start (`ip netns exec` + nft's start-up: most of a small
// change's time). The protocol (markers, line encoding) is in nft-session-protocol.ts.
//
// Lifecycle: the process starts on the first batch and again after it exits (killed, crashed,
// timed out); batches run one at a time, in order, each rejected with its own error. It keeps
// the namespace alive while it runs, so it is stopped (by its PID) when the namespace's name
// goes from /run/netns, on close(), and by end of input when this process exits. While idle it
// does not keep this process's event loop alive.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inNetns } from './exec.js';
import type { NftBatchRunner } from './nft.js';
import { NETNS_DIR, netnsExists } from './netns.js';
import { BatchOutputParser, DEFAULT_INLINE_LIMIT, includeLine, markerLine, planBatch, type BatchOutcome } from './nft-session-protocol.js';

export interface NftSessionOptions {
  /** Named network namespace (undefined = the namespace of this process). */
  netns?: string;
  /** A batch not answered within this time kills the process and fails (default 60 s). */
  timeoutMs?: number;
  /** Batches larger than this (in characters) go through an included file (default 512). */
  inlineLimit?: number;
  /** Where batch files are written, each in a private directory removed after its batch (default: the OS temp dir). */
  batchFileParent?: string;
}

/** A batch nft refused (nothing of it was committed) or whose outcome is unknown (`committed: 'unknown'`). */
export class NftBatchError extends Error {
  constructor(
    message: string,
    readonly statements: readonly string[],
    readonly output: string,
    /** 'no' when nft reported an error; 'unknown' when the process died or timed out mid-batch. */
    readonly committed: 'no' | 'unknown',
  ) {
    const text = statements.join('\n');
    super(`${message}${output.trim() ? `\n${output.trim()}` : ''}${text.length < 4000 ? `\n--- batch ---\n${text}` : ''}`);
    this.name = 'NftBatchError';
  }
}

interface Batch {
  seq: number;
  statements: readonly string[];
  resolve: () => void;
  reject: (err: Error) => void;
  /** The private directory holding the batch's file, when it went through one. */
  dir?: string;
  timer?: NodeJS.Timeout;
}

export class NftSession implements NftBatchRunner {
  private child: ChildProcess | undefined;
  private parser: BatchOutputParser | undefined;
  private readonly nonce = randomBytes(6).toString('hex');
  private seq = 0;
  private readonly queue: Batch[] = [];
  private inFlight: Batch | undefined;
  private closed = false;
  private watcher: FSWatcher | undefined;
  /** Processes started so far (1 + restarts). */
  starts = 0;

  constructor(private readonly opts: NftSessionOptions = {}) {}

  /** The PID of the running nft process, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Applies `statements` as one atomic batch; rejects with NftBatchError when nft refuses it. */
  apply(statements: readonly string[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('nft session is closed'));
    if (statements.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ seq: 0, statements, resolve, reject });
      this.pump();
    });
  }

  /** Stops the process (end of input, then SIGKILL by PID if it lingers) and fails queued batches. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const b of this.queue.splice(0)) b.reject(new Error('nft session closed before the batch ran'));
    this.watcher?.close();
    this.watcher = undefined;
    const child = this.child;
    if (child) {
      const exited = new Promise<void>((r) => child.once('close', () => r()));
      this.setRef(true); // an idle session is unref'd: keep this process alive until nft is gone
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
  }

  private pump(): void {
    if (this.inFlight || this.queue.length === 0 || this.closed) {
      this.setRef(this.inFlight !== undefined);
      return;
    }
    const batch = this.queue.shift()!;
    try {
      this.send(batch);
    } catch (err) {
      batch.reject(err as Error);
      this.pump();
    }
  }

  private send(batch: Batch): void {
    const plan = planBatch(batch.statements, this.opts.inlineLimit ?? DEFAULT_INLINE_LIMIT);
    const child = this.child ?? this.start();
    let line: string;
    if (plan.kind === 'inline') line = plan.line;
    else {
      // A private (0700) directory per batch, removed once nft has answered: nothing is left
      // behind by a session that is never closed.
      batch.dir = mkdtempSync(join(this.opts.batchFileParent ?? tmpdir(), 'flatnet-nft-'));
      const file = join(batch.dir, `batch-${this.seq + 1}.nft`);
      writeFileSync(file, plan.text, { mode: 0o600 });
      line = includeLine(file);
    }
    batch.seq = ++this.seq;
    this.inFlight = batch;
    this.setRef(true);
    batch.timer = setTimeout(() => this.abort(`nft did not answer within ${this.opts.timeoutMs ?? 60_000} ms`), this.opts.timeoutMs ?? 60_000);
    child.stdin!.write(`${line}\n${markerLine(this.nonce, batch.seq)}\n`);
  }

  private start(): ChildProcess {
    const netns = this.opts.netns;
    if (netns && !netnsExists(netns)) throw new Error(`network namespace ${netns} does not exist (no ${NETNS_DIR}/${netns})`);
    const argv = inNetns(netns, ['nft', '-i']);
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.starts++;
    this.child = child;
    const parser = new BatchOutputParser(this.nonce);
    this.parser = parser;
    child.stdout!.resume(); // nft writes nothing there for changes; never let the pipe fill
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (this.child !== child) return;
      let outcomes: BatchOutcome[];
      try {
        outcomes = parser.feed(chunk);
      } catch (err) {
        this.abort((err as Error).message);
        return;
      }
      for (const o of outcomes) this.finish(o);
    });
    child.stdin!.on('error', () => {
      /* the process exited; 'exit' reports it */
    });
    child.on('error', (err) => this.exited(child, `nft could not be started: ${err.message}`));
    // 'close' (not 'exit'): the process's last words on stderr have been read by then.
    child.on('close', (code, signal) => this.exited(child, `nft exited (${signal ?? `code ${code}`})`));
    this.watchNetns();
    return child;
  }

  private finish(outcome: BatchOutcome): void {
    const batch = this.inFlight;
    if (!batch || batch.seq !== outcome.seq) {
      this.abort(`nft session out of step: batch ${outcome.seq} answered while ${batch?.seq ?? 'none'} was in flight`);
      return;
    }
    this.settle(batch);
    if (outcome.failed) batch.reject(new NftBatchError(`nft refused the batch${this.where()}`, batch.statements, outcome.output, 'no'));
    else batch.resolve();
    this.pump();
  }

  private settle(batch: Batch): void {
    clearTimeout(batch.timer);
    if (batch.dir) rmSync(batch.dir, { recursive: true, force: true });
    if (this.inFlight === batch) this.inFlight = undefined;
  }

  /** Kills the process; the in-flight batch fails with `reason` when it exits. */
  private abort(reason: string): void {
    const child = this.child;
    const batch = this.inFlight;
    if (batch) {
      this.settle(batch);
      batch.reject(new NftBatchError(`${reason}${this.where()}; the batch may or may not be committed`, batch.statements, this.parser?.pending ?? '', 'unknown'));
    }
    this.child = undefined;
    child?.kill('SIGKILL');
    this.pump();
  }

  private exited(child: ChildProcess, reason: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    const batch = this.inFlight;
    if (batch) {
      this.settle(batch);
      const output = this.parser?.pending ?? '';
      batch.reject(new NftBatchError(`${reason}${this.where()} while applying the batch; it may or may not be committed`, batch.statements, output, 'unknown'));
    }
    this.pump();
  }

  private where(): string {
    return this.opts.netns ? ` in netns ${this.opts.netns}` : '';
  }

  /** Stops the process when the namespace's name is removed, so it does not keep it alive. */
  private watchNetns(): void {
    const netns = this.opts.netns;
    if (!netns || this.watcher) return;
    this.watcher = watch(NETNS_DIR, (_event, name) => {
      if (name !== null && name !== netns) return;
      if (existsSync(join(NETNS_DIR, netns))) return;
      this.watcher?.close();
      this.watcher = undefined;
      if (this.child) this.abort(`network namespace ${netns} was deleted`);
    });
    this.watcher.unref();
  }

  /** Keeps this process alive only while a batch is in flight. */
  private setRef(busy: boolean): void {
    const child = this.child;
    if (!child) return;
    for (const h of [child, child.stdin, child.stdout, child.stderr] as const) {
      const handle = h as { ref?: () => void; unref?: () => void } | null;
      if (busy) handle?.ref?.();
      else handle?.unref?.();
    }
  }
}
