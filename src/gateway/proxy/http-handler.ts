// One HTTP request through the proxy: host and entry selection, filters, backend choice,
// retries and timeouts, response streaming. The table is read once by the caller, so a request
// keeps the table it started with however many swaps happen while it runs.
import type http from 'node:http';
import type http2 from 'node:http2';
import type { Readable } from 'node:stream';
import type { Endpoint } from '../config.js';
import { endpointKey, pickWeighted, type RoundRobin } from './balance.js';
import {
  actualCorsHeaders,
  applyHeaderModifier,
  clientAllowed,
  originAllowed,
  preflightHeaders,
  redirectLocation,
  rewritePath,
  HOP_BY_HOP_SET,
  type CompiledHeaderModifier,
  type HeaderMap,
} from './filters.js';
import { matchedPrefix, normalizeHost, selectEntry, selectVirtualHost, type RequestFacts } from './match.js';
import type { ProxyMetrics } from './metrics.js';
import { isMisdirected } from './misdirected.js';
import { BUFFER_LIMIT, readBody } from './request-body.js';
import type { CompiledBackend, CompiledEntry, HttpTable } from './table.js';
import { slowRequestLine, type RequestMarks } from './slow-requests.js';
import { Cancel, UpstreamError, type UpstreamClients, type UpstreamRequest } from './upstream.js';

export type ClientRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type ClientResponse = http.ServerResponse | http2.Http2ServerResponse;

export interface HandlerContext {
  metrics: ProxyMetrics;
  upstream: UpstreamClients;
  roundRobin: RoundRobin;
  log: (line: object) => void;
  /** A request that takes at least this long gets a "slow request" log line with its phases (0: never). */
  slowRequestMs: number;
}

export interface ClientInfo {
  remoteAddress: string;
  scheme: 'http' | 'https';
  listenerPort: number;
  /** The SNI of a TLS connection (absent when the client sent none). */
  servername?: string;
  /** When the connection was accepted (performance.now()); cleared once its first request started. */
  acceptedAt?: number;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  413: 'Content Too Large',
  421: 'Misdirected Request',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function headerValue(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** What routing decided for a request head. */
export type RouteDecision =
  | { kind: 'respond'; status: number; route: string }
  | { kind: 'route'; entry: CompiledEntry; host: string; path: string; query: string };

export function routeRequest(table: HttpTable, method: string, url: string, headers: http.IncomingHttpHeaders, remoteAddress: string, servername?: string): RouteDecision {
  const qi = url.indexOf('?');
  const path = qi < 0 ? url : url.slice(0, qi);
  const query = qi < 0 ? '' : url.slice(qi + 1);
  const host = normalizeHost(headerValue(headers, 'host') ?? headerValue(headers, ':authority'));
  const listeners = table.tls?.listenerHostnames;
  if (servername && listeners && isMisdirected(listeners, servername, host)) return { kind: 'respond', status: 421, route: 'none' };
  const vhost = selectVirtualHost(table.hosts, host);
  const facts: RequestFacts = { method, path, query, header: (n) => headerValue(headers, n) };
  const entry = vhost ? selectEntry(vhost.entries, facts) : undefined;
  if (!entry) return { kind: 'respond', status: 404, route: 'none' };
  if (!clientAllowed(entry.filters.sourceRanges, remoteAddress)) return { kind: 'respond', status: 403, route: entry.route };
  return { kind: 'route', entry, host, path, query };
}

/**
 * Headers for the upstream request: client headers without hop-by-hop ones, plus X-Forwarded-*.
 * Hop-by-hop names (and those listed in Connection) are skipped while copying instead of deleted
 * afterwards: `delete` turns the object into a slow dictionary for undici to walk.
 */
export function forwardedHeaders(headers: http.IncomingHttpHeaders, client: ClientInfo): HeaderMap {
  const out: HeaderMap = {};
  const conn = headers.connection;
  let listed: string[] | undefined;
  if (conn !== undefined) {
    for (const token of conn.split(',')) {
      const name = token.trim().toLowerCase();
      if (name && !HOP_BY_HOP_SET.has(name)) (listed ??= []).push(name);
    }
  }
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ':' */ || HOP_BY_HOP_SET.has(name) || name === 'expect') continue;
    if (listed !== undefined && listed.includes(name)) continue;
    out[name] = headers[name];
  }
  const authority = headerValue(headers, 'host') ?? headerValue(headers, ':authority');
  if (authority !== undefined) out.host = authority;
  const xff = headerValue(headers, 'x-forwarded-for');
  const ip = client.remoteAddress.startsWith('::ffff:') ? client.remoteAddress.slice(7) : client.remoteAddress;
  out['x-forwarded-for'] = xff ? `${xff}, ${ip}` : ip;
  out['x-forwarded-proto'] = client.scheme;
  if (authority !== undefined) out['x-forwarded-host'] = authority;
  return out;
}

