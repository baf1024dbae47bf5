// The Gateway API conformance echo backend (`registry.k8s.io/gateway-api/echo-basic`, also the
// ingress-controller-conformance echoserver): every request is answered with a JSON picture of
// itself (path, host, method, proto, headers with Go's canonical names, the pod's identity), so
// a test can see exactly what the gateway forwarded. Served on HTTP_PORT (3000), on H2C_PORT
// (3001, HTTP/2 with prior knowledge) and, with TLS_SERVER_CERT/TLS_SERVER_PRIVKEY, on
// HTTPS_PORT (8443). Special paths: /health, /status/NNN, /retry..., /ws (WebSocket echo).
// GRPC_ECHO_SERVER, TCP_ECHO_SERVER or UDP_ECHO_SERVER switch to the gRPC, TCP or UDP echo
// (echo-grpc.ts, echo-tcp.ts, echo-udp.ts) instead, as the upstream image does.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import { WebSocketServer } from 'ws';
import { serveGrpcEcho } from './echo-grpc.js';
import { serveTcpEcho } from './echo-tcp.js';
import { serveUdpEcho } from './echo-udp.js';
import { pemFromEnv } from './pem-env.js';
import { listenAllInNetns, type OpenServer } from './sockets.js';
import { servingWorkload, WorkloadStartError, type WorkloadContext, type WorkloadMain } from './workload.js';

// ---------- pure parts ----------

const GO_DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration ("1s", "500ms", "1m30s", "1.5h", "0") into milliseconds; undefined when invalid. */
export function parseGoDuration(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  const part = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length > 0) {
    const m = part.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * GO_DURATION_UNITS[m[2]];
    s = s.slice(m[0].length);
  }
  return sign * total;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Go's textproto.CanonicalMIMEHeaderKey: "x-foo-bar" -> "X-Foo-Bar"; names with non-token characters stay as they are. */
export function canonicalHeaderName(name: string): string {
  if (!TOKEN.test(name)) return name;
  let upper = true;
  let out = '';
  for (const ch of name) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}

/** The request's headers as Go's http.Header: canonical names, values in arrival order; Host and Transfer-Encoding are not headers in Go. */
export function goHeaders(rawHeaders: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.startsWith(':')) continue; // HTTP/2 pseudo-headers
    const key = canonicalHeaderName(name);
    if (key === 'Host' || key === 'Transfer-Encoding') continue;
    (out[key] ??= []).push(rawHeaders[i + 1]);
  }
  return out;
}

/** The response headers an X-Echo-Set-Header request asks for ("Name:val,Name2:val2"); repeated names join with ",". */
export function echoSetHeaders(values: readonly string[]): [string, string][] {
  const out = new Map<string, string>();
  for (const list of values) {
    for (const item of list.split(',')) {
      const kv = item.trim();
      const colon = kv.indexOf(':');
      const name = colon === -1 ? kv : kv.slice(0, colon);
      const value = colon === -1 ? '' : kv.slice(colon + 1).trim();
      if (!name || !TOKEN.test(name)) continue;
      const prev = out.get(name);
      out.set(name, prev === undefined ? value : `${prev},${value}`);
    }
  }
  return [...out];
}

export interface EchoContext {
  namespace: string;
  ingress: string;
  service: string;
  pod: string;
  httpPort: string;
}

export interface TlsAssertions {
  version: string;
  peerCertificates?: string[];
  serverName: string;
  negotiatedProtocol?: string;
  cipherSuite: string;
}

export interface EchoRequest {
  /** The request target as received (RequestURI: path and query). */
  path: string;
  host: string;
  method: string;
  /** "HTTP/1.1", "HTTP/2.0". */
  proto: string;
  headers: Record<string, string[]>;
  tls?: TlsAssertions;
}

