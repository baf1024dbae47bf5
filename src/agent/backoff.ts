// The restart back-off of a crashing container, as the kubelet does it: the first restart is
// immediate, then 10s doubling to 5 minutes; forgotten after a run of 10 minutes.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}

export const KUBELET_BACKOFF: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

export class RestartBackoff {
  private delayMs = 0;
  private restarts = 0;
  constructor(private readonly policy: BackoffPolicy = KUBELET_BACKOFF) {}

  /** The wait before the next start, given how long the last run lasted. */
  next(ranForMs: number): number {
    if (ranForMs >= this.policy.resetAfterMs) {
      this.restarts = 0;
      this.delayMs = 0;
    }
    this.restarts++;
    if (this.restarts === 1) this.delayMs = 0;
    else this.delayMs = this.delayMs === 0 ? this.policy.initialMs : Math.min(this.delayMs * 2, this.policy.maxMs);
    return this.delayMs;
  }

  get currentMs(): number {
    return this.delayMs;
  }
}

/** Whether a container that exited with `exitCode` is started again under `policy`. */
export function shouldRestart(policy: string | undefined, exitCode: number): boolean {
  if (policy === 'Never') return false;
  if (policy === 'OnFailure') return exitCode !== 0;
  return true;
}
