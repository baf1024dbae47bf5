// Writing answers a chunk at a time as the client takes them. Node's HTTP/2 server counts the
// bytes queued for sending on a session (answer bytes waiting for the client's flow-control window
// included) against maxSessionMemory, and while a session is over it every NEW stream of that
// session is refused (RST_STREAM ENHANCE_YOUR_CALM, which client-go does not retry). One large
// answer handed over at once (res.end of a 40 MiB LIST) to a client that reads it slowly would so
// fail every other request on its connection; kube-apiserver (Go) has no such limit. Here a body
// goes to the stream WRITE_CHUNK_BYTES at a time, the next after 'drain', so what a session queues
// stays about a chunk per stream whatever the answer's size; the rest waits here, in JavaScript.
// HTTP/1.1 answers take the same path (their write() returns false on a full socket too). A
// request's answer waiting here holds its max-in-flight slot (max-inflight.ts), which bounds how
// many can; a watch holds none (watches are not counted), and watch.ts cuts off one that has more
// than MAX_BUFFERED waiting.
import type { ServerResponse } from 'node:http';

/**
 * How much of a body is handed to the stream at a time. With MAX_STREAMS_PER_CONNECTION (100)
 * answers of a session all waiting for a client that reads none of them, 25 MiB are queued, inside
 * maxSessionMemory (32 MiB). Smaller chunks cost the server more CPU per byte sent (64 KiB: about
 * 17% more than one write of the whole body; 256 KiB: about 3%, 40 MB answers on loopback).
 */
export const WRITE_CHUNK_BYTES = 256 * 1024;

/** Sends `body` as the whole rest of the answer, in chunks when it is larger than one. */
export function endPaced(res: ServerResponse, body: Buffer): void {
  // A HEAD answer sends no body: Node drops what it is given.
  if (body.length <= WRITE_CHUNK_BYTES || res.req?.method === 'HEAD') {
    res.end(body);
    return;
  }
  const out = new PacedWriter(res);
  out.write(body);
  out.end();
}

/**
 * An answer written in order, a chunk at a time as the client takes it (the stream emits 'drain').
 * Once the answer closes (the client went away, or the stream was destroyed) what waits is dropped.
 */
export class PacedWriter {
  private readonly waiting: Buffer[] = [];
  private waitingBytes = 0;
  private awaitingDrain = false;
  private ending = false;
  private closed = false;

  constructor(private readonly res: ServerResponse) {
    res.once('close', () => {
      this.closed = true;
      this.waiting.length = 0;
      this.waitingBytes = 0;
      res.off('drain', this.pump);
    });
  }

  /** Bytes given to write() and not yet sent: the ones waiting here and the ones the stream holds. */
  get buffered(): number {
    return this.waitingBytes + this.res.writableLength;
  }

  write(data: Buffer): void {
    if (this.closed || this.ending || data.length === 0) return;
    this.waiting.push(data);
    this.waitingBytes += data.length;
    if (!this.awaitingDrain) this.pump();
  }

  /** Ends the answer once everything written before has gone to the stream. */
  end(): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    if (!this.awaitingDrain) this.pump();
  }

  private readonly pump = (): void => {
    this.awaitingDrain = false;
    while (!this.closed && this.waitingBytes > 0) {
      const chunk = this.take();
      if (this.ending && this.waitingBytes === 0) {
        this.res.end(chunk);
        return;
      }
      if (!this.res.write(chunk)) {
        this.awaitingDrain = true;
        this.res.once('drain', this.pump);
        return;
      }
    }
    if (this.ending && !this.closed && !this.res.writableEnded) this.res.end();
  };

  /** The next chunk: up to WRITE_CHUNK_BYTES from the front of what waits, small writes joined. */
  private take(): Buffer {
    const first = this.waiting[0];
    if (first.length >= WRITE_CHUNK_BYTES) {
      const chunk = first.subarray(0, WRITE_CHUNK_BYTES);
      if (first.length === WRITE_CHUNK_BYTES) this.waiting.shift();
      else this.waiting[0] = first.subarray(WRITE_CHUNK_BYTES);
      this.waitingBytes -= chunk.length;
      return chunk;
    }
    const parts: Buffer[] = [];
    let size = 0;
    while (this.waiting.length > 0 && size + this.waiting[0].length <= WRITE_CHUNK_BYTES) {
      const b = this.waiting.shift()!;
      parts.push(b);
      size += b.length;
    }
    this.waitingBytes -= size;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
  }
}

/**
 * Resolves once `res` can take more (it emitted 'drain') or has closed: for an answer copied from
 * a stream, so that what the stream reads waits there rather than in the session's queue.
 */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
