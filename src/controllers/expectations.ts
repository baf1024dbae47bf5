// What a controller has written but its informer cache may not show yet. A controller that
// acted on a stale cache would create twice or undo its own change; it waits (requeues) until
// the cache shows every write it made for a key, or until the expectation times out.
import type { KubeObject } from '../api/types.js';

export type WriteOp = 'create' | 'update' | 'delete';

interface Expectation {
  objectKey: string;
  op: WriteOp;
  /** For updates: the resourceVersion the write replaced; the cache is current once it differs. */
  replacedVersion?: string;
  at: number;
}

export class Expectations {
  private readonly byOwner = new Map<string, Expectation[]>();
  constructor(private readonly timeoutMs = 15_000) {}

  expect(owner: string, objectKey: string, op: WriteOp, replacedVersion?: string): void {
    const list = this.byOwner.get(owner) ?? [];
    list.push({ objectKey, op, replacedVersion, at: Date.now() });
    this.byOwner.set(owner, list);
  }

  /** True when the cache (looked up by object key) reflects every write made for `owner`. */
  satisfied(owner: string, lookup: (objectKey: string) => KubeObject | undefined): boolean {
    const list = this.byOwner.get(owner);
    if (!list) return true;
    const now = Date.now();
    const left = list.filter((e) => now - e.at < this.timeoutMs && !seen(e, lookup(e.objectKey)));
    if (left.length === 0) this.byOwner.delete(owner);
    else this.byOwner.set(owner, left);
    return left.length === 0;
  }

  forget(owner: string): void {
    this.byOwner.delete(owner);
  }
}

function seen(e: Expectation, cached: KubeObject | undefined): boolean {
  switch (e.op) {
    case 'create':
      return cached !== undefined;
    case 'update':
      return cached === undefined || cached.metadata.resourceVersion !== e.replacedVersion;
    case 'delete':
      return cached === undefined || cached.metadata.deletionTimestamp !== undefined;
  }
}
