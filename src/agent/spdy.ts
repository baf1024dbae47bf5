// A small SPDY/3.1 framer: enough of the protocol for Kubernetes port-forwarding, which client-go
// speaks through moby/spdystream (SYN_STREAM/SYN_REPLY/DATA/RST_STREAM/SETTINGS/PING/GOAWAY/
// HEADERS/WINDOW_UPDATE). Header blocks are zlib-compressed with the SPDY/3 dictionary, one
// compression context per direction for the whole connection.
import zlib from 'node:zlib';

/** The SPDY/3 header compression dictionary (draft-mbelshe-httpbis-spdy-00 §2.6.10.1). */
export const SPDY3_DICTIONARY: Buffer = (() => {
  const words = [
    'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
    'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
    'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
    'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
    'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
    'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
    'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin',
  ];
  const parts: Buffer[] = [];
  for (const w of words) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    parts.push(len, Buffer.from(w, 'latin1'));
  }
  const tail =
    '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
    '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
    '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
    'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
    'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
    'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';
  parts.push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(parts);
})();

export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export const RstStatus = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, CANCEL: 5, INTERNAL_ERROR: 6, STREAM_ALREADY_CLOSED: 9 } as const;

export type Headers = Record<string, string>;

export type SpdyFrame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | { type: 'syn_stream'; streamId: number; associatedStreamId: number; priority: number; flags: number; headers: Headers }
  | { type: 'syn_reply'; streamId: number; flags: number; headers: Headers }
  | { type: 'headers'; streamId: number; flags: number; headers: Headers }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; flags: number; entries: { flags: number; id: number; value: number }[] }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastStreamId: number; status: number }
  | { type: 'window_update'; streamId: number; delta: number }
  | { type: 'unknown'; frameType: number };

/** A frame with its header block still compressed. */
export interface RawFrame {
  control: boolean;
  frameType: number;
  flags: number;
  /** For data frames. */
  streamId: number;
  payload: Buffer;
}

/** Cuts a byte stream into frames. */
export class FrameSplitter {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): RawFrame[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: RawFrame[] = [];
    while (this.buffer.length >= 8) {
      const length = this.buffer.readUIntBE(5, 3);
      if (this.buffer.length < 8 + length) break;
      const control = (this.buffer[0] & 0x80) !== 0;
      const first = this.buffer.readUInt32BE(0);
      const flags = this.buffer[4];
      const payload = Buffer.from(this.buffer.subarray(8, 8 + length));
      this.buffer = this.buffer.subarray(8 + length);
      if (control) frames.push({ control, frameType: first & 0xffff, flags, streamId: 0, payload });
      else frames.push({ control, frameType: 0, flags, streamId: first & 0x7fffffff, payload });
    }
    return frames;
  }
}

/** One zlib context for a direction of the connection; blocks must be processed in order. */
class ZlibContext {
  private readonly stream: zlib.Inflate | zlib.Deflate;
  private out: Buffer[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(kind: 'inflate' | 'deflate') {
    this.stream = kind === 'inflate' ? zlib.createInflate({ dictionary: SPDY3_DICTIONARY }) : zlib.createDeflate({ dictionary: SPDY3_DICTIONARY });
    this.stream.on('data', (c: Buffer) => this.out.push(c));
    this.stream.on('error', () => undefined);
  }

  process(block: Buffer): Promise<Buffer> {
    const next = this.queue.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const onError = (err: Error) => reject(err);
          this.stream.once('error', onError);
          if (block.length > 0) this.stream.write(block);
          this.stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            this.stream.off('error', onError);
            const result = Buffer.concat(this.out);
            this.out = [];
            resolve(result);
          });
        }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.stream.close();
  }
}

export function encodeHeaderBlock(headers: Headers): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [];
  const n = Buffer.alloc(4);
  n.writeUInt32BE(entries.length);
  parts.push(n);
  for (const [name, value] of entries) {
    for (const s of [name.toLowerCase(), value]) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(buf: Buffer): Headers {
  const headers: Headers = {};
  if (buf.length < 4) return headers;
  const count = buf.readUInt32BE(0);
  let off = 4;
  for (let i = 0; i < count; i++) {
    const nameLen = buf.readUInt32BE(off);
    const name = buf.subarray(off + 4, off + 4 + nameLen).toString('utf8').toLowerCase();
    off += 4 + nameLen;
    const valueLen = buf.readUInt32BE(off);
    // Multiple values are joined with NUL; the first is enough for the headers Kubernetes uses.
    const value = buf.subarray(off + 4, off + 4 + valueLen).toString('utf8').split('\0')[0];
    off += 4 + valueLen;
    headers[name] = value;
  }
  return headers;
}

function controlHeader(type: number, flags: number, length: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  h.writeUInt16BE(type, 2);
  h[4] = flags;
  h.writeUIntBE(length, 5, 3);
  return h;
}

export function encodeDataFrame(streamId: number, data: Buffer, flags = 0): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  h[4] = flags;
  h.writeUIntBE(data.length, 5, 3);
  return Buffer.concat([h, data]);
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt32BE(streamId & 0x7fffffff, 0);
  body.writeUInt32BE(status, 4);
  return Buffer.concat([controlHeader(FrameType.RST_STREAM, 0, 8), body]);
}

