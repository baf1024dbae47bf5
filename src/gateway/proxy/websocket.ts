// Upgrades (WebSocket and any other Upgrade): the request head is re-sent to an endpoint over a
// fresh connection (TLS for 'https' backends), then bytes are piped both ways after the 101.
// Works for every backend protocol: the upgrade always goes over HTTP/1.1.
import type http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { closeAfterFlush, closedBroken } from '../../util/close-after-flush.js';
import { endpointKey } from './balance.js';
import { applyHeaderModifier, rewritePath, type HeaderMap } from './filters.js';
import { chooseBackend, forwardedHeaders, routeRequest, type ClientInfo, type HandlerContext } from './http-handler.js';
import { matchedPrefix } from './match.js';
import type { HttpTable } from './table.js';

function rawResponse(socket: Duplex, status: number, text: string): void {
  if (socket.destroyed) return;
  socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
}

function serializeHead(method: string, path: string, headers: HeaderMap): string {
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (/[\r\n]/.test(v)) continue;
      head += `${name}: ${v}\r\n`;
    }
  }
  return `${head}\r\n`;
}

export function handleUpgrade(ctx: HandlerContext, table: HttpTable, req: http.IncomingMessage, socket: Duplex, head: Buffer, client: ClientInfo): void {
  socket.on('error', () => socket.destroy());
  const started = process.hrtime.bigint();
  const decision = routeRequest(table, req.method ?? 'GET', req.url ?? '/', req.headers, client.remoteAddress, client.servername);
  const observe = (route: string, code: number): void => ctx.metrics.observe(route, code, Number(process.hrtime.bigint() - started) / 1e9);
  if (decision.kind === 'respond') {
    observe(decision.route, decision.status);
    return rawResponse(socket, decision.status, decision.status === 404 ? 'Not Found' : 'Forbidden');
  }
  const { entry, path, query } = decision;
  const choice = chooseBackend(entry, ctx.roundRobin);
  if (choice.kind === 'respond') {
    observe(entry.route, choice.status);
    return rawResponse(socket, choice.status, choice.status === 503 ? 'Service Unavailable' : 'Internal Server Error');
  }
  const { backend, endpoint } = choice;
  const headers = forwardedHeaders(req.headers, client);
  headers.connection = 'Upgrade';
  headers.upgrade = req.headers.upgrade;
  for (const m of entry.filters.requestHeaders) applyHeaderModifier(headers, m);
  for (const m of backend.filters.requestHeaders) applyHeaderModifier(headers, m);
  let outPath = path;
  const rewrite = backend.filters.rewrite ?? entry.filters.rewrite;
  if (rewrite?.hostname) headers.host = rewrite.hostname;
  if (rewrite?.path) outPath = rewritePath(path, rewrite.path, matchedPrefix(entry.match));

  const upstream: net.Socket =
    backend.backend.protocol === 'https'
      ? tls.connect({ host: endpoint.address, port: endpoint.port, rejectUnauthorized: false, servername: net.isIP(endpoint.address) ? undefined : endpoint.address })
      : net.connect({ host: endpoint.address, port: endpoint.port, noDelay: true });
  let connected = false;
  upstream.once(backend.backend.protocol === 'https' ? 'secureConnect' : 'connect', () => {
    connected = true;
    observe(entry.route, 101);
    upstream.write(serializeHead(req.method ?? 'GET', query ? `${outPath}?${query}` : outPath, headers));
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', (e) => {
    ctx.metrics.upstreamErrors.inc({ backend: backend.backend.name, reason: connected ? 'reset' : 'connect' });
    if (!connected) {
      ctx.log({ level: 'warn', msg: 'upgrade connect failed', route: entry.route, endpoint: endpointKey(endpoint), error: e.message });
      observe(entry.route, 502);
      rawResponse(socket, 502, 'Bad Gateway');
    } else socket.destroy();
  });
  // Before the connect, the 502 above answers and ends the client's side.
  upstream.on('close', (hadError) => {
    if (connected) closeAfterFlush(socket, closedBroken(upstream, hadError));
  });
  socket.on('close', () => upstream.destroy());
}
