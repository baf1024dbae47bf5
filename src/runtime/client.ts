// The agent's side of the node runtime API: typed calls over the unix socket, the version
// check, and the ContainerEvents stream.
import http from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { negotiateVersion, type ContainerEvent, type MethodName, type Methods, type VersionReply } from './api.js';

/** The runtime answered with an error: its HTTP status and message (which names the field). */
export class RuntimeCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RuntimeCallError';
  }
}

export interface EventStream {
  close(): void;
  /** Resolves when the stream ended (the runtime went away or close() was called). */
  ended: Promise<void>;
}

export class RuntimeClient {
  private version: string | undefined;
  /**
   * Connections are kept and reused: a call costs one round trip, not a connect. StartContainer
   * holds its connection until the workload listens, so a burst of pods needs many at once: a
   * small cap would queue every pod's RunPodSandbox behind other pods' starts.
   */
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

  constructor(readonly socketPath: string) {}

  private request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request({ socketPath: this.socketPath, agent: this.agent, method, path, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', (err) => reject(new RuntimeCallError(0, `the node runtime at ${this.socketPath} cannot be reached: ${err.message}`)));
      req.end(payload);
    });
  }

  /**
   * Whether the runtime answers /version within timeoutMs (a fresh connection, so a runtime that
   * stopped answering is not hidden behind a kept-alive socket). Rejects with the reason otherwise.
   */
  ping(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = http.get({ socketPath: this.socketPath, path: '/version', agent: false, timeout: timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new RuntimeCallError(res.statusCode ?? 0, `the node runtime answered /version with ${res.statusCode}`))));
      });
      req.on('timeout', () => req.destroy(new RuntimeCallError(0, `the node runtime at ${this.socketPath} did not answer /version within ${timeoutMs / 1000}s`)));
      req.on('error', (err) => reject(err instanceof RuntimeCallError ? err : new RuntimeCallError(0, `the node runtime at ${this.socketPath} cannot be reached: ${err.message}`)));
    });
  }

  /** The runtime's /version, and the API version this client will use with it. */
  async connect(): Promise<VersionReply & { using: string }> {
    const { status, text } = await this.request('GET', '/version');
    if (status !== 200) throw new RuntimeCallError(status, `the node runtime answered /version with ${status}: ${text}`);
    const reply = JSON.parse(text) as VersionReply;
    this.version = negotiateVersion(reply);
    return { ...reply, using: this.version };
  }

  async call<M extends MethodName>(method: M, request: Methods[M]['request']): Promise<Methods[M]['reply']> {
    if (!this.version) await this.connect();
    const { status, text } = await this.request('POST', `/${this.version}/${method}`, request);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new RuntimeCallError(status, `the node runtime answered ${method} with ${status} and no JSON: ${text.slice(0, 200)}`);
    }
    if (status !== 200) throw new RuntimeCallError(status, `${method}: ${(body as { error?: string }).error ?? text}`);
    return body as Methods[M]['reply'];
  }

  /** Every container event from now on, until close() or the runtime goes away. */
  async events(onEvent: (e: ContainerEvent) => void): Promise<EventStream> {
    if (!this.version) await this.connect();
    return new Promise((resolve, reject) => {
      let finish!: () => void;
      const ended = new Promise<void>((r) => (finish = r));
      const req = http.get({ socketPath: this.socketPath, path: `/${this.version}/ContainerEvents` }, (res) => {
        if (res.statusCode !== 200) {
          reject(new RuntimeCallError(res.statusCode ?? 0, `ContainerEvents answered ${res.statusCode}`));
          res.resume();
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            if (line.trim()) onEvent(JSON.parse(line) as ContainerEvent);
          }
        });
        res.on('close', finish);
        resolve({ close: () => req.destroy(), ended });
      });
      req.on('error', (err) => {
        finish();
        reject(new RuntimeCallError(0, `ContainerEvents: ${err.message}`));
      });
    });
  }

  /**
   * A stream to the container's stdin (Attach); with closeStdin, ending it closes the container's
   * stdin. Needs connect() first (the agent's connection did it).
   */
  attachStdin(containerId: string, closeStdin: boolean): Writable {
    const q = new URLSearchParams({ containerId, ...(closeStdin ? { closeStdin: 'true' } : {}) });
    const req = http.request({ socketPath: this.socketPath, method: 'POST', path: `/${this.version ?? 'v1'}/Attach?${q.toString()}`, headers: { 'transfer-encoding': 'chunked' } }, (res) => res.resume());
    req.on('error', () => undefined);
    req.flushHeaders();
    return req;
  }

  /** The container's log lines (CRI file format); with follow, the stream stays open until it exits. */
  async logs(containerId: string, opts: { follow?: boolean; tailLines?: number } = {}): Promise<Readable> {
    if (!this.version) await this.connect();
    const q = new URLSearchParams({ containerId, ...(opts.follow ? { follow: 'true' } : {}), ...(opts.tailLines !== undefined ? { tailLines: String(opts.tailLines) } : {}) });
    return new Promise((resolve, reject) => {
      const req = http.get({ socketPath: this.socketPath, path: `/${this.version}/ContainerLogs?${q.toString()}` }, (res) => {
        if (res.statusCode === 200) return resolve(res);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => reject(new RuntimeCallError(res.statusCode ?? 0, `ContainerLogs: ${Buffer.concat(chunks).toString('utf8')}`)));
      });
      req.on('error', (err) => reject(new RuntimeCallError(0, `ContainerLogs: ${err.message}`)));
    });
  }
}
