// A bounded cache of verified bearer tokens, as kube-apiserver's cached token authenticator: the
// costly part of a token (its signature) is checked once, then remembered under a SHA-256 of the
// token (the token itself is never a key) for at most `ttlMs` and never past the token's own
// expiry. Callers still run every cheap liveness check (the ServiceAccount, pod, secret or node it
// is bound to) on each request, so a deleted ServiceAccount or pod stops a cached token at once;
// only the signature and claims are remembered.
import { createHash } from 'node:crypto';

export interface VerifiedTokenCacheOptions {
  /** Most entries kept; the oldest is dropped first. */
  maxEntries?: number;
  /** How long a verification is trusted, in ms (upstream's token cache: 10 s). */
  ttlMs?: number;
  /** The clock, in ms (tests). */
  now?: () => number;
}

interface Entry<T> {
  value: T;
  /** ms since the epoch after which the entry is not used. */
  expiresAt: number;
}

export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(opts: VerifiedTokenCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 4096;
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The verified value of `token`: from the cache while fresh, else `verify(token)`, remembered
   * until `expiresAtOf(value)` (ms) or the TTL, whichever is first. A failed verification is not kept.
   */
  lookup(token: string, verify: (token: string) => T | undefined, expiresAtOf: (value: T) => number): T | undefined {
    const key = createHash('sha256').update(token).digest('base64');
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit) {
      if (now < hit.expiresAt) return hit.value;
      this.entries.delete(key);
    }
    const value = verify(token);
    if (value === undefined) return undefined;
    const expiresAt = Math.min(now + this.ttlMs, expiresAtOf(value));
    if (expiresAt <= now) return value;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, expiresAt });
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
