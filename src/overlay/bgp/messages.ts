// BGP messages as data, and their encoding and decoding: OPEN with capabilities (multiprotocol
// RFC 4760, route refresh RFC 2918, graceful restart RFC 4724, 4-octet AS RFC 6793), UPDATE for
// IPv4 unicast (classic NLRI or MP_REACH/MP_UNREACH), NOTIFICATION, KEEPALIVE, ROUTE-REFRESH.
// A decoding error is a BgpError naming the field, with the NOTIFICATION it calls for; a malformed
// path attribute is handled as RFC 7606 says (treat-as-withdraw or attribute discard, no reset).
import {
  AS_TRANS,
  BgpError,
  ErrorCode,
  HEADER_LENGTH,
  HeaderSubcode,
  MAX_MESSAGE_LENGTH,
  MessageType,
  OpenSubcode,
  UpdateSubcode,
  decodePrefixes,
  encodePrefixes,
  ipv4Bytes,
  ipv4Text,
  type Prefix,
} from './wire.js';

export const AFI_IPV4 = 1;
export const SAFI_UNICAST = 1;

export interface Family {
  afi: number;
  safi: number;
}

export interface GracefulRestart {
  /** The R bit: the sender has just restarted. */
  restarting: boolean;
  /** Seconds the sender asks its peers to keep its routes after the session drops (12 bits). */
  restartTimeSec: number;
  /** Families whose forwarding state the sender kept (F bit) or not. */
  families: (Family & { forwardingPreserved: boolean })[];
}

export interface Capabilities {
  multiprotocol: Family[];
  routeRefresh: boolean;
  fourOctetAs?: number;
  gracefulRestart?: GracefulRestart;
  /** Codes we do not know: ignored, as RFC 5492 allows. */
  unknown: number[];
}

export interface OpenMessage {
  type: 'open';
  version: number;
  /** The speaker's AS: the 4-octet capability's value when present, else the 2-octet field. */
  asn: number;
  holdTimeSec: number;
  bgpId: string;
  capabilities: Capabilities;
}

export type AsPathSegment = { kind: 'set' | 'sequence'; asns: number[] };

export interface PathAttributes {
  origin: 0 | 1 | 2;
  asPath: AsPathSegment[];
  nextHop: string;
  med?: number;
  localPref?: number;
}

export interface UpdateMessage {
  type: 'update';
  /** IPv4 unicast prefixes withdrawn (classic field and MP_UNREACH_NLRI together). */
  withdrawn: Prefix[];
  /** Present when the update announces prefixes. */
  attributes?: PathAttributes;
  /** IPv4 unicast prefixes announced (classic field and MP_REACH_NLRI together). */
  nlri: Prefix[];
  /**
   * Set when a malformed path attribute made the announced prefixes withdrawn instead (RFC 7606
   * treat-as-withdraw; they are then in `withdrawn`): what was wrong, for the log.
   */
  treatAsWithdraw?: string;
  /** Malformed attributes dropped (RFC 7606 attribute discard, or a repeated attribute). */
  discarded?: string[];
}

export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  data: Buffer;
}

export interface KeepaliveMessage {
  type: 'keepalive';
}

export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
}

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

const Attr = { ORIGIN: 1, AS_PATH: 2, NEXT_HOP: 3, MED: 4, LOCAL_PREF: 5, ATOMIC_AGGREGATE: 6, AGGREGATOR: 7, COMMUNITIES: 8, ORIGINATOR_ID: 9, CLUSTER_LIST: 10, MP_REACH: 14, MP_UNREACH: 15 } as const;
const Flag = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED: 0x10 } as const;
const WELL_KNOWN: ReadonlySet<number> = new Set([Attr.ORIGIN, Attr.AS_PATH, Attr.NEXT_HOP, Attr.LOCAL_PREF, Attr.ATOMIC_AGGREGATE]);
const Cap = { MULTIPROTOCOL: 1, ROUTE_REFRESH: 2, GRACEFUL_RESTART: 64, FOUR_OCTET_AS: 65 } as const;

function frame(type: number, body: Buffer): Buffer {
  const out = Buffer.alloc(HEADER_LENGTH + body.length, 0xff);
  out.writeUInt16BE(out.length, 16);
  out[18] = type;
  body.copy(out, HEADER_LENGTH);
  if (out.length > MAX_MESSAGE_LENGTH) throw new Error(`BGP message of ${out.length} octets exceeds ${MAX_MESSAGE_LENGTH}`);
  return out;
}

