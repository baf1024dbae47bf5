// The DNS server's HTTP side: /health (the process serves), /ready (the informers have synced,
// so answers reflect the cluster) and /metrics (Prometheus text). Accepts an http.Server or a
// plain bound net.Server (as listenInNetns hands out), whose connections are fed to HTTP.
import http from 'node:http';
import type net from 'node:net';
import type { DnsMetrics } from './metrics.js';

export function serveHttp(server: net.Server, ready: () => boolean, metrics: DnsMetrics): () => void {
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const text = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (path === '/health') return text(200, 'OK\n');
    if (path === '/ready') return ready() ? text(200, 'OK\n') : text(503, 'not ready: the Service/EndpointSlice/Namespace informers have not synced yet\n');
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
