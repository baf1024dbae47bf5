// The bookkeeping of one probe of one container: when it runs next and what its result is
// after successThreshold successes or failureThreshold failures in a row.
import type { Probe } from './pod-types.js';

export type ProbeKind = 'readiness' | 'liveness' | 'startup';

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
}

export function probeTiming(probe: Probe, kind: ProbeKind): ProbeTiming {
  return {
    initialDelayMs: (probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(1, probe.periodSeconds ?? 10) * 1000,
    timeoutMs: Math.max(1, probe.timeoutSeconds ?? 1) * 1000,
    failureThreshold: Math.max(1, probe.failureThreshold ?? 3),
    // Liveness and startup probes must use 1 (API validation); readiness may ask for more.
    successThreshold: kind === 'readiness' ? Math.max(1, probe.successThreshold ?? 1) : 1,
  };
}

export class ProbeState {
  /** readiness starts failed, liveness starts succeeded, startup starts not yet succeeded. */
  result: boolean;
  private successes = 0;
  private failures = 0;
  readonly timing: ProbeTiming;

  constructor(
    readonly kind: ProbeKind,
    probe: Probe,
  ) {
    this.timing = probeTiming(probe, kind);
    this.result = kind === 'liveness';
  }

  /**
   * Records one outcome. Answers 'succeeded' or 'failed' when the thresholds are crossed:
   * readiness reports a flip of its result; liveness and startup report every time failures
   * reach failureThreshold (the container is then restarted and counting starts again).
   */
  record(ok: boolean): 'succeeded' | 'failed' | 'unchanged' {
    if (ok) {
      this.failures = 0;
      this.successes++;
      if (!this.result && this.successes >= this.timing.successThreshold) {
        this.result = true;
        return 'succeeded';
      }
      return 'unchanged';
    }
    this.successes = 0;
    this.failures++;
    if (this.failures < this.timing.failureThreshold) return 'unchanged';
    if (this.kind === 'readiness') {
      if (!this.result) return 'unchanged';
      this.result = false;
      return 'failed';
    }
    this.failures = 0;
    this.result = false;
    return 'failed';
  }

  /** Back to the initial result, for a restarted container. */
  reset(): void {
    this.result = this.kind === 'liveness';
    this.successes = 0;
    this.failures = 0;
  }

  /** Delay before the first run, measured from the container's start. */
  firstDelayMs(): number {
    return this.timing.initialDelayMs;
  }
}
