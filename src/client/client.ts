// The Kubernetes API client every flatnet component uses: typed CRUD, patches and watches over
// HTTPS with a bearer token or a client certificate. The API is the only contract between
// components, so this talks to flatnet's server and to a real kube-apiserver alike. Over HTTPS it
// speaks HTTP/2 when the server offers it (ALPN), every request and watch a stream on one
// connection per server and credentials in the process (h2-sessions.ts), as client-go does;
// otherwise, and over plain HTTP, HTTP/1.1 with kept-alive connections. A request is sent again
// as client-go sends it (retry.ts): after a 429 or 5xx answer with Retry-After, and a GET after its
// connection failed, up to 10 times.
import https from 'node:https';
import http from 'node:http';
import type { ClientHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { ClusterConnection } from './kubeconfig.js';
import { type ResourceInfo, resourcePath } from '../api/resources.js';
import type { KubeList, KubeObject, Status, WatchEvent } from '../api/types.js';
import { isStatus } from '../api/types.js';
import { CANCEL, type H2Pool, acquirePool, releasePool } from './h2-sessions.js';
import { DEFAULT_RETRY, type RetryOptions, type TryOutcome, nextRetry } from './retry.js';

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

const patchContentType: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** An error answer from the API server, carrying its metav1.Status. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: Status,
  ) {
    super(status.message ?? `HTTP ${code}`);
    this.name = 'ApiError';
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404;
}
export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.code === 409;
}
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiError && err.code === 409 && err.reason === 'AlreadyExists';
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  limit?: number;
  continue?: string;
}

export interface WatchOptions extends ListOptions {
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  force?: boolean;
  subresource?: string;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface WatchHandle {
  stop(): void;
  /** Resolves when the stream ends: normally (undefined) or with an error. */
  done: Promise<Error | undefined>;
}

interface RawResponse {
  status: number;
  body: Buffer;
  headers: http.IncomingHttpHeaders;
}

export interface KubeClientOptions {
  /** How requests are sent again (retry.ts); client-go's defaults unless set. */
  retry?: Partial<RetryOptions>;
}

/** The error of a request whose client was closed while it waited to be sent again. */
const CLOSED_WHILE_WAITING = 'the client was closed while the request waited to be sent again';

export class KubeClient {
  private agent: https.Agent | http.Agent;
  private readonly url: URL;
  private readonly unauthorizedListeners = new Set<() => void>();
  /** The shared HTTP/2 connections for this server and credentials (HTTPS with credentials only). */
  private pool: H2Pool | undefined;
  /** This client's open HTTP/2 streams (requests and watches), ended by close() and a certificate switch. */
  private readonly streams = new Set<ClientHttp2Stream>();
  private readonly retry: RetryOptions;
  /** Requests waiting to be sent again: close() ends their waits. */
  private readonly waits = new Set<{ timer: NodeJS.Timeout; fail: (err: Error) => void }>();
  private closed = false;

  constructor(
    readonly connection: ClusterConnection,
    options: KubeClientOptions = {},
  ) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.url = new URL(connection.server);
    this.agent = this.newAgent();
    this.pool = this.newPool();
  }

  /**
   * HTTP/2 over HTTPS; not for a client without credentials, whose every HTTP/2 connection the
   * server would end after one request (flatnet's and kube-apiserver's unauthenticated-HTTP/2 guard).
   */
  private newPool(): H2Pool | undefined {
    const c = this.connection;
    return this.url.protocol === 'https:' && (c.token || (c.cert && c.key)) ? acquirePool(c) : undefined;
  }

  private endStreams(): void {
    for (const s of this.streams) s.close(CANCEL);
    this.streams.clear();
  }

  private readonly track = (stream: ClientHttp2Stream): void => {
    this.streams.add(stream);
    stream.once('close', () => this.streams.delete(stream));
  };

