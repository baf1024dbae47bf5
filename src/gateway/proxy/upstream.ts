// Upstream clients with pooled keep-alive connections per endpoint.
// HTTP/1.1 ('http', 'ws', 'https'): undici Pool + dispatch by default, the faster client here.
// bench/gateway/throughput.ts, 2026-12-06, wrk 64 connections, proxy pinned to one core, on a
// shared 2-core machine at load average 15-18 (so absolute numbers are low and noisy), medians of
// 3 interleaved rounds: ~40 B body: undici 173 req/s, 903 us CPU/request vs node:http keep-alive
// Agent 102 req/s, 1435 us CPU/request; 16 KiB body: undici 394 req/s, 482 us vs Agent 444 req/s,
// 505 us. undici used less CPU per request in both; on a quiet machine the reference measurement
// (gateway-l7-anchors.md) gave undici 18.1-18.7k req/s vs 10.6-14.3k for the Agent.
// Hot-path pass, 2026-12-06 (same bench, CPU time per request of the proxy process, interleaved
// with a minimal node:http -> undici Pool.dispatch proxy written in the bench and with nginx; load
// average 16-26): before, ~40 B body 356 us vs minimal 199 us (1.79x), 16 KiB 234 us vs 139 us
// (1.69x); after (Cancel instead of AbortController, headers copied without hop-by-hop instead of
// deleted, per-route metrics in plain numbers, pool cached per endpoint object, one 'close'
// listener), 5 rounds: ~40 B 229 us vs 167 us (1.37x), 16 KiB 163 us vs 128 us (1.28x); nginx
// 45-52 us.
// 'node-http' stays selectable (GatewayProxyOptions.upstreamClient) so the bench can compare.
// 'h2c' and 'grpc': one node:http2 client session per endpoint, trailers passed through.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { Readable, Writable } from 'node:stream';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import type { Endpoint, WeightedBackend } from '../config.js';
import { endpointKey } from './balance.js';
import type { HeaderMap } from './filters.js';
import { HOP_BY_HOP_SET, stripHopByHop } from './filters.js';

export type UpstreamClientKind = 'undici' | 'node-http';

export interface UpstreamRequest {
  method: string;
  /** Path with query. */
  path: string;
  /** Outgoing headers, lower-case, hop-by-hop removed, `host` set. */
  headers: HeaderMap;
  body: Buffer | Readable | null;
  /** The client asked for trailers (TE: trailers, gRPC). */
  wantsTrailers: boolean;
}

export interface UpstreamResponse {
  status: number;
  /** Hop-by-hop headers already removed. */
  headers: HeaderMap;
  /** Streams the body into `sink` (without ending it); resolves with the trailers, if any. */
  pipe(sink: Writable): Promise<Record<string, string> | undefined>;
  /** Drops the response (the connection is not reused when the body was not read). */
  discard(): void;
  /** When the request was written to its upstream connection (performance.now(); undici only). */
  writtenAt?: number;
}

/**
 * Cancels one upstream attempt. Replaces AbortController on the hot path: an AbortController is
 * an EventTarget plus an AbortSignal per request, and their creation plus add/removeEventListener
 * took ~3% of the proxy's CPU in a profile (bench/gateway/throughput.ts); this is a field and a
 * callback. `signal()` makes a real AbortSignal for the node:http and http2 clients.
 */
export class Cancel {
  aborted = false;
  private listener: (() => void) | undefined = undefined;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const f = this.listener;
    this.listener = undefined;
    if (f) f();
  }

  /** The one callback run on abort (undefined removes it). */
  listen(f: (() => void) | undefined): void {
    this.listener = f;
  }

  signal(): AbortSignal {
    const ac = new AbortController();
    if (this.aborted) ac.abort();
    else this.listen(() => ac.abort());
    return ac.signal;
  }
}

/** An upstream failure: `reason` is the metrics label. */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly reason: 'connect' | 'reset' | 'timeout' | 'protocol' | 'aborted',
  ) {
    super(message);
  }
}

function classify(err: Error & { code?: string }): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const code = err.code ?? '';
  if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EADDRNOTAVAIL|CONNECT_TIMEOUT/.test(code)) return new UpstreamError(`${code}: ${err.message}`, 'connect');
  if (/TIMEOUT/i.test(code)) return new UpstreamError(`${code}: ${err.message}`, 'timeout');
  if (/ABORT/i.test(code) || err.name === 'AbortError') return new UpstreamError(err.message, 'aborted');
  if (/ECONNRESET|EPIPE|SOCKET|CLOSED|UND_ERR_SOCKET/.test(code)) return new UpstreamError(`${code}: ${err.message}`, 'reset');
  return new UpstreamError(`${code || err.name}: ${err.message}`, 'protocol');
}

