// Reading the first bytes of a connection before deciding who handles it (HTTP/2 preface,
// TLS ClientHello), and a Duplex that replays those bytes in front of the rest of the socket.
import type net from 'node:net';
import { Duplex } from 'node:stream';

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** Collects bytes until `decide` returns a verdict (or the socket ends: undefined). */
export function peek<T>(socket: net.Socket, decide: (buf: Buffer) => T | undefined, maxBytes = 16 * 1024 + 5): Promise<{ verdict: T | undefined; bytes: Buffer }> {
  return new Promise((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = (verdict: T | undefined): void => {
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.pause();
      resolve({ verdict, bytes: buf });
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const v = decide(buf);
      if (v !== undefined || buf.length >= maxBytes) done(v);
    };
    const onEnd = (): void => done(undefined);
    socket.on('data', onData);
    socket.on('end', onEnd);
  });
}

/** Whether the bytes are (a prefix of) the HTTP/2 preface: true/false once it can tell. */
export function prefaceVerdict(buf: Buffer): boolean | undefined {
  const n = Math.min(buf.length, H2_PREFACE.length);
  if (!buf.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return false;
  return buf.length >= H2_PREFACE.length ? true : undefined;
}

/**
 * `prefix` followed by everything `socket` reads. node:http2 and node:tls take the socket's
 * native handle and would miss bytes already read, so they get this stream instead.
 */
export class ReplayedSocket extends Duplex {
  constructor(
    private readonly socket: net.Socket,
    prefix: Buffer,
  ) {
    super({ allowHalfOpen: false });
    if (prefix.length) this.push(prefix);
    socket.on('data', (d: Buffer) => {
      if (!this.push(d)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (e) => this.destroy(e));
    socket.on('close', () => this.destroy());
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.socket.write(chunk, cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}
