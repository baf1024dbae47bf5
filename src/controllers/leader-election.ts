// The controllers' leader election against the API (the thin part; the decisions are in
// leader-election-plan.ts): read the kube-system/kube-controller-manager Lease, write what the
// plan says with the read resourceVersion (the store's compare-and-swap settles races between API
// servers), run the controllers while this process holds the lease, and stop them the moment a
// renew has not succeeded for renewDeadline, even while a request to the API is still hanging.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { KubeClient, WatchHandle } from '../client/client.js';
import { createLogger, type Logger } from '../util/log.js';
import {
  CONTROLLER_LEASE,
  DEFAULT_TIMING,
  checkTiming,
  decideAttempt,
  leaseObject,
  leaseRecordOf,
  mustStepDown,
  observe,
  releasedRecord,
  type LeaderElectionTiming,
  type Observation,
} from './leader-election-plan.js';

export interface Running {
  stop(): Promise<void>;
}

export interface LeaderElectionOptions {
  /** Starts what only the leader runs (the controllers); called each time leadership is gained. */
  onStartedLeading: () => Promise<Running>;
  /** This candidate's name in holderIdentity (default: hostname_uuid, as upstream). */
  identity?: string;
  timing?: LeaderElectionTiming;
  lease?: { namespace: string; name: string };
  log?: Logger;
}

export interface LeaderElection {
  readonly identity: string;
  isLeader(): boolean;
  /** Stops campaigning; a leader stops its controllers, then releases the lease. */
  stop(): Promise<void>;
}

