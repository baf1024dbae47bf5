// The gateway proxy process: one per proxy pod. It watches what the route model reads (one
// informer per kind), recomputes the ProxyConfig of its Gateway (or of the shared ingress proxy)
// on every change, coalesced so that a burst of events costs one compute and never more than one
// compute is in flight, and hands it to GatewayProxy, which swaps its routing tables in one step.
// A small HTTP server answers /healthz, /readyz (ready once every informer has synced and the
// first config is applied) and /metrics. SIGTERM stops accepting and lets in-flight requests
// finish for up to 5 s.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { R, type ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { KubeClient } from '../client/client.js';
import { sharedInformer, type SharedInformer } from '../client/shared-informers.js';
import type { ClusterConnection } from '../client/kubeconfig.js';
import { createLogger, type Logger } from '../util/log.js';
import type { ProxyConfig } from './config.js';
import { modelInputsChanged, SPEC_ONLY_FIELDS } from './model/inputs.js';
import { sameValue } from './model/objects.js';
import { GatewayModel } from './model/state.js';
import type { GatewayWorld } from './model/types.js';
import { computeIngressState } from './ingress/state.js';
import type { IngressWorld } from './ingress/types.js';
import { GatewayProxy } from './proxy/index.js';

export type ProxyTarget = { kind: 'gateway'; namespace: string; name: string } | { kind: 'ingress' };

export interface ProxyProcessOptions {
  target: ProxyTarget;
  connection: ClusterConnection;
  /** Where /healthz, /readyz and /metrics are served. */
  healthListen: { host: string; port: number };
  /** The address the listeners bind (default 0.0.0.0). */
  bindAddress?: string;
  /** How long in-flight requests may finish after a stop (default 5 s). */
  drainMs?: number;
}

const TLS_SECRET_TYPE = 'kubernetes.io/tls';
const EMPTY_CONFIG: ProxyConfig = { ports: [] };
/** The Gateway API model, remembering its work between configs (same results as computeGatewayState). */
const gatewayModel = new GatewayModel();
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 10_000;

/** The kinds one proxy watches, by the world field they fill. */
export function watchedResources(target: ProxyTarget): Record<string, { r: ResourceInfo; fieldSelector?: string }> {
  const common = {
    services: { r: R.services },
    endpointSlices: { r: R.endpointslices },
    // Only TLS Secrets matter to the models: the others are never read, nor cached.
    secrets: { r: R.secrets, fieldSelector: `type=${TLS_SECRET_TYPE}` },
  };
  if (target.kind === 'ingress') return { ingresses: { r: R.ingresses }, ingressClasses: { r: R.ingressclasses }, ...common };
  return {
    gatewayClasses: { r: R.gatewayclasses },
    gateways: { r: R.gateways },
    httpRoutes: { r: R.httproutes },
    grpcRoutes: { r: R.grpcroutes },
    tlsRoutes: { r: R.tlsroutes },
    tcpRoutes: { r: R.tcproutes },
    udpRoutes: { r: R.udproutes },
    referenceGrants: { r: R.referencegrants },
    namespaces: { r: R.namespaces },
    ...common,
  };
}

/** The config this proxy serves, computed from the informers' snapshot; `found` is false when its Gateway is not one of ours. */
export function computeProxyConfig(target: ProxyTarget, lists: Record<string, KubeObject[]>): { config: ProxyConfig; found: boolean } {
  const list = (k: string) => lists[k] ?? [];
  if (target.kind === 'ingress') {
    const world: IngressWorld = { ingresses: list('ingresses'), ingressClasses: list('ingressClasses'), services: list('services'), endpointSlices: list('endpointSlices'), secrets: list('secrets'), addresses: [] };
    return { config: computeIngressState(world).config, found: true };
  }
  const world: GatewayWorld = {
    gatewayClasses: list('gatewayClasses'),
    gateways: list('gateways'),
    httpRoutes: list('httpRoutes'),
    grpcRoutes: list('grpcRoutes'),
    tlsRoutes: list('tlsRoutes'),
    tcpRoutes: list('tcpRoutes'),
    udpRoutes: list('udpRoutes'),
    referenceGrants: list('referenceGrants'),
    services: list('services'),
    endpointSlices: list('endpointSlices'),
    secrets: list('secrets'),
    namespaces: list('namespaces'),
    infra: new Map(),
  };
  const gw = gatewayModel.compute(world).gateways.get(`${target.namespace}/${target.name}`);
  return gw ? { config: gw.config, found: true } : { config: EMPTY_CONFIG, found: false };
}

