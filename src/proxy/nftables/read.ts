// Reads the proxy's table back from the kernel (`nft -j list table`), for the slow full resync and
// for `flatnet proxy rules`. Never used on the incremental path.
import { run } from '../exec.js';
import { NFT_TABLE } from './render.js';

export interface KernelElement {
  key: string;
  value?: string;
  comment?: string;
}

export interface KernelTable {
  sets: Map<string, { dynamic: boolean; elements: Map<string, KernelElement> }>;
  chains: Map<string, { rules: string[] }>;
}

type Json = any;

/** One nft JSON expression as nft's text syntax (the subset the proxy writes). */
export function jsonExprText(v: Json): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map(jsonExprText).join(', ');
  if (v.concat) return (v.concat as Json[]).map(jsonExprText).join(' . ');
  if (v.prefix) return `${v.prefix.addr}/${v.prefix.len}`;
  if (v.range) return `${jsonExprText(v.range[0])}-${jsonExprText(v.range[1])}`;
  if (v.elem) return jsonExprText(v.elem.val);
  if (v.goto) return `goto ${v.goto.target}`;
  if (v.jump) return `jump ${v.jump.target}`;
  for (const verdict of ['drop', 'accept', 'return', 'continue']) if (verdict in v) return verdict;
  if (v.set) return `{ ${jsonExprText(v.set)} }`;
  return JSON.stringify(v);
}

/** A rule's expressions as short text: enough for a person, not for re-applying. */
function ruleText(expr: Json[]): string {
  return expr
    .map((e) => {
      const [op, body] = Object.entries(e)[0] as [string, Json];
      if (op === 'match') return `${jsonExprText(body.left?.payload ? `${body.left.payload.protocol} ${body.left.payload.field}` : (body.left?.meta?.key ?? Object.keys(body.left ?? {})[0]))} ${body.op} ${jsonExprText(body.right)}`;
      if (op === 'dnat') return `dnat to ${jsonExprText(body.addr)}${body.port ? `:${jsonExprText(body.port)}` : ''}`;
      if (op === 'goto' || op === 'jump') return `${op} ${body.target}`;
      if (op === 'vmap') return `vmap ${jsonExprText(body.data)}`;
      return op;
    })
    .join(' ');
}

export function parseKernelTable(json: string): KernelTable {
  const out: KernelTable = { sets: new Map(), chains: new Map() };
  const doc = JSON.parse(json) as { nftables: Json[] };
  for (const item of doc.nftables) {
    const s = item.set ?? item.map;
    if (s) {
      const flags: string[] = Array.isArray(s.flags) ? s.flags : s.flags ? [s.flags] : [];
      const elements = new Map<string, KernelElement>();
      for (const e of (s.elem ?? []) as Json[]) {
        const [k, v] = item.map ? (e as Json[]) : [e, undefined];
        const key = jsonExprText(k);
        elements.set(key, { key, value: v === undefined ? undefined : jsonExprText(v), comment: k?.elem?.comment });
      }
      out.sets.set(s.name, { dynamic: flags.includes('dynamic') || flags.includes('timeout'), elements });
    } else if (item.chain) {
      out.chains.set(item.chain.name, { rules: [] });
    } else if (item.rule) {
      out.chains.get(item.rule.chain)?.rules.push(ruleText(item.rule.expr ?? []));
    }
  }
  return out;
}

/** The table as the kernel has it now; undefined when there is no such table. */
export async function readKernelTable(netns: string | undefined, table = NFT_TABLE): Promise<KernelTable | undefined> {
  try {
    const { stdout } = await run(netns, 'nft', ['-j', 'list', 'table', ...table.split(' ')]);
    return parseKernelTable(stdout);
  } catch (err) {
    if (/No such file or directory/.test((err as Error).message)) return undefined;
    throw err;
  }
}