/** The echo answer's body, fields in echo-basic's order, indented as Go's MarshalIndent(v, "", " ") does. */
export function echoBody(req: EchoRequest, ctx: EchoContext): string {
  const sortedHeaders: Record<string, string[]> = {};
  for (const k of Object.keys(req.headers).sort()) sortedHeaders[k] = req.headers[k];
  const body: Record<string, unknown> = {
    path: req.path,
    host: req.host,
    method: req.method,
    proto: req.proto,
    headers: sortedHeaders,
    namespace: ctx.namespace,
    ingress: ctx.ingress,
    service: ctx.service,
    pod: ctx.pod,
    httpPort: ctx.httpPort,
  };
  if (req.tls) body.tls = req.tls;
  body.sni = '';
  return JSON.stringify(body, null, ' ');
}

export type EchoRoute =
  | { kind: 'health' }
  | { kind: 'status'; code: number }
  | { kind: 'bad-status' }
  | { kind: 'retry' }
  | { kind: 'websocket' }
  | { kind: 'echo' };

/** Which handler serves a request target (echo-basic's mux; a "//" in the path counts as "/"). */
export function routeEcho(requestUri: string): EchoRoute {
  const q = requestUri.indexOf('?');
  const path = (q === -1 ? requestUri : requestUri.slice(0, q)).replace(/\/\//g, '/');
  if (path === '/health') return { kind: 'health' };
  if (path.startsWith('/status/')) {
    const m = /^\/status\/(\d\d\d)$/.exec(requestUri);
    return m ? { kind: 'status', code: Number(m[1]) } : { kind: 'bad-status' };
  }
  if (path === '/retry' || path.startsWith('/retry/')) return { kind: 'retry' };
  if (path === '/ws') return { kind: 'websocket' };
  return { kind: 'echo' };
}

export interface RetryParams {
  uuid: string;
  succeedAfter: number;
  /** Undefined: a failing attempt resets the TCP connection. */
  responseCode?: number;
  delayRetryMs: number;
}

/** Reads /retry's query (uuid, succeedAfter, responseCode, delayRetry); a string names the bad field. */
export function parseRetryParams(query: URLSearchParams): RetryParams | string {
  const uuid = query.get('uuid');
  if (!uuid) return 'query parameter "uuid" is required';
  const succeedAfterText = query.get('succeedAfter') ?? '0';
  if (!/^\d+$/.test(succeedAfterText)) return `query parameter "succeedAfter" must be a non-negative integer, got "${succeedAfterText}"`;
  const codeText = query.get('responseCode');
  let responseCode: number | undefined;
  if (codeText) {
    if (!/^[1-5]\d\d$/.test(codeText)) return `query parameter "responseCode" must be an HTTP status code, got "${codeText}"`;
    responseCode = Number(codeText);
  }
  const delayText = query.get('delayRetry');
  let delayRetryMs = 0;
  if (delayText) {
    const d = parseGoDuration(delayText);
    if (d === undefined || d < 0) return `query parameter "delayRetry" must be a duration such as 100ms, got "${delayText}"`;
    delayRetryMs = d;
  }
  return { uuid, succeedAfter: Number(succeedAfterText), responseCode, delayRetryMs };
}

/** Attempts seen per retry uuid: the first `succeedAfter` attempts of a uuid fail, later ones succeed. Bounded. */
export class RetryLedger {
  private readonly attempts = new Map<string, number>();
  constructor(private readonly capacity = 10_000) {}

  /** Records one attempt; true when it should fail. */
  attempt(uuid: string, succeedAfter: number): boolean {
    const n = (this.attempts.get(uuid) ?? 0) + 1;
    this.attempts.delete(uuid);
    this.attempts.set(uuid, n);
    if (this.attempts.size > this.capacity) this.attempts.delete(this.attempts.keys().next().value as string);
    return n <= succeedAfter;
  }
}

// ---------- the serving shell ----------

type AnyRequest = http.IncomingMessage | http2.Http2ServerRequest;
type AnyResponse = http.ServerResponse | http2.Http2ServerResponse;

function remoteAddr(sock: net.Socket | undefined): string {
  const addr = (sock?.remoteAddress ?? '').replace(/^::ffff:/, '');
  return addr.includes(':') ? `[${addr}]:${sock?.remotePort}` : `${addr}:${sock?.remotePort}`;
}

function tlsVersionName(v: string | null): string {
  return ({ 'TLSv1.3': 'TLSv1.3', 'TLSv1.2': 'TLSv1.2', 'TLSv1.1': 'TLSv1.1', TLSv1: 'TLSv1.0' } as Record<string, string>)[v ?? ''] ?? '';
}

function tlsAssertions(sock: net.Socket | undefined): TlsAssertions | undefined {
  const t = sock as tls.TLSSocket | undefined;
  if (!t || !t.encrypted) return undefined;
  const out: TlsAssertions = {
    version: tlsVersionName(t.getProtocol()),
    serverName: (t as tls.TLSSocket & { servername?: string | false }).servername || '',
    cipherSuite: t.getCipher()?.standardName ?? '',
  };
  if (t.alpnProtocol) out.negotiatedProtocol = t.alpnProtocol;
  const peer = t.getPeerCertificate(true);
  if (peer && peer.raw) out.peerCertificates = [`-----BEGIN CERTIFICATE-----\n${peer.raw.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`];
  return out;
}

function headerValues(req: AnyRequest, name: string): string[] {
  const out: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i].toLowerCase() === name) out.push(raw[i + 1]);
  return out;
}

