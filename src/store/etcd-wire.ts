// The few etcd v3 protobuf messages the etcd store sends and reads (field numbers from etcd's
// rpc.proto and kv.proto), encoded and decoded by hand: a transaction (compare, put / delete /
// range), a prefix range, a watch create request, and their responses. Revisions stay below 2^53,
// so they are plain numbers; keys and values are UTF-8 strings (the store keeps JSON in etcd).
// Fields the store does not use are skipped.

// ---- encoding ----

/** A message under construction: its fields as byte chunks, written out once at the end. */
class Fields {
  readonly parts: (Buffer | number[])[] = [];
  length = 0;

  private varint(n: number): void {
    const bytes: number[] = [];
    while (n >= 0x80) {
      bytes.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    bytes.push(n);
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  /** A varint field (int64, bool, enum); written even when 0 (oneof members need that). */
  number(field: number, n: number): this {
    this.varint(field << 3);
    this.varint(n);
    return this;
  }

  bytes(field: number, value: string | Buffer): this {
    const buf = typeof value === 'string' ? Buffer.from(value) : value;
    this.varint((field << 3) | 2);
    this.varint(buf.length);
    this.parts.push(buf);
    this.length += buf.length;
    return this;
  }

  message(field: number, inner: Fields): this {
    this.varint((field << 3) | 2);
    this.varint(inner.length);
    this.parts.push(...inner.parts);
    this.length += inner.length;
    return this;
  }

  /** The message in a gRPC frame: a 0 (uncompressed) flag and the 4-byte length, then the bytes. */
  frame(): Buffer {
    const out = Buffer.allocUnsafe(5 + this.length);
    out[0] = 0;
    out.writeUInt32BE(this.length, 1);
    let at = 5;
    for (const p of this.parts) {
      if (Buffer.isBuffer(p)) at += p.copy(out, at);
      else for (const b of p) out[at++] = b;
    }
    return out;
  }
}

/** The key just past every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export type TxnOp = { put: { key: string; value: string } } | { delete: { key: string } } | { range: { key: string } };

export interface TxnCompare {
  key: string;
  /** CREATE compares the key's create revision (0 = absent), MOD its mod revision. */
  target: 'create' | 'mod';
  result: 'equal' | 'greater';
  value: number;
}

const COMPARE_RESULT = { equal: 0, greater: 1 } as const;
const COMPARE_TARGET = { create: 1, mod: 2 } as const;

function requestOp(op: TxnOp): Fields {
  if ('put' in op) return new Fields().message(2, new Fields().bytes(1, op.put.key).bytes(2, op.put.value));
  if ('delete' in op) return new Fields().message(3, new Fields().bytes(1, op.delete.key));
  return new Fields().message(1, new Fields().bytes(1, op.range.key));
}

/** TxnRequest: if `compare` then `success` else `failure`, framed for gRPC. */
export function txnRequest(compare: TxnCompare, success: TxnOp, failure: TxnOp): Buffer {
  const cmp = new Fields()
    .number(1, COMPARE_RESULT[compare.result])
    .number(2, COMPARE_TARGET[compare.target])
    .bytes(3, compare.key)
    .number(compare.target === 'create' ? 5 : 6, compare.value);
  return new Fields().message(1, cmp).message(2, requestOp(success)).message(3, requestOp(failure)).frame();
}

/** RangeRequest over every key under `prefix`, at `revision` (0 = the newest). */
export function rangeRequest(prefix: string, revision = 0): Buffer {
  const f = new Fields().bytes(1, prefix).bytes(2, prefixEnd(prefix));
  if (revision > 0) f.number(4, revision);
  return f.frame();
}

/** WatchRequest{create_request} over every key under `prefix`, from `startRevision`. */
export function watchCreateRequest(prefix: string, startRevision: number): Buffer {
  const create = new Fields().bytes(1, prefix).bytes(2, prefixEnd(prefix)).number(3, startRevision);
  return new Fields().message(1, create).frame();
}

// ---- decoding ----

class Reader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error('etcd response: truncated varint');
      const b = this.buf[this.pos++];
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
  }

  /** Reads a field's tag: [field number, wire type]. */
  tag(): [number, number] {
    const t = this.varint();
    return [Math.floor(t / 8), t & 7];
  }

  /** The bounds of a length-delimited field's bytes (and moves past them). */
  delimited(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.end) throw new Error('etcd response: truncated field');
    return [start, this.pos];
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.delimited();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`etcd response: unknown wire type ${wire}`);
  }

  string([start, end]: [number, number]): string {
    return this.buf.toString('utf8', start, end);
  }
}