export function targetLabel(target: ProxyTarget): string {
  return target.kind === 'ingress' ? 'ingress' : `${target.namespace}/${target.name}`;
}

export class GatewayProxyProcess {
  private readonly log: Logger;
  private readonly client: KubeClient;
  private readonly informers = new Map<string, SharedInformer>();
  private readonly proxy: GatewayProxy;
  private readonly metrics = new Registry();
  private readonly applySeconds: Histogram;
  private readonly phaseSeconds: Histogram<'phase'>;
  /** Each watched kind's objects as handed to the model, re-read from its informer only after it changed. */
  private readonly lists = new Map<string, KubeObject[]>();
  private readonly changedKinds = new Set<string>();
  private readonly applies: Counter<'result'>;
  private readonly statusOnlyUpdates: Counter;
  private readonly eventToSwapSeconds: Histogram;
  private health: http.Server | undefined;
  private synced = false;
  private applied = false;
  private readyLogged = false;
  private appliedConfig: ProxyConfig | undefined;
  private lastFound: boolean | undefined;
  private dirty = false;
  /** When the oldest change not yet taken into a recompute arrived. */
  private dirtySince = 0;
  private scheduled = false;
  private inFlight: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = RETRY_MIN_MS;
  private stopping = false;

  constructor(private readonly options: ProxyProcessOptions) {
    this.log = createLogger('gateway-proxy', { target: targetLabel(options.target) });
    this.client = new KubeClient(options.connection);
    const proxyLog = this.log;
    this.proxy = new GatewayProxy({
      bindAddress: options.bindAddress ?? '0.0.0.0',
      log: (line: object) => {
        const { level, msg, ...fields } = line as { level?: string; msg?: string } & Record<string, unknown>;
        const text = msg ?? 'proxy';
        if (level === 'error') proxyLog.error(text, fields);
        else if (level === 'warn') proxyLog.warn(text, fields);
        else if (level === 'debug') proxyLog.debug(text, fields);
        else proxyLog.info(text, fields);
      },
    });
    collectDefaultMetrics({ register: this.metrics });
    this.applySeconds = new Histogram({
      name: 'flatnet_gateway_config_apply_seconds',
      help: 'Time to recompute the proxy configuration from the watched objects and swap it in.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.metrics],
    });
    this.phaseSeconds = new Histogram({
      name: 'flatnet_gateway_config_phase_seconds',
      help: 'Time of each recompute phase: model (the route model computes the ProxyConfig) and table (the proxy compiles it into its routing tables).',
      labelNames: ['phase'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.metrics],
    });
    this.eventToSwapSeconds = new Histogram({
      name: 'flatnet_gateway_event_to_swap_seconds',
      help: 'From a watch event to the routing tables that include it swapped in (waiting for a recompute in flight, then recompute and swap).',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.metrics],
    });
    this.statusOnlyUpdates = new Counter({
      name: 'flatnet_gateway_status_only_updates_total',
      help: 'Watched Gateway API objects updated without a change the route model reads (status writes): no recompute.',
      registers: [this.metrics],
    });
    this.applies = new Counter({ name: 'flatnet_gateway_config_applies_total', help: 'Configuration recomputes by result (applied, unchanged, failed).', labelNames: ['result'], registers: [this.metrics] });
  }

  get ready(): boolean {
    return this.synced && this.applied && !this.stopping && this.proxy.portErrors().length === 0;
  }

  /** The health server's port (useful when it was asked for port 0). */
  get healthPort(): number {
    return (this.health?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    this.health = http.createServer((req, res) => void this.serveHealth(req, res));
    const { host, port } = this.options.healthListen;
    await new Promise<void>((resolve, reject) => {
      this.health!.once('error', reject);
      this.health!.listen(port, host, () => {
        this.health!.off('error', reject);
        resolve();
      });
    });
    this.log.info('health server listening', { address: `${host}:${this.healthPort}`, paths: ['/healthz', '/readyz', '/metrics'] });
    for (const [field, { r, fieldSelector }] of Object.entries(watchedResources(this.options.target))) {
      const informer = sharedInformer(this.client, r, fieldSelector ? { fieldSelector } : {});
      const changed = () => {
        this.changedKinds.add(field);
        this.schedule();
      };
      // A status write (the controller writes one per new route, and the Gateway's attachedRoutes)
      // changes no table: it is not worth a recompute, which would delay the next real change.
      const specOnly = SPEC_ONLY_FIELDS.has(field);
      const updated = (obj: KubeObject, old: KubeObject) => {
        if (specOnly && !modelInputsChanged(old, obj)) {
          this.statusOnlyUpdates.inc();
          return;
        }
        changed();
      };
      informer.addHandlers({ add: changed, update: updated, delete: changed });
      this.informers.set(field, informer);
    }
    const started = performance.now();
    const waiting = setInterval(() => {
      if (this.stopping) return clearInterval(waiting);
      this.log.warn('still waiting for the API: informers not synced (FLATNET_LOG=debug shows the list/watch errors)', { kinds: this.unsyncedKinds() });
    }, 10_000);
    waiting.unref();
    await Promise.all([...this.informers.values()].map((i) => i.start())).finally(() => clearInterval(waiting));
    if (this.stopping) return;
    this.synced = true;
    this.log.info('informers synced', { kinds: [...this.informers.values()].map((i) => i.resource.plural), ms: Math.round(performance.now() - started) });
    this.schedule();
  }

  private unsyncedKinds(): string[] {
    return [...this.informers.values()].filter((i) => !i.hasSynced).map((i) => i.resource.plural);
  }

  /** Stops watching, stops accepting, and waits up to drainMs for in-flight requests. */
  async stop(): Promise<{ drained: boolean }> {
    if (this.stopping) return { drained: true };
    this.stopping = true;
    clearTimeout(this.retryTimer);
    for (const i of this.informers.values()) i.stop();
    await this.inFlight?.catch(() => undefined);
    const drainMs = this.options.drainMs ?? 5000;
    this.log.info('stopping: no new connections; in-flight requests may finish', { drainMs });
    const drained = await this.drain(drainMs);
    if (!drained) this.log.warn('in-flight requests did not finish in time; closing them', { drainMs });
    await this.proxy.close().catch((err: unknown) => this.log.warn('closing the proxy failed', { err: (err as Error).message }));
    await new Promise<void>((resolve) => {
      if (!this.health) return resolve();
      this.health.close(() => resolve());
      this.health.closeAllConnections();
    });
    this.client.close();
    this.log.info('stopped', { drained });
    return { drained };
  }

  /**
   * Stops accepting (an empty config closes every listener; open connections finish on their
   * own) and waits until no client connection is left, or `ms` passed.
   */
  private async drain(ms: number): Promise<boolean> {
    const deadline = performance.now() + ms;
    try {
      await this.proxy.update(EMPTY_CONFIG);
    } catch (err) {
      this.log.warn('closing the listeners failed', { err: (err as Error).message });
      return false;
    }
    for (;;) {
      const open = activeConnections(await this.proxy.metricsText());
      if (open === 0) return true;
      if (performance.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private schedule(): void {
    if (!this.dirty) this.dirtySince = performance.now();
    this.dirty = true;
    if (this.scheduled || this.inFlight || this.stopping || !this.synced) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.inFlight || this.stopping) return;
      this.inFlight = this.recompute().finally(() => {
        this.inFlight = undefined;
        // Events that arrived during the last swap.
        if (this.dirty && !this.retryTimer) this.schedule();
      });
    });
  }

  private async recompute(): Promise<void> {
    while (this.dirty && !this.stopping) {
      this.dirty = false;
      const eventAt = this.dirtySince;
      const started = performance.now();
      const lists = this.currentLists();
      let result: 'applied' | 'unchanged' = 'unchanged';
      let modelMs: number;
      let tableMs: number | undefined;
      try {
        const modelStarted = performance.now();
        const { config, found } = computeProxyConfig(this.options.target, lists);
        modelMs = performance.now() - modelStarted;
        this.phaseSeconds.observe({ phase: 'model' }, modelMs / 1000);
        if (found !== this.lastFound && this.options.target.kind === 'gateway') {
          if (!found) this.log.warn('the Gateway does not exist or its GatewayClass is not ours (or not accepted): serving nothing', {});
          this.lastFound = found;
        }
        if (!this.appliedConfig || !sameValue(config, this.appliedConfig)) {
          await this.proxy.update(config);
          this.appliedConfig = config;
          tableMs = this.proxy.lastCompileMs;
          this.phaseSeconds.observe({ phase: 'table' }, tableMs / 1000);
          result = 'applied';
          // Epoch times (sub-millisecond, same clock as other processes on the machine) so a bench
          // can place the change's arrival and the swap between its own create and first 200.
          this.log.info('configuration applied', {
            ports: config.ports.map((p) => `${p.port}/${p.kind}`),
            problems: this.proxy.configProblems(),
            eventAtMs: epochMs(eventAt),
            swappedAtMs: epochMs(this.proxy.lastSwapAt),
            modelMs: Math.round(modelMs * 100) / 100,
            tableMs: Math.round(tableMs * 100) / 100,
          });
        }
        this.applied = true;
        const portErrors = this.proxy.portErrors();
        if (portErrors.length > 0) {
          // The proxy opens a port that failed on its next update: force one, later.
          this.appliedConfig = undefined;
          throw new Error(`ports not listening: ${portErrors.map((e) => `${e.port}/${e.protocol}: ${e.error}`).join('; ')}`);
        }
      } catch (err) {
        this.applies.inc({ result: 'failed' });
        this.log.error('configuration not applied; retrying', { err: (err as Error).message, retryInMs: this.retryDelayMs });
        this.dirty = true;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.schedule();
        }, this.retryDelayMs);
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, RETRY_MAX_MS);
        return;
      }
      const seconds = (performance.now() - started) / 1000;
      this.applySeconds.observe(seconds);
      this.applies.inc({ result });
      this.retryDelayMs = RETRY_MIN_MS;
      const round = (ms: number) => Math.round(ms * 100) / 100;
      const sinceEventMs = performance.now() - eventAt;
      if (result === 'applied') this.eventToSwapSeconds.observe(sinceEventMs / 1000);
      this.log.debug('recomputed', { result, ms: round(seconds * 1000), modelMs: round(modelMs), ...(tableMs === undefined ? {} : { tableMs: round(tableMs) }), sinceEventMs: round(sinceEventMs) });
      if (!this.readyLogged && this.ready) {
        this.readyLogged = true;
        this.log.info('ready', {});
      }
    }
  }

  /**
   * The informers' objects by world field. A kind's array is rebuilt only when one of its objects
   * changed since the last recompute, so an event costs one copy of its own kind, and the model
   * sees the same arrays (and objects) for the kinds that did not change.
   */
  private currentLists(): Record<string, KubeObject[]> {
    const lists: Record<string, KubeObject[]> = {};
    for (const [field, informer] of this.informers) {
      let list = this.lists.get(field);
      if (!list || this.changedKinds.has(field)) {
        list = informer.list();
        this.lists.set(field, list);
      }
      lists[field] = list;
    }
    this.changedKinds.clear();
    return lists;
  }

  private async serveHealth(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const text = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    try {
      switch (path) {
        case '/healthz':
          return text(this.stopping ? 503 : 200, this.stopping ? 'stopping\n' : 'ok\n');
        case '/readyz': {
          if (this.ready) return text(200, 'ok\n');
          const portErrors = this.proxy.portErrors().map((e) => `port ${e.port}/${e.protocol}: ${e.error}`);
          const why = this.stopping ? 'stopping' : !this.synced ? `informers have not synced (${this.unsyncedKinds().join(', ')})` : !this.applied ? 'the first configuration is not applied yet' : `ports not listening: ${portErrors.join('; ')}`;
          return text(503, `not ready: ${why}\n`);
        }
        case '/metrics': {
          const own = await this.metrics.metrics();
          const proxy = await this.proxy.metricsText();
          return text(200, `${proxy.trimEnd()}\n${own}`, this.metrics.contentType);
        }
        default:
          return text(404, `not found: ${path} (this port serves /healthz, /readyz and /metrics)\n`);
      }
    } catch (err) {
      this.log.error('health request failed', { path, err: (err as Error).message });
      if (!res.headersSent) text(500, `${(err as Error).message}\n`);
      else res.destroy();
    }
  }
}

/** A performance.now() time as epoch milliseconds, to 0.01 ms. */
function epochMs(t: number): number {
  return Math.round((performance.timeOrigin + t) * 100) / 100;
}

/** The sum of gateway_active_connections in the proxy's metrics text (open client connections). */
export function activeConnections(metricsText: string): number {
  let sum = 0;
  for (const m of metricsText.matchAll(/^gateway_active_connections(?:\{[^}]*\})? ([-+0-9.eE]+)$/gm)) sum += Number(m[1]);
  return sum;
}
