// The Kubernetes API client every flatnet component uses: typed CRUD, patches and watches over
// HTTPS with a bearer token. The API is the only contract between components, so this talks to
// flatnet's server and to a real kube-apiserver alike.
import https from 'node:https';
import http from 'node:http';
import { createInterface } from 'node:readline';
import type { ClusterConnection } from './kubeconfig.js';
import { type ResourceInfo, resourcePath } from '../api/resources.js';
import type { KubeList, KubeObject, Status, WatchEvent } from '../api/types.js';
import { isStatus } from '../api/types.js';

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

export class KubeClient {
  private agent: https.Agent | http.Agent;
  private readonly url: URL;
  private readonly unauthorizedListeners = new Set<() => void>();

  constructor(readonly connection: ClusterConnection) {
    this.url = new URL(connection.server);
    this.agent = this.newAgent();
  }

  private newAgent(): https.Agent | http.Agent {
    const c = this.connection;
    return this.url.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, maxSockets: 64, ca: c.ca, cert: c.cert, key: c.key, rejectUnauthorized: !c.insecureSkipTLSVerify })
      : new http.Agent({ keepAlive: true, maxSockets: 64 });
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
  }

  close(): void {
    this.agent.destroy();
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

  private send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, retried = false): Promise<RawResponse> {
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    if (payload) {
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const lib = this.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = lib.request(this.requestOptions(method, path, headers), (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
        res.on('error', reject);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed while idle fails the first write on it: send once more on a new one.
        if (!retried && !answered && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) resolve(this.send(method, path, body, headers, true));
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
    const lib = this.url.protocol === 'https:' ? https : http;
    let req: http.ClientRequest | undefined;
    let stopped = false;
    const done = new Promise<Error | undefined>((resolve) => {
      req = lib.request(this.requestOptions('GET', resourcePath(r, opts.namespace) + query(q), {}), (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              parsed = undefined;
            }
            resolve(this.apiError(res.statusCode ?? 0, parsed));
          });
          return;
        }
        const lines = createInterface({ input: res, crlfDelay: Infinity });
        // readline re-emits the response's errors (such as "aborted" after stop()); the
        // response's own handler below settles `done`, so they need no second handling here.
        lines.on('error', () => {});
        lines.on('line', (line) => {
          if (stopped || line.trim() === '') return;
          try {
            onEvent(JSON.parse(line) as WatchEvent<T>);
          } catch (err) {
            lines.close();
            res.destroy();
            resolve(err as Error);
          }
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
