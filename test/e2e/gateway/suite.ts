// The Gateway API conformance suite's mechanics, re-created for our own fixtures: the base
// namespaces, Gateways and echo backends; "eventually consistent" requests (3 consecutive correct
// answers within 30 s) checked against what echo-basic saw; and the status assertions.
import { canonicalHeaderName } from '../../../src/workloads/echo-basic.js';
import { eventually, requestFromExt, requestH2FromExt, type HttpAnswer, type Lab } from '../../support/lab.js';

export const CONTROLLER_NAME = 'flatnet.dev/gateway-controller';
export const GATEWAY_CLASS = 'flatnet';
export const INFRA_NS = 'gateway-conformance-infra';
export const APP_NS = 'gateway-conformance-app-backend';
export const WEB_NS = 'gateway-conformance-web-backend';
export const ECHO_IMAGE = 'registry.k8s.io/gateway-api/echo-basic:v1.5.1';

/** The suite's timing rules (MaxTimeToConsistency, RequiredConsecutiveSuccesses, RequestTimeout). */
export const MAX_TIME_TO_CONSISTENCY_MS = 30_000;
export const REQUIRED_CONSECUTIVE_SUCCESSES = 3;
export const REQUEST_TIMEOUT_MS = 10_000;
/** How long statuses may take (the suite allows 60 s for routes, 180 s for a Gateway address). */
export const STATUS_TIMEOUT_MS = 60_000;
export const ADDRESS_TIMEOUT_MS = 180_000;

function echoDeployment(name: string, namespace: string, replicas: number): string {
  return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}, labels: {app: ${name}}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: ${name}
        image: ${ECHO_IMAGE}
        env:
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
        resources: {requests: {cpu: 10m}}
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {app: ${name}}
  ports:
  - {name: first-port, protocol: TCP, port: 8080, targetPort: 3000}
  - {name: second-port, protocol: TCP, appProtocol: kubernetes.io/h2c, port: 8081, targetPort: 3001}
  - {name: third-port, protocol: TCP, appProtocol: kubernetes.io/ws, port: 8082, targetPort: 3000}
`;
}

function httpGateway(name: string, from: string): string {
  return `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${INFRA_NS}}
spec:
  gatewayClassName: ${GATEWAY_CLASS}
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes: {namespaces: ${from}}
`;
}

/** The base the suite applies before any test: 3 namespaces, 4 Gateways, 6 echo backends. */
export function baseManifests(): string {
  const tlsListener = (name: string, hostname?: string) => `
  - name: ${name}
    port: 443
    protocol: HTTPS${hostname ? `\n    hostname: "${hostname}"` : ''}
    allowedRoutes: {namespaces: {from: Same}}
    tls: {certificateRefs: [{group: "", kind: Secret, name: tls-validity-checks-certificate, namespace: ${INFRA_NS}}]}`;
  return [
    `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${INFRA_NS}, labels: {gateway-conformance: infra}}`,
    `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${APP_NS}, labels: {gateway-conformance: backend}}`,
    `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${WEB_NS}, labels: {gateway-conformance: backend}}`,
    httpGateway('same-namespace', '{from: Same}'),
    httpGateway('all-namespaces', '{from: All}'),
    httpGateway('backend-namespaces', '{from: Selector, selector: {matchLabels: {gateway-conformance: backend}}}'),
    `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: same-namespace-with-https-listener, namespace: ${INFRA_NS}}
spec:
  gatewayClassName: ${GATEWAY_CLASS}
  listeners:${tlsListener('https')}${tlsListener('https-with-hostname', 'second-example.org')}${tlsListener('https-with-wildcard-hostname', '*.wildcard.org')}${tlsListener('https-with-hostname-matching-wildcard', 'fourth-example.wildcard.org')}