interface EchoServerOptions {
  context: EchoContext;
  stdout(text: string): void;
  /** Timers of delayed answers, cleared at stop. */
  timers: Set<NodeJS.Timeout>;
  retries: RetryLedger;
  /** The h2c port answers only HTTP/2 requests. */
  h2cOnly?: boolean;
}

function later(opts: EchoServerOptions, ms: number, fn: () => void): void {
  if (ms <= 0) return fn();
  const timer = setTimeout(() => {
    opts.timers.delete(timer);
    fn();
  }, ms);
  opts.timers.add(timer);
}

function sendJson(res: AnyResponse, code: number, body: string, extra: [string, string][] = []): void {
  for (const [k, v] of extra) res.setHeader(k, v);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.statusCode = code;
  res.end(body);
}

function sendText(res: AnyResponse, code: number, body: string): void {
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.statusCode = code;
  res.end(body);
}

/** The request handler of every echo port. */
export function echoHandler(opts: EchoServerOptions): (req: AnyRequest, res: AnyResponse) => void {
  return (req, res) => {
    const requestUri = req.url ?? '/';
    const sock = req.socket as net.Socket | undefined;
    if (opts.h2cOnly && req.httpVersionMajor !== 2) return sendText(res, 400, 'Expected h2c request');
    const route = opts.h2cOnly ? ({ kind: 'echo' } as EchoRoute) : routeEcho(requestUri);
    const query = new URL(requestUri, 'http://echo').searchParams;
    switch (route.kind) {
      case 'health':
        return sendText(res, 200, 'OK');
      case 'status':
        res.statusCode = route.code < 200 ? 200 : route.code;
        return void res.end();
      case 'bad-status':
        res.statusCode = 400;
        return void res.end();
      case 'websocket':
        // Upgrade requests never reach here (the 'upgrade' event takes them).
        return sendText(res, 400, 'Bad Request');
      case 'retry': {
        const params = parseRetryParams(query);
        if (typeof params === 'string') return sendJson(res, 400, JSON.stringify({ message: params }));
        if (opts.retries.attempt(params.uuid, params.succeedAfter)) {
          opts.stdout(`Failing retry attempt for ${requestUri} to client (${remoteAddr(sock)})\n`);
          return later(opts, params.delayRetryMs, () => {
            if (params.responseCode !== undefined) return sendJson(res, params.responseCode, JSON.stringify({ message: `simulated failure ${params.responseCode}` }));
            const s = sock as (net.Socket & { resetAndDestroy?: () => void }) | undefined;
            if (s?.resetAndDestroy) s.resetAndDestroy();
            else s?.destroy();
          });
        }
        break;
      }
      case 'echo':
        break;
    }
    opts.stdout(`Echoing back request made to ${requestUri} to client (${remoteAddr(sock)})\n`);
    let delayMs = 0;
    const delay = query.get('delay');
    if (delay) {
      const d = parseGoDuration(delay);
      if (d === undefined) return sendJson(res, 500, JSON.stringify({ message: `time: invalid duration "${delay}"` }));
      delayMs = d;
    }
    const body = echoBody(
      {
        path: requestUri,
        host: (req.headers[':authority'] as string | undefined) ?? req.headers.host ?? '',
        method: req.method ?? 'GET',
        proto: `HTTP/${req.httpVersionMajor}.${req.httpVersionMinor}`,
        headers: goHeaders(req.rawHeaders),
        tls: tlsAssertions(sock),
      },
      opts.context,
    );
    const extra = echoSetHeaders(headerValues(req, 'x-echo-set-header'));
    // Drain the request body before answering so keep-alive connections stay usable.
    req.on('data', () => undefined);
    later(opts, delayMs, () => {
      if (!res.writableEnded && !(res as { destroyed?: boolean }).destroyed) sendJson(res, 200, body, extra);
    });
  };
}

