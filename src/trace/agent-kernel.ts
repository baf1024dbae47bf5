// The kernel work of a trace done by the nodes' agents (agent-endpoint.ts), for the web view: the
// API server reaches each agent over the verified TLS connection it uses for /flows and the node
// proxy (its kubelet client certificate), turns tracing on in the nodes the prediction names,
// asks the source pod's node to send the probe, and collects each node's `nft monitor` output.
import http from 'node:http';
import type { KubeObject } from '../api/types.js';
import { kubeletEndpoint, type KubeletDialer } from '../apiserver/proxy.js';
import type { KernelRoute } from './compare.js';
import type { TraceKernel } from './run.js';

const REQUEST_TIMEOUT_MS = 40_000;

export class AgentTraceError extends Error {}

export class AgentTraceKernel implements TraceKernel {
  private started: { node: string; table: string }[] = [];

  constructor(
    private readonly nodes: readonly KubeObject[],
    private readonly dialer: KubeletDialer,
    /** The source pod: its UID and node (the agent that sends the probe). */
    private readonly source: { podUid: string; node: string },
  ) {}

  private async call<T>(node: string, method: string, path: string, body?: unknown): Promise<T> {
    const obj = this.nodes.find((n) => n.metadata.name === node);
    const where = obj && kubeletEndpoint(obj);
    if (!where) throw new AgentTraceError(`node ${node} publishes no kubelet endpoint: its agent cannot trace`);
    const socket = await this.dialer.dial({ nodeName: node, host: where.host, port: where.port });
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const headers: Record<string, string> = { host: `${where.host}:${where.port}`, accept: 'application/json' };
      if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) });
      const req = http.request({ method, path, headers, createConnection: () => socket, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          socket.destroy();
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch {
            return reject(new AgentTraceError(`the agent of ${node} answered ${res.statusCode} with ${text.slice(0, 200)}`));
          }
          if (res.statusCode !== 200) return reject(new AgentTraceError(`the agent of ${node} answered ${res.statusCode}: ${(value as { message?: string }).message ?? text}`));
          resolve(value as T);
        });
      });
      req.on('timeout', () => req.destroy(new AgentTraceError(`the agent of ${node} did not answer ${method} ${path} in ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on('error', (err) => {
        socket.destroy();
        reject(err);
      });
      req.end(payload);
    });
  }

  async start(nodes: string[], table: string, sourcePort: number): Promise<void> {
    for (const node of nodes) {
      await this.call(node, 'POST', '/trace/sessions', { table, sourcePort });
      this.started.push({ node, table });
    }
  }

  probe(opts: Parameters<TraceKernel['probe']>[0]): ReturnType<TraceKernel['probe']> {
    return this.call(this.source.node, 'POST', '/trace/probe', { podUid: this.source.podUid, ...opts });
  }

  async stop(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const errors: string[] = [];
    for (const { node, table } of this.started.splice(0)) {
      try {
        out.set(node, (await this.call<{ output: string }>(node, 'DELETE', `/trace/sessions/${encodeURIComponent(table)}`)).output);
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
      }
    }
    if (errors.length > 0) throw new AgentTraceError(`could not end the trace: ${errors.join('; ')}`);
    return out;
  }

  route(node: string, ip: string): Promise<KernelRoute> {
    return this.call(node, 'POST', '/trace/route', { ip });
  }
}
