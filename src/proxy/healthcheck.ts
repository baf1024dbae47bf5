// healthCheckNodePort servers for Services with externalTrafficPolicy Local: on each node the port
// answers 200 with {"service":{...},"localEndpoints":N} while the node has ready local endpoints
// and 503 otherwise, so an external load balancer sends traffic only to nodes that can serve it.
// The listening sockets live in the node's namespace: a small helper process started there opens
// them and hands them over (the agent itself stays in its own namespace).
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type net from 'node:net';
import { inNetns } from './exec.js';
import { type ServicePortModel, usableEndpoints } from './model.js';

interface HealthTarget {
  namespace: string;
  name: string;
  localEndpoints: number;
}

/** Which health-check ports should serve what (pure). */
export function healthTargets(services: Map<string, ServicePortModel[]>): Map<number, HealthTarget> {
  const out = new Map<number, HealthTarget>();
  for (const ports of services.values()) {
    const svc = ports[0]?.service;
    if (!svc?.healthCheckNodePort || svc.externalTrafficPolicy !== 'Local') continue;
    const local = new Set<string>();
    for (const p of ports) for (const e of usableEndpoints(p.endpoints.filter((x) => x.local))) local.add(e.ip);
    out.set(svc.healthCheckNodePort, { namespace: svc.namespace, name: svc.name, localEndpoints: local.size });
  }
  return out;
}

/** The answer of a health-check port for one Service (pure). */
export function healthResponse(t: HealthTarget): { status: number; body: string } {
  const body = JSON.stringify({ service: { namespace: t.namespace, name: t.name }, localEndpoints: t.localEndpoints, serviceProxyHealthy: true });
  return { status: t.localEndpoints > 0 ? 200 : 503, body };
}

// Runs inside the node namespace: opens a listening TCP socket per request and sends it back.
const socketOpener = `
const net = require('node:net');
process.on('message', (m) => {
  if (!m || typeof m.listen !== 'number') return;
  const s = net.createServer();
  s.once('error', (err) => process.send({ port: m.listen, error: err.message }));
  // Closed as soon as the parent has it, so only the parent accepts connections.
  s.listen({ port: m.listen, host: '0.0.0.0' }, () => process.send({ port: m.listen }, s, () => s.close()));
});
process.on('disconnect', () => process.exit(0));
`;

export class HealthCheckServers {
  private readonly targets = new Map<number, HealthTarget>();
  private readonly servers = new Map<number, http.Server>();
  private opener: ChildProcess | undefined;

  constructor(
    private readonly netns: string | undefined,
    private readonly nodeName: string,
  ) {}

  async update(services: Map<string, ServicePortModel[]>): Promise<void> {
    const want = healthTargets(services);
    for (const [port, server] of this.servers) {
      if (!want.has(port)) {
        server.close();
        this.servers.delete(port);
        this.targets.delete(port);
      }
    }
    for (const [port, target] of want) {
      this.targets.set(port, target);
      if (!this.servers.has(port)) await this.listen(port);
    }
  }

  private async listen(port: number): Promise<void> {
    const server = http.createServer((req, res) => {
      const t = this.targets.get(port);
      if (!t) {
        res.writeHead(404).end();
        return;
      }
      const { status, body } = healthResponse(t);
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-content-type-options': 'nosniff',
        'x-load-balancing-endpoint-weight': String(t.localEndpoints),
      });
      res.end(body);
    });
    const handle = this.netns ? await this.openInNetns(port) : undefined;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (handle) server.listen(handle, () => resolve());
      else server.listen(port, '0.0.0.0', () => resolve());
    });
    this.servers.set(port, server);
  }

  private openInNetns(port: number): Promise<net.Server> {
    if (!this.opener || this.opener.exitCode !== null) {
      const [file, args] = inNetns(this.netns, process.execPath, ['-e', socketOpener]);
      this.opener = spawn(file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      this.opener.unref();
      (this.opener as unknown as { channel?: { unref(): void } }).channel?.unref();
    }
    const opener = this.opener;
    return new Promise((resolve, reject) => {
      const onMessage = (m: { port?: number; error?: string }, handle: unknown) => {
        if (m?.port !== port) return;
        opener.off('message', onMessage);
        if (m.error) reject(new Error(`healthCheckNodePort ${port} on node ${this.nodeName}: ${m.error}`));
        else resolve(handle as net.Server);
      };
      opener.on('message', onMessage);
      opener.send({ listen: port });
    });
  }

  async close(): Promise<void> {
    for (const s of this.servers.values()) s.close();
    this.servers.clear();
    if (this.opener && this.opener.exitCode === null) this.opener.kill();
    this.opener = undefined;
  }
}
