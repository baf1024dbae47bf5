// The service proxy loop: change tracker -> backend sync -> UDP conntrack cleanup -> health-check
// servers. Syncs are serialized and coalesced (events arriving during a sync are applied by the
// next one); a full resync runs at start, on a slow timer and after any failed transaction.
import client from 'prom-client';
import { readFileSync } from 'node:fs';
import type { ProxyBackend } from './backend.js';
import { ServiceChangeTracker } from './change-tracker.js';
import { type ConntrackDeletion, deleteFlows, staleUdpFlows } from './conntrack.js';
import { HealthCheckServers } from './healthcheck.js';
import type { ServicePortModel } from './model.js';
import { NftablesBackend, type NftApply } from './nftables/backend.js';
import { createLogger } from '../util/log.js';

const log = createLogger('proxy');

const syncDuration = new client.Histogram({
  name: 'flatnet_proxy_sync_duration_seconds',
  help: 'Time to apply Service changes to the kernel',
  labelNames: ['mode', 'kind'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});
const syncFailures = new client.Counter({ name: 'flatnet_proxy_sync_failures_total', help: 'Failed proxy syncs', labelNames: ['mode'] });

export interface ServiceProxyOptions {
  nodeName: string;
  /** Node network namespace; undefined = the current one. */
  netns?: string;
  mode: 'nftables' | 'iptables';
  nodeIPs: string[];
  clusterCIDR: string;
  serviceCIDR: string;
  /** Full resync period (default 5 minutes). */
  resyncIntervalMs?: number;
  /** Serve healthCheckNodePorts (default true). */
  healthChecks?: boolean;
  /** nftables mode: batches through one long-lived nft session (default) or a process each. */
  nftApply?: NftApply;
}

/** Whether this kernel speaks SCTP (no module loader here: it must be built in or loaded). */
export function kernelHasSctp(): boolean {
  try {
    return /^SCTP\b/m.test(readFileSync('/proc/net/protocols', 'utf8'));
  } catch {
    return false;
  }
}

export class ServiceProxy {
  readonly tracker: ServiceChangeTracker;
  /** The nftables backend, or the iptables one (imported only in iptables mode). */
  private readonly backendReady: Promise<ProxyBackend & { resyncNeeded: boolean }>;
  private readonly lastPorts = new Map<string, ServicePortModel[]>();
  private readonly health: HealthCheckServers | undefined;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private synced = false;
  private started = false;
  private failures = 0;
  lastError: Error | undefined;

  constructor(readonly opts: ServiceProxyOptions) {
    this.tracker = new ServiceChangeTracker(opts.nodeName);
    const sctp = kernelHasSctp();
    if (!sctp) log.warn('this kernel has no SCTP (not in /proc/net/protocols): SCTP Service ports get no rules');
    this.backendReady =
      opts.mode === 'iptables'
        ? import('./iptables/backend.js').then(({ IptablesBackend }) => new IptablesBackend(opts.netns, { clusterCIDR: opts.clusterCIDR, sctp }))
        : Promise.resolve(new NftablesBackend(opts.netns, { clusterCIDR: opts.clusterCIDR, sctp }, opts.nftApply));
    this.health = opts.healthChecks === false ? undefined : new HealthCheckServers(opts.netns, opts.nodeName);
  }

  /** First full sync, then follow changes. */
  async start(): Promise<void> {
    this.started = true;
    this.tracker.onChange(() => this.schedule());
    await this.syncNow(true).catch((err: unknown) => {
      // Keep running: the retry timer converges once the kernel takes the rules.
      this.lastError = err as Error;
    });
    const every = this.opts.resyncIntervalMs ?? 5 * 60_000;
    this.resyncTimer = setInterval(() => void this.syncNow(true).catch(() => undefined), every);
    this.resyncTimer.unref();
  }

  private schedule(delayMs = 0): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.syncNow().catch(() => undefined);
    }, delayMs);
  }

  /** Applies pending changes (or everything when `full`) after any sync already running. */
  async syncNow(full = false): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.doSync(full).finally(() => (this.running = undefined));
    await this.running;
  }

  private async doSync(full: boolean): Promise<void> {
    const backend = await this.backendReady;
    const mode = backend.mode;
    const started = process.hrtime.bigint();
    const wholeSync = full || backend.resyncNeeded;
    const changes = wholeSync ? this.tracker.takeAll() : this.tracker.takeChanges();
    if (!wholeSync && changes.size === 0) return;
    try {
      const stats = wholeSync ? await backend.resync(changes) : await backend.sync(changes);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      syncDuration.observe({ mode, kind: wholeSync ? 'full' : 'partial' }, seconds);
      log.debug('synced', { mode, full: wholeSync, ...stats, ms: Math.round(seconds * 1000) });
      this.lastError = undefined;
      this.failures = 0;
    } catch (err) {
      syncFailures.inc({ mode });
      this.lastError = err as Error;
      // Put the changes back so they are not lost, and try again soon (a full resync).
      if (!wholeSync) for (const key of changes.keys()) this.tracker.requeue(key);
      this.failures++;
      const retryMs = Math.min(30_000, 500 * 2 ** Math.min(this.failures - 1, 6));
      log.error('sync failed; retrying with a full resync', { mode, err: (err as Error).message, retryMs });
      if (this.started) this.schedule(retryMs);
      throw err;
    }
    // The first sync has nothing to compare with: flows from before this process are left alone.
    const firstSync = !this.synced;
    this.synced = true;
    const flows: ConntrackDeletion[] = [];
    const gone = wholeSync ? new Set(this.lastPorts.keys()) : new Set<string>();
    for (const [key, ports] of changes) {
      gone.delete(key);
      if (!firstSync) for (const f of staleUdpFlows(this.lastPorts.get(key) ?? [], ports)) flows.push(f);
      if (ports.length) this.lastPorts.set(key, ports);
      else this.lastPorts.delete(key);
    }
    for (const key of gone) {
      for (const f of staleUdpFlows(this.lastPorts.get(key) ?? [], [])) flows.push(f);
      this.lastPorts.delete(key);
    }
    if (flows.length) await deleteFlows(this.opts.netns, flows).catch((err) => log.warn('conntrack cleanup failed', { err: (err as Error).message }));
    await this.health?.update(this.lastPorts).catch((err) => log.warn('health-check servers', { err: (err as Error).message }));
  }

  async rules(): Promise<string> {
    return (await this.backendReady).describe();
  }

  async stop(opts: { cleanup?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.running?.catch(() => undefined);
    await this.health?.close();
    const backend = await this.backendReady;
    try {
      if (opts.cleanup) await backend.cleanup();
    } finally {
      await backend.close?.();
    }
  }
}