/**
 * Response headers from undici's raw list, lower-cased, hop-by-hop ones (and the names listed in
 * Connection) left out while copying: no `delete` afterwards, which would turn the object into a
 * slow dictionary. Bytes are decoded as latin1, the way node:http writes them back out.
 */
function responseHeadersFromRaw(raw: Buffer[] | string[]): HeaderMap {
  const out: HeaderMap = {};
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1').toLowerCase();
    const value = raw[i + 1].toString('latin1');
    if (HOP_BY_HOP_SET.has(name)) {
      if (name === 'connection') connection = connection === undefined ? value : `${connection},${value}`;
      continue;
    }
    const old = out[name];
    if (old === undefined) out[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(old)) old.push(value);
    else out[name] = `${old}, ${value}`;
  }
  if (connection !== undefined) {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      if (name && !HOP_BY_HOP_SET.has(name) && out[name] !== undefined) delete out[name];
    }
  }
  return out;
}

function trailersFromRaw(raw: Buffer[] | string[] | null): Record<string, string> | undefined {
  if (!raw || raw.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) out[raw[i].toString().toLowerCase()] = raw[i + 1].toString();
  return out;
}

/**
 * One exchange over undici's dispatch: pauses after the head until the caller pipes or discards
 * it. The exchange is itself the UpstreamResponse (no per-response closures).
 */
class DispatchExchange implements Dispatcher.DispatchHandlers, UpstreamResponse {
  status = 0;
  headers: HeaderMap = {};
  private abortFn?: (err?: Error) => void;
  private resumeFn?: () => void;
  private sink?: Writable;
  private headSettled = false;
  private finished = false;
  private pending: Buffer[] = [];
  private doneResolve?: (t: Record<string, string> | undefined) => void;
  private doneReject?: (e: Error) => void;
  private completed?: { trailers?: Record<string, string>; error?: Error };

  constructor(
    private readonly headResolve: (r: UpstreamResponse) => void,
    private readonly headReject: (e: Error) => void,
    private readonly cancel: Cancel,
  ) {
    cancel.listen(() => this.abortFn?.(new UpstreamError('request aborted', 'aborted')));
  }

  writtenAt: number | undefined = undefined;

  /** undici calls this as it writes the request to a connection (after a free one was found, or opened). */
  onConnect(abort: (err?: Error) => void): void {
    this.writtenAt = performance.now();
    this.abortFn = abort;
    if (this.cancel.aborted) abort(new UpstreamError('request aborted', 'aborted'));
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    if (status < 200) return true;
    this.resumeFn = resume;
    this.status = status;
    this.headers = responseHeadersFromRaw(raw);
    this.headSettled = true;
    this.headResolve(this);
    return false;
  }

  discard(): void {
    this.finished = true;
    this.abortFn?.(new UpstreamError('response discarded', 'aborted'));
  }

  pipe(sink: Writable): Promise<Record<string, string> | undefined> {
    this.sink = sink;
    for (const chunk of this.pending) sink.write(chunk);
    this.pending = [];
    return new Promise((resolve, reject) => {
      if (this.completed) {
        if (this.completed.error) reject(this.completed.error);
        else resolve(this.completed.trailers);
        return;
      }
      this.doneResolve = resolve;
      this.doneReject = reject;
      this.resumeFn?.();
    });
  }

  private onDrain = (): void => this.resumeFn?.();

  onData(chunk: Buffer): boolean {
    if (!this.sink) {
      this.pending.push(chunk);
      return false;
    }
    if (this.sink.destroyed) return true;
    const ok = this.sink.write(chunk);
    if (!ok) this.sink.once('drain', this.onDrain);
    return ok;
  }

  onComplete(trailers: string[] | null): void {
    this.finish({ trailers: trailersFromRaw(trailers) });
  }

  onError(err: Error): void {
    const e = classify(err);
    if (!this.headSettled) {
      this.headSettled = true;
      this.cleanup();
      this.headReject(e);
      return;
    }
    this.finish({ error: e });
  }

  private finish(c: { trailers?: Record<string, string>; error?: Error }): void {
    this.cleanup();
    if (this.completed) return;
    this.completed = c;
    if (c.error) this.doneReject?.(c.error);
    else this.doneResolve?.(c.trailers);
  }

  private cleanup(): void {
    this.cancel.listen(undefined);
    this.sink?.removeListener('drain', this.onDrain);
  }
}

function streamResponse(res: http.IncomingMessage, discard: () => void): UpstreamResponse {
  const headers = { ...res.headers } as HeaderMap;
  stripHopByHop(headers);
  return {
    status: res.statusCode ?? 502,
    headers,
    pipe: (sink) =>
      new Promise((resolve, reject) => {
        res.on('end', () => resolve(Object.keys(res.trailers).length ? (res.trailers as Record<string, string>) : undefined));
        res.on('error', (e) => reject(classify(e)));
        res.on('aborted', () => reject(new UpstreamError('upstream response aborted', 'reset')));
        res.pipe(sink, { end: false });
      }),
    discard,
  };
}

