// Events expire, as upstream's etcd leases make them: an Event whose last activity (lastTimestamp,
// eventTime, or creation) is older than the TTL is deleted by a sweep once a minute.
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { createLogger } from '../util/log.js';
import type { Registry } from './registry.js';
import { storeKey } from './registry.js';

const log = createLogger('apiserver');

export function lastActivity(ev: KubeObject): number {
  const e = ev as KubeObject & { lastTimestamp?: string | null; eventTime?: string | null; series?: { lastObservedTime?: string } };
  const candidates = [e.series?.lastObservedTime, e.lastTimestamp, e.eventTime, e.metadata.creationTimestamp];
  let latest = 0;
  for (const c of candidates) {
    const t = c ? Date.parse(c) : NaN;
    if (!Number.isNaN(t) && t > latest) latest = t;
  }
  return latest;
}

/** Deletes expired events now; answers how many. */
export function sweepEvents(registry: Registry, ttlMs: number, now = Date.now()): number {
  const expired = registry.store.list(storeKey(R.events), { filter: (e) => lastActivity(e.obj) + ttlMs < now }).entries;
  let n = 0;
  for (const e of expired) {
    try {
      registry.store.delete(storeKey(R.events), e.ns, e.name, e.rev);
      n++;
    } catch {
      // changed or gone meanwhile: the next sweep looks again
    }
  }
  return n;
}

export function startEventSweeper(registry: Registry, ttlMs: number, intervalMs = 60_000): () => void {
  const timer = setInterval(() => {
    const n = sweepEvents(registry, ttlMs);
    if (n > 0) log.debug('expired events deleted', { count: n });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
