// The HTTPS API server: authentication, the max-in-flight limits (max-inflight.ts), routing to
// discovery/OpenAPI/health/metrics and to the resource handlers, the node-agent proxy for
// logs/exec/attach/port-forward, and the bootstrap objects (default namespaces, the `kubernetes`
// Service) an upstream cluster has.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { constants as cryptoConstants } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { R, findResource } from '../api/resources.js';
import { CustomResourceCatalog } from './crd/catalog.js';
import { aggregatedWithCustom, legacyWithCustom } from './crd/discovery.js';
import { withCustomResources } from './crd/openapi.js';
import { renderKubeconfig } from '../client/kubeconfig.js';
import type { Store } from '../store/types.js';
import { createLogger } from '../util/log.js';
import { ensureAdminToken } from './auth.js';
import type { RequestUser } from './authorize.js';
import { AccessControl } from './rbac/access.js';
import { ensureProxyTokenKey } from '../gateway/proxy-identity.js';
import { ServiceAllocator } from './service-allocation.js';
import { ApiStatusError, errors } from './errors.js';
import { type HandlerEnv, handleResource, send, sendStatus, verbOf } from './handlers.js';
import { endPaced } from './paced-write.js';
import { ApiServerMetrics } from './metrics.js';
import { aggregatedDiscovery, legacyDiscovery, openapiV2, openapiV3 } from './present/index.js';
import { serveClusterFlows } from './flows.js';
import { WebUi, isUiPath } from '../ui/routes.js';
import { KubeletDialer, checkPodOrNodePath, isProxyRoute, proxyHttp, proxyTarget, proxyUpgrade, rejectUpgrade } from './proxy.js';
import { CsrSigner } from './node-identity/csr-signer.js';
import { DEFAULT_NAMESPACES, Registry, storeKey } from './registry.js';
import { createUnlessExists } from './bootstrap-writes.js';
import { ensureKubernetesService } from './kubernetes-service-bootstrap.js';
import { type Route, parseRoute } from './routes.js';
import { ShutdownState, type HealthChecks, type HealthEndpoint } from './health.js';
import { serverHealthChecks } from './health-checks.js';
import { TLS_SERVING_OPTIONS, ensureKubeletClientCertificate, ensureServingCertificate, loadCertificateAuthority, servingNames } from './tls.js';
import type { TLSSocket } from 'node:tls';
import { StoreError } from '../store/types.js';
import { startEventSweeper } from './event-ttl.js';
import { isEventsV1, serveEventsV1 } from './events-v1.js';
import { type Policy as PodSecurityPolicy, podSecurityMetrics, podSecurityOverStore, systemNamespaceLabels } from './admission/pod-security/index.js';
import { ValidatingPolicies } from './admission/validating-policy.js';
import { rememberRequestUser } from './request-user.js';
import { DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT, DEFAULT_MAX_REQUESTS_INFLIGHT, MaxInFlight, RETRY_AFTER_SECONDS, TOO_MANY_REQUESTS_MESSAGE, requestKind } from './max-inflight.js';
import { GROUP_MASTERS } from './rbac/types.js';
import { type ServingServer, createServingServer, endConnectionIfHttp2, isHttp2Connection, trackConnections } from './http2.js';

const log = createLogger('apiserver');
/**
 * The TLS sockets' write high-water mark. Node's HTTP server pauses a connection's parser when a
 * request arrives while the previous response is still above this mark in the socket's buffer (the
 * 16 KiB default: any larger response); on a TLS socket the rest of that request's body can still
 * arrive, the paused parser then fails with HPE_PAUSED and the connection is reset (kubectl's
 * server-side apply of the Gateway API CRDs saw EOF). The mark only says when a write reports
 * backpressure, not how much is buffered: every response is written whole anyway. The server's own
 * `highWaterMark` option reaches the TCP sockets, not the TLS sockets over them.
 */
const RESPONSE_HIGH_WATER_MARK = 16 << 20;

function raiseWriteHighWaterMark(socket: TLSSocket): void {
  const state = (socket as unknown as { _writableState?: { highWaterMark: number } })._writableState;
  if (state && state.highWaterMark < RESPONSE_HIGH_WATER_MARK) state.highWaterMark = RESPONSE_HIGH_WATER_MARK;
}

