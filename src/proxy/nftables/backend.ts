// The nftables backend: renders changed Services into fragments, turns the difference into one
// atomic nftables batch, and keeps what it applied in memory. Batches go to a long-lived `nft -i`
// session in the node's namespace (src/linux/nft-session.ts: no process start per sync), or, with
// `nftApply: 'process'`, to a new `nft -f -` process each. Only the full resync (start, slow timer,
// after a failed transaction) reads the table back from the kernel.
import type { NftBatchRunner } from '../../linux/nft.js';
import { NftSession } from '../../linux/nft-session.js';
import type { ProxyBackend, SyncStats } from '../backend.js';
import { run } from '../exec.js';
import type { ServicePortModel } from '../model.js';
import { describeNftTable } from './describe.js';
import { readKernelTable } from './read.js';
import { ELEMENT_ORDER, NFT_TABLE, type NftRenderConfig, renderBase, renderService } from './render.js';
import { createLogger } from '../../util/log.js';
import { emptyFragment, type NftFragment, NftOps, NftTableState, renderTransactions } from './state.js';

const log = createLogger('proxy');

/** How batches reach nft: one long-lived session per namespace, or a new process per batch. */
export type NftApply = 'session' | 'process';

/** A new `nft -f -` process per batch (nsenter into the namespace): the path before the session. */
function processPerBatch(netns: string | undefined): NftBatchRunner {
  return {
    apply: async (statements) => {
      await run(netns, 'nft', ['-f', '-'], statements.join('\n') + '\n');
    },
    close: async () => undefined,
  };
}

export class NftablesBackend implements ProxyBackend {
  readonly mode = 'nftables' as const;
  private state = new NftTableState();
  private fragments = new Map<string, NftFragment>();
  private needResync = true;
  private readonly nft: NftBatchRunner;

  constructor(
    private readonly netns: string | undefined,
    private readonly cfg: NftRenderConfig,
    apply: NftApply = 'session',
  ) {
    this.nft = apply === 'session' ? new NftSession({ netns }) : processPerBatch(netns);
  }

  async sync(changes: Map<string, ServicePortModel[]>): Promise<SyncStats> {
    if (this.needResync) throw new Error('nftables backend needs a full resync first');
    const ops = new NftOps();
    for (const [key, ports] of changes) {
      const before = this.fragments.get(key) ?? emptyFragment;
      const after = renderService(ports, this.cfg);
      this.state.replace(before, after, ops);
      if (after.elements.length || after.chains.length || after.sets.length) this.fragments.set(key, after);
      else this.fragments.delete(key);
    }
    return this.apply(ops, changes.size);
  }

  async resync(all: Map<string, ServicePortModel[]>): Promise<SyncStats> {
    const state = new NftTableState();
    const fragments = new Map<string, NftFragment>();
    const scratch = new NftOps();
    state.replace(emptyFragment, renderBase(this.cfg), scratch);
    for (const [key, ports] of all) {
      const f = renderService(ports, this.cfg);
      state.replace(emptyFragment, f, scratch);
      if (f.elements.length || f.chains.length || f.sets.length) fragments.set(key, f);
    }
    this.state = state;
    this.fragments = fragments;
    this.needResync = true;
    try {
      return await this.apply(await this.opsAgainstKernel(), all.size);
    } catch (err) {
      // The table is in a shape the difference cannot repair: build it again from nothing.
      log.warn('resync failed; recreating the table', { err: (err as Error).message });
      await this.nft.apply([`add table ${NFT_TABLE}`, `delete table ${NFT_TABLE}`]);
      return this.apply(await this.opsAgainstKernel(), all.size);
    }
  }

  /** The commands turning what the kernel holds into the state in memory. */
  private async opsAgainstKernel(): Promise<NftOps> {
    const kernel = await readKernelTable(this.netns);
    const ops = new NftOps();
    for (const [name, c] of this.state.chains) {
      const have = kernel?.chains.get(name);
      // pick-N chains are never rewritten (see MAX_SHARED_PICK); their content is fixed by name.
      if (have && name.startsWith('pick-') && have.rules.length === c.item.rules.length) continue;
      if (have) ops.flushChains.add(name);
      else ops.addChains.set(name, c.item.hook);
      ops.chainRules.set(name, c.item.rules);
    }
    for (const name of kernel?.chains.keys() ?? []) {
      if (!this.state.chains.has(name)) {
        ops.flushChains.add(name);
        ops.deleteChains.add(name);
      }
    }
    for (const [name, s] of this.state.sets) if (!kernel?.sets.has(name)) ops.addSets.set(name, s.item.spec);
    for (const [name, ks] of kernel?.sets ?? []) {
      if (!this.state.sets.has(name)) {
        ops.deleteSets.add(name);
        continue;
      }
      if (ks.dynamic) continue;
      const want = this.state.elements.get(name);
      for (const [key, e] of ks.elements) {
        const w = want?.get(key);
        if (!w || w.item.value !== e.value) ops.deleteElement(name, key);
      }
    }
    for (const [name, m] of this.state.elements) {
      const have = kernel?.sets.get(name);
      if (have?.dynamic) continue;
      for (const [key, c] of m) {
        const k = have?.elements.get(key);
        if (!k || k.value !== c.item.value) ops.addElement(c.item);
      }
    }
    return ops;
  }

  private async apply(ops: NftOps, services: number): Promise<SyncStats> {
    if (ops.empty) {
      this.needResync = false;
      return { services, commands: 0, transactions: 0 };
    }
    const scripts = renderTransactions(NFT_TABLE, ops, ELEMENT_ORDER);
    try {
      for (const script of scripts) await this.nft.apply(script.split('\n').filter((l) => l !== ''));
    } catch (err) {
      this.needResync = true;
      throw err;
    }
    this.needResync = false;
    return { services, commands: scripts.reduce((n, s) => n + s.split('\n').length - 1, 0), transactions: scripts.length };
  }

  get resyncNeeded(): boolean {
    return this.needResync;
  }

  async describe(): Promise<string> {
    const table = await readKernelTable(this.netns);
    return table ? describeNftTable(table) : `no table "${NFT_TABLE}" in this namespace: the proxy has not programmed it\n`;
  }

  async cleanup(): Promise<void> {
    await this.nft.apply([`add table ${NFT_TABLE}`, `delete table ${NFT_TABLE}`]);
    this.state = new NftTableState();
    this.fragments.clear();
    this.needResync = true;
  }

  /** Stops the nft session (the table stays as it is). */
  close(): Promise<void> {
    return this.nft.close();
  }
}
