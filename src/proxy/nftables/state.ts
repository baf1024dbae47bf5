// The nftables desired state as the sum of per-Service fragments, and the difference between two
// fragments as the commands of one transaction. Shared objects (a chain or an element two Services
// both need) are reference counted, so a change costs O(what changed), never O(table).

export interface NftSet {
  name: string;
  /** Body of the declaration: `type ...; flags ...;` (a map when it contains ` : `). */
  spec: string;
}

export interface NftChain {
  name: string;
  /** Base chain declaration `type nat hook prerouting priority dstnat;`; undefined for regular chains. */
  hook?: string;
  rules: string[];
}

export interface NftElement {
  set: string;
  key: string;
  /** Map value (`goto pick-2`, `10.244.1.2 . 8080`); undefined for sets. */
  value?: string;
  /** Shown by `flatnet proxy rules`; not part of identity. */
  comment?: string;
}

/** What one Service (or the static base) contributes to the table. */
export interface NftFragment {
  sets: NftSet[];
  chains: NftChain[];
  elements: NftElement[];
}

export const emptyFragment: NftFragment = { sets: [], chains: [], elements: [] };

/** Commands for one sync, grouped so that they can be emitted in a safe order. */
export class NftOps {
  readonly deleteElements = new Map<string, string[]>();
  readonly addElements = new Map<string, NftElement[]>();
  readonly flushChains = new Set<string>();
  readonly deleteChains = new Set<string>();
  readonly addChains = new Map<string, string | undefined>();
  readonly chainRules = new Map<string, string[]>();
  readonly deleteSets = new Set<string>();
  readonly addSets = new Map<string, string>();

  get elementCount(): number {
    let n = 0;
    for (const v of this.deleteElements.values()) n += v.length;
    for (const v of this.addElements.values()) n += v.length;
    return n;
  }

  get empty(): boolean {
    return (
      this.elementCount === 0 &&
      this.flushChains.size === 0 &&
      this.deleteChains.size === 0 &&
      this.addChains.size === 0 &&
      this.chainRules.size === 0 &&
      this.deleteSets.size === 0 &&
      this.addSets.size === 0
    );
  }

  deleteElement(set: string, key: string): void {
    let l = this.deleteElements.get(set);
    if (!l) this.deleteElements.set(set, (l = []));
    l.push(key);
  }

  addElement(e: NftElement): void {
    let l = this.addElements.get(e.set);
    if (!l) this.addElements.set(e.set, (l = []));
    l.push(e);
  }
}

interface Counted<T> {
  item: T;
  refs: number;
}

/** The table flatnet wants, kept in memory; equal to the kernel's after each successful sync. */
export class NftTableState {
  readonly sets = new Map<string, Counted<NftSet>>();
  readonly chains = new Map<string, Counted<NftChain>>();
  readonly elements = new Map<string, Map<string, Counted<NftElement>>>();

  /** Records the change from `before` to `after` in the state and the commands that make it. */
  replace(before: NftFragment, after: NftFragment, ops: NftOps): void {
    // Unchanged elements cost nothing; the rest are released first, then taken.
    const id = (e: NftElement) => `${e.set}\u0000${e.key}\u0000${e.value ?? ''}`;
    const kept = new Set(before.elements.map(id));
    const wanted = new Set(after.elements.map(id));
    for (const e of before.elements) if (!wanted.has(id(e))) this.releaseElement(e, ops);
    for (const e of after.elements) if (!kept.has(id(e))) this.takeElement(e, ops);
    const oldChains = new Map(before.chains.map((c) => [c.name, c]));
    const newChains = new Map(after.chains.map((c) => [c.name, c]));
    for (const [name, c] of oldChains) {
      if (!newChains.has(name)) this.releaseChain(c, ops);
    }
    for (const [name, c] of newChains) {
      const old = oldChains.get(name);
      if (!old) this.takeChain(c, ops);
      else if (!sameChain(old, c)) this.rewriteChain(c, ops);
    }
    const oldSets = new Map(before.sets.map((s) => [s.name, s]));
    const newSets = new Map(after.sets.map((s) => [s.name, s]));
    for (const [name, s] of oldSets) if (!newSets.has(name)) this.releaseSet(s, ops);
    for (const [name, s] of newSets) if (!oldSets.has(name)) this.takeSet(s, ops);
  }

  private takeElement(e: NftElement, ops: NftOps): void {
    let m = this.elements.get(e.set);
    if (!m) this.elements.set(e.set, (m = new Map()));
    const cur = m.get(e.key);
    if (!cur) {
      m.set(e.key, { item: e, refs: 1 });
      ops.addElement(e);
      return;
    }
    cur.refs++;
    if (cur.item.value !== e.value) {
      // Two owners disagree (a misconfiguration such as two Services with one external IP):
      // the newest wins, as with kube-proxy.
      ops.deleteElement(e.set, e.key);
      ops.addElement(e);
      cur.item = e;
    }
  }

  private releaseElement(e: NftElement, ops: NftOps): void {
    const m = this.elements.get(e.set);
    const cur = m?.get(e.key);
    if (!m || !cur) return;
    if (--cur.refs > 0) return;
    m.delete(e.key);
    ops.deleteElement(e.set, e.key);
  }

  private takeChain(c: NftChain, ops: NftOps): void {
    const cur = this.chains.get(c.name);
    if (cur) {
      cur.refs++;
      if (!sameChain(cur.item, c)) this.rewriteChain(c, ops);
      return;
    }
    this.chains.set(c.name, { item: c, refs: 1 });
    // A chain released earlier in this same sync still exists: it is flushed and refilled.
    if (!ops.deleteChains.delete(c.name)) ops.addChains.set(c.name, c.hook);
    ops.chainRules.set(c.name, c.rules);
  }

