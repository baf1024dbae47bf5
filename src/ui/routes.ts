// Everything under /ui: the login (a one-time code from `flatnet ui` traded for an HttpOnly
// session cookie bound to the caller's identity), the page and its bundled script, and the read
// endpoints the page calls. Every data request is authorized as the session's user by the API
// server's authorizer chain (RBAC), exactly as if that user had sent it with their credentials.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { R, type ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { requestAttributes, type RequestUser } from '../apiserver/authorize.js';
import { readBody } from '../apiserver/body.js';
import { ApiStatusError, errors } from '../apiserver/errors.js';
import { serveClusterFlows } from '../apiserver/flows.js';
import { send, type HandlerEnv } from '../apiserver/handlers.js';
import type { KubeletDialer } from '../apiserver/proxy.js';
import type { AccessControl } from '../apiserver/rbac/access.js';
import { storeKey } from '../apiserver/registry.js';
import { wantsImpersonation } from '../apiserver/rbac/impersonation.js';
import { PolicyModel, slimNamespace, slimPod, slimPolicy } from '../netpol/model.js';
import { slimEndpointSlice, slimService, type SlimEndpointSlice } from '../proxy/model.js';
import { createLogger } from '../util/log.js';
import { readAsset, indexHtml, CONTENT_SECURITY_POLICY } from './assets.js';
import { matrixPods, policyView } from './policy-view.js';
import { serviceView } from './service-view.js';
import { LOGIN_CODE_TTL_MS, LoginCodes, Sessions, sessionCookie, sessionIdFromCookie } from './sessions.js';
import { credentialOf, currentUser } from './session-credential.js';
import { AgentTraceKernel, AgentTraceError } from '../trace/agent-kernel.js';
import { kernelTrace, modelOnlyResult, prepareTrace, TraceFormError } from './trace-form.js';
import { collectionPath, parseLiveResources, serveLiveStream } from './live-stream.js';

const log = createLogger('ui');

export const UI_PREFIX = '/ui';
/** How often a long-lived answer (the live and flow streams) checks that its session's credential still authenticates. */
export const STREAM_RECHECK_MS = 5_000;
export const LOGIN_LINKS_PATH = '/ui/login-links';

export function isUiPath(pathname: string): boolean {
  return pathname === UI_PREFIX || pathname.startsWith(`${UI_PREFIX}/`);
}

export interface WebUiDeps {
  access: AccessControl;
  env: HandlerEnv;
  kubelets: KubeletDialer;
}

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function sendJson(res: ServerResponse, code: number, value: unknown): void {
  send(res, code, JSON.stringify(value), { 'content-type': 'application/json', ...SECURITY_HEADERS });
}

function sendHtml(res: ServerResponse, code: number, html: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(html);
  res.writeHead(code, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(body.length), ...SECURITY_HEADERS, ...headers });
  res.end(body);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function messagePage(title: string, text: string): string {
  return `<!doctype html><meta charset="utf-8"><title>flatnet: ${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`;
}

/** FLATNET_UI_LOGIN_TTL_SECONDS shortens (or lengthens, up to 10 min) a login link's life; default 60 s. */
export function loginCodeTtlMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.FLATNET_UI_LOGIN_TTL_SECONDS;
  if (text === undefined || text === '') return LOGIN_CODE_TTL_MS;
  const seconds = Number(text);
  if (!(seconds > 0 && seconds <= 600)) throw new Error(`FLATNET_UI_LOGIN_TTL_SECONDS: "${text}" is not a number of seconds from 0 to 600`);
  return seconds * 1000;
}

export class WebUi {
  readonly codes = new LoginCodes(Date.now, loginCodeTtlMs());
  readonly sessions = new Sessions();

  constructor(private readonly deps: WebUiDeps) {}

  async serve(req: IncomingMessage, res: ServerResponse, pathname: string, query: URLSearchParams): Promise<void> {
    const method = req.method ?? 'GET';
    if (pathname === LOGIN_LINKS_PATH) return this.createLoginLink(req, res);
    if (pathname === '/ui/login') {
      if (method !== 'GET') throw errors.methodNotAllowed();
      return this.login(res, query.get('code') ?? '');
    }
    const sessionId = sessionIdFromCookie(req.headers.cookie);
    const user = this.sessionUser(sessionId);
    if (!user) {
      if (pathname.startsWith('/ui/api/')) throw errors.unauthorized();
      return sendHtml(res, 401, messagePage('Not logged in', 'Run `flatnet ui` for a login link.'));
    }
    if (pathname === UI_PREFIX || pathname === `${UI_PREFIX}/`) return sendHtml(res, 200, indexHtml());
    if (pathname.startsWith('/ui/assets/')) {
      const asset = await readAsset(pathname.slice('/ui/assets/'.length));
      if (!asset) throw errors.pathNotFound();
      res.writeHead(200, { 'content-type': asset.contentType, 'content-length': String(asset.body.length), ...SECURITY_HEADERS });
      return void res.end(asset.body);
    }
    if (pathname === '/ui/logout') {
      if (method !== 'POST') throw errors.methodNotAllowed();
      this.sessions.close(sessionId);
      res.writeHead(204, { 'set-cookie': sessionCookie('', 0, true), ...SECURITY_HEADERS });
      return void res.end();
    }
    if (method === 'POST') checkSameOrigin(req);
    if (pathname === '/ui/api/whoami') return sendJson(res, 200, { username: user.username, groups: user.groups ?? [] });
    if (pathname === '/ui/api/live') {
      this.endWithSession(res, sessionId!);
      return this.live(req, res, user, query);
    }
    if (pathname === '/ui/api/flows') {
      this.endWithSession(res, sessionId!);
      return this.flows(req, res, user, query);
    }
    if (pathname === '/ui/api/policy') return this.policy(res, user, query);
    if (pathname === '/ui/api/service') return this.service(res, user, query);
    if (pathname === '/ui/api/trace') return this.trace(req, res, user);
    throw errors.pathNotFound();
  }