export interface KeyValue {
  key: string;
  value: string;
  createRev: number;
  modRev: number;
}

function keyValue(buf: Buffer, [start, end]: [number, number]): KeyValue {
  const r = new Reader(buf, start, end);
  const kv: KeyValue = { key: '', value: '', createRev: 0, modRev: 0 };
  while (r.pos < end) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) kv.key = r.string(r.delimited());
    else if (field === 5 && wire === 2) kv.value = r.string(r.delimited());
    else if (field === 2 && wire === 0) kv.createRev = r.varint();
    else if (field === 3 && wire === 0) kv.modRev = r.varint();
    else r.skip(wire);
  }
  return kv;
}

function headerRevision(buf: Buffer, [start, end]: [number, number]): number {
  const r = new Reader(buf, start, end);
  let rev = 0;
  while (r.pos < end) {
    const [field, wire] = r.tag();
    if (field === 3 && wire === 0) rev = r.varint();
    else r.skip(wire);
  }
  return rev;
}

export interface RangeResponse {
  revision: number;
  kvs: KeyValue[];
}

function rangeResponseIn(buf: Buffer, bounds: [number, number]): RangeResponse {
  const r = new Reader(buf, bounds[0], bounds[1]);
  const out: RangeResponse = { revision: 0, kvs: [] };
  while (r.pos < bounds[1]) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) out.revision = headerRevision(buf, r.delimited());
    else if (field === 2 && wire === 2) out.kvs.push(keyValue(buf, r.delimited()));
    else r.skip(wire);
  }
  return out;
}

export function rangeResponse(msg: Buffer): RangeResponse {
  return rangeResponseIn(msg, [0, msg.length]);
}

export interface TxnResponse {
  revision: number;
  succeeded: boolean;
  /** The keys the first range operation that ran (the failure branch's read) found. */
  rangeKvs: KeyValue[];
}

export function txnResponse(msg: Buffer): TxnResponse {
  const r = new Reader(msg, 0, msg.length);
  const out: TxnResponse = { revision: 0, succeeded: false, rangeKvs: [] };
  let ranged = false;
  while (r.pos < msg.length) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) out.revision = headerRevision(msg, r.delimited());
    else if (field === 2 && wire === 0) out.succeeded = r.varint() !== 0;
    else if (field === 3 && wire === 2 && !ranged) {
      const [start, end] = r.delimited();
      const op = new Reader(msg, start, end);
      while (op.pos < end) {
        const [f, w] = op.tag();
        if (f === 1 && w === 2) {
          out.rangeKvs = rangeResponseIn(msg, op.delimited()).kvs;
          ranged = true;
        } else op.skip(w);
      }
    } else r.skip(wire);
  }
  return out;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
}

export interface WatchResponse {
  revision: number;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  events: WatchEvent[];
}

export function watchResponse(msg: Buffer): WatchResponse {
  const r = new Reader(msg, 0, msg.length);
  const out: WatchResponse = { revision: 0, created: false, canceled: false, compactRevision: 0, cancelReason: '', events: [] };
  while (r.pos < msg.length) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) out.revision = headerRevision(msg, r.delimited());
    else if (field === 3 && wire === 0) out.created = r.varint() !== 0;
    else if (field === 4 && wire === 0) out.canceled = r.varint() !== 0;
    else if (field === 5 && wire === 0) out.compactRevision = r.varint();
    else if (field === 6 && wire === 2) out.cancelReason = r.string(r.delimited());
    else if (field === 11 && wire === 2) {
      const [start, end] = r.delimited();
      const ev = new Reader(msg, start, end);
      const event: WatchEvent = { type: 'put', kv: { key: '', value: '', createRev: 0, modRev: 0 } };
      while (ev.pos < end) {
        const [f, w] = ev.tag();
        if (f === 1 && w === 0) event.type = ev.varint() === 1 ? 'delete' : 'put';
        else if (f === 2 && w === 2) event.kv = keyValue(msg, ev.delimited());
        else ev.skip(w);
      }
      out.events.push(event);
    } else r.skip(wire);
  }
  return out;
}
