// The API server's listener: HTTPS with HTTP/2 and HTTP/1.1 chosen by ALPN (the default), as
// kube-apiserver offers both, or HTTP/1.1 only (--http2=false). client-go multiplexes all of a
// process's requests and watches on one HTTP/2 connection; over HTTP/1.1 every watch needs its own
// TLS connection. Node's HTTP/2 compatibility API hands the same handlers request/response objects
// for both protocols, and HTTP/1.1 connections (upgrades for exec/attach/port-forward included)
// keep Node's HTTP/1.1 server.
import http2 from 'node:http2';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';

export type ServingServer = https.Server | http2.Http2SecureServer;

/**
 * kube-apiserver's default since CVE-2023-44487 (rapid reset): 100 concurrent streams per
 * connection, the Go HTTP/2 client's own default. A stream beyond it is refused (RST_STREAM).
 */
export const MAX_STREAMS_PER_CONNECTION = 100;
/** What one HTTP/2 session may hold in nghttp2's buffers before its new streams are refused (MiB). */
const MAX_SESSION_MEMORY_MB = 32;
/** At most this many header fields per request (Node's default is 128; kubectl sends about 10). */
const MAX_HEADER_PAIRS = 128;
/**
 * The most bytes of request headers taken, as kube-apiserver's MaxHeaderBytes (1 MiB, Go's
 * DefaultMaxHeaderBytes). HTTP/1.1 answers a longer head with 431 Request Header Fields Too Large.
 */
export const MAX_HEADER_BYTES = 1 << 20;
/**
 * HTTP/2's SETTINGS_MAX_HEADER_LIST_SIZE, counted as RFC 9113 does (name + value + 32 per field):
 * Go's server announces MaxHeaderBytes plus 32 for 10 typical fields, and Go's client (client-go)
 * checks a request against it before sending. Once the client has acknowledged the SETTINGS, a
 * stream whose decoded header list passes it is reset (ENHANCE_YOUR_CALM) as it does, so no more
 * of it is kept. nghttp2's own bounds come first and are what a client meets in practice: one
 * field over 64 KiB is a connection error (COMPRESSION_ERROR), and so is a header block of more
 * than 8 CONTINUATION frames (at most 144 KiB as sent, at the 16 KiB frame size); with at most
 * MAX_HEADER_PAIRS fields and a 4 KiB HPACK table, a block within those decodes to less than this.
 */
export const MAX_HEADER_LIST_SIZE = MAX_HEADER_BYTES + 10 * 32;
/**
 * A session that has sent and received no frame for this long is asked for a PING, and destroyed
 * if the answer does not come within as long again. nghttp2 ends a session it finds abusive or
 * malformed (a rapid-reset flood, a header block it cannot decode) with a GOAWAY and then stops
 * reading it without telling Node's JavaScript side, which would keep the socket until the idle
 * timeout; Go's server closes such a connection 1 s after its GOAWAY. A live client answers a PING
 * at once, watches and idle keep-alive connections included.
 */
export const SILENT_SESSION_PROBE_MS = 5_000;

export interface ServingServerOptions {
  tls: https.ServerOptions;
  http2: boolean;
  /** A connection must send its first request within this of its handshake (kube-apiserver's ReadHeaderTimeout). */
  firstRequestTimeoutMs: number;
  /** A connection with no request in flight for this long is closed (kube-apiserver's IdleTimeout). */
  idleTimeoutMs: number;
  /** SILENT_SESSION_PROBE_MS unless set (tests). */
  silentSessionProbeMs?: number;
}

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The server, not yet listening. Over HTTP/2 the first-request and idle deadlines apply to the
 * session (a session with open streams, watches included, is never idle); HTTP/1.1 connections
 * keep Node's keep-alive handling on the same server.
 */
