// Servers of built-in workloads on sockets opened inside a pod's network namespace.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { connectInNetns, listenInNetns, runInNetns } from '../linux/netns-socket.js';
import { whenConnected } from '../util/tcp-connected.js';

// A pod on the host network of an agent that runs in the host's own namespace has netns ''. These
// wrappers then use this process's namespace directly.

export async function listenTcp(netns: string, host: string, port: number): Promise<net.Server> {
  if (netns) return listenInNetns(netns, { host, port, type: 'tcp' });
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve());
  });
  return server;
}

export async function bindUdp(netns: string, host: string, port: number): Promise<dgram.Socket> {
  if (netns) return listenInNetns(netns, { host, port, type: 'udp4' });
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => resolve());
  });
  return socket;
}

/** A TCP connection from `netns` (not flowing yet, as connectInNetns answers it). */
export async function connectTcp(netns: string, host: string, port: number, timeoutMs = 5000): Promise<net.Socket> {
  if (netns) return connectInNetns(netns, host, port, timeoutMs);
  return whenConnected(net.connect({ host, port }), timeoutMs, `connect to ${host}:${port} timed out`);
}

export function runIn(netns: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
  return netns ? runInNetns(netns, argv, opts) : spawn(argv[0], argv.slice(1), opts);
}

export interface OpenServer {
  close(): void;
}

/** A TCP listener on all addresses of `netns`: dual-stack [::] when the namespace has IPv6, else 0.0.0.0. */
export async function listenAllInNetns(netns: string, port: number): Promise<net.Server> {
  try {
    return await listenTcp(netns, '::', port);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw err;
    return listenTcp(netns, '0.0.0.0', port);
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
  const socket = await bindUdp(netns, '0.0.0.0', port);
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