function portFromEnv(env: Record<string, string>, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw new WorkloadStartError(`env ${name}: "${text}" is not a port number (1-65535)`);
  return Number(text);
}

/** The gRPC, TCP or UDP echo when the environment asks for one (GRPC_ECHO_SERVER first, as upstream). */
async function otherMode(ctx: WorkloadContext): Promise<OpenServer[] | undefined> {
  const env = ctx.env;
  const who = { namespace: env.NAMESPACE ?? ctx.namespace, ingress: env.INGRESS_NAME ?? '', service: env.SERVICE_NAME ?? '', pod: env.POD_NAME ?? ctx.podName };
  const log = (t: string) => ctx.stdout(t);
  if (env.GRPC_ECHO_SERVER) return [await serveGrpcEcho(ctx.netns, portFromEnv(env, 'HTTP_PORT', 3000), who, log)];
  if (env.TCP_ECHO_SERVER) {
    const tcpPort = portFromEnv(env, 'TCP_PORT', 3000);
    const tlsPort = portFromEnv(env, 'TLS_PORT', 8443);
    const withTls = Boolean(env.TLS_SERVER_CERT && env.TLS_SERVER_PRIV_KEY);
    const certificate = withTls ? { cert: pemFromEnv(env, 'TLS_SERVER_CERT'), key: pemFromEnv(env, 'TLS_SERVER_PRIV_KEY') } : undefined;
    return serveTcpEcho(ctx.netns, { ...who, tcpPort: String(tcpPort), ...(withTls ? { tlsPort: String(tlsPort) } : {}) }, certificate, log);
  }
  if (env.UDP_ECHO_SERVER) return [await serveUdpEcho(ctx.netns, portFromEnv(env, 'UDP_PORT', 8080), who, log)];
  return undefined;
}

