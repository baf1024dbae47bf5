// Parses ctnetlink event messages (the binary netlink stream of the conntrack multicast groups)
// into ConntrackEvent. Each message: nlmsghdr (len u32, type u16, flags u16, seq, pid; host byte
// order), nfgenmsg (family u8, version u8, res_id u16), then attributes (len u16, type u16, value
// padded to 4 bytes; nested attributes carry NLA_F_NESTED). Attribute values are big-endian.
// A message of type NLMSG_OVERRUN is the reader's loss report: a u32 count of events the kernel
// dropped because the socket was full (its sk_drops delta).
import type { ConntrackEvent, ConntrackEventType, Tuple } from './conntrack-events.js';

export const NLMSG_OVERRUN = 4;
const NFNL_SUBSYS_CTNETLINK = 1;
const IPCTNL_MSG_CT_NEW = 0;
const IPCTNL_MSG_CT_DELETE = 2;
const NLM_F_CREATE = 0x400;
const NLM_F_EXCL = 0x200;

const CTA_TUPLE_ORIG = 1;
const CTA_TUPLE_REPLY = 2;
const CTA_STATUS = 3;
const CTA_PROTOINFO = 4;
const CTA_ID = 12;
const CTA_TUPLE_IP = 1;
const CTA_TUPLE_PROTO = 2;
const CTA_IP_V4_SRC = 1;
const CTA_IP_V4_DST = 2;
const CTA_IP_V6_SRC = 3;
const CTA_IP_V6_DST = 4;
const CTA_PROTO_NUM = 1;
const CTA_PROTO_SRC_PORT = 2;
const CTA_PROTO_DST_PORT = 3;
const CTA_PROTOINFO_TCP = 1;
const CTA_PROTOINFO_TCP_STATE = 1;
const IPS_SEEN_REPLY = 1 << 1;
const IPS_ASSURED = 1 << 2;

const PROTOCOLS: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };
/** enum tcp_conntrack, in order. */
const TCP_STATES = ['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'SYN_SENT2'];

export class CtnetlinkFormatError extends Error {}

const align4 = (n: number) => (n + 3) & ~3;

function ipv6Text(b: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(at + i).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Calls fn(type, start, length) for each attribute in b[from, to). */
function eachAttr(b: Buffer, from: number, to: number, fn: (type: number, at: number, len: number) => void): void {
  let at = from;
  while (at + 4 <= to) {
    const len = b.readUInt16LE(at);
    if (len < 4 || at + len > to) throw new CtnetlinkFormatError(`attribute length ${len} at ${at} overruns its message`);
    fn(b.readUInt16LE(at + 2) & 0x3fff, at + 4, len - 4);
    at += align4(len);
  }
}

function tupleAt(b: Buffer, from: number, to: number): { tuple: Tuple; protocol: number } {
  const tuple: Tuple = { src: '', dst: '' };
  let protocol = -1;
  eachAttr(b, from, to, (type, at, len) => {
    if (type === CTA_TUPLE_IP) {
      eachAttr(b, at, at + len, (t, a) => {
        if (t === CTA_IP_V4_SRC) tuple.src = `${b[a]}.${b[a + 1]}.${b[a + 2]}.${b[a + 3]}`;
        else if (t === CTA_IP_V4_DST) tuple.dst = `${b[a]}.${b[a + 1]}.${b[a + 2]}.${b[a + 3]}`;
        else if (t === CTA_IP_V6_SRC) tuple.src = ipv6Text(b, a);
        else if (t === CTA_IP_V6_DST) tuple.dst = ipv6Text(b, a);
      });
    } else if (type === CTA_TUPLE_PROTO) {
      eachAttr(b, at, at + len, (t, a) => {
        if (t === CTA_PROTO_NUM) protocol = b[a];
        else if (t === CTA_PROTO_SRC_PORT) tuple.sport = b.readUInt16BE(a);
        else if (t === CTA_PROTO_DST_PORT) tuple.dport = b.readUInt16BE(a);
      });
    }
  });
  return { tuple, protocol };
}

export type CtnetlinkItem = { kind: 'event'; event: ConntrackEvent } | { kind: 'overrun'; lost: number };

/** One conntrack event message (b[at, at + len) including its nlmsghdr); undefined for other messages. */
export function parseCtnetlinkMessage(b: Buffer, at: number, len: number, timeMs: number): CtnetlinkItem | undefined {
  const msgType = b.readUInt16LE(at + 4);
  if (msgType === NLMSG_OVERRUN) return { kind: 'overrun', lost: len >= 20 ? b.readUInt32LE(at + 16) : 1 };
  if (msgType >> 8 !== NFNL_SUBSYS_CTNETLINK) return undefined;
  const op = msgType & 0xff;
  const flags = b.readUInt16LE(at + 6);
  let type: ConntrackEventType;
  if (op === IPCTNL_MSG_CT_DELETE) type = 'DESTROY';
  else if (op === IPCTNL_MSG_CT_NEW) type = (flags & (NLM_F_CREATE | NLM_F_EXCL)) !== 0 ? 'NEW' : 'UPDATE';
  else return undefined;
  let original: Tuple | undefined;
  let reply: Tuple | undefined;
  let protocol = -1;
  let status = 0;
  let state: string | undefined;
  let id: string | undefined;
  eachAttr(b, at + 20, at + len, (t, a, l) => {
    if (t === CTA_TUPLE_ORIG) ({ tuple: original, protocol } = tupleAt(b, a, a + l));
    else if (t === CTA_TUPLE_REPLY) reply = tupleAt(b, a, a + l).tuple;
    else if (t === CTA_STATUS) status = b.readUInt32BE(a);
    else if (t === CTA_ID) id = String(b.readUInt32BE(a));
    else if (t === CTA_PROTOINFO) {
      eachAttr(b, a, a + l, (pt, pa, pl) => {
        if (pt === CTA_PROTOINFO_TCP) eachAttr(b, pa, pa + pl, (st, sa) => {
          if (st === CTA_PROTOINFO_TCP_STATE) state = TCP_STATES[b[sa]] ?? String(b[sa]);
        });
      });
    }
  });
  if (!original || !reply) throw new CtnetlinkFormatError(`conntrack ${type} message without its original and reply tuples`);
  return {
    kind: 'event',
    event: {
      timeMs,
      type,
      protocol: PROTOCOLS[protocol] ?? String(protocol),
      state,
      original,
      reply,
      unreplied: (status & IPS_SEEN_REPLY) === 0,
      assured: (status & IPS_ASSURED) !== 0,
      id,
    },
  };
}

/** Splits the byte stream the reader writes into netlink messages (which may arrive cut anywhere). */
export class CtnetlinkStream {
  private rest: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, timeMs = Date.now()): CtnetlinkItem[] {
    const b = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const out: CtnetlinkItem[] = [];
    let at = 0;
    while (at + 16 <= b.length) {
      const len = b.readUInt32LE(at);
      if (len < 16) throw new CtnetlinkFormatError(`netlink message length ${len} is shorter than its header`);
      if (at + len > b.length) break;
      const item = parseCtnetlinkMessage(b, at, len, timeMs);
      if (item) out.push(item);
      at += align4(len);
    }
    this.rest = at >= b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(at));
    return out;
  }
}
