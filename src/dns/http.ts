// The DNS server's HTTP side: /health (the process serves), /ready (the informers have synced,
// so answers reflect the cluster) and /metrics (Prometheus text). Accepts an http.Server or a
// plain bound net.Server (as listenInNetns hands out), whose connections are fed to HTTP.
// A /ready asked before the informers synced holds the answer up to READY_HOLD_MS and answers 200
// the moment they sync: a readiness probe (period 1 s, timeout 1 s in the manifest) then sees the
// pod ready as soon as it is, not one probe period later. A client that asks `?wait=0` gets the
// answer at once.
import http from 'node:http';
import type net from 'node:net';
import type { DnsMetrics } from './metrics.js';

/** How long a not-yet-ready /ready waits for readiness before answering 503 (below a 1 s probe timeout). */
export const READY_HOLD_MS = 700;
const READY_POLL_MS = 10;

export function serveHttp(server: net.Server, ready: () => boolean, metrics: DnsMetrics): () => void {
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const [path, query = ''] = (req.url ?? '/').split('?');
    const text = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (path === '/health') return text(200, 'OK\n');
    if (path === '/ready') {
      const answer = () => (ready() ? text(200, 'OK\n') : text(503, 'not ready: the Service/EndpointSlice/Namespace informers have not synced yet\n'));
      if (ready() || new URLSearchParams(query).get('wait') === '0') return answer();
      const until = Date.now() + READY_HOLD_MS;
      const timer = setInterval(() => {
        if (!ready() && Date.now() < until && !res.destroyed) return;
        clearInterval(timer);
        if (!res.destroyed) answer();
      }, READY_POLL_MS);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (body) => text(200, body, metrics.registry.contentType),
        (err: Error) => text(500, `metrics failed: ${err.message}\n`),
      );
      return;
    }
    text(404, 'not found: try /health, /ready or /metrics\n');
  };
  if (server instanceof http.Server) {
    server.on('request', onRequest);
    return () => server.off('request', onRequest);
  }
  const parser = http.createServer(onRequest);
  const sockets = new Set<net.Socket>();
  const onConnection = (sock: net.Socket) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    parser.emit('connection', sock);
  };
  server.on('connection', onConnection);
  return () => {
    server.off('connection', onConnection);
    for (const s of sockets) s.destroy();
  };
}
