// Health endpoints as kube-apiserver serves them (/healthz, /livez, /readyz): named checks run
// in order; the root path answers "ok" (200) or, with ?verbose or on any failure, one line per
// check ("[+]etcd ok", "[-]etcd failed: reason withheld", "[+]etcd excluded: ok") and a last
// line "<endpoint> check passed" / "<endpoint> check failed" (500). ?exclude=<name> skips a
// check; /<endpoint>/<name> runs one check and, failing, says why (that path needs
// authorization, the root path is public, so the root never says why). Pure: no sockets here.

export type HealthEndpoint = 'healthz' | 'livez' | 'readyz';

export interface HealthCheck {
  readonly name: string;
  /** Returns when healthy; throws (or rejects) with the reason when not. */
  check(): void | Promise<void>;
}

export interface HealthAnswer {
  status: 200 | 404 | 500;
  body: string;
  /** The failed checks with their reasons: for the server's log, never for the response. */
  failures: { name: string; reason: string }[];
}

async function reasonOf(c: HealthCheck): Promise<string | undefined> {
  try {
    await c.check();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** `/<endpoint>` with its query: every check, minus the excluded ones. */
export async function evaluateHealth(endpoint: HealthEndpoint, checks: readonly HealthCheck[], query: URLSearchParams): Promise<HealthAnswer> {
  const excluded = new Set(query.getAll('exclude'));
  const verbose = query.has('verbose');
  let lines = '';
  const failures: HealthAnswer['failures'] = [];
  for (const c of checks) {
    if (excluded.delete(c.name)) {
      lines += `[+]${c.name} excluded: ok\n`;
      continue;
    }
    const reason = await reasonOf(c);
    if (reason === undefined) lines += `[+]${c.name} ok\n`;
    else {
      lines += `[-]${c.name} failed: reason withheld\n`;
      failures.push({ name: c.name, reason });
    }
  }
  if (excluded.size > 0) {
    lines += `warn: some health checks cannot be excluded: no matches for ${[...excluded].sort().map((n) => JSON.stringify(n)).join(',')}\n`;
  }
  // Always verbose on failure, as upstream.
  if (failures.length > 0) return { status: 500, body: `${lines}${endpoint} check failed\n`, failures };
  return { status: 200, body: verbose ? `${lines}${endpoint} check passed\n` : 'ok', failures };
}

/** `/<endpoint>/<name>`: one check; its reason is shown (this path is not public). */
export async function evaluateOneCheck(checks: readonly HealthCheck[], name: string): Promise<HealthAnswer> {
  const c = checks.find((x) => x.name === name);
  if (!c) return { status: 404, body: '', failures: [] };
  const reason = await reasonOf(c);
  if (reason === undefined) return { status: 200, body: 'ok', failures: [] };
  return { status: 500, body: `internal server error: ${reason}\n`, failures: [{ name, reason }] };
}

/** The checks of each endpoint: livez and healthz share the liveness checks; readyz adds its own. */
export class HealthChecks {
  private readonly live: HealthCheck[] = [];
  private readonly ready: HealthCheck[] = [];

  /** A check of /healthz, /livez and /readyz (a failing one means: restart me). */
  addLivenessCheck(c: HealthCheck): this {
    this.live.push(c);
    return this;
  }

  /** A check of /readyz only (not yet or no longer serving; a restart would not cure it). */
  addReadinessCheck(c: HealthCheck): this {
    this.ready.push(c);
    return this;
  }

  checksOf(endpoint: HealthEndpoint): HealthCheck[] {
    // healthz (deprecated upstream) answers as livez does; readyz adds the readiness checks.
    return endpoint === 'readyz' ? [...this.live, ...this.ready] : [...this.live];
  }

  /** Answers `/<endpoint>` or `/<endpoint>/<check>`. */
  answer(endpoint: HealthEndpoint, subpath: string | undefined, query: URLSearchParams): Promise<HealthAnswer> {
    const checks = this.checksOf(endpoint);
    const name = subpath?.replace(/^\//, '') ?? '';
    return name === '' ? evaluateHealth(endpoint, checks, query) : evaluateOneCheck(checks, name);
  }
}

/** Upstream's `ping`: the server answers. */
export const pingCheck: HealthCheck = { name: 'ping', check: () => undefined };

/** Upstream's `log`: logging is not stuck (stderr is not holding a backlog it cannot write). */
export function logCheck(stream: { writableLength: number } = process.stderr, limitBytes = 16 * 1024 * 1024): HealthCheck {
  return {
    name: 'log',
    check: () => {
      if (stream.writableLength > limitBytes) throw new Error(`logging is blocked: ${stream.writableLength} bytes wait to be written`);
    },
  };
}

/** Upstream's `shutdown` (readyz): fails once the server was told to stop and drains. */
export class ShutdownState {
  private since: Date | undefined;
  begin(): void {
    this.since ??= new Date();
  }
  get shuttingDown(): boolean {
    return this.since !== undefined;
  }
  readonly check: HealthCheck = {
    name: 'shutdown',
    check: () => {
      if (this.since) throw new Error('process is shutting down');
    },
  };
}
