// Reads the pcap stream `tcpdump -i nflog:<group> -U -w -` writes: a global header, then records of
// link type DLT_NFLOG (239). Each record is an nfgenmsg header (family, version, resource id)
// followed by TLVs (length and type in host byte order, values padded to 4 bytes); flatnet uses
// the log prefix (NFULA_PREFIX) and the packet (NFULA_PAYLOAD, an IPv4 or IPv6 datagram).

export const LINKTYPE_NFLOG = 239;
const NFULA_PAYLOAD = 9;
const NFULA_PREFIX = 10;

export interface PacketSummary {
  family: 'ipv4' | 'ipv6';
  protocol: string;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** ICMP type, for ICMP packets. */
  icmpType?: number;
}

export interface NflogRecord {
  timeMs: number;
  /** The NFLOG group (resource id). */
  group: number;
  prefix: string;
  packet?: PacketSummary;
}

export class PcapFormatError extends Error {}

const PROTOCOL_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };

function ipv6Text(b: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(at + i).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** The addresses, protocol and ports of an IP datagram (as much as its bytes hold). */
export function summarizePacket(p: Buffer): PacketSummary | undefined {
  if (p.length < 1) return undefined;
  const version = p[0] >> 4;
  let proto: number;
  let l4: number;
  let summary: PacketSummary;
  if (version === 4 && p.length >= 20) {
    proto = p[9];
    l4 = (p[0] & 0x0f) * 4;
    summary = { family: 'ipv4', protocol: PROTOCOL_NAMES[proto] ?? String(proto), src: `${p[12]}.${p[13]}.${p[14]}.${p[15]}`, dst: `${p[16]}.${p[17]}.${p[18]}.${p[19]}` };
  } else if (version === 6 && p.length >= 40) {
    proto = p[6];
    l4 = 40;
    summary = { family: 'ipv6', protocol: PROTOCOL_NAMES[proto] ?? String(proto), src: ipv6Text(p, 8), dst: ipv6Text(p, 24) };
  } else return undefined;
  if ((proto === 6 || proto === 17 || proto === 132) && p.length >= l4 + 4) {
    summary.sport = p.readUInt16BE(l4);
    summary.dport = p.readUInt16BE(l4 + 2);
  } else if ((proto === 1 || proto === 58) && p.length > l4) summary.icmpType = p[l4];
  return summary;
}

/** One DLT_NFLOG record's content. */
export function parseNflogRecord(data: Buffer, timeMs: number, littleEndian: boolean): NflogRecord {
  if (data.length < 4) throw new PcapFormatError(`an NFLOG record of ${data.length} bytes is shorter than its 4-byte header`);
  const group = data.readUInt16BE(2);
  let prefix = '';
  let packet: PacketSummary | undefined;
  let at = 4;
  while (at + 4 <= data.length) {
    const len = littleEndian ? data.readUInt16LE(at) : data.readUInt16BE(at);
    const type = (littleEndian ? data.readUInt16LE(at + 2) : data.readUInt16BE(at + 2)) & 0x7fff;
    if (len < 4 || at + len > data.length) break;
    const value = data.subarray(at + 4, at + len);
    if (type === NFULA_PREFIX) {
      const nul = value.indexOf(0);
      prefix = value.subarray(0, nul === -1 ? value.length : nul).toString('utf8');
    } else if (type === NFULA_PAYLOAD) packet = summarizePacket(value);
    at += (len + 3) & ~3;
  }
  return { timeMs, group, prefix, packet };
}

/** A push parser for a pcap byte stream of NFLOG records. */
export class NflogPcapReader {
  private buffered: Buffer = Buffer.alloc(0);
  private header: { littleEndian: boolean; nanos: boolean } | undefined;

  /** Feeds bytes; returns the records they complete. */
  push(chunk: Buffer): NflogRecord[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const out: NflogRecord[] = [];
    let at = 0;
    const b = this.buffered;
    if (!this.header) {
      if (b.length < 24) return out;
      const magic = b.readUInt32LE(0);
      const littleEndian = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
      const bigEndian = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
      if (!littleEndian && !bigEndian) throw new PcapFormatError(`not a pcap stream (magic 0x${magic.toString(16)})`);
      const m = littleEndian ? magic : b.readUInt32BE(0);
      this.header = { littleEndian, nanos: m === 0xa1b23c4d };
      const linktype = littleEndian ? b.readUInt32LE(20) : b.readUInt32BE(20);
      if ((linktype & 0x0fffffff) !== LINKTYPE_NFLOG) throw new PcapFormatError(`pcap link type ${linktype} is not NFLOG (${LINKTYPE_NFLOG})`);
      at = 24;
    }
    const { littleEndian, nanos } = this.header;
    const u32 = (o: number) => (littleEndian ? b.readUInt32LE(o) : b.readUInt32BE(o));
    while (at + 16 <= b.length) {
      const incl = u32(at + 8);
      if (at + 16 + incl > b.length) break;
      const timeMs = u32(at) * 1000 + u32(at + 4) / (nanos ? 1e6 : 1e3);
      // TLVs are in the capturing host's byte order, which is the pcap file's.
      out.push(parseNflogRecord(b.subarray(at + 16, at + 16 + incl), timeMs, littleEndian));
      at += 16 + incl;
    }
    this.buffered = at === b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(at));
    return out;
  }
}
