// The iptables backend: kube-proxy's layout written with `iptables-restore --noflush`. Per-Service
// chains are sent only when they changed; the shared dispatch chains (KUBE-SERVICES, KUBE-NODEPORTS,
// ...) are rewritten whole when any of their lines changed, as upstream does, so an update costs
// O(#Services) here: that is the point of comparison for the nftables backend.
import type { ProxyBackend, SyncStats } from '../backend.js';
import { run } from '../exec.js';
import type { ServicePortModel } from '../model.js';
import { describeIptables } from './describe.js';
import { IPT_BASE, type IptFragment, type IptRenderConfig, type IptTable, NODEPORTS_JUMP, renderIptService } from './render.js';

const OWNED_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-SEP-', 'KUBE-FW-'];
const TABLES: IptTable[] = ['mangle', 'nat', 'filter'];

function hookRule(table: IptTable, hook: string, chain: string): string {
  const newOnly = table === 'filter' ? '-m conntrack --ctstate NEW ' : '';
  return `-A ${hook} ${newOnly}-m comment --comment "flatnet service proxy" -j ${chain}`;
}

interface TableEdit {
  declare: Set<string>;
  rules: string[];
  remove: Set<string>;
  extra: string[];
}

export class IptablesBackend implements ProxyBackend {
  readonly mode = 'iptables' as const;
  private fragments = new Map<string, IptFragment>();
  private needResync = true;
  /** iptables-restore flavour: nft-based by default, legacy when FLATNET_IPTABLES=legacy. */
  private readonly restore = process.env.FLATNET_IPTABLES === 'legacy' ? 'iptables-legacy-restore' : 'iptables-nft-restore';
  private readonly save = process.env.FLATNET_IPTABLES === 'legacy' ? 'iptables-legacy-save' : 'iptables-nft-save';

  constructor(
    private readonly netns: string | undefined,
    private readonly cfg: IptRenderConfig,
  ) {}

  get resyncNeeded(): boolean {
    return this.needResync;
  }

  /** The whole content of one shared chain, from every Service's lines. */
  private sharedChain(table: IptTable, chain: string): string[] {
    const base = IPT_BASE.find((b) => b.table === table && b.chain === chain);
    const rules = [...(base?.rules ?? [])];
    for (const f of this.fragments.values()) for (const s of f.shared) if (s.table === table && s.chain === chain) rules.push(s.rule);
    if (table === 'nat' && chain === 'KUBE-SERVICES') rules.push(NODEPORTS_JUMP);
    return rules;
  }

  private emptyEdits(): Map<IptTable, TableEdit> {
    return new Map(TABLES.map((t) => [t, { declare: new Set(), rules: [], remove: new Set(), extra: [] }]));
  }

  async sync(changes: Map<string, ServicePortModel[]>): Promise<SyncStats> {
    if (this.needResync) throw new Error('iptables backend needs a full resync first');
    const edits = this.emptyEdits();
    const dirtyShared = new Set<string>();
    for (const [key, ports] of changes) {
      const before = this.fragments.get(key);
      const after = renderIptService(ports, this.cfg);
      for (const [name, c] of after.chains) {
        const old = before?.chains.get(name);
        if (old && old.rules.length === c.rules.length && old.rules.every((r, i) => r === c.rules[i])) continue;
        const e = edits.get(c.table)!;
        e.declare.add(name);
        for (const r of c.rules) e.rules.push(`-A ${name} ${r}`);
      }
      for (const [name, c] of before?.chains ?? []) {
        if (after.chains.has(name)) continue;
        const e = edits.get(c.table)!;
        e.declare.add(name);
        e.remove.add(name);
      }
      const oldShared = (before?.shared ?? []).map((s) => `${s.table} ${s.chain} ${s.rule}`).join('\n');
      const newShared = after.shared.map((s) => `${s.table} ${s.chain} ${s.rule}`).join('\n');
      if (oldShared !== newShared) for (const s of [...(before?.shared ?? []), ...after.shared]) dirtyShared.add(`${s.table} ${s.chain}`);
      if (after.chains.size || after.shared.length) this.fragments.set(key, after);
      else this.fragments.delete(key);
    }
    for (const id of dirtyShared) {
      const [table, chain] = id.split(' ') as [IptTable, string];
      const e = edits.get(table)!;
      e.declare.add(chain);
      for (const r of this.sharedChain(table, chain)) e.rules.push(`-A ${chain} ${r}`);
    }
    return this.apply(edits, changes.size);
  }