/**
 * The cause of that reset: the pause stops reading from the socket's stream, but Node's HTTP server
 * parses a TLS socket straight from its native handle, which keeps handing the paused parser the
 * records it already decrypted. A 'data' listener makes Node's server parse from the socket's
 * stream instead (its own rule), where a paused socket keeps the bytes until the answer drains: a
 * request sent while any answer (above 16 MiB too) is still being written waits instead of failing.
 */
function parseRequestsFromStream(socket: TLSSocket): void {
  const listener = () => {};
  socket.on('data', listener);
  socket.off('data', listener);
}
const debugRequests = process.env.FLATNET_LOG === 'debug';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-flatnet',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

const AGGREGATED_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

export interface ApiServerOptions {
  dataDir: string;
  /** host:port; port 0 picks a free port. */
  listen: string;
  store: Store;
  serviceCIDR: string;
  nodePortRange: string;
  /** The address in the certificate and in the `kubernetes` endpoints (default: the listen host). */
  advertiseAddress?: string;
  bookmarkIntervalMs?: number;
  /** How long Events live after their last activity (default 1 h, as upstream's --event-ttl). */
  eventTTLms?: number;
  /**
   * A connection must finish its TLS handshake, and then send its first request's headers, within
   * this (default 32 s, kube-apiserver's ReadHeaderTimeout); else it is closed.
   */
  handshakeTimeoutMs?: number;
  /** The network namespace the server dials node agents from (the lab's underlay switch); default its own. */
  kubeletNetns?: string;
  /** PodSecurity levels for namespaces without pod-security labels (default: enforce baseline). */
  podSecurityDefaults?: PodSecurityPolicy;
  /** Offer HTTP/2 (h2 before http/1.1 in ALPN) as kube-apiserver does (default); false: HTTP/1.1 only. */
  http2?: boolean;
  /** Read-only requests served at once, long-running ones aside (default 400, kube-apiserver's); 0: no limit. */
  maxRequestsInflight?: number;
  /** Mutating requests served at once (default 200, kube-apiserver's); 0: no limit. */
  maxMutatingRequestsInflight?: number;
}

export function splitHostPort(listen: string): { host: string; port: number } {
  const m = listen.match(/^\[?([^\]]*?)\]?:(\d+)$/);
  if (!m) throw new Error(`--listen ${JSON.stringify(listen)} is not host:port (for example 127.0.0.1:6443, or port 0 for any free port)`);
  return { host: m[1] || '0.0.0.0', port: Number(m[2]) };
}

/** The first address of an IPv4 CIDR (10.96.0.0/16 -> 10.96.0.1): the `kubernetes` Service. */
export function firstServiceIP(cidr: string): string {
  const m = cidr.match(/^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/);
  if (!m) throw new Error(`service CIDR ${JSON.stringify(cidr)} is not an IPv4 CIDR such as 10.96.0.0/16`);
  const bits = Number(m[5]);
  const base = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const ip = ((base & mask) + 1) >>> 0;
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
}

export class ApiServer {
  readonly registry: Registry;
  readonly metrics: ApiServerMetrics;
  readonly access: AccessControl;
  /** The custom resources established CRDs add to the built-in ones. */
  readonly crds: CustomResourceCatalog;
  private readonly findResource = (group: string, version: string, plural: string) => findResource(group, version, plural) ?? this.crds.find(group, version, plural);
  private readonly server: ServingServer;
  private readonly closeConnections: () => void;
  private readonly env: HandlerEnv;
  private readonly cache = new Map<string, string | undefined>();
  private openWatches = 0;
  private readonly inflight: MaxInFlight;
  private stopSweeper: (() => void) | undefined;
  private readonly kubelets: KubeletDialer;
  private readonly csrSigner: CsrSigner;
  private webUi: WebUi | undefined;
  /** readyz fails from the moment the server is told to stop (beginShutdown) while it drains. */
  readonly shutdown = new ShutdownState();
  readonly health: HealthChecks;
  url = '';
  port = 0;