export function encodePing(id: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt32BE(id >>> 0, 0);
  return Buffer.concat([controlHeader(FrameType.PING, 0, 4), body]);
}

export function encodeGoaway(lastStreamId: number, status = 0): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt32BE(lastStreamId & 0x7fffffff, 0);
  body.writeUInt32BE(status, 4);
  return Buffer.concat([controlHeader(FrameType.GOAWAY, 0, 8), body]);
}

export function encodeWindowUpdate(streamId: number, delta: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt32BE(streamId & 0x7fffffff, 0);
  body.writeUInt32BE(delta & 0x7fffffff, 4);
  return Buffer.concat([controlHeader(FrameType.WINDOW_UPDATE, 0, 8), body]);
}

export function encodeSettings(entries: { flags: number; id: number; value: number }[]): Buffer {
  const body = Buffer.alloc(4 + 8 * entries.length);
  body.writeUInt32BE(entries.length, 0);
  entries.forEach((e, i) => {
    body.writeUInt32BE(((e.flags & 0xff) << 24) | (e.id & 0xffffff), 4 + i * 8);
    body.writeUInt32BE(e.value >>> 0, 8 + i * 8);
  });
  return Buffer.concat([controlHeader(FrameType.SETTINGS, 0, body.length), body]);
}

/** Decodes frames of one direction (owns that direction's zlib context). */
export class FrameDecoder {
  private readonly inflate = new ZlibContext('inflate');

  async decode(raw: RawFrame): Promise<SpdyFrame> {
    if (!raw.control) return { type: 'data', streamId: raw.streamId, flags: raw.flags, data: raw.payload };
    const p = raw.payload;
    switch (raw.frameType) {
      case FrameType.SYN_STREAM:
        return {
          type: 'syn_stream',
          streamId: p.readUInt32BE(0) & 0x7fffffff,
          associatedStreamId: p.readUInt32BE(4) & 0x7fffffff,
          priority: p[8] >> 5,
          flags: raw.flags,
          headers: decodeHeaderBlock(await this.inflate.process(p.subarray(10))),
        };
      case FrameType.SYN_REPLY:
        return { type: 'syn_reply', streamId: p.readUInt32BE(0) & 0x7fffffff, flags: raw.flags, headers: decodeHeaderBlock(await this.inflate.process(p.subarray(4))) };
      case FrameType.HEADERS:
        return { type: 'headers', streamId: p.readUInt32BE(0) & 0x7fffffff, flags: raw.flags, headers: decodeHeaderBlock(await this.inflate.process(p.subarray(4))) };
      case FrameType.RST_STREAM:
        return { type: 'rst_stream', streamId: p.readUInt32BE(0) & 0x7fffffff, status: p.readUInt32BE(4) };
      case FrameType.SETTINGS: {
        const n = p.readUInt32BE(0);
        const entries = [];
        for (let i = 0; i < n; i++) {
          const idWord = p.readUInt32BE(4 + i * 8);
          entries.push({ flags: idWord >>> 24, id: idWord & 0xffffff, value: p.readUInt32BE(8 + i * 8) });
        }
        return { type: 'settings', flags: raw.flags, entries };
      }
      case FrameType.PING:
        return { type: 'ping', id: p.readUInt32BE(0) };
      case FrameType.GOAWAY:
        return { type: 'goaway', lastStreamId: p.readUInt32BE(0) & 0x7fffffff, status: p.length >= 8 ? p.readUInt32BE(4) : 0 };
      case FrameType.WINDOW_UPDATE:
        return { type: 'window_update', streamId: p.readUInt32BE(0) & 0x7fffffff, delta: p.readUInt32BE(4) & 0x7fffffff };
      default:
        return { type: 'unknown', frameType: raw.frameType };
    }
  }

  close(): void {
    this.inflate.close();
  }
}

/** Encodes frames with header blocks for one direction (owns that direction's zlib context). */
export class FrameEncoder {
  private readonly deflate = new ZlibContext('deflate');

  async synStream(streamId: number, headers: Headers, flags = 0, associatedStreamId = 0, priority = 0): Promise<Buffer> {
    const block = await this.deflate.process(encodeHeaderBlock(headers));
    const body = Buffer.alloc(10);
    body.writeUInt32BE(streamId & 0x7fffffff, 0);
    body.writeUInt32BE(associatedStreamId & 0x7fffffff, 4);
    body[8] = (priority & 0x7) << 5;
    return Buffer.concat([controlHeader(FrameType.SYN_STREAM, flags, 10 + block.length), body, block]);
  }

  async synReply(streamId: number, headers: Headers, flags = 0): Promise<Buffer> {
    const block = await this.deflate.process(encodeHeaderBlock(headers));
    const body = Buffer.alloc(4);
    body.writeUInt32BE(streamId & 0x7fffffff, 0);
    return Buffer.concat([controlHeader(FrameType.SYN_REPLY, flags, 4 + block.length), body, block]);
  }

  close(): void {
    this.deflate.close();
  }
}
