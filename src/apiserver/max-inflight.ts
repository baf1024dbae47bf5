// Overload protection, as kube-apiserver's max-in-flight filter (the one it runs with
// --enable-priority-and-fairness=false): at most --max-requests-inflight read-only requests (verbs
// get, list, watch) and --max-mutating-requests-inflight others are served at once; one more is
// answered 429 with `Retry-After: 1` at once, before its body is read. Long-running requests (watch,
// proxy, and the attach, exec, proxy, log and portforward subresources, upstream's definition in
// kube-apiserver's LongRunningFunc) are not counted, nor are flatnet's followed flows. A member of
// system:masters takes a slot while one is free and is served without one when none is. A limit
// of 0 counts nothing of its kind. What a request holds (a LIST's serialized answer waiting for a
// slow reader, paced-write.ts) is so bounded by the number of slots.

export const DEFAULT_MAX_REQUESTS_INFLIGHT = 400;
export const DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT = 200;

/** Upstream's answer over the limit (http.Error: a text/plain body, not a Status). */
export const TOO_MANY_REQUESTS_MESSAGE = 'Too many requests, please try again later.';
export const RETRY_AFTER_SECONDS = '1';

/** The metric label values upstream uses (request_kind). */
export type RequestKind = 'readOnly' | 'mutating';

const NON_MUTATING_VERBS = new Set(['get', 'list', 'watch']);
const LONG_RUNNING_VERBS = new Set(['watch', 'proxy']);
const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'proxy', 'log', 'portforward']);

/**
 * A request as upstream's RequestInfo describes it: for a resource request the verb the handlers
 * serve (list, watch, create, deletecollection...) and its subresource; for any other path the
 * lowercased method (HEAD is `head`: not read-only, as upstream counts it). `streaming` marks a
 * non-resource answer that stays open (flatnet's flows with follow=true; upstream's is
 * /debug/pprof/, which flatnet does not serve).
 */
export type RequestInfo = { resourceRequest: true; verb: string; subresource?: string } | { resourceRequest: false; verb: string; streaming?: boolean };

/** Which limit a request counts against, or undefined for a long-running one (never counted). */
export function requestKind(info: RequestInfo): RequestKind | undefined {
  if (LONG_RUNNING_VERBS.has(info.verb)) return undefined;
  if (info.resourceRequest ? info.subresource !== undefined && LONG_RUNNING_SUBRESOURCES.has(info.subresource) : info.streaming) return undefined;
  return NON_MUTATING_VERBS.has(info.verb) ? 'readOnly' : 'mutating';
}

/** The value of --max-requests-inflight or --max-mutating-requests-inflight: a whole number, 0 or more. */
export function parseInflightLimit(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new Error(`--${flag} must be a whole number of requests, 0 or more (0: no limit), not ${JSON.stringify(value)}`);
  return Number(value);
}

/** How long a window of the peak gauge lasts: upstream reports the most in flight in the last second. */
const PEAK_WINDOW_MS = 1000;

class Slots {
  held = 0;
  private peak = 0;
  private lastPeak = 0;
  private windowStart: number;

  constructor(
    readonly limit: number,
    private readonly now: () => number,
  ) {
    this.windowStart = now();
  }

  change(by: number): void {
    this.roll();
    this.held += by;
    if (this.held > this.peak) this.peak = this.held;
  }

  /** The most held at once in the previous window and the current one. */
  recentPeak(): number {
    this.roll();
    return Math.max(this.lastPeak, this.peak);
  }

  private roll(): void {
    const now = this.now();
    if (now - this.windowStart < PEAK_WINDOW_MS) return;
    // A window that saw no change peaked at what was held through it.
    this.lastPeak = now - this.windowStart >= 2 * PEAK_WINDOW_MS ? this.held : this.peak;
    this.peak = this.held;
    this.windowStart = now;
  }
}

const NOTHING_HELD = () => {};

/** The counters of requests in flight, one per kind; a limit of 0 is none. */
export class MaxInFlight {
  private readonly slots: Record<RequestKind, Slots | undefined>;

  constructor(limits: { readOnly: number; mutating: number }, now: () => number = Date.now) {
    this.slots = {
      readOnly: limits.readOnly > 0 ? new Slots(limits.readOnly, now) : undefined,
      mutating: limits.mutating > 0 ? new Slots(limits.mutating, now) : undefined,
    };
  }

  /**
   * Takes a slot of `kind` for a request: answers the function that gives it back (call it when
   * the answer is finished or the client went away; calls after the first do nothing), or
   * undefined when every slot is taken and the request is to be refused. `privileged` (a member of
   * system:masters) is served without a slot when none is free.
   */
  take(kind: RequestKind, privileged: boolean): (() => void) | undefined {
    const slots = this.slots[kind];
    if (!slots) return NOTHING_HELD;
    if (slots.held >= slots.limit) return privileged ? NOTHING_HELD : undefined;
    slots.change(1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      slots.change(-1);
    };
  }

  /** Requests of `kind` being served now (0 when its kind has no limit). */
  inFlight(kind: RequestKind): number {
    return this.slots[kind]?.held ?? 0;
  }

  /** The most requests of `kind` in flight at once over the last one to two seconds (the gauge's value). */
  recentPeak(kind: RequestKind): number {
    return this.slots[kind]?.recentPeak() ?? 0;
  }
}
