// A work queue of object keys for one controller: a key added many times while waiting runs
// once; a key added while it runs runs again afterwards; a failing key is retried with
// exponential backoff (conflicts and stale caches are normal and resolve themselves).
import type { Logger } from '../util/log.js';
import { workqueueAdds, workqueueDepth, workqueueDuration, workqueueRetries } from './metrics.js';

export interface WorkQueueOptions {
  /** Keys handled at the same time (different keys only). */
  workers?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export class WorkQueue {
  private readonly waiting = new Set<string>();
  private readonly order: string[] = [];
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private active = 0;
  private stopped = false;
  private started = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    private readonly handle: (key: string) => Promise<void>,
    private readonly log: Logger,
    private readonly opts: WorkQueueOptions = {},
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    this.waiting.add(key);
    this.order.push(key);
    workqueueAdds.inc({ name: this.name });
    workqueueDepth.set({ name: this.name }, this.order.length);
    this.pump();
  }

  /** Adds the key after a delay (a later call with a shorter delay wins). */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, Math.max(0, delayMs));
    t.unref();
    this.timers.set(key, t);
  }

  get length(): number {
    return this.order.length;
  }

  /** Resolves when nothing waits or runs (tests, shutdown). */
  idle(): Promise<void> {
    if (this.order.length === 0 && this.active === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Starts handling keys (those added before wait until now, when the caches have synced). */
  start(): void {
    this.started = true;
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.order.length = 0;
    this.waiting.clear();
  }

  private pump(): void {
    if (!this.started) return;
    const workers = this.opts.workers ?? 4;
    while (!this.stopped && this.active < workers && this.order.length > 0) {
      const key = this.order.shift()!;
      workqueueDepth.set({ name: this.name }, this.order.length);
      this.waiting.delete(key);
      this.running.add(key);
      this.active++;
      void this.run(key);
    }
    if (this.order.length === 0 && this.active === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async run(key: string): Promise<void> {
    const end = workqueueDuration.startTimer({ name: this.name });
    try {
      await this.handle(key);
      this.failures.delete(key);
    } catch (err) {
      workqueueRetries.inc({ name: this.name });
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = Math.min((this.opts.baseDelayMs ?? 20) * 2 ** (n - 1), this.opts.maxDelayMs ?? 10_000);
      const level = n > 5 ? 'warn' : 'debug';
      this.log[level]('sync failed; retrying', { queue: this.name, key, attempt: n, delayMs: delay, err: (err as Error).message });
      this.addAfter(key, delay);
    } finally {
      end();
      this.running.delete(key);
      this.active--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }
}
