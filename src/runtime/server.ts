// The runtime's listener: HTTP/1.1 on a unix socket. The socket is the API's only door and its
// file permissions are its authentication: it is created 0600 (owner root) inside a 0700
// directory, so only root on this node (the agent) can connect; nothing listens on TCP.
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname } from 'node:path';
import { formatLogEntry, readLogFile, type LogEntry } from '../agent/container-log.js';
import type { Logger } from '../util/log.js';
import { RUNTIME_API_VERSION, RUNTIME_NAME, RuntimeApiError, SUPPORTED_API_VERSIONS, decodeRequest, routeOf, type ContainerEvent, type MethodName, type VersionReply } from './api.js';
import type { NodeRuntime } from './node-runtime.js';

const MAX_BODY_BYTES = 1 << 20;

/** Whether something accepts connections on the unix socket `path` now. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RuntimeApiError(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new RuntimeApiError(400, `request body is not JSON: ${(err as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

export class RuntimeServer {
  private readonly server: http.Server;

  constructor(
    private readonly runtime: NodeRuntime,
    private readonly opts: { socketPath: string; runtimeVersion: string; log: Logger },
  ) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  async listen(): Promise<void> {
    const path = this.opts.socketPath;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    chmodSync(dirname(path), 0o700);
    if (existsSync(path)) {
      if (await socketAnswers(path)) throw new Error(`another node runtime already listens on ${path}`);
      unlinkSync(path); // left by a runtime that died
    }
    // The socket is created with the umask's mode: make it 0600 before anyone can connect.
    const old = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(path, () => resolve());
      });
    } finally {
      process.umask(old);
    }
    chmodSync(path, 0o600);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://runtime');
    try {
      if (url.pathname === '/version') {
        const reply: VersionReply = { version: RUNTIME_API_VERSION, supported: [...SUPPORTED_API_VERSIONS], runtimeName: RUNTIME_NAME, runtimeVersion: this.opts.runtimeVersion };
        return this.json(res, 200, reply);
      }
      const { method } = routeOf(url.pathname);
      if (method === 'ContainerEvents') return this.events(req, res);
      if (method === 'ContainerLogs') return this.logs(url, req, res);
      if (method === 'Attach') return this.attach(url, req, res);
      if (req.method !== 'POST') throw new RuntimeApiError(405, `${method} is called with POST`);
      const request = decodeRequest(method as MethodName, await readBody(req));
      const reply = await this.call(method as MethodName, request as Record<string, never>);
      // A change is answered once it is in the state file (shared with the changes made meanwhile).
      await this.runtime.persisted();
      return this.json(res, 200, reply);
    } catch (err) {
      if (err instanceof RuntimeApiError) return this.json(res, err.status, { error: err.message });
      this.opts.log.error('runtime request failed', { path: url.pathname, err: (err as Error).message });
      return this.json(res, 500, { error: (err as Error).message });
    }
  }

  private async call(method: MethodName, req: Record<string, never>): Promise<unknown> {
    const rt = this.runtime;
    switch (method) {
      case 'RunPodSandbox':
        return { sandboxId: rt.runPodSandbox(req.config) };
      case 'StopPodSandbox':
        await rt.stopPodSandbox(req.sandboxId, req.graceSeconds);
        return {};
      case 'RemovePodSandbox':
        await rt.removePodSandbox(req.sandboxId);
        return {};
      case 'ListPodSandbox':
        return { sandboxes: rt.listPodSandbox() };
      case 'CreateContainer':
        return { containerId: rt.createContainer(req.config) };
      case 'StartContainer':
        return { container: await rt.startContainer(req.containerId) };
      case 'StopContainer':
        return { container: await rt.stopContainer(req.containerId, req.graceSeconds) };
      case 'RemoveContainer':
        await rt.removeContainer(req.containerId);
        return {};
      case 'ListContainers':
        return { containers: rt.listContainers(req.sandboxId) };
      case 'ContainerStatus':
        return { container: rt.containerStatus(req.containerId) };
      case 'PullImage':
        return { imageRef: await rt.pullImage(req.image) };
    }
  }

  /** One JSON event per line, as containers start, exit and go, until the client hangs up. */
  private events(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.flushHeaders();
    const send = (e: ContainerEvent) => res.write(JSON.stringify(e) + '\n');
    this.runtime.on('event', send);
    const stop = () => this.runtime.off('event', send);
    req.on('close', stop);
    res.on('close', stop);
  }

  /** The container's log in the CRI file format; with follow=true, new lines until it exits. */
  private logs(url: URL, req: http.IncomingMessage, res: http.ServerResponse): void {
    const id = url.searchParams.get('containerId') ?? '';
    if (!id) throw new RuntimeApiError(400, 'containerId: required (a query parameter)');
    const tailRaw = url.searchParams.get('tailLines');
    const tail = tailRaw === null ? undefined : Number(tailRaw);
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new RuntimeApiError(400, `tailLines: must be a whole number >= 0 (got "${tailRaw}")`);
    const status = this.runtime.containerStatus(id);
    const live = url.searchParams.get('follow') === 'true' ? this.runtime.liveLog(id) : undefined;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    const entries = readLogFile(status.logPath);
    for (const e of tail === undefined ? entries : entries.slice(Math.max(0, entries.length - tail))) res.write(formatLogEntry(e));
    if (!live) return void res.end();
    const onEntry = (e: LogEntry) => res.write(formatLogEntry(e));
    const onEnd = () => {
      live.off('entry', onEntry);
      res.end();
    };
    live.on('entry', onEntry);
    live.once('end', onEnd);
    req.on('close', () => {
      live.off('entry', onEntry);
      live.off('end', onEnd);
    });
  }

  /** The request body goes to the container's stdin; with closeStdin=true its end closes that stdin. */
  private attach(url: URL, req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method !== 'POST') throw new RuntimeApiError(405, 'Attach is called with POST');
    const id = url.searchParams.get('containerId') ?? '';
    if (!id) throw new RuntimeApiError(400, 'containerId: required (a query parameter)');
    const stdin = this.runtime.stdinOf(id);
    if (!stdin) throw new RuntimeApiError(409, `container ${id} is not running with stdin: true`);
    const closeStdin = url.searchParams.get('closeStdin') === 'true';
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.flushHeaders();
    req.on('data', (c: Buffer) => stdin.write(c));
    req.on('end', () => {
      if (closeStdin) stdin.end();
      res.end();
    });
    void this.runtime.exitOf(id).then(() => res.end());
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}