export function createServingServer(options: ServingServerOptions, onRequest: RequestHandler): ServingServer {
  if (!options.http2) {
    const server = https.createServer({ ...options.tls, maxHeaderSize: MAX_HEADER_BYTES }, onRequest);
    server.keepAliveTimeout = options.idleTimeoutMs;
    return server;
  }
  const server = http2.createSecureServer(
    {
      ...options.tls,
      allowHTTP1: true,
      ALPNProtocols: ['h2', 'http/1.1'],
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
      maxHeaderListPairs: MAX_HEADER_PAIRS,
      settings: { maxConcurrentStreams: MAX_STREAMS_PER_CONNECTION, enablePush: false, maxHeaderListSize: MAX_HEADER_LIST_SIZE },
    },
    // The compatibility API's request and response are the same shape the handlers use.
    onRequest as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  // The HTTP/1.1 side of the server reads these properties as an https.Server would (it ignores
  // them as constructor options).
  const http1 = server as unknown as { keepAliveTimeout: number; headersTimeout: number; connectionsCheckingInterval: number; maxHeaderSize: number };
  http1.maxHeaderSize = MAX_HEADER_BYTES;
  http1.keepAliveTimeout = options.idleTimeoutMs;
  http1.headersTimeout = options.firstRequestTimeoutMs;
  if (options.tls.connectionsCheckingInterval !== undefined) http1.connectionsCheckingInterval = options.tls.connectionsCheckingInterval;
  const probeMs = options.silentSessionProbeMs ?? SILENT_SESSION_PROBE_MS;
  server.on('session', (session) => {
    guardSession(session, options.firstRequestTimeoutMs, options.idleTimeoutMs);
    probeWhenSilent(session, probeMs);
  });
  return server;
}

/**
 * Destroys a session that stays silent and does not answer a PING (SILENT_SESSION_PROBE_MS): one
 * nghttp2 has ended with a GOAWAY, or whose peer has stopped reading.
 */
function probeWhenSilent(session: http2.ServerHttp2Session, ms: number): void {
  let probing = false;
  session.setTimeout(ms, () => {
    if (probing || session.destroyed) return;
    probing = true;
    const deadline = setTimeout(() => session.destroy(), ms);
    deadline.unref();
    const answered = () => {
      clearTimeout(deadline);
      probing = false;
    };
    try {
      // false: too many PINGs of ours are unanswered already.
      if (!session.ping((err) => (err ? session.destroy() : answered()))) session.destroy();
    } catch {
      session.destroy();
    }
  });
}

/** Closes an HTTP/2 session that sends no request in time, and one idle (no open stream) for too long. */
function guardSession(session: http2.ServerHttp2Session, firstRequestMs: number, idleMs: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined = setTimeout(() => session.destroy(), firstRequestMs);
  timer.unref();
  const stop = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  session.on('stream', (stream) => {
    stop();
    open++;
    stream.once('close', () => {
      open--;
      if (open > 0 || session.closed || session.destroyed) return;
      // GOAWAY: the client finishes what it sent and opens a new connection for the next request.
      timer = setTimeout(() => session.close(), idleMs);
      timer.unref();
    });
  });
  session.once('close', stop);
}

/**
 * What ends the server's connections so close() can finish: every TLS connection, HTTP/2 sessions,
 * HTTP/1.1 keep-alive connections and upgraded ones (exec, attach, port-forward) alike. An upgraded
 * connection has left Node's HTTP server (closeAllConnections() does not see it) but still holds
 * the listener open; kube-apiserver's process ends such streams by exiting, and so does this.
 */
export function trackConnections(server: ServingServer): () => void {
  const sockets = new Set<TLSSocket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return () => {
    for (const s of sockets) s.destroy();
  };
}

/**
 * Over HTTP/2, the connection of a request that carried no valid credentials (a 401, or an
 * anonymous request) gets a GOAWAY: streams already open finish, new requests need a new
 * connection, as kube-apiserver's UnauthenticatedHTTP2DOSMitigation (on by default since 1.29)
 * does, so an unauthenticated client cannot hold a multiplexed connection open. HTTP/1.1
 * connections keep their keep-alive, as there.
 */
export function endConnectionIfHttp2(req: IncomingMessage): void {
  const session = (req as unknown as Partial<http2.Http2ServerRequest>).stream?.session;
  if (session !== undefined && !session.closed && !session.destroyed) session.close();
}

/** Whether a connection speaks HTTP/2 (its TLS handshake chose h2). */
export function isHttp2Connection(socket: TLSSocket): boolean {
  return socket.alpnProtocol === 'h2';
}

/** HTTP/2 requests carry their pseudo-headers (:method, :path, ...) among the headers. */
export function isPseudoHeader(lowerName: string): boolean {
  return lowerName.startsWith(':');
}

/**
 * The connection-specific headers (RFC 9110 7.6.1) an HTTP/1.1 answer from a node agent carries:
 * they describe that hop only, and HTTP/2 forbids them outright.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

export function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set((headers.connection ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean));
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k) && !named.has(k) && v !== undefined) out[k] = v;
  return out;
}