  private constructor(
    readonly options: ApiServerOptions,
    readonly token: string,
    readonly caPem: string,
    serving: { certPem: string; keyPem: string },
    registry: Registry,
  ) {
    this.registry = registry;
    this.crds = new CustomResourceCatalog(registry);
    this.crds.onChange(() => this.cache.clear());
    this.access = new AccessControl({ dataDir: options.dataDir, adminToken: token, proxyTokenKey: ensureProxyTokenKey(options.dataDir), registry });
    this.metrics = new ApiServerMetrics(options.store);
    this.metrics.include(podSecurityMetrics);
    this.inflight = new MaxInFlight({ readOnly: options.maxRequestsInflight ?? DEFAULT_MAX_REQUESTS_INFLIGHT, mutating: options.maxMutatingRequestsInflight ?? DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT });
    this.metrics.trackInflight(this.inflight);
    this.health = serverHealthChecks(options.store, this.shutdown);
    const ca = loadCertificateAuthority(options.dataDir);
    this.kubelets = new KubeletDialer({ caPem: ca.certPem, ...ensureKubeletClientCertificate(options.dataDir, ca), netns: options.kubeletNetns });
    this.csrSigner = new CsrSigner(registry, ca);
    this.env = {
      registry,
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
      watchOpened: () => {
        this.openWatches++;
        this.metrics.watches.set(this.openWatches);
      },
      watchClosed: () => {
        this.openWatches--;
        this.metrics.watches.set(this.openWatches);
      },
    };
    const handshakeTimeout = options.handshakeTimeoutMs ?? 32_000;
    this.server = createServingServer(
      {
        // Client certificates signed by the cluster CA (nodes) are asked for, never required. The
        // chain includes the CA so a joining node can pin it (flatnet join --ca-cert-hash). No TLS 1.2
        // renegotiation (Go's server never renegotiates): a connection's client certificate is fixed at
        // its handshake, so the authenticator reads it once per connection (auth.ts).
        tls: { cert: serving.certPem + caPem, key: serving.keyPem, ca: caPem, requestCert: true, rejectUnauthorized: false, ...TLS_SERVING_OPTIONS, secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION, handshakeTimeout, headersTimeout: handshakeTimeout, connectionsCheckingInterval: 1_000 },
        http2: options.http2 !== false,
        firstRequestTimeoutMs: handshakeTimeout,
        // kube-apiserver's IdleTimeout: Go clients keep idle connections 90 s, so closing sooner races their next request.
        idleTimeoutMs: 90_000,
      },
      (req, res) => void this.onRequest(req, res),
    );
    this.closeConnections = trackConnections(this.server);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('secureConnection', (socket: TLSSocket) => {
      // An HTTP/2 session has its own deadlines (http2.ts); its socket belongs to the session.
      if (isHttp2Connection(socket)) return;
      closeIfSilent(socket, handshakeTimeout);
      raiseWriteHighWaterMark(socket);
      parseRequestsFromStream(socket);
    });
  }