/** Resolves with the promise's value, or with `undefined` once `ms` passed. */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(ms, 0))));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export function runLeaderElection(client: KubeClient, opts: LeaderElectionOptions): LeaderElection {
  const timing = opts.timing ?? DEFAULT_TIMING;
  checkTiming(timing);
  const identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
  const where = opts.lease ?? CONTROLLER_LEASE;
  const log = (opts.log ?? createLogger('leader-election')).child({ lease: `${where.namespace}/${where.name}`, identity });
  let observed: Observation | undefined;
  let stopped = false;
  /** Bumped at every change of leadership, so a late answer from an older term is ignored. */
  let term = 0;
  let leading = false;
  let lastRenewAt = 0;
  let deadline: NodeJS.Timeout | undefined;
  let running: Promise<Running | undefined> | undefined;
  let wake: (() => void) | undefined;
  /** When the lease someone else holds expires (local clock), to try right then rather than a retry later. */
  let expiresAt: number | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /** One read-decide-write round; true when this process holds the lease after it. */
  async function attempt(): Promise<boolean> {
    const started = Date.now();
    const lease = await client.get<KubeObject>(R.leases, where.namespace, where.name);
    const now = Date.now();
    const seen = lease ? observe(observed, leaseRecordOf(lease), lease.metadata.resourceVersion, now) : undefined;
    observed = seen;
    const plan = decideAttempt(identity, seen, now, timing);
    expiresAt = plan.action === 'wait' ? now + plan.validForMs : undefined;
    if (plan.action === 'wait') {
      log.debug('the lease is held', { holder: plan.holder, validForMs: plan.validForMs });
      return false;
    }
    const body = leaseObject(lease, plan.record);
    try {
      const written = plan.action === 'create' ? await client.create(R.leases, body) : await client.update(R.leases, body);
      observed = { record: leaseRecordOf(written), resourceVersion: written.metadata.resourceVersion, observedAt: Date.now() };
      if (plan.action === 'create' || plan.takeover) log.info('acquired the lease', { transitions: plan.record.leaseTransitions });
      lastRenewAt = Math.max(lastRenewAt, started);
      return true;
    } catch (err) {
      // A conflict is another candidate's write winning the race: read again next round.
      log.debug('writing the lease failed', { err: (err as Error).message });
      return false;
    }
  }

  function armDeadline(): void {
    clearTimeout(deadline);
    const left = lastRenewAt + timing.renewDeadlineMs - Date.now();
    deadline = setTimeout(() => {
      if (leading && mustStepDown(lastRenewAt, Date.now(), timing)) stepDown(`no successful renew for ${timing.renewDeadlineMs} ms`);
      else if (leading) armDeadline();
    }, Math.max(left, 0));
  }

  function stepUp(): void {
    leading = true;
    term++;
    armDeadline();
    log.info('became the leader: starting the controllers');
    running = opts.onStartedLeading().catch((err: unknown) => {
      log.error('starting the controllers failed', { err: (err as Error).message });
      if (leading) stepDown('the controllers did not start');
      return undefined;
    });
  }

  function stepDown(why: string): Promise<void> {
    if (!leading) return Promise.resolve();
    leading = false;
    term++;
    clearTimeout(deadline);
    log.warn('leadership lost: stopping the controllers', { reason: why });
    const was = running;
    running = undefined;
    return (was ?? Promise.resolve(undefined)).then((r) => r?.stop()).catch((err: unknown) => log.warn('the controllers did not stop cleanly', { err: (err as Error).message }));
  }

  // A watch on the lease stamps each change with the moment it happened (polling alone would see
  // it up to a retry period late, and take over that much later than the lease duration).
  let watching: WatchHandle | undefined;
  const watchLease = (): void => {
    if (stopped) return;
    watching = client.watch(R.leases, { namespace: where.namespace, fieldSelector: `metadata.name=${where.name}` }, (ev) => {
      if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') return;
      observed = observe(observed, leaseRecordOf(ev.object), ev.object.metadata.resourceVersion, Date.now());
    });
    void watching.done.then(() => {
      if (!stopped) setTimeout(watchLease, timing.retryPeriodMs).unref();
    });
  };
  watchLease();
  log.info('campaigning for the controller lease', { leaseDurationMs: timing.leaseDurationMs, renewDeadlineMs: timing.renewDeadlineMs, retryPeriodMs: timing.retryPeriodMs });
  const loop = (async () => {
    while (!stopped) {
      const myTerm = term;
      const wasLeading = leading;
      // A round may take at most what is left of the renew deadline (or one deadline when campaigning).
      const budget = wasLeading ? lastRenewAt + timing.renewDeadlineMs - Date.now() : timing.renewDeadlineMs;
      let held: boolean | undefined;
      try {
        held = await within(attempt(), budget);
      } catch (err) {
        log.debug('reading the lease failed', { err: (err as Error).message });
        held = false;
      }
      if (stopped) break;
      if (term === myTerm) {
        if (held && !leading) stepUp();
        else if (held && leading) armDeadline();
        else if (!held && leading && mustStepDown(lastRenewAt, Date.now(), timing)) await stepDown(held === undefined ? 'the renew did not answer in time' : 'the renew failed');
      }
      // The leader renews every retry period; candidates retry with jitter, as upstream (factor 1.2).
      const retry = leading ? timing.retryPeriodMs : timing.retryPeriodMs * (1 + Math.random() * 1.2);
      await pause(!leading && expiresAt !== undefined ? Math.min(retry, Math.max(expiresAt - Date.now(), 0) + 10) : retry);
    }
  })();

  return {
    identity,
    isLeader: () => leading,
    async stop() {
      if (stopped) return;
      stopped = true;
      wake?.();
      watching?.stop();
      const held = leading;
      await stepDown('stopping');
      await loop.catch(() => undefined);
      if (!held) return;
      // Release, so another server takes over at once instead of after a lease duration.
      try {
        const lease = await within(client.get<KubeObject>(R.leases, where.namespace, where.name), timing.retryPeriodMs);
        if (lease && leaseRecordOf(lease).holderIdentity === identity) {
          await within(client.update(R.leases, leaseObject(lease, releasedRecord(leaseRecordOf(lease), Date.now()))), timing.retryPeriodMs);
          log.info('released the lease');
        }
      } catch (err) {
        log.warn('releasing the lease failed', { err: (err as Error).message });
      }
    },
  };
}
