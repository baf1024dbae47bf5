// The output of `nft -a monitor` (nftables 1.0.x) as data: trace events (one packet's walk
// through a base chain and the chains it jumps to) and the ruleset events `flatnet trace` uses
// as markers (its own table added and deleted). Pure: text in, events out.
//
// Trace lines look like:
//   trace id 0f6787bb inet flatnet-policy input packet: iif "eth0" ... ip saddr 10.99.0.1 ip daddr 10.99.0.2 ... tcp sport 45678 tcp dport 82 ...
//   trace id 0f6787bb inet flatnet-policy input rule tcp dport 82 counter packets 0 bytes 0 drop comment "..." # handle 3 (verdict drop)
//   trace id 0f6787bb ip flatnet-proxy nat-prerouting policy accept
//   trace id 68ca7e11 inet flatnet-trace pre unknown rule handle 3 (verdict continue)

export interface PacketFields {
  iif?: string;
  oif?: string;
  saddr?: string;
  daddr?: string;
  protocol?: string;
  /** DSCP as nft prints it: a name (cs0, ef...) or hex (0x2d). */
  dscp?: string;
  sport?: number;
  dport?: number;
  /** TCP flags as nft prints them: `syn`, `ack`, `0x12`... */
  tcpFlags?: string;
}

export type TraceEvent =
  | { kind: 'packet'; id: string; family: string; table: string; chain: string; packet: PacketFields; text: string }
  | { kind: 'rule'; id: string; family: string; table: string; chain: string; rule: string; handle?: number; verdict: string; target?: string }
  | { kind: 'policy'; id: string; family: string; table: string; chain: string; verdict: string }
  | { kind: 'verdict'; id: string; family: string; table: string; chain: string; verdict: string; target?: string };

export type MonitorLine = TraceEvent | { kind: 'table-added' | 'table-deleted'; family: string; table: string } | { kind: 'other'; text: string };

const TRACE = /^trace id ([0-9a-f]+) (\S+) (\S+) (\S+) (.*)$/;

/** `(verdict goto pick-1)` -> verdict goto, target pick-1. */
function splitVerdict(text: string): { verdict: string; target?: string } {
  const [verdict, target] = text.trim().split(/\s+/, 2);
  return target ? { verdict, target } : { verdict };
}

export function parsePacketFields(text: string): PacketFields {
  const out: PacketFields = {};
  const word = (re: RegExp) => re.exec(text)?.[1];
  out.iif = word(/\biif "([^"]*)"/);
  out.oif = word(/\boif "([^"]*)"/);
  out.saddr = word(/\bip saddr (\S+)/);
  out.daddr = word(/\bip daddr (\S+)/);
  out.dscp = word(/\bip dscp (\S+)/);
  const l4 = /\b(tcp|udp|sctp) sport (\d+) \1 dport (\d+)/.exec(text);
  out.protocol = word(/\bip protocol (\S+)/) ?? l4?.[1] ?? (/\bicmp type\b/.test(text) ? 'icmp' : undefined);
  if (l4) {
    out.sport = Number(l4[2]);
    out.dport = Number(l4[3]);
  }
  out.tcpFlags = word(/\btcp flags == (\S+)/);
  for (const k of Object.keys(out) as (keyof PacketFields)[]) if (out[k] === undefined) delete out[k];
  return out;
}

/** One line of `nft -a monitor`. */
export function parseMonitorLine(line: string): MonitorLine {
  const text = line.trimEnd();
  const m = TRACE.exec(text);
  if (!m) {
    const t = /^(add|delete) table (\S+) (\S+)/.exec(text);
    if (t) return { kind: t[1] === 'add' ? 'table-added' : 'table-deleted', family: t[2], table: t[3] };
    return { kind: 'other', text };
  }
  const [, id, family, table, chain, rest] = m;
  const base = { id, family, table, chain };
  if (rest.startsWith('packet: ')) return { kind: 'packet', ...base, packet: parsePacketFields(rest.slice(8)), text: rest.slice(8).trim() };
  if (rest.startsWith('policy ')) return { kind: 'policy', ...base, verdict: rest.slice(7).trim() };
  if (rest.startsWith('verdict ')) return { kind: 'verdict', ...base, ...splitVerdict(rest.slice(8)) };
  const rule = /^(?:unknown )?rule (.*?)\s*\(verdict ([^)]*)\)\s*$/.exec(rest);
  if (rule) {
    let body = rule[1];
    let handle: number | undefined;
    const h = /^(.*?)\s*#\s*handle (\d+)$/.exec(body) ?? /^()handle (\d+)$/.exec(body);
    if (h) {
      body = h[1];
      handle = Number(h[2]);
    }
    return { kind: 'rule', ...base, rule: body, handle, ...splitVerdict(rule[2]) };
  }
  return { kind: 'other', text };
}

export function parseMonitorOutput(text: string): MonitorLine[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(parseMonitorLine);
}

export function traceEvents(lines: MonitorLine[]): TraceEvent[] {
  return lines.filter((l): l is TraceEvent => l.kind === 'packet' || l.kind === 'rule' || l.kind === 'policy' || l.kind === 'verdict');
}

/** One packet's walk: a trace id with its events in order and the packet as first seen. */
export interface PacketWalk {
  id: string;
  /** The packet as each hook saw it (the kernel prints it again at each hook: after DNAT it shows the new address). */
  packets: { table: string; chain: string; packet: PacketFields }[];
  events: TraceEvent[];
}

export function groupByPacket(events: TraceEvent[]): PacketWalk[] {
  const walks = new Map<string, PacketWalk>();
  for (const e of events) {
    let w = walks.get(e.id);
    if (!w) walks.set(e.id, (w = { id: e.id, packets: [], events: [] }));
    w.events.push(e);
    if (e.kind === 'packet') w.packets.push({ table: e.table, chain: e.chain, packet: e.packet });
  }
  return [...walks.values()];
}

/** Whether a walk ended in a drop: a rule with verdict drop, or a base chain's policy drop. */
export function dropOf(walk: PacketWalk): TraceEvent | undefined {
  return walk.events.find((e) => (e.kind === 'rule' || e.kind === 'policy' || e.kind === 'verdict') && e.verdict === 'drop');
}
