// Serving over UDP and TCP (RFC 1035 4.2, RFC 7766): a UDP datagram is one query; on TCP each
// message has a two-byte length prefix, several queries may share a connection (answered as they
// complete), an idle connection closes after 10 s and a client may have at most 64 queries
// waiting and 1 MiB of answers it has not read. Sockets come in already bound (the agent opens them inside the pod's namespace).
// UDP is read and answered in batches (recvmmsg/sendmmsg, native/udp-batch) when the addon is
// built, else through Node's dgram, one datagram at a time; FLATNET_DNS_UDP_IO picks one.
import type dgram from 'node:dgram';
import type net from 'node:net';
import { isIP } from 'node:net';
import type { QueryHandler } from './handler.js';
import { BatchedUdpServer, loadUdpBatchAddon, type UdpBatchStats } from './native/udp-batch.js';
import { createLogger } from '../util/log.js';

const log = createLogger('dns');

const TCP_IDLE_MS = 10_000;
const TCP_MAX_PENDING = 64;
const TCP_MAX_UNREAD_BYTES = 1 << 20;

export interface Detach {
  (): void;
}

/**
 * How UDP is read and answered: `batched` (recvmmsg/sendmmsg through the native addon; an error
 * when it is not built), `dgram` (Node's dgram, one datagram per system call), `auto` (batched
 * when the addon is there, else dgram).
 */
export type UdpIo = 'batched' | 'dgram' | 'auto';
export const UDP_IO_ENV = 'FLATNET_DNS_UDP_IO';
const DEFAULT_UDP_IO: UdpIo = 'auto';

/** The UDP I/O asked for: the option, else $FLATNET_DNS_UDP_IO, else the default. */
export function udpIoSetting(option?: UdpIo, env: NodeJS.ProcessEnv = process.env): UdpIo {
  const wanted = option ?? env[UDP_IO_ENV] ?? DEFAULT_UDP_IO;
  if (wanted !== 'batched' && wanted !== 'dgram' && wanted !== 'auto') {
    throw new Error(`${UDP_IO_ENV}: must be batched, dgram or auto, not ${JSON.stringify(wanted)}`);
  }
  return wanted;
}

export interface UdpServing extends Detach {
  /** What serves this socket. */
  readonly io: 'batched' | 'dgram';
  /** The batched path's counters (undefined on dgram). */
  stats(): UdpBatchStats | undefined;
}

export interface ServeUdpOptions {
  io?: UdpIo;
  /** Datagrams per batch (batched only; default 64). */
  batch?: number;
}

export function serveUdp(socket: dgram.Socket, handler: QueryHandler, opts: ServeUdpOptions = {}): UdpServing {
  const io = udpIoSetting(opts.io);
  if (io !== 'dgram') {
    const { addon, error } = loadUdpBatchAddon();
    if (addon) {
      try {
        const server = new BatchedUdpServer(addon, socket, (msg, reply) => handler.handle(msg, 'udp', reply), { batch: opts.batch });
        log.info('UDP served in batches (recvmmsg/sendmmsg)', { io: 'batched', batch: opts.batch ?? 64 });
        return Object.assign(() => server.close(), { io: 'batched' as const, stats: () => server.stats() });
      } catch (err) {
        if (io === 'batched') throw err;
        log.warn('batched UDP unavailable on this socket; serving through dgram', { io: 'dgram', reason: (err as Error).message });
      }
    } else if (io === 'batched') {
      throw new Error(`${UDP_IO_ENV}=batched but the native addon cannot be used: ${error}`);
    } else {
      log.info('UDP served through dgram (the batching addon is not available)', { io: 'dgram', reason: error });
    }
  } else {
    log.info('UDP served through dgram', { io: 'dgram', reason: `${UDP_IO_ENV}=dgram` });
  }
  return serveUdpDgram(socket, handler);
}

function serveUdpDgram(socket: dgram.Socket, handler: QueryHandler): UdpServing {
  answerNumericLookupsAtOnce(socket);
  const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    handler.handle(msg, 'udp', (out) => socket.send(out, rinfo.port, rinfo.address));
  };
  const onError = () => undefined;
  socket.on('message', onMessage);
  socket.on('error', onError);
  const detach = () => {
    socket.off('message', onMessage);
    socket.off('error', onError);
  };
  return Object.assign(detach, { io: 'dgram' as const, stats: () => undefined });
}

/**
 * Node's dgram passes the destination of every unconnected send through the socket's lookup
 * function (dns.lookup by default), which validates its arguments and, even for an IP literal,
 * answers on the next tick: an extra async hop per reply. Our destinations are always the numeric
 * address a query came from, so the socket's lookup answers those at once and leaves anything
 * else to the original. The socket arrives already created (the agent opens it inside the pod's
 * namespace), too late for createSocket's `lookup` option, so this reaches the socket's handle;
 * if a future Node.js keeps it elsewhere nothing changes and sends take the usual path.
 */
export function answerNumericLookupsAtOnce(socket: dgram.Socket): void {
  const stateKey = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const handle = stateKey && (socket as unknown as Record<symbol, { handle?: { lookup?: unknown } } | undefined>)[stateKey]?.handle;
  if (!handle || typeof handle.lookup !== 'function' || (handle.lookup as { numericFastPath?: boolean }).numericFastPath) return;
  const original = handle.lookup as (address: string, cb: (err: Error | null, ip?: string, family?: number) => void) => void;
  const fast = (address: string, cb: (err: Error | null, ip?: string, family?: number) => void) => {
    const family = isIP(address);
    if (family !== 0) cb(null, address, family);
    else original(address, cb);
  };
  fast.numericFastPath = true;
  handle.lookup = fast;
}

export function serveTcp(server: net.Server, handler: QueryHandler): { detach: Detach; connections: Set<net.Socket> } {
  const connections = new Set<net.Socket>();
  const onConnection = (sock: net.Socket) => {
    connections.add(sock);
    let buf: Buffer = Buffer.alloc(0);
    let pending = 0;
    sock.setNoDelay(true);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('close', () => connections.delete(sock));
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      // Answers to the queries of one read leave in one writev, not one write(2) each.
      sock.cork();
      try {
        readQueries();
      } finally {
        if (!sock.destroyed) sock.uncork();
      }
    });
    const readQueries = () => {
      while (buf.length >= 2) {
        const n = buf.readUInt16BE(0);
        if (buf.length < 2 + n) break;
        const msg = buf.subarray(2, 2 + n);
        buf = buf.subarray(2 + n);
        if (++pending > TCP_MAX_PENDING) {
          sock.destroy();
          return;
        }
        let replied = false;
        handler.handle(msg, 'tcp', (out) => {
          replied = true;
          pending--;
          if (sock.destroyed) return;
          const framed = Buffer.allocUnsafe(out.length + 2);
          framed.writeUInt16BE(out.length, 0);
          out.copy(framed, 2);
          sock.write(framed);
          // A client that sends but never reads must not make us buffer without bound.
          if (sock.writableLength > TCP_MAX_UNREAD_BYTES) sock.destroy();
        });
        // A dropped message (no reply) must not count against the connection.
        if (!replied && !handlerReplied(msg)) pending--;
      }
    };
  };
  server.on('connection', onConnection);
  return {
    detach: () => {
      server.off('connection', onConnection);
      for (const c of connections) c.destroy();
    },
    connections,
  };
}

/** Messages the handler drops without a reply: shorter than a header, or a response (QR=1). */
function handlerReplied(msg: Buffer): boolean {
  return msg.length >= 12 && (msg[2] & 0x80) === 0;
}