  async resync(all: Map<string, ServicePortModel[]>): Promise<SyncStats> {
    this.fragments = new Map();
    for (const [key, ports] of all) {
      const f = renderIptService(ports, this.cfg);
      if (f.chains.size || f.shared.length) this.fragments.set(key, f);
    }
    this.needResync = true;
    const saved = await this.saveTables();
    const edits = this.emptyEdits();
    for (const b of IPT_BASE) {
      const e = edits.get(b.table)!;
      e.declare.add(b.chain);
      for (const r of this.sharedChain(b.table, b.chain)) e.rules.push(`-A ${b.chain} ${r}`);
      for (const hook of b.hooks) {
        const rule = hookRule(b.table, hook, b.chain);
        if (!saved.get(b.table)?.includes(rule)) e.extra.push(rule.replace(/^-A (\S+)/, '-I $1 1'));
      }
    }
    const wanted = new Set<string>();
    for (const f of this.fragments.values()) {
      for (const [name, c] of f.chains) {
        wanted.add(name);
        const e = edits.get(c.table)!;
        e.declare.add(name);
        for (const r of c.rules) e.rules.push(`-A ${name} ${r}`);
      }
    }
    for (const t of TABLES) {
      for (const line of (saved.get(t) ?? '').split('\n')) {
        const m = /^:(\S+)/.exec(line);
        if (m && OWNED_PREFIXES.some((p) => m[1].startsWith(p)) && !wanted.has(m[1])) {
          edits.get(t)!.declare.add(m[1]);
          edits.get(t)!.remove.add(m[1]);
        }
      }
    }
    return this.apply(edits, all.size);
  }

  private async saveTables(): Promise<Map<IptTable, string>> {
    const out = new Map<IptTable, string>();
    for (const t of TABLES) out.set(t, (await run(this.netns, this.save, ['-t', t])).stdout);
    return out;
  }

  private async apply(edits: Map<IptTable, TableEdit>, services: number): Promise<SyncStats> {
    const lines: string[] = [];
    for (const [table, e] of edits) {
      if (e.declare.size === 0 && e.extra.length === 0) continue;
      lines.push(`*${table}`);
      for (const c of e.declare) lines.push(`:${c} - [0:0]`);
      for (const r of e.rules) lines.push(r);
      for (const r of e.extra) lines.push(r);
      for (const c of e.remove) lines.push(`-X ${c}`);
      lines.push('COMMIT');
    }
    if (lines.length === 0) {
      this.needResync = false;
      return { services, commands: 0, transactions: 0 };
    }
    try {
      await run(this.netns, this.restore, ['--noflush'], lines.join('\n') + '\n');
    } catch (err) {
      this.needResync = true;
      throw err;
    }
    this.needResync = false;
    return { services, commands: lines.length, transactions: 1 };
  }

  async describe(): Promise<string> {
    return describeIptables(await this.saveTables());
  }

  async cleanup(): Promise<void> {
    const saved = await this.saveTables();
    const lines: string[] = [];
    for (const [t, text] of saved) {
      const ours = new Set<string>();
      for (const line of text.split('\n')) {
        const m = /^:(KUBE-\S+)/.exec(line);
        if (m) ours.add(m[1]);
      }
      if (ours.size === 0) continue;
      lines.push(`*${t}`);
      for (const line of text.split('\n')) if (/^-A (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) .*-j KUBE-/.test(line)) lines.push(line.replace(/^-A/, '-D'));
      for (const c of ours) lines.push(`:${c} - [0:0]`);
      for (const c of ours) lines.push(`-X ${c}`);
      lines.push('COMMIT');
    }
    if (lines.length) await run(this.netns, this.restore, ['--noflush'], lines.join('\n') + '\n');
    this.fragments.clear();
    this.needResync = true;
  }
}
