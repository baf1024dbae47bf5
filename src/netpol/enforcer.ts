// NetworkPolicy enforcement for one node: informers on Pods, Namespaces and NetworkPolicies feed
// the cluster cache; a change schedules a sync a few milliseconds later (changes arriving together
// are applied together); a sync compiles the node's pods a change can affect (incremental.ts)
// and applies the difference to the kernel in one nftables transaction. The agent calls admitPod
// after CNI ADD and before it starts the pod's containers: it returns once the pod's policy state
// is in the kernel, and until then the pod's address neither sends nor receives anything (see
// render.ts).
import client from 'prom-client';
import type { KubeClient } from '../client/client.js';
import { sharedInformer } from '../client/shared-informers.js';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { nthAddress } from '../linux/ipv4.js';
import { createLogger } from '../util/log.js';
import { PolicyClusterCache } from './cluster-cache.js';
import { PolicyTableExecutor } from './executor.js';
import { IncrementalCompiler } from './incremental.js';
import { renderSets, stateSize } from './render.js';

const log = createLogger('netpol');

const syncDuration = new client.Histogram({
  name: 'flatnet_netpol_sync_duration_seconds',
  help: 'Time to compile NetworkPolicies for this node and apply the change to nftables',
  labelNames: ['kind'],
  buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
});
const admitDuration = new client.Histogram({
  name: 'flatnet_netpol_admit_duration_seconds',
  help: 'Time from admitPod to the pod policy state being in the kernel',
  buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
});
const podsCompiled = new client.Counter({ name: 'flatnet_netpol_pods_compiled_total', help: 'Local pods whose policy allowances were compiled (pods a change cannot affect are reused)' });
const syncFailures = new client.Counter({ name: 'flatnet_netpol_sync_failures_total', help: 'NetworkPolicy syncs that failed (retried)' });
const stateGauge = new client.Gauge({ name: 'flatnet_netpol_state', help: 'Size of the nftables policy state: allow classes, their elements, isolated and admitted pods', labelNames: ['kind'] });

export interface PolicyEnforcerOptions {
  nodeName: string;
  /** The node's network namespace (undefined = the namespace of this process). */
  netns?: string;
  /** The node's pod CIDR; its first address is the node's bridge (gateway). */
  podCIDR: string;
  /** Delay that gathers changes into one sync (default 5 ms). */
  debounceMs?: number;
  /** Full rebuild of the table this often (default 5 minutes). */
  resyncIntervalMs?: number;
}

export interface PolicyEnforcer {
  /** Puts the pod's policy state in place and admits its address; resolves once it is in the kernel. */
  admitPod(pod: KubeObject): Promise<void>;
  /** Takes the address back (after the pod's sandbox is gone); resolves once applied. */
  forgetPod(podIP: string): Promise<void>;
  /** Resolves after every change seen so far is applied (for tests and benchmarks). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** Serialises syncs: at most one runs; requests during a run cause exactly one more. */
class SyncLoop {
  private running: Promise<void> | undefined;
  private again = false;
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly syncOnce: () => Promise<void>,
    private readonly debounceMs: number,
  ) {}

  /** Schedules a sync after the debounce delay. */
  request(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.now().catch(() => {});
    }, this.debounceMs);
  }

  /** Runs a sync that starts after this call; resolves when it has been applied. */
  now(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.running) this.again = true;
    else this.running = this.run();
    return done;
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      const waiters = this.waiters;
      this.waiters = [];
      try {
        await this.syncOnce();
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err as Error);
        if (!this.stopped) setTimeout(() => this.request(), 1000).unref();
      }
    } while (this.again && !this.stopped);
    this.running = undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

/**
 * One node's policy state from its cluster cache to the kernel: the incremental compile, the
 * render and the nftables change. `full` rebuilds the table from a compile of every pod.
 */
export class NodePolicySync {
  readonly cache: PolicyClusterCache;
  private readonly executor: PolicyTableExecutor;
  private readonly compiler: IncrementalCompiler;

