// nftables changes as one atomic transaction per change, inside a named namespace: through a
// new `nft -f -` process each (NftTransaction.apply, NftProcessPerBatch) or a long-lived session
// (nft-session.ts); both are NftBatchRunners.
import { runCommand } from './exec.js';

export type NftFamily = 'ip' | 'ip6' | 'inet' | 'bridge' | 'arp' | 'netdev';

/**
 * A transaction: statements in nft's file syntax, applied all-or-nothing. Builders cover the
 * common statements; `add(line)` takes anything else.
 */
export class NftTransaction {
  readonly lines: string[] = [];

  get empty(): boolean {
    return this.lines.length === 0;
  }

  add(line: string): this {
    this.lines.push(line);
    return this;
  }

  addTable(family: NftFamily, table: string): this {
    return this.add(`add table ${family} ${table}`);
  }

  /** Removes a table if it exists (add-then-delete keeps this valid when it does not). */
  deleteTableIfExists(family: NftFamily, table: string): this {
    this.add(`add table ${family} ${table}`);
    return this.add(`delete table ${family} ${table}`);
  }

  flushTable(family: NftFamily, table: string): this {
    return this.add(`flush table ${family} ${table}`);
  }

  /** A chain; with `hook` it is a base chain: `{type, hook, priority}`. */
  addChain(family: NftFamily, table: string, chain: string, base?: { type: 'filter' | 'nat' | 'route'; hook: string; priority: string | number; policy?: 'accept' | 'drop' }): this {
    if (!base) return this.add(`add chain ${family} ${table} ${chain}`);
    const policy = base.policy ? ` policy ${base.policy};` : '';
    return this.add(`add chain ${family} ${table} ${chain} { type ${base.type} hook ${base.hook} priority ${base.priority};${policy} }`);
  }

  flushChain(family: NftFamily, table: string, chain: string): this {
    return this.add(`flush chain ${family} ${table} ${chain}`);
  }

  addRule(family: NftFamily, table: string, chain: string, rule: string): this {
    return this.add(`add rule ${family} ${table} ${chain} ${rule}`);
  }

  /** A named set or map: `spec` is its body, e.g. `type ipv4_addr; flags interval;`. */
  addSet(family: NftFamily, table: string, name: string, spec: string, kind: 'set' | 'map' = 'set'): this {
    return this.add(`add ${kind} ${family} ${table} ${name} { ${spec} }`);
  }

  addElements(family: NftFamily, table: string, set: string, elements: string[]): this {
    if (elements.length === 0) return this;
    return this.add(`add element ${family} ${table} ${set} { ${elements.join(', ')} }`);
  }

  /** Like addElements, but an element that already exists is an error (a conflict). */
  createElements(family: NftFamily, table: string, set: string, elements: string[]): this {
    if (elements.length === 0) return this;
    return this.add(`create element ${family} ${table} ${set} { ${elements.join(', ')} }`);
  }

  deleteElements(family: NftFamily, table: string, set: string, elements: string[]): this {
    if (elements.length === 0) return this;
    return this.add(`delete element ${family} ${table} ${set} { ${elements.join(', ')} }`);
  }

  toString(): string {
    return this.lines.join('\n') + '\n';
  }

  /** Applies the whole transaction atomically in `netns` (undefined = this namespace). */
  async apply(netns?: string): Promise<void> {
    if (this.empty) return;
    await runCommand(['nft', '-f', '-'], { netns, input: this.toString() });
  }
}

/** Something that applies a list of nft statements as one atomic batch. */
export interface NftBatchRunner {
  /** Applies `statements` all-or-nothing; rejects when nft refuses them. */
  apply(statements: readonly string[]): Promise<void>;
  /** Releases what the runner holds (processes, files). */
  close(): Promise<void>;
}

/** One `nft -f -` process per batch (started through `ip netns exec` in a named namespace). */
export class NftProcessPerBatch implements NftBatchRunner {
  constructor(private readonly netns?: string) {}

  async apply(statements: readonly string[]): Promise<void> {
    if (statements.length === 0) return;
    await runCommand(['nft', '-f', '-'], { netns: this.netns, input: statements.join('\n') + '\n' });
  }

  async close(): Promise<void> {}
}

/** The ruleset of a namespace as nft prints it (for tests and diagnostics). */
export async function listRuleset(netns?: string): Promise<string> {
  const { stdout } = await runCommand(['nft', 'list', 'ruleset'], { netns });
  return stdout;
}

/** Tables of a namespace as `family name` strings. */
export async function listTables(netns?: string): Promise<string[]> {
  const { stdout } = await runCommand(['nft', 'list', 'tables'], { netns });
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('table '))
    .map((l) => l.slice('table '.length));
}
