// The thin layer that touches the kernel: keeps the set contents it applied last in memory and
// turns each new desired state into one `nft -f -` transaction of element additions and
// deletions. `resync` rebuilds the whole table in one transaction (atomic: no moment without
// policy), at start and on a slow timer; the hot path never lists the kernel.
import { NftTransaction } from '../linux/nft.js';
import { createLogger } from '../util/log.js';
import { emptySets, renderSetDiff, renderTable, SET_NAMES, type PolicySets, type TableOptions } from './render.js';

export interface ApplyResult {
  added: number;
  deleted: number;
  /** True when nothing changed and no transaction ran. */
  unchanged: boolean;
}

function copySets(s: PolicySets): PolicySets {
  const out = emptySets();
  for (const name of SET_NAMES) for (const e of s[name]) out[name].add(e);
  return out;
}

const log = createLogger('netpol');

export class PolicyTableExecutor {
  private applied: PolicySets | undefined;
  /** Diffs the kernel refused, each repaired by a full rebuild (should stay 0). */
  fallbacks = 0;

  constructor(
    private readonly table: TableOptions,
    /** The node's network namespace (undefined = the namespace of this process). */
    private readonly netns?: string,
  ) {}

  /** Replaces the whole table with `desired` atomically. */
  async resync(desired: PolicySets): Promise<void> {
    const tx = renderTable(new NftTransaction(), this.table, desired);
    await tx.apply(this.netns);
    this.applied = copySets(desired);
  }

  /** Applies the difference between the last applied state and `desired` in one transaction. */
  async apply(desired: PolicySets): Promise<ApplyResult> {
    if (!this.applied) {
      await this.resync(desired);
      let added = 0;
      for (const name of SET_NAMES) added += desired[name].size;
      return { added, deleted: 0, unchanged: false };
    }
    const tx = new NftTransaction();
    const { added, deleted } = renderSetDiff(tx, this.applied, desired);
    if (tx.empty) return { added, deleted, unchanged: true };
    try {
      await tx.apply(this.netns);
    } catch (err) {
      // The kernel refused part of the diff: our picture of it may be wrong; rebuild from scratch.
      this.fallbacks++;
      log.warn('nftables refused a policy diff; rebuilding the table', { netns: this.netns, err: (err as Error).message.slice(0, 2000) });
      this.applied = undefined;
      await this.resync(desired);
      return { added, deleted, unchanged: false };
    }
    this.applied = copySets(desired);
    return { added, deleted, unchanged: false };
  }

  /** Removes the table (policy enforcement off). */
  async remove(): Promise<void> {
    await new NftTransaction().deleteTableIfExists('inet', 'flatnet-policy').apply(this.netns);
    this.applied = undefined;
  }
}