  /**
   * The user a session acts as, while it is open and the credential it was made from still
   * authenticates as that user; a session whose credential no longer does is closed.
   */
  private sessionUser(sessionId: string | undefined): RequestUser | undefined {
    const session = this.sessions.get(sessionId);
    if (!session) return undefined;
    const user = currentUser(this.deps.access.authenticator, session.credential, session.user);
    if (!user) {
      this.sessions.close(sessionId);
      log.info('browser session closed: its credential no longer authenticates', { user: session.user.username });
    }
    return user;
  }

  /** Ends a long-lived answer once its session is closed or its credential stops authenticating (checked every STREAM_RECHECK_MS). */
  private endWithSession(res: ServerResponse, sessionId: string): void {
    const timer = setInterval(() => {
      if (!this.sessionUser(sessionId)) res.destroy();
    }, STREAM_RECHECK_MS);
    timer.unref();
    res.on('close', () => clearInterval(timer));
  }

  /** POST /ui/login-links, with the caller's own credentials: a one-time link that logs a browser in as the caller. */
  private createLoginLink(req: IncomingMessage, res: ServerResponse): void {
    if ((req.method ?? 'GET') !== 'POST') throw errors.methodNotAllowed('a login link is created with POST');
    if (wantsImpersonation(req)) throw errors.badRequest('a login link is for the caller itself: impersonation headers are refused here');
    const user = this.deps.access.authenticator.authenticate(req);
    const credential = credentialOf(req);
    if (!user || !credential) throw errors.unauthorized();
    const { code, expires } = this.codes.issue({ user, credential });
    log.info('login link issued', { user: user.username });
    sendJson(res, 201, { path: `/ui/login?code=${code}`, expiresInSeconds: Math.round(this.codes.ttlMs / 1000), expires: new Date(expires).toISOString() });
  }

  private login(res: ServerResponse, code: string): void {
    const r = this.codes.redeem(code);
    if (!r.ok) return sendHtml(res, 401, messagePage('Login refused', r.reason));
    const session = this.sessions.open({ user: r.user, credential: r.credential });
    log.info('browser session opened', { user: r.user.username });
    sendHtml(res, 303, messagePage('Logged in', 'Continue to /ui/.'), { location: '/ui/', 'set-cookie': sessionCookie(session.id, Math.round(this.sessions.ttlMs / 1000), true) });
  }

  private authorize(user: RequestUser, method: string, path: string, query = new URLSearchParams()): void {
    this.deps.access.authorizer.check(user, requestAttributes(method, path, query));
  }

  /** GET /ui/api/live?resources=...: lists, then changes, of the kinds the page shows (src/ui/live-stream.ts). */
  private live(req: IncomingMessage, res: ServerResponse, user: RequestUser, query: URLSearchParams): void {
    if ((req.method ?? 'GET') !== 'GET') throw errors.methodNotAllowed('the web view only reads');
    const names = parseLiveResources(query);
    serveLiveStream(req, res, this.deps.env.registry.store, names, (verb, path) => this.authorize(user, 'GET', path, new URLSearchParams(verb === 'watch' ? 'watch=true' : '')));
  }

  private flows(req: IncomingMessage, res: ServerResponse, user: RequestUser, query: URLSearchParams): Promise<void> {
    if ((req.method ?? 'GET') !== 'GET') throw errors.methodNotAllowed();
    this.authorize(user, 'GET', '/flatnet/v1/flows', query);
    req.url = `/flatnet/v1/flows?${query.toString()}`;
    return serveClusterFlows(req, res, this.deps.env.registry, this.deps.kubelets).catch((err: Error) => {
      log.warn("cannot merge the nodes' flows", { err: err.message });
      if (!res.headersSent) sendJson(res, 500, { message: err.message });
      else res.destroy();
    });
  }

  /** Every object of a cluster-wide list the user may read (403 naming the resource otherwise). */
  private listAll(user: RequestUser, r: ResourceInfo): KubeObject[] {
    this.authorize(user, 'GET', collectionPath(r));
    return this.deps.env.registry.store.list(storeKey(r)).entries.map((e) => e.obj);
  }