/** Runs echo-basic in the pod's namespace. */
export const runEchoBasic: WorkloadMain = async (ctx: WorkloadContext) => {
  const env = ctx.env;
  let other: OpenServer[] | undefined;
  try {
    other = await otherMode(ctx);
  } catch (err) {
    if (err instanceof WorkloadStartError) throw err;
    throw new WorkloadStartError(`echo-basic: ${(err as Error).message}`);
  }
  if (other) {
    const servers = other;
    return servingWorkload([() => servers.forEach((s) => s.close())]);
  }
  const httpPort = portFromEnv(env, 'HTTP_PORT', 3000);
  const h2cPort = portFromEnv(env, 'H2C_PORT', 3001);
  const httpsPort = portFromEnv(env, 'HTTPS_PORT', 8443);
  const context: EchoContext = {
    namespace: env.NAMESPACE ?? ctx.namespace,
    ingress: env.INGRESS_NAME ?? '',
    service: env.SERVICE_NAME ?? '',
    pod: env.POD_NAME ?? ctx.podName,
    httpPort: String(httpPort),
  };
  const timers = new Set<NodeJS.Timeout>();
  const retries = new RetryLedger();
  const servers: OpenServer[] = [];
  const workload = servingWorkload([
    () => servers.forEach((s) => s.close()),
    () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  ]);
  const base: EchoServerOptions = { context, stdout: (t) => ctx.stdout(t), timers, retries };
  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: http.IncomingMessage, sock: net.Socket, head: Buffer) => {
    if (routeEcho(req.url ?? '/').kind !== 'websocket') {
      sock.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, sock, head, (ws) => {
      ctx.stdout(`established websocket connection ${remoteAddr(sock)}\n`);
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.on('error', () => ws.terminate());
    });
  };
  try {
    // HTTP/1.1 on HTTP_PORT, with WebSocket upgrades on /ws.
    const httpListener = await listenAllInNetns(ctx.netns, httpPort);
    const httpServer = http.createServer(echoHandler(base));
    httpServer.keepAliveTimeout = 5000;
    httpServer.on('upgrade', onUpgrade);
    // TCP_NODELAY, as Go (the upstream image) sets on every connection: an answer written in
    // more than one piece (HTTP/2 frames, WebSocket messages) never waits for the peer's ACK.
    httpListener.on('connection', (sock: net.Socket) => httpServer.emit('connection', sock.setNoDelay(true)));
    servers.push({
      close() {
        httpListener.close();
        httpServer.closeAllConnections();
        for (const c of wss.clients) c.terminate();
      },
    });
    ctx.stdout(`Starting server, listening on port ${httpPort} (http)\n`);

    // HTTP/2 cleartext (prior knowledge) on H2C_PORT; HTTP/1 requests there get 400.
    const h2cListener = await listenAllInNetns(ctx.netns, h2cPort);
    const h2Server = http2.createServer({}, echoHandler({ ...base, h2cOnly: true }));
    const h1OnH2c = http.createServer(echoHandler({ ...base, h2cOnly: true }));
    const h2Sessions = new Set<http2.ServerHttp2Session>();
    h2Server.on('session', (s) => {
      h2Sessions.add(s);
      s.on('close', () => h2Sessions.delete(s));
    });
    h2cListener.on('connection', (sock: net.Socket) => {
      sock.setNoDelay(true);
      sock.once('readable', () => {
        const first = sock.read(Math.min(sock.readableLength, 3)) as Buffer | null;
        if (first) sock.unshift(first);
        if (first && first.toString('latin1') === 'PRI') h2Server.emit('connection', sock);
        else h1OnH2c.emit('connection', sock);
      });
    });
    servers.push({
      close() {
        h2cListener.close();
        for (const s of h2Sessions) s.destroy();
        h1OnH2c.closeAllConnections();
      },
    });
    ctx.stdout(`Starting server, listening on port ${h2cPort} (h2c)\n`);

    if (env.TLS_SERVER_CERT && env.TLS_SERVER_PRIVKEY) {
      const cert = pemFromEnv(env, 'TLS_SERVER_CERT');
      const key = pemFromEnv(env, 'TLS_SERVER_PRIVKEY');
      const ca = env.TLS_CLIENT_CACERTS ? pemFromEnv(env, 'TLS_CLIENT_CACERTS') : undefined;
      let httpsServer: https.Server;
      try {
        httpsServer = https.createServer({ cert, key, ca, requestCert: ca !== undefined, rejectUnauthorized: false }, echoHandler(base));
      } catch (err) {
        throw new WorkloadStartError(`env TLS_SERVER_CERT/TLS_SERVER_PRIVKEY: ${(err as Error).message}`);
      }
      httpsServer.on('upgrade', onUpgrade);
      const tlsListener = await listenAllInNetns(ctx.netns, httpsPort);
      tlsListener.on('connection', (sock: net.Socket) => httpsServer.emit('connection', sock));
      servers.push({
        close() {
          tlsListener.close();
          httpsServer.closeAllConnections();
        },
      });
      ctx.stdout(`Starting server, listening on port ${httpsPort} (https)\n`);
    }
  } catch (err) {
    workload.stop();
    if (err instanceof WorkloadStartError) throw err;
    throw new WorkloadStartError(`echo-basic: ${(err as Error).message}`);
  }
  return workload;
};
