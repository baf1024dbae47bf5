// The thin layer that touches the kernel: keeps the state it applied last in memory and turns
// each new desired state into one atomic nftables transaction (see render.ts for what changes
// look like), sent to a long-lived `nft -i` session in the node's namespace (no process start
// per change). `resync` rebuilds the whole table in one transaction (atomic: no moment without
// policy), at start and on a slow timer; the hot path never lists the kernel.
import { NftTransaction, type NftBatchRunner } from '../linux/nft.js';
import { NftSession } from '../linux/nft-session.js';
import { createLogger } from '../util/log.js';
import { renderDiff, renderTable, POLICY_TABLE, type PolicyState, type TableOptions } from './render.js';

const log = createLogger('netpol');

export interface ApplyResult {
  /** Classes added or dropped, map entries and admitted addresses changed. */
  changes: number;
  /** True when nothing changed and no transaction ran. */
  unchanged: boolean;
}

export class PolicyTableExecutor {
  private applied: PolicyState | undefined;
  /** Diffs the kernel refused, each repaired by a full rebuild (should stay 0). */
  fallbacks = 0;

  private readonly nft: NftBatchRunner;

  constructor(
    private readonly table: TableOptions,
    /** The node's network namespace (undefined = the namespace of this process). */
    private readonly netns?: string,
    /** How transactions reach nft (default: an NftSession in `netns`, closed by close()). */
    runner?: NftBatchRunner,
  ) {
    this.nft = runner ?? new NftSession({ netns });
  }

  /** Replaces the whole table with `desired` atomically. */
  async resync(desired: PolicyState): Promise<void> {
    this.applied = undefined;
    await this.nft.apply(renderTable(new NftTransaction(), this.table, desired).lines);
    this.applied = desired;
  }

  /** Applies the difference between the last applied state and `desired` in one transaction. */
  async apply(desired: PolicyState): Promise<ApplyResult> {
    if (!this.applied) {
      await this.resync(desired);
      return { changes: desired.classes.size + desired.ingressPods.size + desired.egressPods.size + desired.admitted.size, unchanged: false };
    }
    const tx = new NftTransaction();
    const { changes } = renderDiff(tx, this.applied, desired);
    if (tx.empty) return { changes, unchanged: true };
    try {
      await this.nft.apply(tx.lines);
    } catch (err) {
      // The kernel refused the diff: our picture of it may be wrong; rebuild from scratch.
      this.fallbacks++;
      log.warn('nftables refused a policy diff; rebuilding the table', { netns: this.netns, err: (err as Error).message.slice(0, 2000) });
      await this.resync(desired);
      return { changes, unchanged: false };
    }
    // States are never mutated after rendering, so keeping the reference is safe.
    this.applied = desired;
    return { changes, unchanged: false };
  }

  /** Removes the table (policy enforcement off). */
  async remove(): Promise<void> {
    await this.nft.apply(new NftTransaction().deleteTableIfExists('inet', POLICY_TABLE).lines);
    this.applied = undefined;
  }

  /** Stops the nft session (the table stays as it is). */
  close(): Promise<void> {
    return this.nft.close();
  }
}
