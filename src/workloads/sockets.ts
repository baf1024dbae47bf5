// Servers of built-in workloads on sockets opened inside a pod's network namespace.
import http from 'node:http';
import type dgram from 'node:dgram';
import type net from 'node:net';
import { listenInNetns } from '../linux/netns-socket.js';

export interface OpenServer {
  close(): void;
}

/** A TCP listener on all addresses of `netns`: dual-stack [::] when the namespace has IPv6, else 0.0.0.0. */
export async function listenAllInNetns(netns: string, port: number): Promise<net.Server> {
  try {
    return await listenInNetns(netns, { host: '::', port, type: 'tcp' });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw err;
    return listenInNetns(netns, { host: '0.0.0.0', port, type: 'tcp' });
  }
}

/** An HTTP server on port `port` of every address in `netns`, served by this process. */
export async function serveHttpInNetns(netns: string, port: number, handler: http.RequestListener): Promise<OpenServer> {
  const listener = await listenAllInNetns(netns, port);
  const server = http.createServer(handler);
  server.keepAliveTimeout = 5000;
  listener.on('connection', (sock: net.Socket) => server.emit('connection', sock));
  return {
    close() {
      listener.close();
      server.closeAllConnections();
    },
  };
}

/** A raw TCP server on port `port` of every address in `netns`. */
export async function serveTcpInNetns(netns: string, port: number, onConnection: (sock: net.Socket) => void): Promise<OpenServer> {
  const listener = await listenAllInNetns(netns, port);
  const open = new Set<net.Socket>();
  listener.on('connection', (sock: net.Socket) => {
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    sock.on('error', () => sock.destroy());
    onConnection(sock);
  });
  return {
    close() {
      listener.close();
      for (const s of open) s.destroy();
    },
  };
}

/** A UDP socket bound to 0.0.0.0:port in `netns`; the handler answers with a reply or nothing. */
export async function serveUdpInNetns(
  netns: string,
  port: number,
  onMessage: (msg: Buffer, from: dgram.RemoteInfo) => string | undefined | Promise<string | undefined>,
): Promise<OpenServer> {
  const socket = await listenInNetns(netns, { host: '0.0.0.0', port, type: 'udp4' });
  socket.on('message', (msg, rinfo) => {
    void Promise.resolve(onMessage(msg, rinfo)).then((reply) => {
      if (reply !== undefined) socket.send(reply, rinfo.port, rinfo.address);
    });
  });
  socket.on('error', () => undefined);
  return {
    close() {
      try {
        socket.close();
      } catch {
        // already closed
      }
    },
  };
}