/** How long a pool keeps an idle upstream connection open (unless the backend says less). */
const IDLE_KEEP_ALIVE_MS = 4_000;

/**
 * How long the connections of an endpoint that left the config stay open: the pools' own idle
 * keep-alive time, after which an unused connection would be closed anyway.
 */
export const RETIRED_LINGER_MS = IDLE_KEEP_ALIVE_MS;

export class UpstreamClients {
  private pools = new Map<string, Pool>();
  private agents = { http: new http.Agent({ keepAlive: true, maxSockets: 256 }), https: new https.Agent({ keepAlive: true, maxSockets: 256, rejectUnauthorized: false }) };
  private sessions = new Map<string, http2.ClientHttp2Session>();
  private httpPoolByEndpoint = new WeakMap<Endpoint, Pool>();
  private httpsPoolByEndpoint = new WeakMap<Endpoint, Pool>();
  /** When each pool last opened a connection (performance.now()). */
  private connectedAt = new WeakMap<Pool, number>();
  /** Close timers of pools (by origin) and sessions (by endpoint key) whose endpoint left the config. */
  private retirements = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly kind: UpstreamClientKind = 'undici',
    private readonly retiredLingerMs = RETIRED_LINGER_MS,
  ) {}

  request(backend: WeightedBackend, endpoint: Endpoint, req: UpstreamRequest, cancel: Cancel): Promise<UpstreamResponse> {
    if (backend.protocol === 'h2c' || backend.protocol === 'grpc') return this.requestH2(endpoint, req, cancel.signal());
    const tlsOn = backend.protocol === 'https';
    return this.kind === 'undici' ? this.requestUndici(endpoint, tlsOn, req, cancel) : this.requestNodeHttp(endpoint, tlsOn, req, cancel.signal());
  }

  /**
   * Pools and sessions of endpoints no longer in the config are closed after RETIRED_LINGER_MS,
   * not at once (in-flight requests finish either way): a route deleted and created again, or a
   * Service whose last route is replaced, would otherwise make the next first request open a new
   * upstream connection (a TCP handshake and the backend's accept on its path). One that is back
   * in the config before then is kept.
   */
  retain(endpoints: Set<string>): void {
    for (const origin of this.pools.keys()) this.retire(origin, origin.slice(origin.indexOf('://') + 3), endpoints);
    for (const key of this.sessions.keys()) this.retire(key, key, endpoints);
  }

  private retire(id: string, endpoint: string, endpoints: Set<string>): void {
    const timer = this.retirements.get(id);
    if (endpoints.has(endpoint)) {
      if (timer !== undefined) {
        clearTimeout(timer);
        this.retirements.delete(id);
      }
      return;
    }
    if (timer !== undefined) return;
    const t = setTimeout(() => {
      this.retirements.delete(id);
      const pool = this.pools.get(id);
      if (pool) {
        this.pools.delete(id);
        pool.close().catch(() => undefined);
      }
      const session = this.sessions.get(id);
      if (session) {
        this.sessions.delete(id);
        session.close();
      }
    }, this.retiredLingerMs);
    t.unref();
    this.retirements.set(id, t);
  }

  private pool(origin: string, tlsOn: boolean): Pool {
    let p = this.pools.get(origin);
    if (!p) {
      p = new Pool(origin, {
        connections: 256,
        pipelining: 1,
        keepAliveTimeout: IDLE_KEEP_ALIVE_MS,
        headersTimeout: 0,
        bodyTimeout: 0,
        connect: tlsOn ? { rejectUnauthorized: false } : undefined,
      });
      const pool = p;
      pool.on('connect', () => this.connectedAt.set(pool, performance.now()));
      this.pools.set(origin, p);
    }
    return p;
  }

  /** When the HTTP/1.1 pool of this endpoint object last opened a connection (performance.now()), if it did. */
  lastConnectedAt(endpoint: Endpoint): number | undefined {
    const pool = this.httpPoolByEndpoint.get(endpoint) ?? this.httpsPoolByEndpoint.get(endpoint);
    return pool === undefined ? undefined : this.connectedAt.get(pool);
  }

  /** The pool of an endpoint object of the current config, without building its origin string. */
  private poolOf(endpoint: Endpoint, tlsOn: boolean): Pool {
    const cache = tlsOn ? this.httpsPoolByEndpoint : this.httpPoolByEndpoint;
    const cached = cache.get(endpoint);
    if (cached && !cached.closed && !cached.destroyed) return cached;
    const pool = this.pool(`${tlsOn ? 'https' : 'http'}://${endpointKey(endpoint)}`, tlsOn);
    cache.set(endpoint, pool);
    return pool;
  }

  private requestUndici(endpoint: Endpoint, tlsOn: boolean, req: UpstreamRequest, cancel: Cancel): Promise<UpstreamResponse> {
    const pool = this.poolOf(endpoint, tlsOn);
    return new Promise((resolve, reject) => {
      const ex = new DispatchExchange(resolve, reject, cancel);
      pool.dispatch(
        {
          path: req.path,
          method: req.method as Dispatcher.HttpMethod,
          headers: req.headers as Record<string, string | string[]>,
          body: req.body,
          // Timeouts are the route's (timeouts.*), enforced by the handler.
          headersTimeout: 0,
          bodyTimeout: 0,
        },
        ex,
      );
    });
  }

  private requestNodeHttp(endpoint: Endpoint, tlsOn: boolean, req: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const mod = tlsOn ? https : http;
      const out = mod.request({
        host: endpoint.address,
        port: endpoint.port,
        method: req.method,
        path: req.path,
        headers: req.headers as http.OutgoingHttpHeaders,
        agent: tlsOn ? this.agents.https : this.agents.http,
        signal,
      });
      let settled = false;
      out.on('response', (res) => {
        settled = true;
        resolve(streamResponse(res, () => out.destroy()));
      });
      out.on('error', (e) => {
        if (!settled) {
          settled = true;
          reject(classify(e));
        }
      });
      sendBody(out, req.body);
    });
  }

  private session(endpoint: Endpoint): http2.ClientHttp2Session {
    const key = endpointKey(endpoint);
    let s = this.sessions.get(key);
    if (s && !s.closed && !s.destroyed) return s;
    s = http2.connect(`http://${key}`);
    const created = s;
    const forget = (): void => {
      if (this.sessions.get(key) === created) this.sessions.delete(key);
    };
    s.on('error', forget);
    s.on('close', forget);
    s.on('goaway', forget);
    s.setTimeout(60_000, () => created.close());
    this.sessions.set(key, s);
    return s;
  }

  private requestH2(endpoint: Endpoint, req: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      let session: http2.ClientHttp2Session;
      try {
        session = this.session(endpoint);
      } catch (e) {
        reject(classify(e as Error));
        return;
      }
      const headers: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && k !== 'host') headers[k] = v;
      headers[':method'] = req.method;
      headers[':path'] = req.path;
      headers[':authority'] = (req.headers.host as string | undefined) ?? endpointKey(endpoint);
      headers[':scheme'] = 'http';
      if (req.wantsTrailers) headers.te = 'trailers';
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request(headers, { endStream: req.body === null, signal });
      } catch (e) {
        reject(classify(e as Error));
        return;
      }
      let settled = false;
      let trailers: Record<string, string> | undefined;
      stream.on('trailers', (t) => {
        trailers = {};
        for (const [k, v] of Object.entries(t)) if (!k.startsWith(':') && v !== undefined) trailers[k] = String(v);
      });
      stream.on('response', (h) => {
        settled = true;
        const out: HeaderMap = {};
        for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') && v !== undefined) out[k] = Array.isArray(v) ? v : String(v);
        stripHopByHop(out);
        resolve({
          status: Number(h[':status'] ?? 502),
          headers: out,
          pipe: (sink) =>
            new Promise((res2, rej2) => {
              stream.on('end', () => res2(trailers));
              stream.on('error', (e) => rej2(classify(e)));
              stream.on('close', () => {
                if (stream.rstCode && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) rej2(new UpstreamError(`stream reset ${stream.rstCode}`, 'reset'));
              });
              stream.pipe(sink, { end: false });
            }),
          discard: () => stream.close(http2.constants.NGHTTP2_CANCEL),
        });
      });
      stream.on('error', (e) => {
        if (!settled) {
          settled = true;
          reject(classify(e));
        }
      });
      stream.on('close', () => {
        if (!settled) {
          settled = true;
          reject(new UpstreamError(`stream closed before a response (code ${stream.rstCode})`, 'reset'));
        }
      });
      if (req.body !== null) sendBody(stream, req.body);
    });
  }

  async close(): Promise<void> {
    for (const t of this.retirements.values()) clearTimeout(t);
    this.retirements.clear();
    const pools = [...this.pools.values()];
    this.pools.clear();
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
    this.agents.http.destroy();
    this.agents.https.destroy();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }
}

function sendBody(out: Writable, body: Buffer | Readable | null): void {
  if (body === null) out.end();
  else if (Buffer.isBuffer(body)) out.end(body);
  else {
    body.on('error', (e) => out.destroy(e));
    body.pipe(out);
  }
}
