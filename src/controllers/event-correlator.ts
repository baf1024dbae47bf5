// What client-go's EventCorrelator does before an event reaches the API server, as pure state:
// - the same event again (same source, involved object, type, reason and message) is counted on
//   the Event first written for it: count+1 and lastTimestamp (and message) in a patch of that
//   Event, instead of a new Event;
// - similar events that differ only in their message are combined once 10 distinct messages came
//   within 10 minutes: from then on one Event, "(combined from similar events): <message>",
//   counts them.
// - a source (component and host) may report about one object a burst of 25 events, then one per
//   5 minutes (upstream's EventSourceObjectSpamFilter, a token bucket per source and object); more
//   are dropped. Upstream counts a dropped repeat on the Event it would have patched; here it is
//   not counted.
// The caches are LRU with 4096 entries, as upstream's.
import type { KubeObject } from '../api/types.js';

const CACHE_ENTRIES = 4096;
const AGGREGATE_MAX_EVENTS = 10;
const AGGREGATE_INTERVAL_MS = 600_000;
const SPAM_BURST = 25;
/** One token per 300 s (upstream's qps of 1/300). */
const SPAM_REFILL_MS = 300_000;
export const COMBINED_PREFIX = '(combined from similar events): ';

interface EventFields extends KubeObject {
  involvedObject?: { kind?: string; namespace?: string; name?: string; fieldPath?: string; uid?: string; apiVersion?: string };
  source?: { component?: string; host?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  reportingComponent?: string;
  reportingInstance?: string;
}

/** A Map in least-recently-used order, bounded. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
  get size(): number {
    return this.map.size;
  }
}

const join = (parts: (string | undefined)[]): string => parts.map((p) => p ?? '').join('\u0000');

function objectParts(e: EventFields): (string | undefined)[] {
  const o = e.involvedObject ?? {};
  return [e.source?.component, e.source?.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion];
}

/** What makes two events the same event (upstream's getEventKey). */
export function eventKey(event: KubeObject): string {
  const e = event as EventFields;
  return join([...objectParts(e), e.involvedObject?.fieldPath, e.type, e.reason, e.message]);
}

/** What makes two events similar: all of the key but the message, plus the reporter. */
function aggregateKey(e: EventFields): string {
  return join([...objectParts(e), e.type, e.reason, e.reportingComponent, e.reportingInstance]);
}

/** The merge patch that counts one more occurrence on the Event already written. */
export interface CountPatch {
  count: number;
  lastTimestamp: string | undefined;
  message: string | undefined;
}

interface Observation {
  count: number;
  firstTimestamp: string | undefined;
  name: string;
}

export class EventCorrelator {
  private readonly similar = new Lru<{ messages: Set<string>; last: number }>(CACHE_ENTRIES);
  private readonly seen = new Lru<Observation>(CACHE_ENTRIES);
  /** Per source and object (upstream's getSpamKey): tokens left and when they were counted. */
  private readonly buckets = new Lru<{ tokens: number; at: number }>(CACHE_ENTRIES);

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * When the event is recorded: the event to send (the event itself, or the combined event once
   * similar ones are too many) and the key it is counted under.
   */
  aggregate(event: KubeObject): { event: KubeObject; key: string } {
    const e = event as EventFields;
    const now = this.now();
    const aggKey = aggregateKey(e);
    let record = this.similar.get(aggKey);
    if (!record || now - record.last > AGGREGATE_INTERVAL_MS) record = { messages: new Set(), last: now };
    record.messages.add(e.message ?? '');
    record.last = now;
    this.similar.set(aggKey, record);
    if (record.messages.size < AGGREGATE_MAX_EVENTS) return { event, key: eventKey(event) };
    // Keep the set no larger than the threshold (upstream drops one message of it).
    record.messages.delete(record.messages.values().next().value!);
    const time = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const combined: EventFields = {
      ...e,
      metadata: { name: `${e.involvedObject?.name ?? 'event'}.${(BigInt(now) * 1_000_000n).toString(16)}`, namespace: e.metadata.namespace },
      message: COMBINED_PREFIX + (e.message ?? ''),
      count: 1,
      firstTimestamp: time,
      lastTimestamp: time,
    };
    return { event: combined, key: aggKey };
  }

  /** Whether the event's source may still report about its object now (takes a token if so). */
  allow(event: KubeObject): boolean {
    const key = join(objectParts(event as EventFields));
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: SPAM_BURST, at: now };
    bucket.tokens = Math.min(SPAM_BURST, bucket.tokens + (now - bucket.at) / SPAM_REFILL_MS);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    return allowed;
  }

  /**
   * When the event is sent: the event as it is written (on a repeat: the first one's name and
   * firstTimestamp, the count so far + 1) and, on a repeat, the patch for the existing Event.
   */
  observe(event: KubeObject, key: string): { event: KubeObject; patch?: CountPatch } {
    const e = event as EventFields;
    const last = this.seen.get(key);
    if (!last) {
      this.seen.set(key, { count: e.count ?? 1, firstTimestamp: e.firstTimestamp, name: e.metadata.name ?? '' });
      return { event };
    }
    const count = last.count + 1;
    const repeated: EventFields = { ...e, metadata: { ...e.metadata, name: last.name }, count, firstTimestamp: last.firstTimestamp };
    this.seen.set(key, { ...last, count });
    return { event: repeated, patch: { count, lastTimestamp: e.lastTimestamp, message: e.message } };
  }

  /** The Event as the server answered, so the next repeat counts on from it. */
  update(key: string, saved: KubeObject): void {
    const e = saved as EventFields;
    this.seen.set(key, { count: e.count ?? 1, firstTimestamp: e.firstTimestamp, name: e.metadata.name ?? '' });
  }

  /** Entries in the caches (tests). */
  get sizes(): { similar: number; seen: number; buckets: number } {
    return { similar: this.similar.size, seen: this.seen.size, buckets: this.buckets.size };
  }
}
