// The client's HTTP/2 connections, as client-go's transport keeps them: every request and watch of
// a process to one server with one TLS identity (CA, client certificate) is a stream on one shared
// TLS connection (a second one opens only when the first has as many open streams as the server
// allows). A bearer token is a header of each request, so clients with different tokens (the
// ServiceAccount tokens of in-agent workloads) share the connection too, as in client-go. The
// protocol is chosen by ALPN on each new connection: a server that answers http/1.1 (flatnet
// server --http2=false, most proxies) makes that pool hand its requests back to HTTP/1.1 until
// its clients' HTTP/1.1 connections to the server have all closed (a server restart closes them);
// the next request then offers h2 again, so a server back with HTTP/2 is spoken to over it.
// A session the server ends (GOAWAY) or that dies (reset, failover relay closing it) leaves the
// pool at once and the next request opens a new one; a stream the server never processed (refused,
// or beyond the GOAWAY's last stream) is opened again on a new session. A Node server refuses new
// streams with ENHANCE_YOUR_CALM while a session holds more than its memory limit in unsent
// answers (several large lists at once): that session takes no new streams and closes when its
// streams end, and the refused request goes to a new session, as it would to another HTTP/1.1
// connection. A session whose server went silent without closing it (a network cut, a frozen
// server) is found by a PING, as client-go's health check finds it, and closed: its watches end
// with an error and their informers resume on a new session.
import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import type { ClusterConnection } from './kubeconfig.js';

/** Most streams the client opens on one session (the server's own limit applies when lower). */
const MAX_STREAMS_PER_SESSION = 100;
/** Per-stream receive window: a large list arrives without a WINDOW_UPDATE round trip per 64 KiB. */
const STREAM_WINDOW = 4 << 20;
/** Connection receive window, shared by every stream of the session. */
const SESSION_WINDOW = 16 << 20;

/** Tries of a request whose stream the server refused unprocessed, each on another session. */
const MAX_TRIES = 4;

/** client-go's HTTP/2 ReadIdleTimeout: a session that has received nothing for this long is sent a PING. */
export const READ_IDLE_TIMEOUT_MS = 30_000;
/** client-go's HTTP/2 PingTimeout: a session whose PING is not answered within this is closed. */
export const PING_TIMEOUT_MS = 15_000;

/**
 * The health check's timings, read when a session opens: READ_IDLE_TIMEOUT_MS and PING_TIMEOUT_MS
 * unless a test set shorter ones.
 */
export const healthCheck = { readIdleTimeoutMs: READ_IDLE_TIMEOUT_MS, pingTimeoutMs: PING_TIMEOUT_MS };

/** The error of a request whose pool its client released (closed, or switched certificates) before it was sent. */
const CLOSED = 'the client was closed (or switched to a new certificate) before the request was sent';

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_CANCEL, HTTP2_HEADER_STATUS } = http2.constants;

interface Session {
  session: http2.ClientHttp2Session;
  /** Streams open on it (ours: the server's concurrency limit counts them). */
  open: Set<http2.ClientHttp2Stream>;
  /** GOAWAY received, or closed: no new stream goes here. */
  closing: boolean;
  /** Streams of this session the server's GOAWAY says it never processed. */
  unprocessed: WeakSet<http2.ClientHttp2Stream>;
  /** Stops the health check's timer. */
  stopHealthCheck: () => void;
}

/** A stream with its answer's status and headers. */
export interface H2Answer {
  stream: http2.ClientHttp2Stream;
  status: number;
  headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader;
}

/** The HTTP/2 connections to one server with one TLS identity, shared by every client that has it. */
export class H2Pool {
  private sessions: Session[] = [];
  private connecting: Promise<Session | 'http/1.1'> | undefined;
  /** The TLS connection being opened, destroyed by close(). */
  private handshaking: tls.TLSSocket | undefined;
  /** Released by its last user: every request fails and no connection opens. */
  private closed = false;
  /**
   * The server answered ALPN with http/1.1 (or nothing) on our last new connection: requests go
   * over HTTP/1.1 until the clients' HTTP/1.1 connections have all closed. client-go's
   * transport offers h2 on every new connection; here only the first connection after those closed
   * asks (a request over HTTP/1.1 goes through the client's own kept-alive connections, which
   * offer no ALPN), so a server that stays on HTTP/1.1 costs one extra handshake per time its
   * connections all close, and one restarted with HTTP/2 is spoken to over it from then on.
   */
  http1 = false;
  /** HTTP/1.1 connections the pool's clients have open to the server (http1Connection). */
  private http1Connections = 0;
  refs = 0;

  constructor(
    readonly key: string,
    private readonly url: URL,
    private readonly connection: ClusterConnection,
  ) {}

  /** Sessions in the pool (open, taking new streams or not yet known to be closing). */
  get size(): number {
    return this.sessions.length;
  }

