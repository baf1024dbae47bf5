// When the client sends a request again, as client-go's rest.Request does (request.go's request()
// and with_retry.go), for requests; watches resume through their informers instead.
//  - An answer 429 or >= 500 that carries `Retry-After: N` (N an integer number of seconds) is
//    sent again after N seconds, whatever its verb: the server says it did not process it (APF or
//    max-in-flight throttling, a server shutting down). Without the header the answer is final: a
//    PodDisruptionBudget's refusal of an eviction (429 without Retry-After) reaches the caller at
//    once. A date in Retry-After is not understood (client-go reads integers only): final too.
//  - A GET whose connection failed before its answer arrived (reset, broken pipe, closed,
//    unexpected EOF, an HTTP/2 session that died or that the health check closed) is sent again
//    after 1 s, as client-go answers such an error with an artificial `Retry-After: 1`. Writes are
//    not: the server may have done them. A failure while the answer's body is being read is final,
//    as in client-go. (The HTTP/2 pool's re-sending of a stream the server never processed, and
//    the HTTP/1.1 re-sending of a request that could not be written to a kept-alive connection the
//    server had closed, happen below this, as Go's transport does them below client-go.)
//  - At most 10 retries (client-go's default MaxRetries), so 11 tries in all; no other backoff
//    (client-go's URL backoff is off unless KUBE_CLIENT_BACKOFF_BASE is set).

/** client-go's default Request.MaxRetries. */
export const MAX_RETRIES = 10;
/** The wait after a connection error, client-go's artificial Retry-After. */
export const CONNECTION_ERROR_WAIT_SECONDS = 1;

export interface RetryOptions {
  /** Retries after the first try (MAX_RETRIES); 0 sends every request once. */
  maxRetries: number;
  /** Milliseconds per second of Retry-After (1000; tests make it small). */
  secondMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxRetries: MAX_RETRIES, secondMs: 1000 };

/** How one try ended: an answer (its status and Retry-After header), or an error before any answer. */
export type TryOutcome = { status: number; retryAfter?: string | string[] } | { error: unknown };

export interface NextRetry {
  /** Seconds to wait before sending again. */
  waitSeconds: number;
  /** Why, for the error of a request whose retries all failed. */
  reason: string;
}

/** The error codes of a connection that failed under a request (client-go's IsConnectionReset and IsProbableEOF). */
const CONNECTION_LOST_CODES = new Set(['ECONNRESET', 'EPIPE']);

/** The Retry-After header as whole seconds (a negative number waits 0), or undefined when absent or not an integer. */
export function retryAfterSeconds(header: string | string[] | undefined): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value || !/^[+-]?\d+$/.test(value)) return undefined;
  return Math.max(0, Number(value));
}

/**
 * Whether `err` says the connection failed under the request before its answer: a reset or broken
 * pipe (Node's "socket hang up" is ECONNRESET too), or an error the HTTP/2 pool marked
 * `connectionLost` (its session died, the server closed it after a GOAWAY without answering, or
 * the health check closed it). An error marked `answered` came while the answer's body was read.
 */
export function isConnectionLost(err: unknown): boolean {
  const e = err as { code?: unknown; connectionLost?: unknown; answered?: unknown } | undefined;
  if (!e || typeof e !== 'object' || e.answered === true) return false;
  if (e.connectionLost === true) return true;
  return typeof e.code === 'string' && CONNECTION_LOST_CODES.has(e.code);
}

/**
 * Whether try number `retries + 1` of a `method` request that ended in `outcome` is followed by
 * another, and after how long; undefined when the outcome is final.
 */
export function nextRetry(method: string, outcome: TryOutcome, retries: number, maxRetries: number): NextRetry | undefined {
  if (retries >= maxRetries) return undefined;
  if ('error' in outcome) {
    if (method !== 'GET' || !isConnectionLost(outcome.error)) return undefined;
    const message = (outcome.error as Error)?.message ?? String(outcome.error);
    return { waitSeconds: CONNECTION_ERROR_WAIT_SECONDS, reason: `retry ${retries + 1} after a connection error: ${message}` };
  }
  if (outcome.status !== 429 && outcome.status < 500) return undefined;
  const seconds = retryAfterSeconds(outcome.retryAfter);
  if (seconds === undefined) return undefined;
  return { waitSeconds: seconds, reason: `retry ${retries + 1} after HTTP ${outcome.status} with Retry-After: ${seconds}` };
}