  private rewriteChain(c: NftChain, ops: NftOps): void {
    const cur = this.chains.get(c.name);
    if (cur) cur.item = c;
    if (!ops.addChains.has(c.name)) ops.flushChains.add(c.name);
    ops.chainRules.set(c.name, c.rules);
  }

  private releaseChain(c: NftChain, ops: NftOps): void {
    const cur = this.chains.get(c.name);
    if (!cur || --cur.refs > 0) return;
    this.chains.delete(c.name);
    if (ops.addChains.has(c.name)) {
      ops.addChains.delete(c.name);
      ops.chainRules.delete(c.name);
      return;
    }
    ops.chainRules.delete(c.name);
    ops.flushChains.add(c.name);
    ops.deleteChains.add(c.name);
  }

  private takeSet(s: NftSet, ops: NftOps): void {
    const cur = this.sets.get(s.name);
    if (cur) {
      cur.refs++;
      return;
    }
    this.sets.set(s.name, { item: s, refs: 1 });
    if (ops.deleteSets.has(s.name)) ops.deleteSets.delete(s.name);
    else ops.addSets.set(s.name, s.spec);
  }

  private releaseSet(s: NftSet, ops: NftOps): void {
    const cur = this.sets.get(s.name);
    if (!cur || --cur.refs > 0) return;
    this.sets.delete(s.name);
    this.elements.delete(s.name);
    if (ops.addSets.has(s.name)) ops.addSets.delete(s.name);
    else ops.deleteSets.add(s.name);
  }

  /** Every element of one set (for reads and the resync diff). */
  elementsOf(set: string): Iterable<NftElement> {
    const m = this.elements.get(set);
    return m ? [...m.values()].map((c) => c.item) : [];
  }
}

function sameChain(a: NftChain, b: NftChain): boolean {
  return a.hook === b.hook && a.rules.length === b.rules.length && a.rules.every((r, i) => r === b.rules[i]);
}

function isMapSpec(spec: string): boolean {
  return spec.includes(' : ');
}

function elementText(e: NftElement): string {
  const comment = e.comment ? ` comment "${e.comment.replace(/"/g, "'").slice(0, 120)}"` : '';
  return e.value === undefined ? `${e.key}${comment}` : `${e.key}${comment} : ${e.value}`;
}

export interface TransactionLimits {
  /** Elements per `add element` command line. */
  elementsPerCommand: number;
  /** Elements per `nft -f` transaction; bigger ones are split (only at start-up sized syncs). */
  elementsPerTransaction: number;
}

export const defaultLimits: TransactionLimits = { elementsPerCommand: 1000, elementsPerTransaction: 20000 };

/**
 * The nft scripts for `ops` in the order the kernel needs: elements out, chains emptied and deleted,
 * sets deleted, sets and chains added, rules written, elements in. Usually one script; a sync larger
 * than `elementsPerTransaction` elements is split between element commands (order kept).
 * `setOrder` puts element additions of some sets first (endpoints before the maps pointing at them).
 */
export function renderTransactions(table: string, ops: NftOps, setOrder: string[] = [], limits: TransactionLimits = defaultLimits): string[] {
  const lines: { text: string; weight: number }[] = [{ text: `add table ${table}`, weight: 0 }];
  const t = table;
  for (const [set, keys] of ops.deleteElements) {
    for (let i = 0; i < keys.length; i += limits.elementsPerCommand) {
      const chunk = keys.slice(i, i + limits.elementsPerCommand);
      lines.push({ text: `delete element ${t} ${set} { ${chunk.join(', ')} }`, weight: chunk.length });
    }
  }
  for (const c of ops.flushChains) lines.push({ text: `flush chain ${t} ${c}`, weight: 0 });
  for (const c of ops.deleteChains) lines.push({ text: `delete chain ${t} ${c}`, weight: 0 });
  for (const s of ops.deleteSets) lines.push({ text: `delete set ${t} ${s}`, weight: 0 });
  for (const [s, spec] of ops.addSets) lines.push({ text: `add ${isMapSpec(spec) ? 'map' : 'set'} ${t} ${s} { ${spec} }`, weight: 0 });
  for (const [c, hook] of ops.addChains) lines.push({ text: hook ? `add chain ${t} ${c} { ${hook} }` : `add chain ${t} ${c}`, weight: 0 });
  for (const [c, rules] of ops.chainRules) for (const r of rules) lines.push({ text: `add rule ${t} ${c} ${r}`, weight: 0 });
  const rank = (s: string) => {
    const i = setOrder.indexOf(s);
    return i === -1 ? setOrder.length : i;
  };
  const addSets = [...ops.addElements.keys()].sort((a, b) => rank(a) - rank(b));
  for (const set of addSets) {
    const els = ops.addElements.get(set)!;
    for (let i = 0; i < els.length; i += limits.elementsPerCommand) {
      const chunk = els.slice(i, i + limits.elementsPerCommand);
      lines.push({ text: `add element ${t} ${set} { ${chunk.map(elementText).join(', ')} }`, weight: chunk.length });
    }
  }
  const scripts: string[] = [];
  let cur: string[] = [];
  let weight = 0;
  for (const l of lines) {
    if (weight > 0 && weight + l.weight > limits.elementsPerTransaction) {
      scripts.push(cur.join('\n') + '\n');
      cur = [];
      weight = 0;
    }
    cur.push(l.text);
    weight += l.weight;
  }
  if (cur.length > 1 || scripts.length === 0) scripts.push(cur.join('\n') + '\n');
  return scripts;
}