function capability(code: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([code, value.length]), value]);
}

export function encodeOpen(m: Omit<OpenMessage, 'type' | 'version'>): Buffer {
  const caps: Buffer[] = [];
  for (const f of m.capabilities.multiprotocol) caps.push(capability(Cap.MULTIPROTOCOL, Buffer.from([f.afi >> 8, f.afi & 0xff, 0, f.safi])));
  if (m.capabilities.routeRefresh) caps.push(capability(Cap.ROUTE_REFRESH, Buffer.alloc(0)));
  const gr = m.capabilities.gracefulRestart;
  if (gr) {
    const v = Buffer.alloc(2 + 4 * gr.families.length);
    v.writeUInt16BE(((gr.restarting ? 0x8 : 0) << 12) | (gr.restartTimeSec & 0xfff), 0);
    gr.families.forEach((f, i) => {
      v.writeUInt16BE(f.afi, 2 + 4 * i);
      v[4 + 4 * i] = f.safi;
      v[5 + 4 * i] = f.forwardingPreserved ? 0x80 : 0;
    });
    caps.push(capability(Cap.GRACEFUL_RESTART, v));
  }
  if (m.capabilities.fourOctetAs !== undefined) {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(m.capabilities.fourOctetAs);
    caps.push(capability(Cap.FOUR_OCTET_AS, v));
  }
  const params = caps.map((c) => Buffer.concat([Buffer.from([2, c.length]), c]));
  const paramBytes = Buffer.concat(params);
  const body = Buffer.alloc(10);
  body[0] = 4;
  body.writeUInt16BE(m.asn > 0xffff ? AS_TRANS : m.asn, 1);
  body.writeUInt16BE(m.holdTimeSec, 3);
  ipv4Bytes(m.bgpId).copy(body, 5);
  body[9] = paramBytes.length;
  return frame(MessageType.OPEN, Buffer.concat([body, paramBytes]));
}

function attribute(flags: number, code: number, value: Buffer): Buffer {
  if (value.length > 255) return Buffer.concat([Buffer.from([flags | Flag.EXTENDED, code, value.length >> 8, value.length & 0xff]), value]);
  return Buffer.concat([Buffer.from([flags, code, value.length]), value]);
}

