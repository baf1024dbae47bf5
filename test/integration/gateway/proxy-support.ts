// Helpers for the gateway proxy tests: real backends on 127.0.0.1 (HTTP echo, h2c with
// trailers, WebSocket echo, TCP and UDP echo), config builders, self-signed certificates,
// and a small HTTP client.
import dgram from 'node:dgram';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { selfSignedCertificate } from '../../support/certificates.js';
import { WebSocketServer } from 'ws';
import type { HttpFilter, HttpMatch, HttpRouteEntry, ProxyConfig, VirtualHost, WeightedBackend } from '../../../src/gateway/config.js';

export interface Echo {
  name: string;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Backend {
  name: string;
  port: number;
  /** Requests seen, in order. */
  seen: Echo[];
  /** Ends a /held/ID/MS stream (startEcho only). */
  release?: (id: string) => void;
  close(): Promise<void>;
}

/** Free TCP port on 127.0.0.1 (also free for UDP in practice). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * An HTTP/1.1 echo backend: answers JSON {name, method, url, headers, body}.
 * /status/NNN answers NNN; /delay/MS waits first; /stream/N/MS sends N chunks MS apart;
 * /fail-until/KEY/N resets the connection for the first N requests with that key;
 * /held/ID/MS sends a chunk every MS until release(ID).
 */
export async function startEcho(name: string): Promise<Backend> {
  const seen: Echo[] = [];
  const failures = new Map<string, number>();
  const held = new Map<string, () => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const echo: Echo = { name, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(echo);
      const url = req.url ?? '/';
      const status = /^\/status\/(\d+)/.exec(url);
      const delay = /^\/delay\/(\d+)/.exec(url);
      const stream = /^\/stream\/(\d+)\/(\d+)/.exec(url);
      const fail = /^\/fail-until\/([^/]+)\/(\d+)/.exec(url);
      const hold = /^\/held\/([^/]+)\/(\d+)/.exec(url);
      if (hold) {
        let i = 0;
        res.writeHead(200, { 'content-type': 'text/plain' });
        const timer = setInterval(() => res.write(`chunk ${i++}\n`), Number(hold[2]));
        held.set(hold[1], () => {
          clearInterval(timer);
          res.end(`released after ${i} chunks\n`);
        });
        return;
      }
      if (fail) {
        const n = (failures.get(fail[1]) ?? 0) + 1;
        failures.set(fail[1], n);
        if (n <= Number(fail[2])) return void req.socket.resetAndDestroy();
      }
      if (stream) {
        let i = 0;
        res.writeHead(200, { 'content-type': 'text/plain' });
        const tick = (): void => {
          if (i >= Number(stream[1])) return void res.end(`done ${name}\n`);
          res.write(`chunk ${i++}\n`);
          setTimeout(tick, Number(stream[2]));
        };
        return tick();
      }
      const send = (): void => {
        const body = JSON.stringify(echo);
        res.writeHead(status ? Number(status[1]) : 200, { 'content-type': 'application/json', 'x-backend': name, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (delay) setTimeout(send, Number(delay[1]));
      else send();
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `${name}:${data.toString()}`));
    ws.send(`hello from ${name} ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    name,
    port: (server.address() as net.AddressInfo).port,
    seen,
    release: (id) => held.get(id)?.(),
    close: async () => {
      for (const release of held.values()) release();
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** An h2c backend: echoes like startEcho and sends trailers grpc-status: 0, grpc-message. */
export async function startH2Echo(name: string): Promise<Backend> {
  const seen: Echo[] = [];
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const echo: Echo = { name, method: String(headers[':method']), url: String(headers[':path']), headers: headers as http.IncomingHttpHeaders, body: Buffer.concat(chunks).toString() };
      seen.push(echo);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-backend': name }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': `ok from ${name}` }));
      stream.end(JSON.stringify(echo));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    name,
    port: (server.address() as net.AddressInfo).port,
    seen,
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

export async function startTcpEcho(name: string): Promise<Backend> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    // Answers after the client half-closes: proves the FIN is passed on and the reply still flows.
    s.on('end', () => s.end(`${name}:${Buffer.concat(chunks).toString()}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { name, port: (server.address() as net.AddressInfo).port, seen: [], close: () => new Promise((r) => server.close(() => r())) };
}

export async function startUdpEcho(name: string): Promise<Backend> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => socket.send(`${name}:${msg.toString()}:${rinfo.port}`, rinfo.port, rinfo.address));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { name, port: socket.address().port, seen: [], close: () => new Promise((r) => socket.close(() => r())) };
}

export function backend(b: Backend | { name: string; port: number }, extra: Partial<WeightedBackend> = {}): WeightedBackend {
  return { weight: 1, name: `default/${b.name}:80`, protocol: 'http', endpoints: [{ address: '127.0.0.1', port: b.port }], filters: [], ...extra };
}

export function prefix(value: string, more: Partial<HttpMatch> = {}): HttpMatch {
  return { path: { type: 'PathPrefix', value }, headers: [], queryParams: [], ...more };
}

let ruleCounter = 0;
export function entry(match: HttpMatch, backends: WeightedBackend[], more: Partial<HttpRouteEntry> = {}): HttpRouteEntry {
  return { source: { kind: 'HTTPRoute', namespace: 'default', name: 'r', rule: ruleCounter++, match: 0 }, match, filters: [] as HttpFilter[], backends, ...more };
}

export function vhost(hostname: string, entries: HttpRouteEntry[]): VirtualHost {
  return { hostname, entries };
}

export function httpConfig(port: number, hosts: VirtualHost[]): ProxyConfig {
  return { ports: [{ kind: 'http', port, hosts }] };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 16 });

export function request(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: http.Agent | false } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent ?? keepAlive }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export function json(r: Reply): Echo {
  return JSON.parse(r.body) as Echo;
}

/** A self-signed certificate for `names` (the first is the CN), PEM. */
export function selfSigned(names: string[]): { certPem: string; keyPem: string } {
  return selfSignedCertificate(names);
}

export function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (cond()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(check, 10);
    };
    check();
  });
}
