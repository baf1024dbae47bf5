// TCP ports: per connection one backend by weight and one endpoint round robin, bytes piped both
// ways with half-close passed on; no usable backend -> the connection is closed at once.
import net from 'node:net';
import { pickWeighted, type RoundRobin } from './balance.js';
import type { ProxyMetrics } from './metrics.js';
import type { StreamTable } from './table.js';

export function handleTcpConnection(table: StreamTable, client: net.Socket, rr: RoundRobin, metrics: ProxyMetrics, log: (l: object) => void): void {
  client.on('error', () => client.destroy());
  const backend = pickWeighted(table.backends);
  const endpoint = backend && !backend.invalid ? rr.pick(backend) : undefined;
  if (!backend || !endpoint) {
    log({ level: 'warn', msg: 'tcp connection closed: no usable backend', port: table.port, route: table.route });
    client.destroy();
    return;
  }
  client.pause();
  const upstream = net.connect({ host: endpoint.address, port: endpoint.port, allowHalfOpen: true });
  let connected = false;
  upstream.once('connect', () => {
    connected = true;
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
  upstream.on('error', (e) => {
    metrics.upstreamErrors.inc({ backend: backend.name, reason: connected ? 'reset' : 'connect' });
    if (!connected) log({ level: 'warn', msg: 'tcp upstream connect failed', port: table.port, backend: backend.name, error: e.message });
    client.destroy();
  });
  // Each direction ends on its own (pipe passes the FIN); the pair is gone when both closed.
  upstream.on('close', (hadError) => {
    if (hadError) client.destroy();
  });
  client.on('close', (hadError) => {
    if (hadError || !connected) upstream.destroy();
  });
}