`,
    echoDeployment('infra-backend-v1', INFRA_NS, 2),
    echoDeployment('infra-backend-v2', INFRA_NS, 2),
    echoDeployment('infra-backend-v3', INFRA_NS, 1),
    echoDeployment('app-backend-v1', APP_NS, 2),
    echoDeployment('app-backend-v2', APP_NS, 2),
    echoDeployment('web-backend', WEB_NS, 2),
  ]
    .map((d) => d.trim())
    .join('\n---\n');
}

export const BASE_GATEWAYS = ['same-namespace', 'all-namespaces', 'backend-namespaces', 'same-namespace-with-https-listener'];

// ---------- objects and conditions ----------

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

export interface KubeObject {
  metadata: { name: string; namespace?: string; generation?: number; creationTimestamp?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export interface ListenerStatus {
  name: string;
  attachedRoutes: number;
  supportedKinds: { group?: string; kind: string }[];
  conditions: Condition[];
}

export interface RouteParentStatus {
  parentRef: { group?: string; kind?: string; name: string; namespace?: string; sectionName?: string; port?: number };
  controllerName: string;
  conditions: Condition[];
}

export function condition(conds: Condition[] | undefined, type: string): Condition | undefined {
  return conds?.find((c) => c.type === type);
}

export function describeConditions(conds: Condition[] | undefined): string {
  return (conds ?? []).map((c) => `${c.type}=${c.status}/${c.reason}@${c.observedGeneration}`).join(' ');
}

export function gatewayConditions(gw: KubeObject | undefined): Condition[] {
  return ((gw?.status?.conditions as Condition[] | undefined) ?? []);
}

export function listenerStatuses(gw: KubeObject | undefined): ListenerStatus[] {
  return ((gw?.status?.listeners as ListenerStatus[] | undefined) ?? []);
}

export function routeParents(route: KubeObject | undefined): RouteParentStatus[] {
  return ((route?.status?.parents as RouteParentStatus[] | undefined) ?? []);
}

/** True when `c` has the status (and reason, when given). */
export function conditionIs(c: Condition | undefined, status: string, reason?: string): boolean {
  return !!c && c.status === status && (reason === undefined || c.reason === reason);
}

export interface Ref {
  name: string;
  namespace: string;
}

/** The Gateway's first status address with a type (WaitForGatewayAddress). */
export async function gatewayAddress(lab: Lab, gw: Ref): Promise<string> {
  return eventually(
    `an address in the status of Gateway ${gw.namespace}/${gw.name}`,
    async () => {
      const obj = await lab.getJson<KubeObject>('gateway', gw.name, gw.namespace);
      const addrs = (obj?.status?.addresses as { type?: string; value: string }[] | undefined) ?? [];
      const a = addrs.find((x) => x.type);
      if (!a) throw new Error(`status: ${JSON.stringify(obj?.status ?? {})}`);
      return a.value;
    },
    ADDRESS_TIMEOUT_MS,
    500,
  );
}

/** The Gateway is Accepted and Programmed at its latest generation (the suite's readiness rule). */
export async function gatewayMustBeReady(lab: Lab, gw: Ref): Promise<KubeObject> {
  return eventually(
    `Gateway ${gw.namespace}/${gw.name} Accepted=True and Programmed=True at its generation`,
    async () => {
      const obj = await lab.getJson<KubeObject>('gateway', gw.name, gw.namespace);
      const conds = gatewayConditions(obj);
      const gen = obj?.metadata.generation;
      const ok = ['Accepted', 'Programmed'].every((t) => conditionIs(condition(conds, t), 'True') && condition(conds, t)?.observedGeneration === gen);
      if (!ok) throw new Error(`conditions: ${describeConditions(conds)} (generation ${gen})`);
      return obj!;
    },
    STATUS_TIMEOUT_MS,
  );
}

function parentMatches(p: RouteParentStatus, gw: Ref, routeNs: string, sectionName?: string): boolean {
  return (
    p.controllerName === CONTROLLER_NAME &&
    (p.parentRef.group ?? 'gateway.networking.k8s.io') === 'gateway.networking.k8s.io' &&
    (p.parentRef.kind ?? 'Gateway') === 'Gateway' &&
    p.parentRef.name === gw.name &&
    (p.parentRef.namespace ?? routeNs) === gw.namespace &&
    (sectionName === undefined || p.parentRef.sectionName === sectionName)
  );
}

/** Waits until route `route` has, for parent `gw`, the condition `type` with `status`/`reason` at its generation. */
export async function routeMustHaveCondition(lab: Lab, route: Ref, gw: Ref, type: string, status: string, reason?: string, sectionName?: string): Promise<KubeObject> {
  return routeKindMustHaveCondition(lab, 'httproute', route, gw, type, status, reason, sectionName);
}

/** routeMustHaveCondition for any route kind (`grpcroute`, `tlsroute`, `tcproute`, `udproute`, `httproute`). */
export async function routeKindMustHaveCondition(lab: Lab, kind: string, route: Ref, gw: Ref, type: string, status: string, reason?: string, sectionName?: string): Promise<KubeObject> {
  return eventually(
    `${kind} ${route.namespace}/${route.name} parent ${gw.namespace}/${gw.name}${sectionName ? `/${sectionName}` : ''}: ${type}=${status}${reason ? `/${reason}` : ''}`,
    async () => {
      const obj = await lab.getJson<KubeObject>(kind, route.name, route.namespace);
      const parents = routeParents(obj).filter((p) => parentMatches(p, gw, route.namespace, sectionName));
      const c = parents.length === 1 ? condition(parents[0].conditions, type) : undefined;
      if (!conditionIs(c, status, reason) || c?.observedGeneration !== obj?.metadata.generation) {
        throw new Error(`parents: ${JSON.stringify(routeParents(obj))} generation ${obj?.metadata.generation}`);
      }
      return obj!;
    },
    STATUS_TIMEOUT_MS,
  );
}

/** GatewayAndHTTPRoutesMustBeAccepted: the Gateway has an address and every route is Accepted by it; answers the address. */
export async function gatewayAndRoutesMustBeAccepted(lab: Lab, gw: Ref, routes: Ref[], sectionName?: string): Promise<string> {
  const address = await gatewayAddress(lab, gw);
  await Promise.all(routes.map((r) => routeMustHaveCondition(lab, r, gw, 'Accepted', 'True', 'Accepted', sectionName)));
  return address;
}

/** Every parent entry of the route is written by our controller, one per parentRef, and none is Accepted. */
export async function routeMustNotBeAccepted(lab: Lab, route: Ref, gw: Ref, reason: string): Promise<void> {
  await routeMustHaveCondition(lab, route, gw, 'Accepted', 'False', reason);
}

/** Waits for a listener's status to satisfy `check` (which throws to explain itself). */
export async function listenerMust(lab: Lab, gw: Ref, listener: string, what: string, check: (l: ListenerStatus, gw: KubeObject) => void): Promise<void> {
  await eventually(
    `Gateway ${gw.namespace}/${gw.name} listener ${listener}: ${what}`,
    async () => {
      const obj = await lab.getJson<KubeObject>('gateway', gw.name, gw.namespace);
      const l = listenerStatuses(obj).find((x) => x.name === listener);
      if (!l || !obj) throw new Error(`no status for listener ${listener}: ${JSON.stringify(obj?.status ?? {})}`);
      check(l, obj);
      return true;
    },
    STATUS_TIMEOUT_MS,
  );
}

export function expectCondition(conds: Condition[] | undefined, type: string, status: string, reason?: string, generation?: number): void {
  const c = condition(conds, type);
  if (!conditionIs(c, status, reason)) throw new Error(`want ${type}=${status}${reason ? `/${reason}` : ''}, got ${describeConditions(conds)}`);
  if (generation !== undefined && c!.observedGeneration !== generation) throw new Error(`want ${type} at observedGeneration ${generation}, got ${c!.observedGeneration}`);
}

// ---------- requests and their expectations ----------

export interface ExpectedResponse {
  request: {
    host?: string;
    path: string;
    method?: string;
    headers?: Record<string, string>;
    scheme?: 'http' | 'https';
    port?: number;
    servername?: string;
    /** The CA (PEM) to verify the server's certificate with; without it any certificate is taken. */
    ca?: string;
    /** 'h2': HTTP/2 over TLS (ALPN h2), as the suite's H2 round tripper; default HTTP/1.1. */
    protocol?: 'h2';
    body?: string;
    /** A fresh path per attempt (retry tests use a new uuid each time). */
    makePath?: () => string;
  };
  /** What the backend must see, when it differs from the request (rewrites, header modifiers). */
  expectedRequest?: { host?: string; path?: string; method?: string; headers?: Record<string, string>; absentHeaders?: string[] };
  response?: {
    statusCode?: number | number[];
    headers?: Record<string, string>;
    absentHeaders?: string[];
    /** Any of the values is fine; whitespace is ignored (as the suite's IgnoreWhitespace). */
    validHeaderValues?: Record<string, string[]>;
  };
  redirect?: { scheme?: string; host?: string; port?: string; path?: string };
  /** The echo pod's name must start with this (the backend's Deployment name). */
  backend?: string;
  namespace?: string;
}

export interface EchoBody {
  path: string;
  host: string;
  method: string;
  proto: string;
  headers: Record<string, string[]>;
  namespace: string;
  pod: string;
}

/** Response header values joined with "," as the suite compares them. */
export function responseHeader(ans: HttpAnswer & { rawHeaders?: string[] }, name: string): string | undefined {
  const v = ans.headers[name.toLowerCase()];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : v.replace(/, /g, ',');
}

/** Compares one round trip with the expectation; answers a description of the first mismatch, or undefined. */
export function compareRoundTrip(exp: ExpectedResponse, ans: HttpAnswer, sentPath = exp.request.path): string | undefined {
  const want = exp.response?.statusCode ?? 200;
  const codes = Array.isArray(want) ? want : [want];
  if (!codes.includes(ans.status)) return `status ${ans.status}, want ${codes.join('|')} (body ${ans.body.slice(0, 200)})`;
  for (const [k, v] of Object.entries(exp.response?.headers ?? {})) {
    const got = responseHeader(ans, k);
    if (got !== v) return `response header ${k}: ${JSON.stringify(got)}, want ${JSON.stringify(v)}`;
  }
  for (const [k, values] of Object.entries(exp.response?.validHeaderValues ?? {})) {
    const got = (responseHeader(ans, k) ?? '').replace(/\s+/g, '');
    if (!values.some((v) => v.replace(/\s+/g, '') === got)) return `response header ${k}: ${JSON.stringify(responseHeader(ans, k))}, want one of ${JSON.stringify(values)}`;
  }
  for (const k of exp.response?.absentHeaders ?? []) if (ans.headers[k.toLowerCase()] !== undefined) return `response header ${k} should be absent, got ${JSON.stringify(ans.headers[k.toLowerCase()])}`;
  if (ans.status === 200 || ans.status === 204) {
    if (!String(ans.headers['content-type'] ?? '').startsWith('application/json')) {
      if (exp.backend || exp.expectedRequest) return `answer is not the echo (content-type ${ans.headers['content-type']}): ${ans.body.slice(0, 200)}`;
      return undefined;
    }
    let echo: EchoBody;
    try {
      echo = JSON.parse(ans.body) as EchoBody;
    } catch {
      return `echo body is not JSON: ${ans.body.slice(0, 200)}`;
    }
    const er = exp.expectedRequest ?? {};
    const wantPath = er.path ?? sentPath;
    if (echo.path !== wantPath) return `backend saw path ${echo.path}, want ${wantPath}`;
    const wantMethod = er.method ?? exp.request.method ?? 'GET';
    if (echo.method !== wantMethod) return `backend saw method ${echo.method}, want ${wantMethod}`;
    if (er.host !== undefined && echo.host !== er.host) return `backend saw host ${echo.host}, want ${er.host}`;
    if (exp.namespace !== undefined && echo.namespace !== exp.namespace) return `backend namespace ${echo.namespace}, want ${exp.namespace}`;
    if (exp.backend !== undefined && !echo.pod.startsWith(exp.backend)) return `answered by pod ${echo.pod}, want a pod of ${exp.backend}`;
    for (const [k, v] of Object.entries(er.headers ?? {})) {
      const got = echo.headers[canonicalHeaderName(k)];
      if (!got || got.join(',') !== v) return `backend saw header ${k}: ${JSON.stringify(got)}, want ${JSON.stringify(v)}`;
    }
    for (const k of er.absentHeaders ?? []) if (echo.headers[canonicalHeaderName(k)] !== undefined) return `backend header ${k} should be absent, got ${JSON.stringify(echo.headers[canonicalHeaderName(k)])}`;
  }
  if (ans.status >= 300 && ans.status < 400 && exp.redirect) {
    const loc = ans.headers.location;
    if (!loc) return `no Location in the ${ans.status}`;
    let u: URL;
    try {
      u = new URL(loc);
    } catch {
      return `Location ${loc} is not an absolute URL`;
    }
    const r = exp.redirect;
    const scheme = r.scheme ?? exp.request.scheme ?? 'http';
    if (u.protocol !== `${scheme}:`) return `Location scheme ${u.protocol}, want ${scheme} (${loc})`;
    const host = r.host ?? (exp.request.host ?? '').replace(/:\d+$/, '');
    if (host && u.hostname !== host) return `Location host ${u.hostname}, want ${host} (${loc})`;
    const defaultPort = scheme === 'https' ? '443' : '80';
    const port = loc.match(/^[a-z]+:\/\/[^/]*?:(\d+)/)?.[1] ?? '';
    if (r.port === undefined ? port !== '' && port !== defaultPort : port !== r.port && !(port === '' && r.port === defaultPort)) return `Location port "${port}", want "${r.port ?? ''}" (${loc})`;
    if (r.path !== undefined && u.pathname !== r.path) return `Location path ${u.pathname}, want ${r.path} (${loc})`;
  }
  return undefined;
}

/** Sends the request once from flatnet-ext to `address`. Every request carries X-Echo-Set-Header as the suite's do. */
export function send(address: string, exp: ExpectedResponse, path = exp.request.path): Promise<HttpAnswer> {
  const r = exp.request;
  return (r.protocol === 'h2' ? requestH2FromExt : requestFromExt)({
    address,
    port: r.port,
    scheme: r.scheme,
    host: r.host ?? address,
    servername: r.servername,
    ca: r.ca,
    path,
    method: r.method,
    headers: { 'X-Echo-Set-Header': '', ...(r.headers ?? {}) },
    body: r.body,
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
}

/** MakeRequestAndExpectEventuallyConsistentResponse: 3 consecutive matching answers within 30 s. */
export async function expectEventually(address: string, exp: ExpectedResponse, label = ''): Promise<void> {
  const deadline = Date.now() + MAX_TIME_TO_CONSISTENCY_MS;
  let streak = 0;
  let last = 'no request made';
  while (Date.now() < deadline) {
    let mismatch: string | undefined;
    const path = exp.request.makePath?.() ?? exp.request.path;
    try {
      mismatch = compareRoundTrip(exp, await send(address, exp, path), path);
    } catch (err) {
      mismatch = `request failed: ${(err as Error).message}`;
    }
    if (mismatch === undefined) {
      if (++streak >= REQUIRED_CONSECUTIVE_SUCCESSES) return;
      continue;
    }
    streak = 0;
    last = mismatch;
    await new Promise((r) => setTimeout(r, 250));
  }
  const r = exp.request;
  throw new Error(`${label ? label + ': ' : ''}${r.method ?? 'GET'} ${r.scheme ?? 'http'}://${r.host ?? address}${r.port ? `:${r.port}` : ''}${r.path} via ${address}: no ${REQUIRED_CONSECUTIVE_SUCCESSES} consecutive correct answers within ${MAX_TIME_TO_CONSISTENCY_MS / 1000} s; last: ${last}`);
}