  static async start(options: ApiServerOptions): Promise<ApiServer> {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const { host, port } = splitHostPort(options.listen);
    const advertise = options.advertiseAddress ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
    const serving = ensureServingCertificate(options.dataDir, servingNames([host, advertise], firstServiceIP(options.serviceCIDR)));
    const token = ensureAdminToken(options.dataDir);
    const allocator = new ServiceAllocator({ serviceCIDR: options.serviceCIDR, nodePortRange: options.nodePortRange });
    const registry = new Registry(options.store, allocator);
    registry.podSecurity = podSecurityOverStore(options.store, options.podSecurityDefaults);
    registry.validatingPolicies = new ValidatingPolicies(options.store);
    const server = new ApiServer({ ...options, advertiseAddress: advertise }, token, serving.caPem, serving, registry);
    server.ensureDefaultNamespaces();
    server.crds.start();
    server.access.start();
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.server.listen(port, host, () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    server.port = (server.server.address() as AddressInfo).port;
    const urlHost = host === '0.0.0.0' || host === '::' ? advertise : host;
    server.url = `https://${urlHost.includes(':') ? `[${urlHost}]` : urlHost}:${server.port}`;
    writeFileSync(server.kubeconfigPath, renderKubeconfig({ server: server.url, caPem: serving.caPem, token }), { mode: 0o600 });
    server.ensureKubernetesService();
    server.stopSweeper = startEventSweeper(registry, options.eventTTLms ?? 3600_000);
    log.info('serving', { url: server.url, kubeconfig: server.kubeconfigPath, revision: options.store.revision });
    return server;
  }

  get kubeconfigPath(): string {
    return join(this.options.dataDir, 'admin.kubeconfig');
  }

  /** From now on readyz fails (shutdown), so load balancers stop sending before the server closes. */
  beginShutdown(): void {
    this.shutdown.begin();
  }

  close(): Promise<void> {
    this.shutdown.begin();
    this.stopSweeper?.();
    this.crds.close();
    this.access.close();
    this.csrSigner.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.closeConnections();
    });
  }

  // ---- bootstrap ----

  private systemContext() {
    return { dryRun: false, fieldValidation: 'Ignore' as const, fieldManager: 'flatnet-apiserver', warnings: [] };
  }

  private ensureDefaultNamespaces(): void {
    for (const name of DEFAULT_NAMESPACES) {
      if (this.registry.store.get(storeKey(R.namespaces), '', name)) continue;
      createUnlessExists(this.registry, R.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...systemNamespaceLabels(name) } } }, this.systemContext());
    }
  }

  /** The `kubernetes` Service in default, and its endpoints listing this server and the other live ones. */
  private ensureKubernetesService(): void {
    try {
      ensureKubernetesService(this.registry, () => this.systemContext(), { serviceCIDR: this.options.serviceCIDR, advertiseAddress: this.options.advertiseAddress!, port: this.port });
    } catch (err) {
      log.warn('could not write the kubernetes Service or its endpoints', { err: (err as Error).message });
    }
  }

  // ---- requests ----

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    heard(req.socket);
    const started = performance.now();
    let verb = (req.method ?? 'GET').toLowerCase();
    let resource = '';
    res.on('finish', () => {
      const seconds = (performance.now() - started) / 1000;
      this.metrics.observe(verb, resource, res.statusCode, seconds);
      if (debugRequests) log.debug('request', { verb, resource, url: req.url, code: res.statusCode, ms: Math.round(seconds * 1000) });
    });
    try {
      const { pathname, query } = splitUrl(req.url ?? '/');
      checkPodOrNodePath(pathname);
      if (isUiPath(pathname)) return await (this.webUi ??= new WebUi({ access: this.access, env: this.env, kubelets: this.kubelets })).serve(req, res, pathname, query);
      const user = this.admit(req, pathname, query);
      rememberRequestUser(req, user);
      const route = parseRoute(pathname, this.findResource);
      if (route.kind === 'resource' && route.watch) legacyWatch(req, route, query);
      if (route.kind === 'resource') {
        resource = route.subresource ? `${route.r.plural}/${route.subresource}` : route.r.plural;
        verb = verbOf(req.method ?? 'GET', route, query);
      }
      if (!this.holdInflightSlot(req, res, route, verb, query, user)) return;
      if (route.kind === 'resource') {
        if (isProxyRoute(route)) {
          verb = 'proxy';
          await proxyHttp(req, res, proxyTarget(this.registry, route, req.url ?? '/'), this.kubelets);
          return;
        }
        if (user && this.access.serves(route.r, route.subresource)) {
          await this.access.serve(req, res, user, route);
          return;
        }
        if (isEventsV1(route.r)) {
          await serveEventsV1(this.env, { req, res, query, r: route.r, namespace: route.namespace, name: route.name, subresource: route.subresource });
          return;
        }
        await handleResource(this.env, { req, res, query, r: route.r, namespace: route.namespace, name: route.name, subresource: route.subresource });
        return;
      }
      this.serveNonResource(req, res, route);
    } catch (err) {
      if (err instanceof ApiStatusError) {
        if (!res.headersSent) sendStatus(res, err);
        else res.destroy();
        return;
      }
      const clientFault = clientFaultStatus(err);
      if (clientFault) {
        if (!res.headersSent) sendStatus(res, clientFault);
        else res.destroy();
        return;
      }
      log.error('request failed', { method: req.method, url: req.url, err });
      if (!res.headersSent) sendStatus(res, errors.internal((err as Error).message));
      else res.destroy();
    }
  }

  private serveNonResource(req: IncomingMessage, res: ServerResponse, route: Route): void {
    const method = req.method ?? 'GET';
    // A path nothing is served at is 404 for every method, as upstream answers; only a path that
    // exists but is read-only is 405.
    if (route.kind === 'notfound') throw errors.pathNotFound();
    if (method !== 'GET' && method !== 'HEAD') throw errors.methodNotAllowed();
    switch (route.kind) {
      case 'version':
        return send(res, 200, JSON.stringify(SERVER_VERSION));
      case 'health': {
        const query = new URL(req.url ?? '/', 'https://server').searchParams;
        void this.health.answer(route.check as HealthEndpoint, route.subpath, query).then((answer) => {
          if (answer.failures.length > 0) log.warn(`${route.check} check failed`, { failed: answer.failures });
          if (answer.status === 404) return sendStatus(res, errors.pathNotFound());
          res.writeHead(answer.status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
          res.end(answer.body);
        });
        return;
      }
      case 'flows':
        void serveClusterFlows(req, res, this.registry, this.kubelets).catch((err: Error) => {
          log.warn('cannot merge the nodes\' flows', { err: err.message });
          if (!res.headersSent) sendStatus(res, errors.internal(err.message));
          else res.destroy();
        });
        return;
      case 'metrics':
        void this.metrics.text().then((text) => {
          res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
          endPaced(res, Buffer.from(text));
        });
        return;
      case 'discovery': {
        const accept = req.headers.accept ?? '';
        if ((route.path === '/api' || route.path === '/apis') && accept.includes('g=apidiscovery.k8s.io') && /v=v2(?![a-z0-9])/.test(accept)) {
          const body = this.memo(`agg:${route.path}`, () => JSON.stringify(route.path === '/api' ? aggregatedDiscovery('api') : aggregatedWithCustom(aggregatedDiscovery('apis') as Record<string, unknown>, this.crds.resources())));
          return send(res, 200, body!, { 'content-type': AGGREGATED_TYPE, vary: 'Accept' });
        }
        const body = this.memo(`legacy:${route.path}`, () => {
          const doc = legacyWithCustom(route.path, legacyDiscovery(route.path) as Record<string, unknown> | undefined, this.crds.resources());
          return doc === undefined ? undefined : JSON.stringify(doc);
        });
        if (body === undefined) throw errors.pathNotFound();
        return send(res, 200, body, { vary: 'Accept' });
      }
      case 'openapi': {
        if (route.path === '/openapi/v2') {
          const v2 = openapiV2(req.headers.accept, (path) => withCustomResources(path, (p) => openapiV3(p) as Record<string, unknown> | undefined, this.crds.resources()));
          res.writeHead(200, { 'content-type': v2.contentType, 'content-length': String(v2.body.length), vary: 'Accept' });
          return endPaced(res, v2.body);
        }
        if (!route.path.startsWith('/openapi/v3')) throw errors.pathNotFound();
        const body = this.memo(`openapi:${route.path}`, () => {
          const doc = withCustomResources(route.path, (path) => openapiV3(path) as Record<string, unknown> | undefined, this.crds.resources());
          return doc === undefined ? undefined : JSON.stringify(doc);
        });
        if (body === undefined) throw errors.pathNotFound();
        return send(res, 200, body);
      }
      default:
        throw errors.pathNotFound();
    }
  }

  /** Discovery and OpenAPI documents never change while the server runs: build each once. */
  private memo(key: string, make: () => string | undefined): string | undefined {
    if (this.cache.has(key)) return this.cache.get(key);
    const v = make();
    this.cache.set(key, v);
    return v;
  }

  /**
   * Takes a max-in-flight slot (max-inflight.ts) for the request until its answer is finished or
   * its client goes away; false when none was free: the request is answered 429 as upstream
   * answers it (a text body, not a Status), without reading its body.
   */
  private holdInflightSlot(req: IncomingMessage, res: ServerResponse, route: Route, verb: string, query: URLSearchParams, user: RequestUser | undefined): boolean {
    const kind = requestKind(
      route.kind === 'resource'
        ? // A HEAD of a resource is a get (or list) to upstream's RequestInfo; of any other path it is `head`.
          { resourceRequest: true, verb: req.method === 'HEAD' ? verbOf('GET', route, query) : verb, subresource: route.subresource }
        : { resourceRequest: false, verb, streaming: route.kind === 'flows' && query.get('follow') === 'true' },
    );
    if (kind === undefined) return true;
    const release = this.inflight.take(kind, user?.groups?.includes(GROUP_MASTERS) ?? false);
    if (!release) {
      const body = `${TOO_MANY_REQUESTS_MESSAGE}\n`;
      res.writeHead(429, { 'retry-after': RETRY_AFTER_SECONDS, 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
      return false;
    }
    res.once('finish', release);
    res.once('close', release);
    return true;
  }

  /** access.admit; over HTTP/2 a request without valid credentials also ends its connection (http2.ts). */
  private admit(req: IncomingMessage, pathname: string, query: URLSearchParams): RequestUser | undefined {
    let user: RequestUser | undefined;
    try {
      user = this.access.admit(req, pathname, query);
    } catch (err) {
      // 401; or 403 for an anonymous request (a named health check is not public).
      if (err instanceof ApiStatusError && (err.code === 401 || (err.code === 403 && this.access.authenticator.authenticate(req) === undefined))) endConnectionIfHttp2(req);
      throw err;
    }
    if (user === undefined) endConnectionIfHttp2(req);
    return user;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    heard(req.socket);
    try {
      const { pathname, query } = splitUrl(req.url ?? '/');
      checkPodOrNodePath(pathname);
      if (!this.access.admit(req, pathname, query)) throw errors.unauthorized();
      const route = parseRoute(pathname, this.findResource);
      if (route.kind !== 'resource' || !isProxyRoute(route)) {
        throw errors.badRequest('upgrade requests are only served for pods/exec, pods/attach, pods/portforward, pods/log and nodes/proxy');
      }
      const target = proxyTarget(this.registry, route, req.url ?? '/');
      this.metrics.observe('proxy', `${route.r.plural}/${route.subresource}`, 101, 0);
      proxyUpgrade(req, socket, head, target, this.kubelets);
    } catch (err) {
      const e = err instanceof ApiStatusError ? err : errors.internal((err as Error).message);
      rejectUpgrade(socket, e);
    }
  }
}

/**
 * GET /api/v1/watch/namespaces/N/pods[/NAME] is a watch of the collection (of one object by a
 * metadata.name field selector), as upstream still serves it.
 */
function legacyWatch(req: IncomingMessage, route: Route & { kind: 'resource' }, query: URLSearchParams): void {
  if ((req.method ?? 'GET') !== 'GET') throw errors.methodNotAllowed();
  query.set('watch', 'true');
  if (route.name !== undefined) {
    const byName = `metadata.name=${route.name}`;
    const selector = query.get('fieldSelector');
    query.set('fieldSelector', selector ? `${selector},${byName}` : byName);
    route.name = undefined;
  }
}

/** Client input that reached past the decoders: a store too small for the result, or nesting too deep. */
function clientFaultStatus(err: unknown): ApiStatusError | undefined {
  if (err instanceof StoreError && err.reason === 'TooLarge') return errors.objectTooLarge(err.message);
  if (err instanceof RangeError && /call stack/i.test(err.message)) return errors.badRequest('the request is nested too deeply to be processed');
  return undefined;
}

const silentTimers = new WeakMap<object, NodeJS.Timeout>();

/** A TLS connection that sends no request within `ms` of its handshake is closed (keep-alive takes over after). */
function closeIfSilent(socket: TLSSocket, ms: number): void {
  const t = setTimeout(() => socket.destroy(), ms);
  t.unref();
  silentTimers.set(socket, t);
  socket.once('close', () => clearTimeout(t));
}

function heard(socket: object): void {
  const t = silentTimers.get(socket);
  if (t === undefined) return;
  clearTimeout(t);
  silentTimers.delete(socket);
}

function splitUrl(url: string): { pathname: string; query: URLSearchParams } {
  const q = url.indexOf('?');
  if (q === -1) return { pathname: url, query: new URLSearchParams() };
  return { pathname: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1)) };
}
