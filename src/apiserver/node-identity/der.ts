// DER (X.690) encoding and reading of the ASN.1 values X.509 certificates and PKCS#10 requests
// use: pure functions over Buffers, no key material.

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One tag-length-value. */
export function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const sequence = (...parts: Buffer[]): Buffer => tlv(TAG.sequence, Buffer.concat(parts));
export const set = (...parts: Buffer[]): Buffer => tlv(TAG.set, Buffer.concat(parts));
/** A context-specific constructed tag ([n] EXPLICIT). */
export const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);
export const octetString = (b: Buffer): Buffer => tlv(TAG.octetString, b);
export const bitString = (b: Buffer): Buffer => tlv(TAG.bitString, Buffer.concat([Buffer.from([0]), b]));
export const booleanTrue = (): Buffer => tlv(TAG.boolean, Buffer.from([0xff]));
export const nullValue = (): Buffer => tlv(TAG.null, Buffer.alloc(0));
export const utf8String = (s: string): Buffer => tlv(TAG.utf8String, Buffer.from(s, 'utf8'));

/** A non-negative INTEGER from its big-endian magnitude (a leading 0 is added when the top bit is set). */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  return tlv(TAG.integer, m[0] & 0x80 ? Buffer.concat([Buffer.from([0]), m]) : m);
}

export function smallInteger(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new RangeError(`${n} is not a small non-negative integer`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return unsignedInteger(Buffer.from(bytes.length ? bytes : [0]));
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isInteger(a) || a < 0)) throw new RangeError(`${JSON.stringify(dotted)} is not an object identifier`);
  const out: number[] = [];
  for (const arc of [arcs[0] * 40 + arcs[1], ...arcs.slice(2)]) {
    const base128: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift(0x80 | (v & 0x7f));
    out.push(...base128);
  }
  return tlv(TAG.oid, Buffer.from(out));
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), to the second. */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = d.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new RangeError(`${iso} cannot be encoded in a certificate`);
  return year < 2050 ? tlv(TAG.utcTime, Buffer.from(`${digits.slice(2)}Z`, 'ascii')) : tlv(TAG.generalizedTime, Buffer.from(`${digits}Z`, 'ascii'));
}

/** A BIT STRING of named bits (bit 0 first), DER-minimal: trailing zero bits dropped. */
export function namedBits(bits: number[]): Buffer {
  if (bits.length === 0) return tlv(TAG.bitString, Buffer.from([0]));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const b of bits) bytes[Math.floor(b / 8)] |= 0x80 >> (b % 8);
  const unused = 7 - (highest % 8);
  return tlv(TAG.bitString, Buffer.concat([Buffer.from([unused]), bytes]));
}

// ---- reading ----

/** One element read from DER: its tag, the whole encoding and its contents. */
export interface Element {
  tag: number;
  /** The whole tag-length-value. */
  raw: Buffer;
  contents: Buffer;
}

export class DerError extends Error {}

/** The element at `offset`, and where the next one starts. */
export function readElement(buf: Buffer, offset = 0): { element: Element; next: number } {
  if (offset + 2 > buf.length) throw new DerError('truncated DER element');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  let length = buf[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported DER length');
    if (start + n > buf.length) throw new DerError('truncated DER length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[start + i];
    start += n;
  }
  const end = start + length;
  if (end > buf.length) throw new DerError('DER element runs past its end');
  return { element: { tag, raw: buf.subarray(offset, end), contents: buf.subarray(start, end) }, next: end };
}

/** The elements inside a constructed element's contents. */
export function children(contents: Buffer): Element[] {
  const out: Element[] = [];
  for (let at = 0; at < contents.length; ) {
    const { element, next } = readElement(contents, at);
    out.push(element);
    at = next;
  }
  return out;
}

/** One whole DER value of the expected tag (nothing may follow it). */
export function readOne(buf: Buffer, tag: number, what: string): Element {
  const { element, next } = readElement(buf);
  if (element.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${element.tag.toString(16)}`);
  if (next !== buf.length) throw new DerError(`${what}: data after the end`);
  return element;
}

export function decodeOid(contents: Buffer): string {
  if (contents.length === 0) throw new DerError('empty object identifier');
  const arcs: number[] = [];
  let v = 0;
  for (const byte of contents) {
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(v);
      v = 0;
    }
  }
  const first = arcs.shift()!;
  const top = first < 80 ? Math.floor(first / 40) : 2;
  return [top, first - top * 40, ...arcs].join('.');
}