/** Checks a list of expectations in parallel (the suite runs its cases as parallel subtests). */
export async function expectAll(address: string, cases: ExpectedResponse[]): Promise<void> {
  const results = await Promise.allSettled(cases.map((c) => expectEventually(address, c)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (failures.length > 0) throw new Error(`${failures.length} of ${cases.length} cases failed:\n${failures.join('\n')}`);
}

/** Shorthand: path -> backend (status 200, in `namespace`). */
export function ok(path: string, backend: string, namespace = INFRA_NS, extra: Partial<ExpectedResponse['request']> = {}): ExpectedResponse {
  return { request: { path, ...extra }, backend, namespace };
}

export function status(path: string, code: number, extra: Partial<ExpectedResponse['request']> = {}): ExpectedResponse {
  return { request: { path, ...extra }, response: { statusCode: code } };
}

/** The RequestHeaderModifier filters of HTTPRouteRequestHeaderModifier: [path prefix, requestHeaderModifier as YAML]. */
export const REQUEST_HEADER_MODIFIERS: [string, string][] = [
  ['/set', '{set: [{name: X-Header-Set, value: set-overwrites-values}]}'],
  ['/add', '{add: [{name: X-Header-Add, value: add-appends-values}]}'],
  ['/remove', '{remove: [X-Header-Remove]}'],
  ['/multiple', '{set: [{name: X-Header-Set-1, value: header-set-1}, {name: X-Header-Set-2, value: header-set-2}], add: [{name: X-Header-Add-1, value: header-add-1}, {name: X-Header-Add-2, value: header-add-2}, {name: X-Header-Add-3, value: header-add-3}], remove: [X-Header-Remove-1, X-Header-Remove-2]}'],
  ['/case-insensitivity', '{set: [{name: X-Header-Set, value: header-set}], add: [{name: X-Header-Add, value: header-add}], remove: [X-Header-Remove]}'],
];

/** The cases of HTTPRouteRequestHeaderModifier (also run by HTTPRouteBackendRequestHeaderModifier on backendRef filters). */
export function requestHeaderModifierCases(): ExpectedResponse[] {
  const c = (path: string, headers: Record<string, string>, want: Record<string, string>, absent: string[] = []): ExpectedResponse => ({ request: { path, headers }, expectedRequest: { headers: want, absentHeaders: absent }, backend: 'infra-backend-v1', namespace: INFRA_NS });
  return [
    c('/set', { 'Some-Other-Header': 'val' }, { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' }),
    c('/set', { 'Some-Other-Header': 'val', 'X-Header-Set': 'some-other-value' }, { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' }),
    c('/add', { 'Some-Other-Header': 'val' }, { 'Some-Other-Header': 'val', 'X-Header-Add': 'add-appends-values' }),
    c('/add', { 'Some-Other-Header': 'val', 'X-Header-Add': 'some-other-value' }, { 'Some-Other-Header': 'val', 'X-Header-Add': 'some-other-value,add-appends-values' }),
    c('/remove', { 'X-Header-Remove': 'val' }, {}, ['X-Header-Remove']),
    c(
      '/multiple',
      { 'X-Header-Set-2': 'set-val-2', 'X-Header-Add-2': 'add-val-2', 'X-Header-Remove-2': 'remove-val-2', 'Another-Header': 'another-header-val' },
      { 'X-Header-Set-1': 'header-set-1', 'X-Header-Set-2': 'header-set-2', 'X-Header-Add-1': 'header-add-1', 'X-Header-Add-2': 'add-val-2,header-add-2', 'X-Header-Add-3': 'header-add-3', 'Another-Header': 'another-header-val' },
      ['X-Header-Remove-1', 'X-Header-Remove-2'],
    ),
    c('/case-insensitivity', { 'x-header-set': 'original-val-set', 'x-header-add': 'original-val-add', 'x-header-remove': 'original-val-remove', 'Another-Header': 'another-header-val' }, { 'X-Header-Set': 'header-set', 'X-Header-Add': 'original-val-add,header-add', 'Another-Header': 'another-header-val' }, ['X-Header-Remove']),
  ];
}
