// Listening ports. Each listener holds the routing table of its port in one field that update()
// reassigns; a connection or request reads it once when it starts and keeps that table.
// HTTP ports speak HTTP/1.1 and h2c (prior knowledge) on the same port; TLS ports terminate with
// the certificate chosen by SNI (ALPN h2, http/1.1) or pipe passthrough names unterminated.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { closeAfterFlush, closedBroken } from '../../util/close-after-flush.js';
import type { WeightedBackend } from '../config.js';
import { pickWeighted, type RoundRobin } from './balance.js';
import { handleHttpRequest, type ClientInfo, type ClientRequest, type ClientResponse, type HandlerContext } from './http-handler.js';
import { hostMatches } from './match.js';
import { peek, prefaceVerdict, ReplayedSocket } from './peek.js';
import type { HttpTable, StreamTable } from './table.js';
import { handleTcpConnection } from './tcp.js';
import { peekClientHello, selectCertificate } from './tls.js';
import { handleUpgrade } from './websocket.js';

const HANDSHAKE_TIMEOUT_MS = 10_000;
const PEEK_TIMEOUT_MS = 30_000;

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}

abstract class TcpBasedListener {
  protected server!: net.Server;
  protected sockets = new Set<Duplex>();
  protected closing = false;

  constructor(
    protected readonly ctx: HandlerContext,
    protected readonly bindAddress: string,
    protected readonly port: number,
  ) {}

  protected track(socket: Duplex): void {
    this.sockets.add(socket);
    const label = { port: String(this.port) };
    this.ctx.metrics.activeConnections.inc(label);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.ctx.metrics.activeConnections.dec(label);
    });
  }

  async open(): Promise<void> {
    this.server.on('error', (e) => this.ctx.log({ level: 'error', msg: 'listener error', port: this.port, error: e.message }));
    await listen(this.server, this.port, this.bindAddress);
  }

  /** Stops accepting; open connections finish on their own (see drain()). */
  close(): void {
    this.closing = true;
    this.server.close();
    this.drain();
  }

  protected drain(): void {}

  /** Ends every connection now (proxy shutdown). */
  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
  }
}

export class HttpPortListener extends TcpBasedListener {
  readonly kind = 'http';
  private h1: http.Server;
  private h2: http2.Http2Server;
  private clients = new WeakMap<object, ClientInfo>();
  private pendingClient?: ClientInfo;
  private sessions = new Set<http2.ServerHttp2Session>();

