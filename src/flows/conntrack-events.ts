// Parses the event lines of `conntrack -E -o timestamp,extended,id` (conntrack-tools 1.4), such as
//   [1796582891.904242]	    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=10.77.0.1 dst=10.77.0.2
//     sport=53830 dport=8080 [UNREPLIED] src=10.77.0.2 dst=10.77.0.1 sport=80 dport=53830 id=4210042568
// The first tuple is the original direction, the second the reply direction: a reply source that
// differs from the original destination is DNAT, a reply destination that differs from the
// original source is SNAT.

export type ConntrackEventType = 'NEW' | 'UPDATE' | 'DESTROY';

export interface Tuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
}

export interface ConntrackEvent {
  /** Milliseconds since the epoch (the kernel's event timestamp as conntrack prints it). */
  timeMs: number;
  type: ConntrackEventType;
  protocol: string;
  /** TCP state (SYN_SENT, ESTABLISHED, ...), undefined for protocols without one. */
  state?: string;
  original: Tuple;
  reply: Tuple;
  /** No packet has been seen in the reply direction yet. */
  unreplied: boolean;
  assured: boolean;
  /** The connection's id in the kernel (conntrack -o id). */
  id?: string;
}

export class ConntrackParseError extends Error {}

const TYPES: Record<string, ConntrackEventType> = { '[NEW]': 'NEW', '[UPDATE]': 'UPDATE', '[DESTROY]': 'DESTROY' };

/** One event line; undefined for lines that are not events (conntrack's closing summary). */
export function parseConntrackLine(line: string): ConntrackEvent | undefined {
  const words = line.split(/[\s]+/);
  let i = words[0] === '' ? 1 : 0;
  let timeMs = Date.now();
  const stamp = words[i];
  if (stamp !== undefined && stamp.startsWith('[') && stamp.length > 2 && stamp.charCodeAt(1) >= 48 && stamp.charCodeAt(1) <= 57) {
    const dot = stamp.indexOf('.');
    if (dot === -1) return undefined;
    timeMs = Number(stamp.slice(1, dot)) * 1000 + Number(stamp.slice(dot + 1, -1).padEnd(6, '0').slice(0, 6)) / 1000;
    i++;
  }
  const type = TYPES[words[i] ?? ''];
  if (type === undefined) return undefined;
  i++;
  // Extended output starts with the layer 3 protocol: "ipv4 2".
  if (words[i] === 'ipv4' || words[i] === 'ipv6') i += 2;
  const protocol = words[i];
  if (protocol === undefined || !/^\d+$/.test(words[i + 1] ?? '')) throw new ConntrackParseError(`conntrack event without a protocol: ${line}`);
  i += 2;
  if (/^\d+$/.test(words[i] ?? '')) i++; // the timeout
  let state: string | undefined;
  if (words[i] !== undefined && /^[A-Z_]+$/.test(words[i])) state = words[i++];
  const tuples: Tuple[] = [];
  let current: Tuple | undefined;
  let unreplied = false;
  let assured = false;
  let id: string | undefined;
  for (; i < words.length; i++) {
    const w = words[i];
    if (w === '') continue;
    if (w.charCodeAt(0) === 91 /* [ */) {
      if (w === '[UNREPLIED]') unreplied = true;
      else if (w === '[ASSURED]') assured = true;
      continue;
    }
    const eq = w.indexOf('=');
    if (eq === -1) continue;
    const key = w.slice(0, eq);
    const value = w.slice(eq + 1);
    if (key === 'src') {
      if (tuples.length === 2) continue;
      current = { src: value, dst: '' };
      tuples.push(current);
    } else if (key === 'id') {
      // After both tuples (and for ICMP inside them) "id=" is the connection id: the last one wins.
      if (tuples.length === 2 || protocol !== 'icmp') id = value;
    } else if (current && tuples.length <= 2) {
      if (key === 'dst' && current.dst === '') current.dst = value;
      else if (key === 'sport' && current.sport === undefined) current.sport = Number(value);
      else if (key === 'dport' && current.dport === undefined) current.dport = Number(value);
    }
  }
  if (tuples.length < 2) throw new ConntrackParseError(`conntrack event without its original and reply tuples: ${line}`);
  return { timeMs, type, protocol, state, original: tuples[0], reply: tuples[1], unreplied, assured, id };
}

/** Whether the connection was DNAT'ed: its replies come from somewhere else than it was sent to. */
export function isDnat(e: ConntrackEvent): boolean {
  return e.reply.src !== e.original.dst || (e.reply.sport !== undefined && e.reply.sport !== e.original.dport);
}