function encodeAsPath(segments: readonly AsPathSegment[], fourOctet: boolean): Buffer {
  const parts: Buffer[] = [];
  for (const s of segments) {
    const size = fourOctet ? 4 : 2;
    const b = Buffer.alloc(2 + size * s.asns.length);
    b[0] = s.kind === 'set' ? 1 : 2;
    b[1] = s.asns.length;
    s.asns.forEach((asn, i) => (fourOctet ? b.writeUInt32BE(asn, 2 + 4 * i) : b.writeUInt16BE(asn > 0xffff ? AS_TRANS : asn, 2 + 2 * i)));
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** An UPDATE; `fourOctetAs` is whether both sides announced the 4-octet AS capability. */
export function encodeUpdate(m: Omit<UpdateMessage, 'type'>, fourOctetAs: boolean): Buffer {
  const withdrawn = encodePrefixes(m.withdrawn);
  const attrs: Buffer[] = [];
  if (m.attributes) {
    const a = m.attributes;
    attrs.push(attribute(Flag.TRANSITIVE, Attr.ORIGIN, Buffer.from([a.origin])));
    attrs.push(attribute(Flag.TRANSITIVE, Attr.AS_PATH, encodeAsPath(a.asPath, fourOctetAs)));
    attrs.push(attribute(Flag.TRANSITIVE, Attr.NEXT_HOP, ipv4Bytes(a.nextHop)));
    if (a.med !== undefined) attrs.push(attribute(Flag.OPTIONAL, Attr.MED, u32(a.med)));
    if (a.localPref !== undefined) attrs.push(attribute(Flag.TRANSITIVE, Attr.LOCAL_PREF, u32(a.localPref)));
  }
  const attrBytes = Buffer.concat(attrs);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(withdrawn.length);
  const mid = Buffer.alloc(2);
  mid.writeUInt16BE(attrBytes.length);
  return frame(MessageType.UPDATE, Buffer.concat([head, withdrawn, mid, attrBytes, encodePrefixes(m.nlri)]));
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function encodeKeepalive(): Buffer {
  return frame(MessageType.KEEPALIVE, Buffer.alloc(0));
}

export function encodeNotification(code: number, subcode: number, data: Buffer = Buffer.alloc(0)): Buffer {
  return frame(MessageType.NOTIFICATION, Buffer.concat([Buffer.from([code, subcode]), data]));
}

export function encodeRouteRefresh(afi = AFI_IPV4, safi = SAFI_UNICAST): Buffer {
  return frame(MessageType.ROUTE_REFRESH, Buffer.from([afi >> 8, afi & 0xff, 0, safi]));
}

/** The end-of-RIB marker for IPv4 unicast (RFC 4724): an UPDATE with nothing in it. */
export function isEndOfRib(m: UpdateMessage): boolean {
  return m.withdrawn.length === 0 && m.nlri.length === 0 && m.attributes === undefined && m.treatAsWithdraw === undefined && m.discarded === undefined;
}

/**
 * Checks a header and returns the message length, or throws the header error it calls for.
 * `buf` holds at least HEADER_LENGTH octets.
 */
export function checkHeader(buf: Buffer): { length: number; type: number } {
  for (let i = 0; i < 16; i++) if (buf[i] !== 0xff) throw new BgpError(ErrorCode.HEADER, HeaderSubcode.NOT_SYNCHRONIZED, 'message header: the marker is not all ones');
  const length = buf.readUInt16BE(16);
  const type = buf[18];
  const badLength = () => new BgpError(ErrorCode.HEADER, HeaderSubcode.BAD_LENGTH, `message header: length ${length} is not valid for message type ${type}`, buf.subarray(16, 18));
  if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) throw badLength();
  const min: Record<number, number> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 23 };
  if (!(type in min)) throw new BgpError(ErrorCode.HEADER, HeaderSubcode.BAD_TYPE, `message header: unknown message type ${type}`, Buffer.from([type]));
  if (length < min[type] || (type === MessageType.KEEPALIVE && length !== 19) || (type === MessageType.ROUTE_REFRESH && length !== 23)) throw badLength();
  return { length, type };
}

/** Decodes one whole message (header included). `fourOctetAs`: negotiated for AS_PATH. */
export function decodeMessage(buf: Buffer, fourOctetAs: boolean): BgpMessage {
  const { length, type } = checkHeader(buf);
  if (buf.length !== length) throw new BgpError(ErrorCode.HEADER, HeaderSubcode.BAD_LENGTH, `message header: length ${length} but ${buf.length} octets`, buf.subarray(16, 18));
  const body = buf.subarray(HEADER_LENGTH);
  switch (type) {
    case MessageType.OPEN:
      return decodeOpen(body);
    case MessageType.UPDATE:
      return decodeUpdate(body, fourOctetAs);
    case MessageType.NOTIFICATION:
      return { type: 'notification', code: body[0], subcode: body[1], data: Buffer.from(body.subarray(2)) };
    case MessageType.KEEPALIVE:
      return { type: 'keepalive' };
    default:
      return { type: 'route-refresh', afi: body.readUInt16BE(0), safi: body[3] };
  }
}

function openError(subcode: number, message: string, data?: Buffer): BgpError {
  return new BgpError(ErrorCode.OPEN, subcode, `OPEN: ${message}`, data);
}

function decodeCapabilities(value: Buffer, caps: Capabilities): void {
  let i = 0;
  while (i < value.length) {
    if (i + 2 > value.length || i + 2 + value[i + 1] > value.length) throw openError(OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, `capability at octet ${i} runs past its parameter`);
    const code = value[i];
    const v = value.subarray(i + 2, i + 2 + value[i + 1]);
    const badLength = () => openError(OpenSubcode.UNSUPPORTED_CAPABILITY, `capability ${code} has length ${v.length}`, value.subarray(i, i + 2 + v.length));
    if (code === Cap.MULTIPROTOCOL) {
      if (v.length !== 4) throw badLength();
      caps.multiprotocol.push({ afi: v.readUInt16BE(0), safi: v[3] });
    } else if (code === Cap.ROUTE_REFRESH) {
      caps.routeRefresh = true;
    } else if (code === Cap.FOUR_OCTET_AS) {
      if (v.length !== 4) throw badLength();
      caps.fourOctetAs = v.readUInt32BE(0);
    } else if (code === Cap.GRACEFUL_RESTART) {
      if (v.length < 2 || (v.length - 2) % 4 !== 0) throw badLength();
      const head = v.readUInt16BE(0);
      const families = [];
      for (let k = 2; k < v.length; k += 4) families.push({ afi: v.readUInt16BE(k), safi: v[k + 2], forwardingPreserved: (v[k + 3] & 0x80) !== 0 });
      caps.gracefulRestart = { restarting: (head & 0x8000) !== 0, restartTimeSec: head & 0xfff, families };
    } else caps.unknown.push(code);
    i += 2 + v.length;
  }
}

function decodeOpen(body: Buffer): OpenMessage {
  const version = body[0];
  if (version !== 4) throw openError(OpenSubcode.UNSUPPORTED_VERSION, `version ${version}; this speaker supports 4`, Buffer.from([0, 4]));
  const asn2 = body.readUInt16BE(1);
  const holdTimeSec = body.readUInt16BE(3);
  if (holdTimeSec === 1 || holdTimeSec === 2) throw openError(OpenSubcode.UNACCEPTABLE_HOLD_TIME, `hold time ${holdTimeSec} s (must be 0 or at least 3)`);
  const bgpId = ipv4Text(body, 5);
  if (bgpId === '0.0.0.0') throw openError(OpenSubcode.BAD_BGP_ID, 'BGP identifier 0.0.0.0');
  const paramsLength = body[9];
  if (10 + paramsLength !== body.length) throw new BgpError(ErrorCode.HEADER, HeaderSubcode.BAD_LENGTH, `OPEN: optional parameters length ${paramsLength} does not fill the message`);
  const caps: Capabilities = { multiprotocol: [], routeRefresh: false, unknown: [] };
  const params = body.subarray(10);
  let i = 0;
  while (i < params.length) {
    if (i + 2 > params.length || i + 2 + params[i + 1] > params.length) throw openError(OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, `optional parameter at octet ${i} runs past the message`);
    const kind = params[i];
    const value = params.subarray(i + 2, i + 2 + params[i + 1]);
    if (kind !== 2) throw openError(OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, `optional parameter type ${kind} (only capabilities, type 2)`);
    decodeCapabilities(value, caps);
    i += 2 + value.length;
  }
  if (caps.fourOctetAs !== undefined && caps.fourOctetAs === 0) throw openError(OpenSubcode.BAD_PEER_AS, '4-octet AS capability carries AS 0');
  return { type: 'open', version, asn: caps.fourOctetAs ?? asn2, holdTimeSec, bgpId, capabilities: caps };
}

function updateError(subcode: number, message: string, data?: Buffer): BgpError {
  return new BgpError(ErrorCode.UPDATE, subcode, `UPDATE: ${message}`, data);
}

function decodeAsPath(v: Buffer, fourOctet: boolean): AsPathSegment[] {
  const size = fourOctet ? 4 : 2;
  const out: AsPathSegment[] = [];
  let i = 0;
  while (i < v.length) {
    if (i + 2 > v.length) throw updateError(UpdateSubcode.MALFORMED_AS_PATH, `AS_PATH segment header at octet ${i} is cut short`);
    const kind = v[i];
    const count = v[i + 1];
    if (kind !== 1 && kind !== 2) throw updateError(UpdateSubcode.MALFORMED_AS_PATH, `AS_PATH segment type ${kind}`);
    if (count === 0 || i + 2 + count * size > v.length) throw updateError(UpdateSubcode.MALFORMED_AS_PATH, `AS_PATH segment of ${count} ASes does not fit`);
    const asns = [];
    for (let k = 0; k < count; k++) asns.push(fourOctet ? v.readUInt32BE(i + 2 + 4 * k) : v.readUInt16BE(i + 2 + 2 * k));
    out.push({ kind: kind === 1 ? 'set' : 'sequence', asns });
    i += 2 + count * size;
  }
  return out;
}

function validNextHop(address: string): boolean {
  const first = Number(address.split('.')[0]);
  return address !== '0.0.0.0' && first < 224 && address !== '255.255.255.255';
}

/**
 * RFC 7606's verdicts for a malformed path attribute: the UPDATE's routes are withdrawn
 * (`treatAsWithdraw`) or just the attribute is dropped (`discard`); the session stays up. Errors
 * that leave the NLRI in doubt still reset the session (a BgpError).
 */
class AttributeFault {
  constructor(
    readonly verdict: 'treat-as-withdraw' | 'discard',
    readonly reason: string,
  ) {}
}

/** The fixed length of attributes whose wrong length means treat-as-withdraw (RFC 7606 section 7). */
const FIXED_LENGTH: ReadonlyMap<number, number> = new Map([
  [Attr.ORIGIN, 1],
  [Attr.NEXT_HOP, 4],
  [Attr.MED, 4],
  [Attr.LOCAL_PREF, 4],
  [Attr.ORIGINATOR_ID, 4],
]);

function decodeUpdate(body: Buffer, fourOctetAs: boolean): UpdateMessage {
  const withdrawnLength = body.readUInt16BE(0);
  if (2 + withdrawnLength + 2 > body.length) throw updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `withdrawn routes length ${withdrawnLength} runs past the message`);
  const withdrawn = decodePrefixes(body.subarray(2, 2 + withdrawnLength), 'withdrawn routes');
  const attrsLength = body.readUInt16BE(2 + withdrawnLength);
  const attrsStart = 4 + withdrawnLength;
  if (attrsStart + attrsLength > body.length) throw updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `path attributes length ${attrsLength} runs past the message`);
  // The NLRI is located by the total path attribute length, whatever the attributes hold (RFC 7606 section 4).
  const nlri = decodePrefixes(body.subarray(attrsStart + attrsLength), 'NLRI');
  const seen = new Set<number>();
  const found: Partial<PathAttributes> = {};
  const faults: AttributeFault[] = [];
  let mpNextHop: string | undefined;
  const attrs = body.subarray(attrsStart, attrsStart + attrsLength);
  let i = 0;
  while (i < attrs.length) {
    const flags = attrs[i];
    const extended = (flags & Flag.EXTENDED) !== 0;
    if (i + (extended ? 4 : 3) > attrs.length) {
      faults.push(new AttributeFault('treat-as-withdraw', `path attribute header at octet ${i} is cut short`));
      break;
    }
    const code = attrs[i + 1];
    const length = extended ? attrs.readUInt16BE(i + 2) : attrs[i + 2];
    const start = i + (extended ? 4 : 3);
    const whole = attrs.subarray(i, Math.min(attrs.length, start + length));
    if (start + length > attrs.length) {
      faults.push(new AttributeFault('treat-as-withdraw', `path attribute ${code}: length ${length} runs past the attributes`));
      break;
    }
    i = start + length;
    const multiprotocol = code === Attr.MP_REACH || code === Attr.MP_UNREACH;
    if (seen.has(code)) {
      if (multiprotocol) throw updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, `path attribute ${code} appears twice`);
      faults.push(new AttributeFault('discard', `path attribute ${code} repeated`));
      continue; // RFC 7606 section 3 (g): only the first one counts
    }
    seen.add(code);
    const v = attrs.subarray(start, start + length);
    const optional = (flags & Flag.OPTIONAL) !== 0;
    const transitive = (flags & Flag.TRANSITIVE) !== 0;
    if (!optional && !WELL_KNOWN.has(code) && code !== Attr.MED && !multiprotocol) {
      throw updateError(UpdateSubcode.UNRECOGNIZED_WELL_KNOWN, `unrecognized well-known path attribute ${code}`, whole);
    }
    if ((WELL_KNOWN.has(code) && (optional || !transitive)) || (code === Attr.MED && (!optional || transitive))) {
      faults.push(new AttributeFault('treat-as-withdraw', `path attribute ${code} flagged ${flags.toString(16)}`));
      continue;
    }
    const fixed = FIXED_LENGTH.get(code);
    if (fixed !== undefined && v.length !== fixed) {
      faults.push(new AttributeFault('treat-as-withdraw', `path attribute ${code}: length ${v.length}, expected ${fixed}`));
      continue;
    }
    switch (code) {
      case Attr.ORIGIN:
        if (v[0] > 2) faults.push(new AttributeFault('treat-as-withdraw', `ORIGIN ${v[0]}`));
        else found.origin = v[0] as 0 | 1 | 2;
        break;
      case Attr.AS_PATH:
        try {
          found.asPath = decodeAsPath(v, fourOctetAs);
        } catch (err) {
          if (!(err instanceof BgpError)) throw err;
          faults.push(new AttributeFault('treat-as-withdraw', err.message.replace(/^UPDATE: /, '')));
        }
        break;
      case Attr.NEXT_HOP:
        found.nextHop = ipv4Text(v);
        // RFC 4271 section 6.3: a semantically wrong next hop makes the routes ignored, no NOTIFICATION.
        if (!validNextHop(found.nextHop)) faults.push(new AttributeFault('treat-as-withdraw', `NEXT_HOP ${found.nextHop}`));
        break;
      case Attr.MED:
        found.med = v.readUInt32BE(0);
        break;
      case Attr.LOCAL_PREF:
        found.localPref = v.readUInt32BE(0);
        break;
      case Attr.ATOMIC_AGGREGATE:
        if (v.length !== 0) faults.push(new AttributeFault('discard', `ATOMIC_AGGREGATE of ${v.length} octets`));
        break;
      case Attr.AGGREGATOR:
        if (v.length !== (fourOctetAs ? 8 : 6)) faults.push(new AttributeFault('discard', `AGGREGATOR of ${v.length} octets`));
        break;
      case Attr.COMMUNITIES:
      case Attr.CLUSTER_LIST:
        if (v.length % 4 !== 0) faults.push(new AttributeFault('treat-as-withdraw', `path attribute ${code} of ${v.length} octets (not a multiple of 4)`));
        break;
      case Attr.MP_REACH: {
        // A malformed MP attribute leaves its NLRI unknown: the session is reset (RFC 7606 section 7.11).
        if (v.length < 5 || v.length < 5 + v[3]) throw updateError(UpdateSubcode.OPTIONAL_ATTRIBUTE, 'MP_REACH_NLRI is cut short', whole);
        const afi = v.readUInt16BE(0);
        const nhLength = v[3];
        if (afi !== AFI_IPV4 || v[2] !== SAFI_UNICAST) break; // another family: not ours, ignored
        if (nhLength !== 4) throw updateError(UpdateSubcode.OPTIONAL_ATTRIBUTE, `MP_REACH_NLRI IPv4 next hop of ${nhLength} octets`, whole);
        mpNextHop = ipv4Text(v, 4);
        nlri.push(...decodePrefixes(v.subarray(5 + nhLength), 'MP_REACH_NLRI'));
        if (!validNextHop(mpNextHop)) faults.push(new AttributeFault('treat-as-withdraw', `MP_REACH_NLRI next hop ${mpNextHop}`));
        break;
      }
      case Attr.MP_UNREACH: {
        if (v.length < 3) throw updateError(UpdateSubcode.OPTIONAL_ATTRIBUTE, 'MP_UNREACH_NLRI is cut short', whole);
        if (v.readUInt16BE(0) === AFI_IPV4 && v[2] === SAFI_UNICAST) withdrawn.push(...decodePrefixes(v.subarray(3), 'MP_UNREACH_NLRI'));
        break;
      }
      default:
        break; // an optional attribute we do not use
    }
  }
  if (nlri.length > 0) {
    for (const [code, present] of [
      [Attr.ORIGIN, found.origin !== undefined],
      [Attr.AS_PATH, found.asPath !== undefined],
      [Attr.NEXT_HOP, found.nextHop !== undefined || mpNextHop !== undefined],
    ] as const) {
      // RFC 7606 section 3 (d): a missing well-known mandatory attribute means treat-as-withdraw.
      if (!present && !faults.some((f) => f.verdict === 'treat-as-withdraw')) faults.push(new AttributeFault('treat-as-withdraw', `missing well-known attribute ${code}`));
    }
  }
  const discarded = faults.filter((f) => f.verdict === 'discard').map((f) => f.reason);
  const withdrawReason = faults.find((f) => f.verdict === 'treat-as-withdraw')?.reason;
  if (withdrawReason !== undefined) return { type: 'update', withdrawn: [...withdrawn, ...nlri], nlri: [], treatAsWithdraw: `UPDATE: ${withdrawReason}`, ...(discarded.length ? { discarded } : {}) };
  if (nlri.length === 0) return { type: 'update', withdrawn, nlri, ...(discarded.length ? { discarded } : {}) };
  return {
    type: 'update',
    withdrawn,
    nlri,
    attributes: { origin: found.origin!, asPath: found.asPath!, nextHop: found.nextHop ?? mpNextHop!, med: found.med, localPref: found.localPref },
    ...(discarded.length ? { discarded } : {}),
  };
}