  private newAgent(): https.Agent | http.Agent {
    const c = this.connection;
    if (this.url.protocol !== 'https:') return new http.Agent({ keepAlive: true, maxSockets: 64 });
    const agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca: c.ca, cert: c.cert, key: c.key, rejectUnauthorized: !c.insecureSkipTLSVerify });
    // Counted by the HTTP/2 pool, which offers h2 again once every HTTP/1.1 connection to the server has closed.
    const connect = agent.createConnection.bind(agent);
    agent.createConnection = (options, callback) => {
      const socket = connect(options, callback);
      if (socket instanceof Socket) this.pool?.http1Connection(socket);
      return socket;
    };
    return agent;
  }

  /**
   * Switches to a new client certificate (a rotated node certificate): later requests connect with
   * it, and every open connection (watches included) is closed so it reconnects with it, as the
   * kubelet does after rotating.
   */
  useClientCertificate(cert: Buffer, key: Buffer): void {
    this.connection.cert = cert;
    this.connection.key = key;
    const old = this.agent;
    this.agent = this.newAgent();
    old.destroy();
    const oldPool = this.pool;
    this.pool = this.newPool();
    this.endStreams();
    if (oldPool) releasePool(oldPool);
  }

  /** Requests waiting now to be sent again. */
  get waitingToRetry(): number {
    return this.waits.size;
  }

  close(): void {
    this.closed = true;
    for (const w of this.waits) {
      clearTimeout(w.timer);
      w.fail(new Error(CLOSED_WHILE_WAITING));
    }
    this.waits.clear();
    this.agent.destroy();
    this.endStreams();
    if (this.pool) releasePool(this.pool);
    this.pool = undefined;
  }

  /** Calls `listener` whenever the server answers 401 (credentials refused); returns the unsubscribe. */
  onUnauthorized(listener: () => void): () => void {
    this.unauthorizedListeners.add(listener);
    return () => this.unauthorizedListeners.delete(listener);
  }

  private apiError(status: number, parsed: unknown): ApiError {
    if (status === 401) for (const l of this.unauthorizedListeners) l();
    return new ApiError(status, toStatus(status, parsed));
  }

  private requestOptions(method: string, path: string, headers: Record<string, string>): https.RequestOptions {
    const h: Record<string, string> = { accept: 'application/json', ...headers };
    if (this.connection.token) h.authorization = `Bearer ${this.connection.token}`;
    return {
      method,
      hostname: this.url.hostname,
      port: this.url.port || (this.url.protocol === 'https:' ? 443 : 80),
      path,
      headers: h,
      agent: this.agent,
    };
  }

  private h2Headers(method: string, path: string, headers: Record<string, string>): OutgoingHttpHeaders {
    const h: OutgoingHttpHeaders = { ':method': method, ':path': path, accept: 'application/json', ...headers };
    if (this.connection.token) h.authorization = `Bearer ${this.connection.token}`;
    return h;
  }

  /**
   * Sends a request, and again as client-go would (retry.ts): after an answer 429 or 5xx with
   * Retry-After, and for a GET after a connection error, up to retry.maxRetries times.
   */
  private async send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    if (payload) {
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = String(payload.length);
    }
    for (let retries = 0; ; retries++) {
      let outcome: TryOutcome;
      let res: RawResponse | undefined;
      try {
        res = await this.sendOnce(method, path, payload, headers);
        outcome = { status: res.status, retryAfter: res.headers['retry-after'] };
      } catch (err) {
        outcome = { error: err };
      }
      const next = this.closed ? undefined : nextRetry(method, outcome, retries, this.retry.maxRetries);
      if (!next) {
        if (res) return res;
        throw transportError(method, path, (outcome as { error: unknown }).error, retries);
      }
      try {
        await this.waitToRetry(next.waitSeconds * this.retry.secondMs);
      } catch (err) {
        throw transportError(method, path, err, retries);
      }
    }
  }

  private waitToRetry(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const wait = {
        timer: setTimeout(() => {
          this.waits.delete(wait);
          resolve();
        }, ms),
        fail: reject,
      };
      this.waits.add(wait);
    });
  }

  /** One try: over HTTP/2 when the pool speaks it, else HTTP/1.1. Rejects with the connection's error, as it is. */
  private async sendOnce(method: string, path: string, payload: Buffer | undefined, headers: Record<string, string>): Promise<RawResponse> {
    const pool = this.pool;
    if (pool) {
      const answer = await pool.request(this.h2Headers(method, path, headers), payload, this.track);
      if (answer !== 'http/1.1') {
        const chunks: Buffer[] = [];
        try {
          for await (const c of answer.stream) chunks.push(c as Buffer);
        } catch (err) {
          throw answeredError(err);
        }
        return { status: answer.status, body: Buffer.concat(chunks), headers: answer.headers as http.IncomingHttpHeaders };
      }
    }
    return this.send1(method, path, payload, headers);
  }

  private send1(method: string, path: string, payload: Buffer | undefined, headers: Record<string, string>, again = false): Promise<RawResponse> {
    const lib = this.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = lib.request(this.requestOptions(method, path, headers), (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
        res.on('error', (err) => reject(answeredError(err)));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (answered) return reject(answeredError(err));
        // A kept-alive connection the server closed while idle fails the first request on it: a
        // GET goes once more at once on a new connection, as Go's transport does below client-go
        // (a write may have reached the server: it fails).
        if (!again && method === 'GET' && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) resolve(this.send1(method, path, payload, headers, true));
        else reject(err);
      });
      req.end(payload);
    });
  }

  /** A raw request; answers the parsed JSON body or throws ApiError for any status >= 300. */
  async request<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await this.send(method, path, body, headers);
    const text = res.body.toString('utf8');
    let parsed: unknown = undefined;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (res.status >= 300) throw this.apiError(res.status, parsed);
    return parsed as T;
  }

  async get<T extends KubeObject = KubeObject>(r: ResourceInfo, namespace: string | undefined, name: string, subresource?: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', resourcePath(r, namespace, name, subresource));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  list<T extends KubeObject = KubeObject>(r: ResourceInfo, opts: ListOptions = {}): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', resourcePath(r, opts.namespace) + query(listQuery(opts)));
  }

  create<T extends KubeObject = KubeObject>(r: ResourceInfo, obj: T, opts: WriteOptions = {}): Promise<T> {
    const ns = r.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
    const path = opts.subresource ? resourcePath(r, ns, obj.metadata.name, opts.subresource) : resourcePath(r, ns);
    return this.request<T>('POST', path + query(writeQuery(opts)), obj);
  }

  update<T extends KubeObject = KubeObject>(r: ResourceInfo, obj: T, opts: WriteOptions = {}): Promise<T> {
    const ns = r.namespaced ? obj.metadata.namespace : undefined;
    if (!obj.metadata.name) throw new Error('update needs metadata.name');
    return this.request<T>('PUT', resourcePath(r, ns, obj.metadata.name, opts.subresource) + query(writeQuery(opts)), obj);
  }

  updateStatus<T extends KubeObject = KubeObject>(r: ResourceInfo, obj: T): Promise<T> {
    return this.update(r, obj, { subresource: 'status' });
  }

  patch<T extends KubeObject = KubeObject>(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType = 'merge',
    opts: WriteOptions = {},
  ): Promise<T> {
    const q = writeQuery(opts);
    if (type === 'apply' && !opts.fieldManager) q.fieldManager = 'flatnet';
    return this.request<T>('PATCH', resourcePath(r, namespace, name, opts.subresource) + query(q), patch, {
      'content-type': patchContentType[type],
    });
  }

  /** Deletes; answers false when the object was already gone. */
  async delete(r: ResourceInfo, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<boolean> {
    const q: Record<string, string> = {};
    if (opts.dryRun) q.dryRun = 'All';
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.preconditions) body.preconditions = opts.preconditions;
    try {
      await this.request('DELETE', resourcePath(r, namespace, name) + query(q), body);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Streams watch events to `onEvent` until stopped, the server ends the stream, or an error.
   * An ERROR event (such as 410 Expired) is delivered to `onEvent` like any other.
   */
  watch<T extends KubeObject = KubeObject>(r: ResourceInfo, opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void): WatchHandle {
    const q = listQuery(opts);
    q.watch = 'true';
    if (opts.allowWatchBookmarks) q.allowWatchBookmarks = 'true';
    if (opts.timeoutSeconds !== undefined) q.timeoutSeconds = String(opts.timeoutSeconds);
    const path = resourcePath(r, opts.namespace) + query(q);
    return this.pool ? this.watch2(this.pool, path, onEvent) : this.watch1(path, onEvent);
  }

  /** A watch as one HTTP/2 stream (or over HTTP/1.1 when the server turns out not to speak HTTP/2). */
  private watch2<T extends KubeObject>(pool: H2Pool, path: string, onEvent: (ev: WatchEvent<T>) => void): WatchHandle {
    let stopped = false;
    let stream: ClientHttp2Stream | undefined;
    let overHttp1: WatchHandle | undefined;
    const opened = (s: ClientHttp2Stream) => {
      this.track(s);
      stream = s;
      if (stopped) s.close(CANCEL);
    };
    const run = async (): Promise<Error | undefined> => {
      let answer: Awaited<ReturnType<H2Pool['request']>>;
      try {
        answer = await pool.request(this.h2Headers('GET', path, {}), undefined, opened);
      } catch (err) {
        return stopped ? undefined : transportError('GET', path, err);
      }
      if (answer === 'http/1.1') {
        if (stopped) return undefined;
        overHttp1 = this.watch1(path, onEvent);
        return overHttp1.done;
      }
      const s = answer.stream;
      if (answer.status >= 300) {
        const chunks: Buffer[] = [];
        try {
          for await (const c of s) chunks.push(c as Buffer);
        } catch (err) {
          return stopped ? undefined : transportError('GET', path, err);
        }
        return this.apiError(answer.status, jsonOrUndefined(chunks));
      }
      return new Promise<Error | undefined>((resolve) => {
        // Every chunk is read as it arrives, so this stream never holds the connection's shared
        // flow-control window from the other streams.
        readWatchLines(s, onEvent, () => stopped, (err) => {
          s.close(CANCEL);
          resolve(err);
        });
        s.on('error', (err) => resolve(stopped ? undefined : transportError('GET', path, err)));
        s.on('close', () => {
          const reset = s.rstCode !== undefined && s.rstCode !== 0;
          resolve(stopped || !reset ? undefined : transportError('GET', path, new Error(`the stream was reset (HTTP/2 code ${s.rstCode})`)));
        });
      });
    };
    const done = run();
    return {
      stop() {
        stopped = true;
        stream?.close(CANCEL);
        overHttp1?.stop();
      },
      done,
    };
  }

  private watch1<T extends KubeObject>(path: string, onEvent: (ev: WatchEvent<T>) => void): WatchHandle {
    const lib = this.url.protocol === 'https:' ? https : http;
    let req: http.ClientRequest | undefined;
    let stopped = false;
    const done = new Promise<Error | undefined>((resolve) => {
      req = lib.request(this.requestOptions('GET', path, {}), (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(this.apiError(res.statusCode ?? 0, jsonOrUndefined(chunks))));
          return;
        }
        readWatchLines(res, onEvent, () => stopped, (err) => {
          res.destroy();
          resolve(err);
        });
        res.on('error', (err) => resolve(stopped ? undefined : err));
        res.on('close', () => resolve(undefined));
      });
      req.on('error', (err) => resolve(stopped ? undefined : err));
      req.end();
    });
    return {
      stop() {
        stopped = true;
        req?.destroy();
      },
      done,
    };
  }
}

