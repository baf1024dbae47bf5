// Batched UDP serving through the native addon in native/udp-batch (recvmmsg/sendmmsg): one
// system call and one JS call per batch of up to 64 datagrams instead of Node dgram's recvmsg,
// Buffer, address object and JS call per datagram plus one sendmsg per reply. No npm package
// does recvmmsg/sendmmsg for Node.js (searched the registry for recvmmsg/sendmmsg, Dec 2026), so
// the addon is ours; bench/dns measures what it buys.
//
// The dgram.Socket stays the owner of the socket (and of the address it is bound to): it is
// told to stop reading, the addon polls a duplicate of its descriptor, and detaching gives
// reading back to it. A socket opened in another network namespace and passed over IPC works
// the same way: the descriptor is all the addon needs.
import type dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The addon's functions (see native/udp-batch/src/udp_batch.c for the contract). */
interface UdpBatchAddon {
  open(
    fd: number,
    recvBuf: Buffer,
    recvMeta: Int32Array,
    sendBuf: Buffer,
    sendMeta: Int32Array,
    slotSize: number,
    batch: number,
    onBatch: (count: number) => number,
  ): object;
  address(handle: object, slot: number): Buffer;
  sendTo(handle: object, data: Buffer, address: Buffer): number;
  stats(handle: object, out: Float64Array): void;
  close(handle: object): void;
}

export const ADDON_RELATIVE_PATH = 'native/udp-batch/build/Release/udp_batch.node';

let loaded: { addon?: UdpBatchAddon; error?: string } | undefined;

