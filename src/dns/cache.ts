// Caches: a bounded map with oldest-first eviction, and the TTL-respecting cache of upstream
// answers (positive TTL = the smallest record TTL; negative TTL = min(SOA TTL, SOA minimum) as
// RFC 2308 says; SERVFAIL and other failures are never cached).
import type { ResourceRecord } from './wire.js';
import { RCode, RRType } from './wire.js';

/** A Map that forgets its oldest entry beyond `max` entries; `touch` makes a hit recent (LRU). */
export class BoundedMap<V> {
  private readonly map = new Map<string, V>();
  constructor(readonly max: number) {}

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  touch(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
  }

  set(key: string, value: V): void {
    if (this.map.has(key)) this.map.delete(key);
    else if (this.map.size >= this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(key, value);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}

export interface UpstreamAnswer {
  rcode: number;
  answers: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
}

interface CachedUpstreamAnswer extends UpstreamAnswer {
  storedAtMs: number;
  ttl: number;
}

export interface ForwardCacheOptions {
  maxEntries?: number;
  /** Cap for positive answers (seconds). */
  maxTtl?: number;
  /** Cap for NXDOMAIN/NODATA answers (seconds). */
  maxNegativeTtl?: number;
}

export class ForwardCache {
  private readonly entries: BoundedMap<CachedUpstreamAnswer>;
  private readonly maxTtl: number;
  private readonly maxNegativeTtl: number;

  constructor(opts: ForwardCacheOptions = {}) {
    this.entries = new BoundedMap(opts.maxEntries ?? 10000);
    this.maxTtl = opts.maxTtl ?? 3600;
    this.maxNegativeTtl = opts.maxNegativeTtl ?? 1800;
  }

  static key(name: string, type: number, klass: number): string {
    return `${name}|${type}|${klass}`;
  }

  /** How long an answer may be cached (0 = not at all). */
  cacheTtl(a: UpstreamAnswer): number {
    if (a.rcode === RCode.NOERROR && a.answers.length > 0) {
      return Math.min(this.maxTtl, ...a.answers.map((r) => r.ttl));
    }
    if (a.rcode === RCode.NXDOMAIN || (a.rcode === RCode.NOERROR && a.answers.length === 0)) {
      const soa = a.authority.find((r) => r.type === RRType.SOA);
      if (!soa || soa.type !== RRType.SOA || 'raw' in soa) return 0;
      const minimum = (soa.data as { minimum: number }).minimum;
      return Math.min(this.maxNegativeTtl, soa.ttl, minimum);
    }
    return 0;
  }

  set(key: string, a: UpstreamAnswer, nowMs = Date.now()): void {
    const ttl = this.cacheTtl(a);
    if (ttl <= 0) return;
    this.entries.set(key, { ...a, storedAtMs: nowMs, ttl });
  }

  /** The cached answer with every TTL reduced by the time spent in the cache, or undefined. */
  get(key: string, nowMs = Date.now()): UpstreamAnswer | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    const age = Math.floor((nowMs - e.storedAtMs) / 1000);
    if (age >= e.ttl) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.touch(key, e);
    const age_ = (rrs: ResourceRecord[]) => rrs.map((r) => ({ ...r, ttl: Math.max(0, r.ttl - age) }) as ResourceRecord);
    return { rcode: e.rcode, answers: age_(e.answers), authority: age_(e.authority), additional: age_(e.additional) };
  }

  get size(): number {
    return this.entries.size;
  }
}
