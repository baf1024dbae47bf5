// BGP-4 wire basics (RFC 4271): message types, NOTIFICATION codes, the error that carries one,
// and IPv4 prefixes in NLRI form. No npm library for BGP is maintained, so the codec is ours.
import { ipToInt, parseCidr } from '../../linux/ipv4.js';

export const BGP_PORT = 179;
export const HEADER_LENGTH = 19;
export const MAX_MESSAGE_LENGTH = 4096;
/** The 2-octet AS carried in OPEN when the real one needs 4 octets (RFC 6793). */
export const AS_TRANS = 23456;

export const MessageType = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;

/** NOTIFICATION error codes and the subcodes we send (RFC 4271 section 4.5, RFC 4486, RFC 5492). */
export const ErrorCode = { HEADER: 1, OPEN: 2, UPDATE: 3, HOLD_TIMER_EXPIRED: 4, FSM: 5, CEASE: 6 } as const;
export const HeaderSubcode = { NOT_SYNCHRONIZED: 1, BAD_LENGTH: 2, BAD_TYPE: 3 } as const;
export const OpenSubcode = { UNSUPPORTED_VERSION: 1, BAD_PEER_AS: 2, BAD_BGP_ID: 3, UNSUPPORTED_OPTIONAL_PARAMETER: 4, UNACCEPTABLE_HOLD_TIME: 6, UNSUPPORTED_CAPABILITY: 7 } as const;
export const UpdateSubcode = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN: 2,
  MISSING_WELL_KNOWN: 3,
  ATTRIBUTE_FLAGS: 4,
  ATTRIBUTE_LENGTH: 5,
  INVALID_ORIGIN: 6,
  INVALID_NEXT_HOP: 8,
  OPTIONAL_ATTRIBUTE: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;
export const CeaseSubcode = { ADMINISTRATIVE_SHUTDOWN: 2, ADMINISTRATIVE_RESET: 4, CONNECTION_COLLISION: 7 } as const;

/** A protocol error: the session answers it with this NOTIFICATION and closes. */
export class BgpError extends Error {
  constructor(
    readonly code: number,
    readonly subcode: number,
    message: string,
    readonly data: Buffer = Buffer.alloc(0),
  ) {
    super(message);
    this.name = 'BgpError';
  }
}

/** An IPv4 prefix, e.g. { address: '10.244.1.0', length: 24 }. */
export interface Prefix {
  address: string;
  length: number;
}

export function prefixText(p: Prefix): string {
  return `${p.address}/${p.length}`;
}

export function parsePrefix(text: string): Prefix {
  const cidr = parseCidr(text);
  if (ipToInt(text.split('/')[0]) !== cidr.first) throw new Error(`"${text}" has host bits set`);
  return { address: cidr.network, length: cidr.prefix };
}

/** NLRI encoding: the length in bits, then just the octets it covers (RFC 4271 section 4.3). */
export function encodePrefixes(prefixes: readonly Prefix[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of prefixes) {
    const octets = p.address.split('.').map(Number);
    parts.push(Buffer.from([p.length, ...octets.slice(0, Math.ceil(p.length / 8))]));
  }
  return Buffer.concat(parts);
}

/** Decodes NLRI; a length over 32, a truncated prefix or set bits past the length are errors. */
export function decodePrefixes(buf: Buffer, what: string): Prefix[] {
  const out: Prefix[] = [];
  let i = 0;
  while (i < buf.length) {
    const length = buf[i];
    const size = Math.ceil(length / 8);
    if (length > 32 || i + 1 + size > buf.length) {
      throw new BgpError(ErrorCode.UPDATE, UpdateSubcode.INVALID_NETWORK_FIELD, `${what}: prefix at octet ${i} has length ${length}${length > 32 ? ' (over 32)' : ' past the end of the field'}`);
    }
    const octets = [0, 0, 0, 0];
    for (let k = 0; k < size; k++) octets[k] = buf[i + 1 + k];
    const n = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
    const masked = length === 0 ? 0 : (n & (0xffffffff << (32 - length))) >>> 0;
    if (masked !== n) throw new BgpError(ErrorCode.UPDATE, UpdateSubcode.INVALID_NETWORK_FIELD, `${what}: prefix ${octets.join('.')}/${length} has bits set past its length`);
    out.push({ address: octets.join('.'), length });
    i += 1 + size;
  }
  return out;
}

export function ipv4Bytes(address: string): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(ipToInt(address));
  return b;
}

export function ipv4Text(buf: Buffer, offset = 0): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}