  /**
   * Opens a stream for `headers` (':method' and ':path' included) and waits for its answer's
   * headers; 'http/1.1' when the server does not speak HTTP/2. A stream the server refused
   * unprocessed is opened again on another session (up to MAX_TRIES in all). `track` sees each
   * stream as it opens.
   */
  async request(headers: http2.OutgoingHttpHeaders, body: Buffer | undefined, track: (s: http2.ClientHttp2Stream) => void): Promise<H2Answer | 'http/1.1'> {
    for (let attempt = 0; ; attempt++) {
      // Choosing the session and opening the stream happen in one turn, so concurrent requests
      // count against the session's limit as they choose.
      let s = this.withRoom();
      while (!s) {
        if (this.closed) throw new Error(CLOSED);
        if (this.http1) return 'http/1.1';
        this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
        await this.connecting;
        s = this.withRoom();
      }
      try {
        return await this.exchange(s, headers, body, track);
      } catch (err) {
        if (attempt + 1 < MAX_TRIES && (err as { unprocessed?: boolean }).unprocessed) continue;
        throw err;
      }
    }
  }

  /**
   * Counts an HTTP/1.1 connection a client of this pool opened to the server; when the last one
   * closes, the next request asks for h2 again.
   */
  http1Connection(socket: Socket): void {
    this.http1Connections++;
    socket.once('close', () => {
      if (--this.http1Connections === 0) this.http1 = false;
    });
  }

  private exchange(s: Session, headers: http2.OutgoingHttpHeaders, body: Buffer | undefined, track: (s: http2.ClientHttp2Stream) => void): Promise<H2Answer> {
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = s.session.request(headers, { endStream: body === undefined });
      } catch (err) {
        // The session closed between our choosing it and the request (GOAWAY just arrived).
        this.drop(s);
        reject(Object.assign(err as Error, { unprocessed: true }));
        return;
      }
      s.open.add(stream);
      if (s.open.size === 1) s.session.ref();
      track(stream);
      let answered = false;
      const unanswered = (err: Error | undefined) => {
        if (answered) return;
        answered = true;
        const refused = stream.rstCode === NGHTTP2_REFUSED_STREAM || stream.rstCode === NGHTTP2_ENHANCE_YOUR_CALM || s.unprocessed.has(stream);
        if (stream.rstCode === NGHTTP2_ENHANCE_YOUR_CALM) this.retire(s);
        // The session died (or the server closed it after a GOAWAY) under a stream it kept: client-go's connection lost.
        const connectionLost = !refused && !this.closed && (s.session.destroyed || s.session.closed);
        // A session's error reaches each of its streams as one object: each request gets its own.
        const failure = err ? Object.assign(new Error(err.message, { cause: err }), { code: (err as NodeJS.ErrnoException).code }) : new Error(`the server closed the stream before answering (HTTP/2 code ${stream.rstCode ?? 'none'})`);
        reject(Object.assign(failure, { unprocessed: refused, connectionLost }));
      };
      stream.once('response', (h) => {
        if (answered) return;
        answered = true;
        resolve({ stream, status: Number(h[HTTP2_HEADER_STATUS] ?? 0), headers: h });
      });
      stream.on('error', (err) => unanswered(err));
      stream.once('close', () => {
        unanswered(undefined);
        s.open.delete(stream);
        if (s.open.size === 0 && !s.session.destroyed) s.session.unref();
      });
      if (body !== undefined) stream.end(body);
    });
  }

  /** A session with room for one more stream, if one is open. */
  private withRoom(): Session | undefined {
    if (this.http1) return undefined;
    return this.sessions.find((x) => !x.closing && !x.session.closed && !x.session.destroyed && x.open.size < streamLimit(x.session));
  }

  private async connect(): Promise<Session | 'http/1.1'> {
    const c = this.connection;
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const sock = tls.connect({
        host,
        port: Number(this.url.port || 443),
        servername: isIP(host) ? undefined : host,
        ca: c.ca,
        cert: c.cert,
        key: c.key,
        rejectUnauthorized: !c.insecureSkipTLSVerify,
        ALPNProtocols: ['h2', 'http/1.1'],
      });
      this.handshaking = sock;
      const closed = () => reject(this.closed ? new Error(CLOSED) : Object.assign(new Error(`the connection to ${this.url.origin} closed during its TLS handshake`), { connectionLost: true }));
      sock.once('secureConnect', () => {
        sock.off('error', reject);
        sock.off('close', closed);
        resolve(sock);
      });
      sock.once('error', reject);
      sock.once('close', closed);
    }).finally(() => (this.handshaking = undefined));
    if (this.closed) {
      socket.destroy();
      throw new Error(CLOSED);
    }
    if (socket.alpnProtocol !== 'h2') {
      socket.destroy();
      this.http1 = true;
      return 'http/1.1';
    }
    const session = http2.connect(this.url.origin, { createConnection: () => socket, settings: { enablePush: false, initialWindowSize: STREAM_WINDOW } });
    const s: Session = { session, open: new Set(), closing: false, unprocessed: new WeakSet(), stopHealthCheck: watchHealth(session, socket, this.url.origin) };
    session.once('connect', () => session.setLocalWindowSize(SESSION_WINDOW));
    session.on('goaway', (_code: number, lastStreamID: number) => {
      for (const st of s.open) if (st.id === undefined || st.id > lastStreamID) s.unprocessed.add(st);
      this.drop(s);
    });
    // Errors reach the streams (each request reports its own); the session just leaves the pool.
    session.on('error', () => this.drop(s));
    session.once('close', () => {
      s.stopHealthCheck();
      this.drop(s);
    });
    session.unref();
    this.sessions.push(s);
    return s;
  }

  /** No new streams on `s`; it closes once the streams it has end. */
  private retire(s: Session): void {
    this.drop(s);
    if (!s.session.closed && !s.session.destroyed) s.session.close();
  }

  private drop(s: Session): void {
    s.closing = true;
    this.sessions = this.sessions.filter((x) => x !== s);
  }

  /** Ends every session (their streams' owners have closed them) and the connection being opened. */
  close(): void {
    this.closed = true;
    this.handshaking?.destroy();
    for (const s of this.sessions) {
      s.closing = true;
      for (const st of s.open) st.close(NGHTTP2_CANCEL);
      s.session.close();
    }
    this.sessions = [];
  }
}

