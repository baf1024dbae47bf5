// Runs an async job one at a time: requests that arrive while it runs coalesce into one more run,
// so a burst of changes costs at most two runs, each reading the latest state.
export class CoalescingRunner {
  private running: Promise<void> | undefined;
  private pending = false;
  private stopped = false;

  constructor(private readonly job: () => Promise<void>) {}

  /** Asks for a run; resolves when the runs in flight (including this request's) are done. */
  request(): Promise<void> {
    this.pending = true;
    if (!this.running) {
      this.running = (async () => {
        while (this.pending && !this.stopped) {
          this.pending = false;
          await this.job();
        }
      })().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /** No more runs; waits for the one in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }
}
