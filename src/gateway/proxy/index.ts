// The gateway proxy: serves a ProxyConfig on its ports and swaps in a new one without reloading
// anything. update() compiles the config first (regexes, secure contexts; objects already compiled
// for an earlier config are reused), then assigns each port's new table in one synchronous pass,
// opens new ports, and closes removed ones (they stop accepting; in-flight requests, WebSockets
// and streams finish on their own).
import { performance } from 'node:perf_hooks';
import type { ProxyConfig } from '../config.js';
import { RoundRobin } from './balance.js';
import type { HandlerContext } from './http-handler.js';
import { HttpPortListener, TcpPortListener } from './listeners.js';
import { ProxyMetrics } from './metrics.js';
import { CompiledPieces, compileConfig, type PortTable } from './table.js';
import { SecureContextCache } from './tls.js';
import { UdpPortListener } from './udp.js';
import { UpstreamClients, type UpstreamClientKind } from './upstream.js';

export interface GatewayProxyOptions {
  /** Default '0.0.0.0'. */
  bindAddress?: string;
  log?: (line: object) => void;
  /** HTTP/1.1 upstream client: 'undici' (default, the faster one here) or 'node-http' (for the bench). */
  upstreamClient?: UpstreamClientKind;
  /** How long the upstream connections of an endpoint that left the config stay open (default RETIRED_LINGER_MS). */
  retiredLingerMs?: number;
  /** A request that takes at least this long (ms) is logged with its phases ("slow request"); 0 turns it off. Default SLOW_REQUEST_MS. */
  slowRequestMs?: number;
}

/** The default threshold of the "slow request" log line (ms). */
export const SLOW_REQUEST_MS = 50;

export interface PortError {
  port: number;
  protocol: 'tcp' | 'udp';
  kind: PortTable['kind'];
  error: string;
}

type Listener = HttpPortListener | TcpPortListener | UdpPortListener;

export class GatewayProxy {
  private readonly bindAddress: string;
  private readonly log: (line: object) => void;
  private readonly metrics = new ProxyMetrics();
  private readonly upstream: UpstreamClients;
  private readonly roundRobin = new RoundRobin();
  private readonly certs = new SecureContextCache();
  private readonly pieces = new CompiledPieces();
  private compileMs = 0;
  private swapAt = 0;
  private readonly ctx: HandlerContext;
  private listeners = new Map<number, Listener>();
  private errors = new Map<number, PortError>();
  private configErrors: string[] = [];
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(opts: GatewayProxyOptions = {}) {
    this.bindAddress = opts.bindAddress ?? '0.0.0.0';
    const log = opts.log ?? (() => undefined);
    this.log = (line) => log({ component: 'gateway-proxy', ...line });
    this.upstream = new UpstreamClients(opts.upstreamClient ?? 'undici', opts.retiredLingerMs);
    this.ctx = { metrics: this.metrics, upstream: this.upstream, roundRobin: this.roundRobin, log: this.log, slowRequestMs: opts.slowRequestMs ?? SLOW_REQUEST_MS };
  }

  /** How long the last update took to compile its config into tables (ms). */
  get lastCompileMs(): number {
    return this.compileMs;
  }

  /** When the last update swapped its tables in (performance.now()). */
  get lastSwapAt(): number {
    return this.swapAt;
  }

  /**
   * Serves `config` from now on. The config's objects must not be edited afterwards: entries and
   * virtual hosts are compiled once per object and reused by later updates that hold them.
   * Resolves once every port that can be opened is listening.
   */
  update(config: ProxyConfig): Promise<void> {
    const run = this.queue.then(() => this.apply(config));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(config: ProxyConfig): Promise<void> {
    if (this.closed) throw new Error('GatewayProxy.update: the proxy is closed');
    const compileStarted = performance.now();
    const { tables, errors, endpoints } = compileConfig(config, this.certs, this.pieces);
    this.compileMs = performance.now() - compileStarted;
    this.configErrors = errors;
    for (const e of errors) this.log({ level: 'error', msg: 'config part not served', error: e });

    // 1. The swap: every kept port gets its new table in one synchronous pass.
    const toClose: Listener[] = [];
    for (const [key, listener] of this.listeners) {
      const table = tables.get(key);
      if (table && table.kind === listener.kind) (listener as { table: PortTable }).table = table;
      else toClose.push(listener);
    }
    this.swapAt = performance.now();
    this.metrics.configSwaps.inc();
    this.upstream.retain(endpoints);

    // 2. Removed ports (and ports whose kind changed) stop accepting.
    for (const l of toClose) {
      l.close();
      for (const [key, v] of this.listeners) if (v === l) this.listeners.delete(key);
    }

    // 3. New ports; one that cannot be opened is reported and retried by the next update.
    for (const key of this.errors.keys()) if (!tables.has(key)) this.errors.delete(key);
    await Promise.all(
      [...tables].filter(([key]) => !this.listeners.has(key)).map(async ([key, table]) => {
        const listener = this.createListener(table);
        try {
          await listener.open();
          if (this.closed) return listener.close();
          this.listeners.set(key, listener);
          this.errors.delete(key);
        } catch (e) {
          const error = (e as Error).message;
          this.errors.set(key, { port: table.port, protocol: table.kind === 'udp' ? 'udp' : 'tcp', kind: table.kind, error });
          this.log({ level: 'error', msg: 'port cannot be opened', port: table.port, kind: table.kind, error });
        }
      }),
    );
  }

  private createListener(table: PortTable): Listener {
    if (table.kind === 'http') return new HttpPortListener(table, this.ctx, this.bindAddress, this.roundRobin);
    if (table.kind === 'tcp') return new TcpPortListener(table, this.ctx, this.bindAddress, this.roundRobin);
    return new UdpPortListener(table, this.bindAddress, this.roundRobin, this.metrics, this.log);
  }

  /** Ports of the current config that are not listening, with the reason. */
  portErrors(): PortError[] {
    return [...this.errors.values()];
  }

  /** Parts of the current config that were dropped (bad regex, unusable certificate), with the field. */
  configProblems(): string[] {
    return [...this.configErrors];
  }

  /** Ports listening now: `tcp/80`, `udp/53`. */
  listening(): string[] {
    return [...this.listeners.values()].map((l) => `${l.kind === 'udp' ? 'udp' : 'tcp'}/${l.table.port}`);
  }

  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    for (const l of this.listeners.values()) {
      l.close();
      if (!(l instanceof UdpPortListener)) l.destroyAll();
    }
    this.listeners.clear();
    await this.upstream.close();
  }
}