/**
 * client-go's HTTP/2 health check on `session`: when nothing has arrived on `socket` for
 * healthCheck.readIdleTimeoutMs, a PING is sent, and the session is destroyed (its streams fail
 * with the reason) when the answer does not come within healthCheck.pingTimeoutMs. A peer that
 * vanished without a reset (a cut link, a frozen server) would otherwise keep the session, and
 * every watch and request on it waiting until the kernel gives up on the connection (about 15
 * minutes of retransmissions of unacknowledged bytes; never for an idle watch). The socket's
 * byte count is looked at four times per idle period, so the PING goes out between 1 and 1.25
 * idle periods after the last byte arrived. Answers the stop.
 */
function watchHealth(session: http2.ClientHttp2Session, socket: tls.TLSSocket, origin: string): () => void {
  const { readIdleTimeoutMs, pingTimeoutMs } = healthCheck;
  let bytes = socket.bytesRead;
  let quietSince = Date.now();
  let pinging = false;
  let deadline: NodeJS.Timeout | undefined;
  const look = () => {
    if (session.destroyed) return;
    if (socket.bytesRead !== bytes) {
      bytes = socket.bytesRead;
      quietSince = Date.now();
      return;
    }
    if (pinging || Date.now() - quietSince < readIdleTimeoutMs) return;
    pinging = true;
    // The verdict waits for one turn of the event loop's I/O: after a turn that blocked this
    // process longer than the timeout, timers run before the answer waiting in the socket is read.
    deadline = setTimeout(() => {
      setImmediate(() => {
        if (pinging) session.destroy(new Error(`${origin} sent nothing for ${readIdleTimeoutMs} ms and did not answer a PING within ${pingTimeoutMs} ms: the connection is closed (HTTP/2 health check)`));
      });
    }, pingTimeoutMs).unref();
    const answered = () => {
      clearTimeout(deadline);
      pinging = false;
      bytes = socket.bytesRead;
      quietSince = Date.now();
    };
    try {
      session.ping(answered);
    } catch {
      answered(); // closed meanwhile: nothing to check
    }
  };
  const timer = setInterval(look, Math.max(1, Math.ceil(readIdleTimeoutMs / 4))).unref();
  return () => {
    clearInterval(timer);
    clearTimeout(deadline);
  };
}

function streamLimit(session: http2.ClientHttp2Session): number {
  return Math.min(session.remoteSettings?.maxConcurrentStreams ?? MAX_STREAMS_PER_SESSION, MAX_STREAMS_PER_SESSION);
}

const pools = new Map<string, H2Pool>();

/** The pool for `connection`'s server and TLS identity (one per process), counted as used once more. */
export function acquirePool(connection: ClusterConnection): H2Pool {
  const h = createHash('sha256');
  for (const part of [connection.server, connection.ca ?? '', connection.cert ?? '', connection.key ?? '', connection.insecureSkipTLSVerify ? '1' : '0']) {
    h.update(typeof part === 'string' ? Buffer.from(part) : part);
    h.update('\0');
  }
  const key = h.digest('hex');
  let pool = pools.get(key);
  if (!pool) {
    const { server, ca, cert, key: privateKey, insecureSkipTLSVerify } = connection;
    pool = new H2Pool(key, new URL(server), { server, ca, cert, key: privateKey, insecureSkipTLSVerify });
    pools.set(key, pool);
  }
  pool.refs++;
  return pool;
}

/** Counts one user fewer; the last one's release ends the pool's sessions. */
export function releasePool(pool: H2Pool): void {
  if (--pool.refs > 0) return;
  if (pools.get(pool.key) === pool) pools.delete(pool.key);
  pool.close();
}

export const CANCEL = NGHTTP2_CANCEL;