  constructor(
    public table: HttpTable,
    ctx: HandlerContext,
    bindAddress: string,
    private readonly rr: RoundRobin,
  ) {
    super(ctx, bindAddress, table.port);
    this.server = net.createServer({ noDelay: true }, (s) => this.onConnection(s));
    this.h1 = http.createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 });
    this.h1.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => this.onRequest(req, res, this.clients.get(req.socket)));
    this.h1.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const client = this.clients.get(req.socket) ?? this.clientOf(req.socket as net.Socket, false);
      handleUpgrade(this.ctx, this.table, req, socket, head, client);
    });
    this.h1.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
      if (socket.writable && !(socket as net.Socket).destroyed) {
        const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
        socket.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      }
      socket.destroy();
    });
    this.h2 = http2.createServer({ maxSessionMemory: 64 });
    this.h2.on('session', (session: http2.ServerHttp2Session) => {
      if (this.pendingClient) this.clients.set(session, this.pendingClient);
      this.sessions.add(session);
      session.on('error', () => session.destroy());
      session.on('close', () => this.sessions.delete(session));
      if (this.closing) session.close();
    });
    this.h2.on('sessionError', () => undefined);
    this.h2.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
      req.stream.on('error', () => undefined);
      this.onRequest(req, res, this.clients.get(req.stream.session!));
    });
  }

  private clientOf(socket: net.Socket, encrypted: boolean): ClientInfo {
    return { remoteAddress: socket.remoteAddress ?? '', scheme: encrypted ? 'https' : 'http', listenerPort: this.port };
  }

  private onRequest(req: ClientRequest, res: ClientResponse, client: ClientInfo | undefined): void {
    const table = this.table;
    if (this.closing && 'shouldKeepAlive' in res) (res as http.ServerResponse).shouldKeepAlive = false;
    const info = client ?? { remoteAddress: req.socket?.remoteAddress ?? '', scheme: 'http', listenerPort: this.port };
    handleHttpRequest(this.ctx, table, req, res, info).catch((e: Error) => {
      this.ctx.log({ level: 'error', msg: 'request handler failed', port: this.port, error: e.message });
      res.destroy();
    });
  }

  private toH1(socket: Duplex, client: ClientInfo): void {
    this.clients.set(socket, client);
    this.h1.emit('connection', socket);
  }

  private toH2(socket: Duplex, client: ClientInfo): void {
    this.pendingClient = client;
    this.h2.emit('connection', socket);
    this.pendingClient = undefined;
  }

  private onConnection(socket: net.Socket): void {
    const acceptedAt = performance.now();
    this.track(socket);
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    const table = this.table;
    const remoteAddress = socket.remoteAddress ?? '';
    if (!table.tls) {
      const timer = setTimeout(() => socket.destroy(), PEEK_TIMEOUT_MS);
      void peek(socket, prefaceVerdict, 24).then(({ verdict, bytes }) => {
        clearTimeout(timer);
        if (socket.destroyed) return;
        const client: ClientInfo = { remoteAddress, scheme: 'http', listenerPort: this.port, acceptedAt };
        if (verdict === true) return this.toH2(new ReplayedSocket(socket, bytes), client);
        if (bytes.length) socket.unshift(bytes);
        this.toH1(socket, client);
        socket.resume();
      });
      return;
    }
    if (table.tls.passthrough.length === 0) return this.terminate(socket, table, remoteAddress, acceptedAt);
    const timer = setTimeout(() => socket.destroy(), PEEK_TIMEOUT_MS);
    void peek(socket, (buf) => {
      const r = peekClientHello(buf);
      return r.state === 'incomplete' ? undefined : r;
    }).then(({ verdict, bytes }) => {
      clearTimeout(timer);
      if (socket.destroyed) return;
      if (!verdict || verdict.state === 'not-tls') return void socket.destroy();
      const name = verdict.servername;
      const route = name ? table.tls!.passthrough.find((p) => p.hostnames.some((h) => hostMatches(h.toLowerCase(), name))) : undefined;
      if (route) return this.passthrough(socket, bytes, route.backends, table);
      this.terminate(new ReplayedSocket(socket, bytes), table, remoteAddress, acceptedAt);
    });
  }

  private passthrough(socket: net.Socket, bytes: Buffer, backends: WeightedBackend[], table: HttpTable): void {
    const backend = pickWeighted(backends);
    const endpoint = backend && !backend.invalid ? this.rr.pick(backend) : undefined;
    if (!backend || !endpoint) return void socket.destroy();
    const upstream = net.connect({ host: endpoint.address, port: endpoint.port, noDelay: true });
    upstream.once('connect', () => {
      upstream.write(bytes);
      upstream.pipe(socket);
      socket.pipe(upstream);
      socket.resume();
    });
    upstream.on('error', (e) => {
      this.ctx.metrics.upstreamErrors.inc({ backend: backend.name, reason: 'connect' });
      this.ctx.log({ level: 'warn', msg: 'passthrough connect failed', port: table.port, error: e.message });
      socket.destroy();
    });
    upstream.on('close', (hadError) => closeAfterFlush(socket, closedBroken(upstream, hadError)));
    socket.on('close', () => upstream.destroy());
  }

  private terminate(socket: Duplex, table: HttpTable, remoteAddress: string, acceptedAt: number): void {
    const certs = table.tls!.certificates;
    const fallback = selectCertificate(certs, undefined);
    if (!fallback) {
      this.ctx.log({ level: 'warn', msg: 'TLS connection closed: no usable certificate', port: this.port });
      socket.destroy();
      return;
    }
    const tlsSocket = new tls.TLSSocket(socket as net.Socket, {
      isServer: true,
      secureContext: fallback.context,
      ALPNProtocols: ['h2', 'http/1.1'],
      SNICallback: (name, cb) => cb(null, selectCertificate(certs, name)?.context ?? fallback.context),
    });
    const timer = setTimeout(() => tlsSocket.destroy(), HANDSHAKE_TIMEOUT_MS);
    tlsSocket.on('error', () => tlsSocket.destroy());
    tlsSocket.on('close', () => socket.destroy());
    tlsSocket.once('secure', () => {
      clearTimeout(timer);
      const servername = typeof tlsSocket.servername === 'string' && tlsSocket.servername ? tlsSocket.servername : undefined;
      const client: ClientInfo = { remoteAddress, scheme: 'https', listenerPort: this.port, acceptedAt, ...(servername ? { servername } : {}) };
      // node:http2 would take the TLS handle and miss application data the TLS socket already read.
      if (tlsSocket.alpnProtocol === 'h2') this.toH2(new ReplayedSocket(tlsSocket, Buffer.alloc(0)), client);
      else this.toH1(tlsSocket, client);
    });
  }

  protected override drain(): void {
    this.h1.closeIdleConnections();
    for (const s of this.sessions) s.close();
    // Keep-alive connections that become idle after their in-flight response are closed too.
    const sweep = setInterval(() => {
      this.h1.closeIdleConnections();
      if (this.sockets.size === 0) clearInterval(sweep);
    }, 1_000);
    sweep.unref();
  }
}

export class TcpPortListener extends TcpBasedListener {
  readonly kind = 'tcp';

  constructor(
    public table: StreamTable,
    ctx: HandlerContext,
    bindAddress: string,
    rr: RoundRobin,
  ) {
    super(ctx, bindAddress, table.port);
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (s) => {
      this.track(s);
      handleTcpConnection(this.table, s, rr, ctx.metrics, ctx.log);
    });
  }
}
