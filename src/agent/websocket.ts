// A small RFC 6455 WebSocket server side, written by hand because the Kubernetes streaming
// subprotocols include `SPDY/3.1+portforward.k8s.io`, which is not a token the `ws` package
// accepts. Binary and text messages, fragmentation, ping/pong and the close handshake.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** The offered subprotocols, in the client's order. */
export function offeredProtocols(req: http.IncomingMessage): string[] {
  const raw = req.headers['sec-websocket-protocol'];
  const text = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  return text.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
}

export function isWebSocketUpgrade(req: http.IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket' && typeof req.headers['sec-websocket-key'] === 'string';
}

export interface FrameHeader {
  fin: boolean;
  opcode: number;
  masked: boolean;
  length: number;
  headerLength: number;
}

/** Parses a frame header at the start of `buf`; undefined when more bytes are needed. */
export function parseFrameHeader(buf: Buffer): FrameHeader | undefined {
  if (buf.length < 2) return undefined;
  const fin = (buf[0] & 0x80) !== 0;
  const opcode = buf[0] & 0x0f;
  const masked = (buf[1] & 0x80) !== 0;
  let length = buf[1] & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return undefined;
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return undefined;
    length = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  if (masked) offset += 4;
  if (buf.length < offset) return undefined;
  return { fin, opcode, masked, length, headerLength: offset };
}

/** An unmasked (server-to-client) frame. */
export function encodeFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const len = payload.length;
  let header: Buffer;
  if (len < 126) {
    header = Buffer.from([(fin ? 0x80 : 0) | opcode, len]);
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([header, payload]);
}

/** A masked (client-to-server) frame, for tests and clients. */
export function encodeMaskedFrame(opcode: number, payload: Buffer, mask = Buffer.from([1, 2, 3, 4])): Buffer {
  const plain = encodeFrame(opcode, payload);
  const headerLen = plain.length - payload.length;
  const header = Buffer.from(plain.subarray(0, headerLen));
  header[1] |= 0x80;
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) body[i] = payload[i] ^ mask[i % 4];
  return Buffer.concat([header, mask, body]);
}

export const OP_CONT = 0;
export const OP_TEXT = 1;
export const OP_BINARY = 2;
export const OP_CLOSE = 8;
export const OP_PING = 9;
export const OP_PONG = 10;

/**
 * A server-side WebSocket connection. Events: 'message' (data: Buffer, binary: boolean),
 * 'close' (code: number).
 */
export class WebSocketConnection extends EventEmitter {
  private buffer: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;
  private closed = false;

  constructor(readonly socket: Duplex) {
    super();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.finish(1006));
    socket.on('error', () => this.finish(1006));
  }

  private finish(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', code);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const h = parseFrameHeader(this.buffer);
      if (!h || this.buffer.length < h.headerLength + h.length) return;
      let payload = Buffer.from(this.buffer.subarray(h.headerLength, h.headerLength + h.length));
      if (h.masked) {
        const mask = this.buffer.subarray(h.headerLength - 4, h.headerLength);
        for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
      }
      this.buffer = this.buffer.subarray(h.headerLength + h.length);
      if (h.opcode === OP_CLOSE) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.close(code === 1005 ? 1000 : code);
        return;
      }
      if (h.opcode === OP_PING) {
        this.write(encodeFrame(OP_PONG, payload));
        continue;
      }
      if (h.opcode === OP_PONG) continue;
      if (h.opcode !== OP_CONT) this.fragmentOpcode = h.opcode;
      if (!h.fin) {
        this.fragments.push(payload);
        continue;
      }
      if (this.fragments.length > 0) {
        this.fragments.push(payload);
        payload = Buffer.concat(this.fragments);
        this.fragments = [];
      }
      this.emit('message', payload, this.fragmentOpcode === OP_BINARY);
    }
  }

  private write(frame: Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    return this.socket.write(frame);
  }

  send(data: Buffer | string, binary = true): boolean {
    if (this.closed) return false;
    return this.write(encodeFrame(binary ? OP_BINARY : OP_TEXT, typeof data === 'string' ? Buffer.from(data) : data));
  }

  /** Sends a close frame and ends the TCP connection. */
  close(code = 1000, reason = ''): void {
    if (!this.closed) {
      const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
      payload.writeUInt16BE(code, 0);
      payload.write(reason, 2);
      this.write(encodeFrame(OP_CLOSE, payload));
    }
    this.finish(code);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}

/** Completes the handshake with `protocol` (or none) and answers the connection. */
export function acceptWebSocket(req: http.IncomingMessage, socket: Duplex, head: Buffer, protocol: string | undefined): WebSocketConnection {
  const key = req.headers['sec-websocket-key'] as string;
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptKey(key)}`];
  if (protocol) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  socket.write(lines.join('\r\n') + '\r\n\r\n');
  const ws = new WebSocketConnection(socket);
  if (head.length > 0) socket.unshift(head);
  return ws;
}
