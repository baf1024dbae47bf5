// The agent's half of a trace the web view asks for (the server's half is agent-kernel.ts). On the
// kubelet endpoint, which only the API server's kubelet client certificate may call:
//   POST   /trace/sessions        {table, sourcePort}  tracing on in this node (a TraceSession)
//   DELETE /trace/sessions/TABLE                       tracing off: {output} (nft monitor's text)
//   POST   /trace/probe           {podUid, ip, port, protocol, sourcePort, timeoutSeconds}
//                                                      the probe from a pod of this node: {result, detail?}
//   POST   /trace/route           {ip}                 the route this node picks: KernelRoute
// A session the server never ends is ended after SESSION_TTL_MS (its table removed).
import { existsSync } from 'node:fs';
import type http from 'node:http';
import { sandboxNetnsName } from '../agent/sandbox.js';
import { kernelRoute, sendProbe, TraceSession } from './kernel.js';

const SESSION_TTL_MS = 60_000;
const MAX_SESSIONS = 8;
const TABLE_RE = /^flatnet-trace-\d{1,5}$/;
const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export class TraceRequestError extends Error {}

function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
      if (body.length > 16 * 1024) req.destroy(new TraceRequestError('the body is larger than 16 KiB'));
    });
    req.on('end', () => {
      try {
        const v = JSON.parse(body) as unknown;
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error();
        resolve(v as Record<string, unknown>);
      } catch {
        reject(new TraceRequestError('the body is not a JSON object'));
      }
    });
    req.on('error', reject);
  });
}

function port(v: unknown, field: string): number {
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 65535) throw new TraceRequestError(`${field}: must be a port number (1-65535)`);
  return v as number;
}

function ipv4(v: unknown, field: string): string {
  const m = typeof v === 'string' ? IPV4_RE.exec(v) : null;
  if (!m || m.slice(1).some((o) => Number(o) > 255)) throw new TraceRequestError(`${field}: must be an IPv4 address`);
  return v as string;
}

function table(v: unknown): string {
  if (typeof v !== 'string' || !TABLE_RE.test(v)) throw new TraceRequestError('table: must be flatnet-trace-<port>');
  return v;
}

function sendJson(res: http.ServerResponse, code: number, value: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

export class TraceEndpoint {
  private readonly sessions = new Map<string, { session: TraceSession; timer: NodeJS.Timeout }>();

  constructor(
    private readonly nodeName: string,
    private readonly netns: string | undefined,
  ) {}

  /** Serves /trace/*; false for other paths. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): boolean {
    if (!pathname.startsWith('/trace/')) return false;
    this.serve(req, res, pathname).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof TraceRequestError) sendJson(res, 400, { message: err.message });
      else sendJson(res, 500, { message: err instanceof Error ? err.message : String(err) });
    });
    return true;
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (!this.netns) throw new TraceRequestError('this agent runs in the host network namespace: tracing is for lab nodes');
    if (method === 'POST' && pathname === '/trace/sessions') {
      const body = await readJson(req);
      const name = table(body.table);
      const sourcePort = port(body.sourcePort, 'sourcePort');
      if (this.sessions.has(name)) throw new TraceRequestError(`table: ${name} is already tracing`);
      if (this.sessions.size >= MAX_SESSIONS) throw new TraceRequestError(`${MAX_SESSIONS} traces already run on this node`);
      const session = new TraceSession([{ node: this.nodeName, netns: this.netns }], name, sourcePort);
      const timer = setTimeout(() => void this.end(name).catch(() => undefined), SESSION_TTL_MS);
      timer.unref();
      this.sessions.set(name, { session, timer });
      try {
        await session.start();
      } catch (err) {
        await this.end(name).catch(() => undefined);
        throw err;
      }
      return sendJson(res, 200, { started: name });
    }
    const del = /^\/trace\/sessions\/([^/]+)$/.exec(pathname);
    if (method === 'DELETE' && del) {
      const name = table(decodeURIComponent(del[1]));
      if (!this.sessions.has(name)) return sendJson(res, 404, { message: `no trace ${name} on node ${this.nodeName}` });
      return sendJson(res, 200, { output: await this.end(name) });
    }
    if (method === 'POST' && pathname === '/trace/probe') {
      const body = await readJson(req);
      if (typeof body.podUid !== 'string' || !/^[0-9a-f-]{8,64}$/i.test(body.podUid)) throw new TraceRequestError('podUid: must be a pod UID');
      const netns = sandboxNetnsName(body.podUid);
      if (!existsSync(`/run/netns/${netns}`)) throw new TraceRequestError(`podUid: no pod sandbox ${netns} on node ${this.nodeName}`);
      if (body.protocol !== 'tcp' && body.protocol !== 'udp') throw new TraceRequestError('protocol: must be tcp or udp');
      const timeoutSeconds = Number(body.timeoutSeconds);
      if (!(timeoutSeconds > 0 && timeoutSeconds <= 30)) throw new TraceRequestError('timeoutSeconds: must be from 0 to 30');
      const result = await sendProbe(netns, { ip: ipv4(body.ip, 'ip'), port: port(body.port, 'port'), protocol: body.protocol, sourcePort: port(body.sourcePort, 'sourcePort'), timeoutSeconds });
      return sendJson(res, 200, result);
    }
    if (method === 'POST' && pathname === '/trace/route') {
      const body = await readJson(req);
      return sendJson(res, 200, await kernelRoute(this.netns, ipv4(body.ip, 'ip')));
    }
    sendJson(res, 404, { message: `the agent's trace endpoint serves POST /trace/sessions, DELETE /trace/sessions/TABLE, POST /trace/probe and POST /trace/route, not ${method} ${pathname}` });
  }

  private async end(name: string): Promise<string> {
    const s = this.sessions.get(name);
    if (!s) return '';
    this.sessions.delete(name);
    clearTimeout(s.timer);
    return (await s.session.stop()).get(this.nodeName) ?? '';
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((name) => this.end(name).catch(() => undefined)));
  }
}