/** An error answer's body as JSON, or undefined when it is not JSON. */
function jsonOrUndefined(chunks: Buffer[]): unknown {
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Feeds each line of a watch body to `onEvent` as a parsed event, until `stopped()`; a line that
 * is not JSON, or an `onEvent` that throws, ends the reading through `fail`. readline re-emits
 * the body's errors (such as "aborted" after a stop): the body's own handlers settle the watch,
 * so they need no second handling here.
 */
function readWatchLines<T extends KubeObject>(input: NodeJS.ReadableStream, onEvent: (ev: WatchEvent<T>) => void, stopped: () => boolean, fail: (err: Error) => void): void {
  const lines = createInterface({ input, crlfDelay: Infinity });
  lines.on('error', () => {});
  lines.on('line', (line) => {
    if (stopped() || line.trim() === '') return;
    try {
      onEvent(JSON.parse(line) as WatchEvent<T>);
    } catch (err) {
      lines.close();
      fail(err as Error);
    }
  });
}

/** A connection-level failure of a request, naming the request (and its retries); its code is kept. */
function transportError(method: string, path: string, err: unknown, retries = 0): Error {
  const e = err as NodeJS.ErrnoException;
  if (e instanceof ApiError) return e;
  const tries = retries > 0 ? ` (after ${retries} ${retries === 1 ? 'retry' : 'retries'})` : '';
  return Object.assign(new Error(`${method} ${path}: ${e?.message ?? String(err)}${tries}`, { cause: err }), { code: e?.code });
}

/** A failure while an answer's body was read: final (client-go retries only before the answer). */
function answeredError(err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  return Object.assign(new Error(`the connection failed while the answer was read: ${e?.message ?? String(err)}`, { cause: err }), { code: e?.code, answered: true });
}

function listQuery(opts: ListOptions): Record<string, string> {
  const q: Record<string, string> = {};
  if (opts.labelSelector) q.labelSelector = opts.labelSelector;
  if (opts.fieldSelector) q.fieldSelector = opts.fieldSelector;
  if (opts.resourceVersion !== undefined) q.resourceVersion = opts.resourceVersion;
  if (opts.limit !== undefined) q.limit = String(opts.limit);
  if (opts.continue) q.continue = opts.continue;
  return q;
}

function writeQuery(opts: WriteOptions): Record<string, string> {
  const q: Record<string, string> = {};
  if (opts.dryRun) q.dryRun = 'All';
  if (opts.fieldManager) q.fieldManager = opts.fieldManager;
  if (opts.force) q.force = 'true';
  return q;
}

function query(q: Record<string, string>): string {
  const s = new URLSearchParams(q).toString();
  return s ? `?${s}` : '';
}

function toStatus(code: number, body: unknown): Status {
  if (isStatus(body)) return body;
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code,
    message: typeof body === 'string' && body ? body : `the server answered HTTP ${code}`,
  };
}