  private policyModel(user: RequestUser): PolicyModel {
    return new PolicyModel({
      pods: this.listAll(user, R.pods).map(slimPod),
      namespaces: this.listAll(user, R.namespaces).map(slimNamespace),
      policies: this.listAll(user, R.networkpolicies).map(slimPolicy),
    });
  }

  /** GET /ui/api/policy[?namespace=N]: the reachability matrix and who is isolated by which policy. */
  private policy(res: ServerResponse, user: RequestUser, query: URLSearchParams): void {
    const model = this.policyModel(user);
    const ns = query.get('namespace') || undefined;
    if (ns && !model.namespaceNames().includes(ns)) throw errors.badRequest(`namespace: ${ns} does not exist`);
    sendJson(res, 200, policyView(model, matrixPods(model, ns)));
  }

  /** GET /ui/api/service?namespace=N&name=S: endpoints and each node's rules for the Service. */
  private service(res: ServerResponse, user: RequestUser, query: URLSearchParams): void {
    const namespace = query.get('namespace');
    const name = query.get('name');
    if (!namespace) throw errors.badRequest('namespace: required');
    if (!name) throw errors.badRequest('name: required');
    this.authorize(user, 'GET', `/api/v1/namespaces/${namespace}/services/${name}`);
    const svc = this.deps.env.registry.store.get(storeKey(R.services), namespace, name)?.obj;
    if (!svc) throw errors.notFound(R.services, name);
    this.authorize(user, 'GET', `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`);
    const slices = this.deps.env.registry.store
      .list(storeKey(R.endpointslices), { ns: namespace })
      .entries.map((e) => slimEndpointSlice(e.obj))
      .filter((s): s is SlimEndpointSlice => s !== undefined);
    const nodes = this.listAll(user, R.nodes).map((n) => n.metadata.name!);
    const pods = this.deps.env.registry.store.list(storeKey(R.pods), { ns: namespace }).entries.map((e) => e.obj);
    let mayListPods = true;
    try {
      this.authorize(user, 'GET', `/api/v1/namespaces/${namespace}/pods`);
    } catch (err) {
      if (!(err instanceof ApiStatusError)) throw err;
      mayListPods = false;
    }
    const podByIp = (ip: string) => {
      if (!mayListPods) return undefined;
      const p = pods.find((o) => (o.status as { podIP?: string } | undefined)?.podIP === ip);
      return p ? `${namespace}/${p.metadata.name}` : undefined;
    };
    sendJson(res, 200, serviceView(slimService(svc), slices, nodes, podByIp));
  }

  /**
   * POST /ui/api/trace {from, to, port?, probe?}: the models' prediction, then (from a pod, unless
   * probe is false) the kernel probe through the nodes' agents, as `flatnet trace` runs it. The
   * probe acts inside the source pod's network namespace: it needs what exec into the pod needs.
   */
  private async trace(req: IncomingMessage, res: ServerResponse, user: RequestUser): Promise<void> {
    if ((req.method ?? 'GET') !== 'POST') throw errors.methodNotAllowed('a trace is asked for with POST');
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8'));
    } catch {
      throw errors.badRequest('the body is not JSON: send {"from": "NAMESPACE/POD", "to": "...", "port": "80/tcp"}');
    }
    const view = {
      policy: this.policyModel(user),
      services: this.listAll(user, R.services),
      slices: this.listAll(user, R.endpointslices),
      nodes: this.listAll(user, R.nodes),
    };
    try {
      const prepared = prepareTrace(view, body);
      const wantsProbe = (body as { probe?: unknown }).probe !== false;
      if (!wantsProbe) return sendJson(res, 200, modelOnlyResult(prepared, 'the probe was not asked for'));
      if (prepared.source.kind !== 'pod') return sendJson(res, 200, modelOnlyResult(prepared, 'the outside client is not a node: `flatnet trace` on the lab machine probes from it'));
      const pod = prepared.source.pod;
      this.authorize(user, 'POST', `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/exec`);
      const kernel = new AgentTraceKernel(view.nodes, this.deps.kubelets, { podUid: pod.uid, node: prepared.source.node });
      sendJson(res, 200, await kernelTrace(prepared, kernel));
    } catch (err) {
      if (err instanceof TraceFormError) throw errors.badRequest(err.message);
      if (err instanceof AgentTraceError) throw errors.badRequest(`the kernel probe failed: ${err.message}`);
      throw err;
    }
  }
}

/** A POST must come from the page itself (a cross-site form cannot carry this JSON content type without a preflight). */
function checkSameOrigin(req: IncomingMessage): void {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) throw errors.badRequest('content-type: the web view posts application/json');
  const origin = req.headers.origin;
  // HTTP/2 names the server in :authority, HTTP/1.1 in Host.
  const host = req.headers.host ?? req.headers[':authority'];
  if (origin && origin !== `https://${String(host)}`) throw errors.badRequest(`origin: ${origin} is not this server`);
}
