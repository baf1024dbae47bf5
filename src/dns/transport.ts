// Serving over UDP and TCP (RFC 1035 4.2, RFC 7766): a UDP datagram is one query; on TCP each
// message has a two-byte length prefix, several queries may share a connection (answered as they
// complete), an idle connection closes after 10 s and a client may have at most 64 queries
// waiting and 1 MiB of answers it has not read. Sockets come in already bound (the agent opens them inside the pod's namespace).
import type dgram from 'node:dgram';
import type net from 'node:net';
import type { DnsHandler } from './handler.js';

const TCP_IDLE_MS = 10_000;
const TCP_MAX_PENDING = 64;
const TCP_MAX_UNREAD_BYTES = 1 << 20;

export interface Detach {
  (): void;
}

export function serveUdp(socket: dgram.Socket, handler: DnsHandler): Detach {
  const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    handler.handle(msg, 'udp', (out) => socket.send(out, rinfo.port, rinfo.address));
  };
  const onError = () => undefined;
  socket.on('message', onMessage);
  socket.on('error', onError);
  return () => {
    socket.off('message', onMessage);
    socket.off('error', onError);
  };
}

export function serveTcp(server: net.Server, handler: DnsHandler): { detach: Detach; connections: Set<net.Socket> } {
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
    });
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