export type BackendChoice = { kind: 'endpoint'; backend: CompiledBackend; endpoint: Endpoint } | { kind: 'respond'; status: number; why: string };

export function chooseBackend(entry: CompiledEntry, rr: RoundRobin, pinned?: string): BackendChoice {
  if (entry.backends.length === 0) return { kind: 'respond', status: 500, why: 'the rule has no backends' };
  if (pinned) {
    for (const b of entry.backends) {
      if (b.backend.invalid || b.weight <= 0) continue;
      const ep = b.backend.endpoints.find((e) => endpointKey(e) === pinned);
      if (ep) return { kind: 'endpoint', backend: b, endpoint: ep };
    }
  }
  const b = pickWeighted(entry.backends);
  if (!b) return { kind: 'respond', status: 500, why: 'every backend has weight 0' };
  if (b.backend.invalid) return { kind: 'respond', status: 500, why: `backend ${b.backend.name}: ${b.backend.invalid}` };
  const endpoint = rr.pick(b.backend);
  if (!endpoint) return { kind: 'respond', status: 503, why: `backend ${b.backend.name} has no ready endpoints` };
  return { kind: 'endpoint', backend: b, endpoint };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function hasRequestBody(req: ClientRequest): boolean {
  const h2stream = (req as http2.Http2ServerRequest).stream as http2.ServerHttp2Stream | undefined;
  if (h2stream && 'endAfterHeaders' in h2stream) return !h2stream.endAfterHeaders;
  const cl = req.headers['content-length'];
  return (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
}

export function sendStatus(res: ClientResponse, status: number, extra?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = `${status} ${STATUS_TEXT[status] ?? ''}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

/** Fire-and-forget copy of the request to one endpoint of the mirror backend. */
function mirror(ctx: HandlerContext, entry: CompiledEntry, req: UpstreamRequest): void {
  for (const m of entry.filters.mirrors) {
    if (m.percent < 100 && Math.random() * 100 >= m.percent) continue;
    if (m.backend.invalid) continue;
    const endpoint = ctx.roundRobin.pick(m.backend);
    if (!endpoint) continue;
    const cancel = new Cancel();
    const timer = setTimeout(() => cancel.abort(), 30_000);
    ctx.upstream
      .request(m.backend, endpoint, { ...req, headers: { ...req.headers } }, cancel)
      .then((r) => {
        r.discard();
      })
      .catch((e: Error) => {
        ctx.metrics.upstreamErrors.inc({ backend: m.backend.name, reason: e instanceof UpstreamError ? e.reason : 'protocol' });
      })
      .finally(() => clearTimeout(timer));
  }
}

export async function handleHttpRequest(ctx: HandlerContext, table: HttpTable, req: ClientRequest, res: ClientResponse, client: ClientInfo): Promise<void> {
  const started = performance.now();
  const marks: RequestMarks = { acceptedAt: client.acceptedAt, startedAt: started, endedAt: started };
  client.acceptedAt = undefined;
  let upstreamEndpoint: Endpoint | undefined;
  let route = 'none';
  // One 'close' listener per request: metrics, the slow-request line, and a client gone before the response ended.
  let timedOut = false;
  let clientGone = false;
  let current: Cancel | undefined;
  res.once('close', () => {
    marks.endedAt = performance.now();
    ctx.metrics.observe(route, res.statusCode, (marks.endedAt - started) / 1e3);
    if (marks.endedAt - started >= ctx.slowRequestMs && ctx.slowRequestMs > 0) {
      if (upstreamEndpoint) marks.upstreamConnectedAt = ctx.upstream.lastConnectedAt(upstreamEndpoint);
      const line = slowRequestLine(marks, route, res.statusCode, ctx.slowRequestMs, performance.timeOrigin);
      if (line) ctx.log(line);
    }
    if (!res.writableFinished) {
      clientGone = true;
      current?.abort();
    }
  });
  const method = req.method ?? 'GET';
  const decision = routeRequest(table, method, req.url ?? '/', req.headers, client.remoteAddress, client.servername);
  if (decision.kind === 'respond') {
    route = decision.route;
    req.resume();
    return sendStatus(res, decision.status);
  }
  const { entry, host, path, query } = decision;
  route = entry.route;
  const f = entry.filters;

  // CORS: preflights from allowed origins are answered here; actual requests get the headers.
  let corsHeaders: Record<string, string> | undefined;
  const origin = headerValue(req.headers, 'origin');
  if (f.cors && origin !== undefined && originAllowed(f.cors, origin)) {
    if (method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      req.resume();
      res.writeHead(200, { ...preflightHeaders(f.cors, origin), 'content-length': '0' });
      res.end();
      return;
    }
    corsHeaders = actualCorsHeaders(f.cors, origin);
  }

  if (f.redirect) {
    req.resume();
    const location = redirectLocation(f.redirect, { scheme: client.scheme, host, listenerPort: client.listenerPort, path, query, prefix: matchedPrefix(entry.match) });
    res.writeHead(f.redirect.statusCode, { location, 'content-length': '0' });
    res.end();
    return;
  }

  const declared = req.headers['content-length'];
  if (entry.maxBodyBytes !== undefined && declared !== undefined && Number(declared) > entry.maxBodyBytes) {
    req.resume();
    return sendStatus(res, 413, { connection: 'close' });
  }

  const headers = forwardedHeaders(req.headers, client);
  for (const m of f.requestHeaders) applyHeaderModifier(headers, m);
  let outPath = path;
  if (f.rewrite?.hostname) headers.host = f.rewrite.hostname;
  if (f.rewrite?.path) outPath = rewritePath(path, f.rewrite.path, matchedPrefix(entry.match));

  // The body: buffered when it may be re-sent (retry), copied (mirror) or must be measured.
  let body: Buffer | Readable | null = null;
  let buffered = false;
  if (hasRequestBody(req)) {
    const needsBuffer = (entry.retry && entry.retry.attempts > 0) || f.mirrors.length > 0 || (entry.maxBodyBytes !== undefined && declared === undefined);
    if (needsBuffer) {
      const read = await readBody(req, BUFFER_LIMIT, entry.maxBodyBytes);
      if (read.kind === 'too-large') return sendStatus(res, 413, { connection: 'close' });
      if (read.kind === 'failed') return void res.destroy();
      body = read.body;
      buffered = read.kind === 'buffered';
    } else {
      body = req;
    }
  } else {
    buffered = true;
    if (method !== 'GET' && method !== 'HEAD' && req.headers['content-length'] === undefined) req.resume();
  }

  const te = headerValue(req.headers, 'te');
  const wantsTrailers = te !== undefined && /trailers/i.test(te);
  const baseRequest: UpstreamRequest = { method, path: query ? `${outPath}?${query}` : outPath, headers, body, wantsTrailers };
  if (buffered && f.mirrors.length > 0) mirror(ctx, entry, baseRequest);

  let pinned: string | undefined;
  if (entry.affinityCookie) {
    const raw = cookieValue(headerValue(req.headers, 'cookie'), entry.affinityCookie.name);
    if (raw) pinned = Buffer.from(raw, 'base64url').toString();
  }

  // Timeouts: the whole request, and each attempt.
  const requestMs = entry.timeouts?.requestMs || 0;
  const backendMs = entry.timeouts?.backendRequestMs || 0;
  const requestTimer = requestMs
    ? setTimeout(() => {
        timedOut = true;
        current?.abort();
        if (!res.headersSent) sendStatus(res, 504);
        else res.destroy();
      }, requestMs)
    : undefined;

  const attempts = 1 + (buffered && entry.retry ? Math.max(0, entry.retry.attempts) : 0);
  try {
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0 && entry.retry!.backoffMs > 0) await sleep(entry.retry!.backoffMs);
      if (timedOut || clientGone) return;
      const choice = chooseBackend(entry, ctx.roundRobin, pinned);
      if (choice.kind === 'respond') {
        ctx.log({ level: 'warn', msg: 'request not forwarded', route, status: choice.status, why: choice.why });
        return sendStatus(res, choice.status);
      }
      const { backend, endpoint } = choice;
      const outReq: UpstreamRequest = backend.filters.requestHeaders.length || backend.filters.rewrite ? { ...baseRequest, headers: { ...headers } } : baseRequest;
      for (const m of backend.filters.requestHeaders) applyHeaderModifier(outReq.headers, m);
      if (backend.filters.rewrite?.hostname) outReq.headers.host = backend.filters.rewrite.hostname;
      if (backend.filters.rewrite?.path) outReq.path = rewritePath(outPath, backend.filters.rewrite.path, matchedPrefix(entry.match)) + (query ? `?${query}` : '');

      const cancel = new Cancel();
      current = cancel;
      let attemptTimedOut = false;
      const attemptTimer = backendMs
        ? setTimeout(() => {
            attemptTimedOut = true;
            cancel.abort();
          }, backendMs)
        : undefined;
      try {
        marks.dispatchedAt = performance.now();
        upstreamEndpoint = endpoint;
        const up = await ctx.upstream.request(backend.backend, endpoint, outReq, cancel);
        marks.upstreamHeadAt = performance.now();
        marks.upstreamWrittenAt = up.writtenAt;
        if (attempt < attempts - 1 && entry.retry!.codes.includes(up.status)) {
          clearTimeout(attemptTimer);
          up.discard();
          ctx.metrics.upstreamErrors.inc({ backend: backend.backend.name, reason: `status_${up.status}` });
          continue;
        }
        if (timedOut || clientGone || res.headersSent || res.destroyed) {
          clearTimeout(attemptTimer);
          up.discard();
          return;
        }
        const out = up.headers;
        for (const m of entry.filters.responseHeaders) applyHeaderModifier(out, m);
        for (const m of backend.filters.responseHeaders) applyHeaderModifier(out, m as CompiledHeaderModifier);
        if (corsHeaders) Object.assign(out, corsHeaders);
        if (entry.affinityCookie && pinned !== endpointKey(endpoint)) {
          const c = entry.affinityCookie;
          const cookie = `${c.name}=${Buffer.from(endpointKey(endpoint)).toString('base64url')}; Path=${c.path ?? '/'}${c.maxAgeSeconds ? `; Max-Age=${c.maxAgeSeconds}` : ''}; HttpOnly`;
          const old = out['set-cookie'];
          out['set-cookie'] = old === undefined ? [cookie] : [...(Array.isArray(old) ? old : [old]), cookie];
        }
        res.writeHead(up.status, out as http.OutgoingHttpHeaders);
        try {
          const trailers = await up.pipe(res as unknown as NodeJS.WritableStream as import('node:stream').Writable);
          if (trailers && !res.destroyed) res.addTrailers(trailers);
          if (!res.destroyed) res.end();
        } catch (e) {
          const err = e as UpstreamError;
          ctx.metrics.upstreamErrors.inc({ backend: backend.backend.name, reason: attemptTimedOut ? 'timeout' : (err.reason ?? 'protocol') });
          res.destroy();
        } finally {
          clearTimeout(attemptTimer);
        }
        return;
      } catch (e) {
        clearTimeout(attemptTimer);
        if (timedOut || clientGone) return;
        const err = e as UpstreamError;
        const reason = attemptTimedOut ? 'timeout' : (err.reason ?? 'protocol');
        ctx.metrics.upstreamErrors.inc({ backend: backend.backend.name, reason });
        if (reason === 'timeout') return sendStatus(res, 504);
        ctx.log({ level: 'warn', msg: 'upstream attempt failed', route, backend: backend.backend.name, endpoint: endpointKey(endpoint), attempt, error: err.message });
        if (attempt < attempts - 1) continue;
        return sendStatus(res, 502);
      }
    }
  } finally {
    clearTimeout(requestTimer);
  }
}