  constructor(opts: Pick<PolicyEnforcerOptions, 'nodeName' | 'netns' | 'podCIDR'>) {
    this.cache = new PolicyClusterCache(opts.nodeName);
    this.executor = new PolicyTableExecutor({ podCIDR: opts.podCIDR, gateway: nthAddress(opts.podCIDR, 1) }, opts.netns);
    this.compiler = new IncrementalCompiler((pod) => pod.nodeName === opts.nodeName);
  }

  async sync(full: boolean): Promise<{ recompiled: number; changes: number }> {
    if (full) this.compiler.reset();
    const model = this.cache.model();
    const compiled = this.compiler.compile(model);
    const sets = renderSets(compiled.pods, this.cache.admittedAddresses(model));
    let changes = stateSize(sets).elements;
    if (full) await this.executor.resync(sets);
    else changes = (await this.executor.apply(sets)).changes;
    for (const [kind, n] of Object.entries(stateSize(sets))) stateGauge.set({ kind }, n);
    return { recompiled: compiled.recompiled, changes };
  }

  /** Removes the node's policy table. */
  remove(): Promise<void> {
    return this.executor.remove();
  }

  /** Stops the node's nft session (the table stays). */
  close(): Promise<void> {
    return this.executor.close();
  }
}

export async function startPolicyEnforcer(kube: KubeClient, opts: PolicyEnforcerOptions): Promise<PolicyEnforcer> {
  const node = new NodePolicySync(opts);
  const cache = node.cache;
  let fullResync = true;

  const syncOnce = async () => {
    const started = performance.now();
    const kind = fullResync ? 'full' : 'incremental';
    try {
      const { recompiled } = await node.sync(fullResync);
      fullResync = false;
      podsCompiled.inc(recompiled);
      syncDuration.observe({ kind }, (performance.now() - started) / 1000);
    } catch (err) {
      syncFailures.inc();
      log.error('applying NetworkPolicy state failed; retrying', { node: opts.nodeName, err: (err as Error).message });
      throw err;
    }
  };
  const loop = new SyncLoop(syncOnce, opts.debounceMs ?? 5);

  const informers = {
    pods: sharedInformer(kube, R.pods),
    namespaces: sharedInformer(kube, R.namespaces),
    policies: sharedInformer(kube, R.networkpolicies),
  };
  const changed = () => loop.request();
  informers.pods.addHandlers({
    add: (o) => (cache.upsertPod(o), changed()),
    update: (o) => (cache.upsertPod(o), changed()),
    delete: (o) => (cache.deletePod(o), changed()),
  });
  informers.namespaces.addHandlers({
    add: (o) => (cache.upsertNamespace(o), changed()),
    update: (o) => (cache.upsertNamespace(o), changed()),
    delete: (o) => (cache.deleteNamespace(o), changed()),
  });
  informers.policies.addHandlers({
    add: (o) => (cache.upsertPolicy(o), changed()),
    update: (o) => (cache.upsertPolicy(o), changed()),
    delete: (o) => (cache.deletePolicy(o), changed()),
  });
  await Promise.all([informers.pods.start(), informers.namespaces.start(), informers.policies.start()]);
  // The first sync replaces whatever table a previous run left, atomically.
  await loop.now();
  log.info('NetworkPolicy enforcement started', { node: opts.nodeName, podCIDR: opts.podCIDR, netns: opts.netns });

  const resyncTimer = setInterval(() => {
    fullResync = true;
    loop.request();
  }, opts.resyncIntervalMs ?? 5 * 60_000);
  resyncTimer.unref();

  return {
    async admitPod(pod) {
      const started = performance.now();
      cache.admit(pod);
      await loop.now();
      admitDuration.observe((performance.now() - started) / 1000);
    },
    async forgetPod(podIP) {
      cache.forget(podIP);
      await loop.now();
    },
    flush: () => loop.now(),
    async stop() {
      clearInterval(resyncTimer);
      for (const i of Object.values(informers)) i.stop();
      await loop.stop();
      await node.close();
    },
  };
}