/** The addon, built by `npm ci` (native/udp-batch), or why it is not there. */
export function loadUdpBatchAddon(): { addon?: UdpBatchAddon; error?: string } {
  if (loaded) return loaded;
  if (process.platform !== 'linux') return (loaded = { error: `recvmmsg/sendmmsg are Linux only (platform ${process.platform})` });
  // This module runs from src/dns/native (tsx), dist/src/dns/native (the build) or a bench's
  // compiled copy: the addon is found in the first ancestor directory that holds it.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, ADDON_RELATIVE_PATH);
    if (existsSync(candidate)) {
      try {
        return (loaded = { addon: createRequire(import.meta.url)(candidate) as UdpBatchAddon });
      } catch (err) {
        return (loaded = { error: `${candidate}: ${(err as Error).message}` });
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return (loaded = { error: `${ADDON_RELATIVE_PATH} not built (npm ci builds it; or run npm run build:native)` });
    dir = parent;
  }
}

/** The libuv UDP handle behind a dgram.Socket (kept under the socket's state symbol). */
interface UdpHandle {
  fd?: number;
  recvStart?: () => number;
  recvStop?: () => number;
}

export function udpHandleOf(socket: dgram.Socket): UdpHandle | undefined {
  const stateKey = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = stateKey && (socket as unknown as Record<symbol, { handle?: UdpHandle | null } | undefined>)[stateKey];
  return state?.handle ?? undefined;
}

export interface UdpBatchStats {
  received: number;
  sent: number;
  /** Replies dropped because the socket's send buffer was full (EAGAIN/ENOBUFS); clients retry. */
  droppedSendBufferFull: number;
  /** Replies the kernel refused for another reason (unreachable destination...). */
  sendErrors: number;
  /** Datagrams longer than a receive slot, dropped unanswered. */
  cutOff: number;
  receiveErrors: number;
  /** recvmmsg calls that returned datagrams: received / batches is the mean batch size. */
  batches: number;
  /** Replies that did not fit the batch's send buffer and left on their own. */
  sentAlone: number;
}

export interface BatchedUdpOptions {
  /** Datagrams per recvmmsg/sendmmsg (default 64). */
  batch?: number;
  /** Receive slot per datagram (default 4096, the largest EDNS size we honour). */
  slotSize?: number;
}

/** A reply for the datagram in `slot` of the current batch, or undefined to answer nothing. */
export type BatchQueryHandler = (msg: Buffer, reply: (out: Buffer) => void) => void;

/**
 * Serves a bound dgram.Socket through the addon: each datagram of a batch goes to `onQuery` (as
 * its own Buffer copy, so an answer that comes later may still read it); replies given while the
 * batch is being handled leave together with one sendmmsg, later ones alone with sendto, to the
 * address the query came from (IPv4 or IPv6).
 */
export class BatchedUdpServer {
  private readonly handle: object;
  private readonly udp: UdpHandle;
  private readonly recvBuf: Buffer;
  private readonly recvMeta: Int32Array;
  private readonly sendBuf: Buffer;
  private readonly sendMeta: Int32Array;
  private readonly slotSize: number;
  private readonly statsOut = new Float64Array(7);
  private sentAlone = 0;
  private replies = 0;
  private sendOffset = 0;
  private closed = false;

  constructor(
    private readonly addon: UdpBatchAddon,
    private readonly socket: dgram.Socket,
    private readonly onQuery: BatchQueryHandler,
    opts: BatchedUdpOptions = {},
  ) {
    const batch = opts.batch ?? 64;
    this.slotSize = opts.slotSize ?? 4096;
    const udp = udpHandleOf(socket);
    if (!udp || typeof udp.fd !== 'number' || udp.fd < 0 || typeof udp.recvStop !== 'function' || typeof udp.recvStart !== 'function') {
      throw new Error('batched UDP: the socket has no descriptor (not bound, closed, or a Node.js without UDPWrap.fd)');
    }
    this.udp = udp;
    this.recvBuf = Buffer.allocUnsafeSlow(batch * this.slotSize);
    this.recvMeta = new Int32Array(2 * batch);
    // Every UDP reply is at most 4096 bytes (the largest limit we honour), so a batch's replies
    // fit; a bigger one (never expected) leaves alone.
    this.sendBuf = Buffer.allocUnsafeSlow(batch * 4096);
    this.sendMeta = new Int32Array(3 * batch);
    // The dgram socket stops reading before the addon starts, so no datagram goes to both.
    udp.recvStop();
    try {
      this.handle = addon.open(udp.fd, this.recvBuf, this.recvMeta, this.sendBuf, this.sendMeta, this.slotSize, batch, (count) => this.onBatch(count));
    } catch (err) {
      udp.recvStart();
      throw err;
    }
    // The addon holds a duplicate descriptor: closing the dgram socket must stop it too, or the
    // socket would live (and answer) on.
    socket.once('close', this.onSocketClose);
  }

  private readonly onSocketClose = () => this.close();

  private onBatch(count: number): number {
    this.replies = 0;
    this.sendOffset = 0;
    const { recvBuf, recvMeta, slotSize } = this;
    for (let i = 0; i < count && !this.closed; i++) {
      const len = recvMeta[2 * i];
      if (recvMeta[2 * i + 1] !== 0) continue; // longer than a slot: counted by the addon, dropped
      const start = i * slotSize;
      const msg = Buffer.allocUnsafe(len);
      recvBuf.copy(msg, 0, start, start + len);
      // 0: the batch is being handled; 1: answered; 2: the batch left, a later answer goes alone.
      let state = 0;
      let address: Buffer | undefined;
      const slot = i;
      try {
        this.onQuery(msg, (out) => {
          if (state === 0) {
            state = 1;
            this.queue(slot, out);
          } else if (state === 2) {
            state = 1;
            if (address && !this.closed) this.addon.sendTo(this.handle, out, address);
          }
        });
      } catch {
        // The handler answers its own failures; a throw here must not lose the rest of the batch.
      }
      if (state === 0) {
        state = 2;
        if (!this.closed) address = this.addon.address(this.handle, i);
      }
    }
    return this.closed ? 0 : this.replies;
  }

  private queue(slot: number, out: Buffer): void {
    if (this.closed) return;
    if (this.sendOffset + out.length > this.sendBuf.length) {
      this.sentAlone++;
      this.addon.sendTo(this.handle, out, this.addon.address(this.handle, slot));
      return;
    }
    out.copy(this.sendBuf, this.sendOffset);
    const k = 3 * this.replies++;
    this.sendMeta[k] = slot;
    this.sendMeta[k + 1] = this.sendOffset;
    this.sendMeta[k + 2] = out.length;
    this.sendOffset += out.length;
  }

  stats(): UdpBatchStats {
    if (!this.closed) this.addon.stats(this.handle, this.statsOut);
    const s = this.statsOut;
    return { received: s[0], sent: s[1], droppedSendBufferFull: s[2], sendErrors: s[3], cutOff: s[4], receiveErrors: s[5], batches: s[6], sentAlone: this.sentAlone };
  }

  /** Stops batched serving; the dgram socket (if still open) reads again, as before. */
  close(): void {
    if (this.closed) return;
    this.addon.stats(this.handle, this.statsOut);
    this.closed = true;
    this.socket.off('close', this.onSocketClose);
    this.addon.close(this.handle);
    const handle = udpHandleOf(this.socket);
    if (handle === this.udp) {
      try {
        this.udp.recvStart?.();
      } catch {
        // The socket is closing.
      }
    }
  }
}
