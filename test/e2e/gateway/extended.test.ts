// The rest of the GATEWAY-HTTP extended tests (v1.6.1) re-created with our own fixtures, and the
// other route kinds through the real path, in one lab: requests from flatnet-ext (the outside
// client) to each Gateway's status address, checked the way the upstream suite checks them
// (3 consecutive correct answers within 30 s). HTTP: backendRef request header modifiers,
// parentRef port mismatches, named rules, a second listener on 8080, listener isolation, 421 for
// misdirected HTTPS requests, static addresses. Other kinds: GRPCRoute to the conformance gRPC
// echo (method and header matches, header filters), TLSRoute passthrough by SNI to a backend
// that terminates TLS itself, TCPRoute, UDPRoute, and a ReferenceGrant revoked under a TCPRoute.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { connectFromExt, eventually, selfSignedCert, startLab, tlsSecretYaml, udpRequestFromExt, type Lab } from '../../support/lab.js';
import { TCP_WELCOME } from '../../../src/workloads/echo-tcp.js';
import { grpcEchoCall, type GrpcResult } from './grpc-client.js';
import {
  BASE_GATEWAYS,
  CONTROLLER_NAME,
  ECHO_IMAGE,
  GATEWAY_CLASS,
  INFRA_NS,
  MAX_TIME_TO_CONSISTENCY_MS,
  REQUEST_HEADER_MODIFIERS,
  REQUIRED_CONSECUTIVE_SUCCESSES,
  WEB_NS,
  baseManifests,
  condition,
  expectAll,
  expectCondition,
  expectEventually,
  gatewayAddress,
  gatewayAndRoutesMustBeAccepted,
  gatewayConditions,
  gatewayMustBeReady,
  listenerMust,
  listenerStatuses,
  ok,
  requestHeaderModifierCases,
  routeKindMustHaveCondition,
  routeMustHaveCondition,
  routeParents,
  status,
  type ExpectedResponse,
  type KubeObject,
  type Ref,
} from './suite.js';

let lab: Lab;
/** The certificate of the base HTTPS Gateway (names of the misdirected-request test). */
let infraCert: { cert: string; key: string };
/** The certificate the TLS passthrough backend serves (abc.example.com). */
let passthroughCert: { cert: string; key: string };

const gw = (name: string): Ref => ({ name, namespace: INFRA_NS });
const route = (name: string, namespace = INFRA_NS): Ref => ({ name, namespace });
const T = { timeout: 240_000 };

const HTTPROUTE = 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute';
const GRPCROUTE = 'apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute';
const GATEWAY = 'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway';
const GRANT = 'apiVersion: gateway.networking.k8s.io/v1\nkind: ReferenceGrant';
const GRPC_SERVICE = 'gateway_api_conformance.echo_basic.grpcecho.GrpcEcho';

/** A Deployment of the echo image in one of its modes, and its Service. */
function echoBackend(name: string, namespace: string, env: string, ports: string): string {
  return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}, labels: {app: ${name}}}
spec:
  replicas: 1
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
${env}
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {app: ${name}}
  ports:
${ports}`.trim();
}

/** The backends of the other route kinds (the upstream base's grpc-infra-backend-v1/v2, tcp-backend, and a UDP echo). */
function l4Backends(): string {
  const grpc = (n: number) => echoBackend(`grpc-infra-backend-v${n}`, INFRA_NS, '        - {name: GRPC_ECHO_SERVER, value: "1"}', '  - {protocol: TCP, port: 8080, targetPort: 3000, appProtocol: kubernetes.io/h2c}');
  const tcpEnv = [
    '        - {name: TCP_ECHO_SERVER, value: "1"}',
    // There are no Secret volumes yet: the certificate is handed over as PEM text.
    '        - {name: TLS_SERVER_CERT, valueFrom: {secretKeyRef: {name: tls-passthrough-checks-certificate, key: tls.crt}}}',
    '        - {name: TLS_SERVER_PRIV_KEY, valueFrom: {secretKeyRef: {name: tls-passthrough-checks-certificate, key: tls.key}}}',
  ].join('\n');
  const tcpPorts = '  - {name: echo-tcp-plain, protocol: TCP, port: 3000, targetPort: 3000}\n  - {name: echo-tcp-tls, protocol: TCP, port: 8443, targetPort: 8443}';
  return [
    grpc(1),
    grpc(2),
    echoBackend('tcp-backend', INFRA_NS, tcpEnv, tcpPorts),
    echoBackend('tcp-backend', WEB_NS, '        - {name: TCP_ECHO_SERVER, value: "1"}', '  - {name: echo-tcp-plain, protocol: TCP, port: 3000, targetPort: 3000}'),
    echoBackend('udp-backend', INFRA_NS, '        - {name: UDP_ECHO_SERVER, value: "1"}', '  - {name: udp-echo, protocol: UDP, port: 5300, targetPort: 8080}'),
  ].join('\n---\n');
}

before(async () => {
  lab = await startLab({ nodes: 2 });
  infraCert = await selfSignedCert(['example.org', 'second-example.org', '*.wildcard.org', 'unknown-example.org']);
  passthroughCert = await selfSignedCert(['abc.example.com']);
  await lab.apply(baseManifests());
  await lab.apply(`${tlsSecretYaml('tls-validity-checks-certificate', INFRA_NS, infraCert)}\n---\n${tlsSecretYaml('tls-passthrough-checks-certificate', INFRA_NS, passthroughCert)}`);
  await lab.apply(l4Backends());
  for (const [ns, deploys] of [
    [INFRA_NS, ['infra-backend-v1', 'infra-backend-v2', 'infra-backend-v3', 'grpc-infra-backend-v1', 'grpc-infra-backend-v2', 'tcp-backend', 'udp-backend']],
    [WEB_NS, ['web-backend', 'tcp-backend']],
  ] as const) {
    for (const d of deploys) await lab.ok(['-n', ns, 'rollout', 'status', `deployment/${d}`, '--timeout=300s']);
  }
  for (const name of BASE_GATEWAYS) await gatewayMustBeReady(lab, gw(name));
}, { timeout: 900_000 });

after(async () => {
  await lab?.down();
}, { timeout: 300_000 });

async function manifests(t: TestContext, yaml: string): Promise<void> {
  t.after(() => lab.remove(yaml));
  await lab.apply(yaml);
}

async function patch(kind: string, name: string, namespace: string, body: object, type = 'merge'): Promise<void> {
  await lab.ok(['patch', kind, name, '-n', namespace, '--type', type, '-p', JSON.stringify(body)]);
}

/** HTTPRouteMustHaveNoAcceptedParents and GatewayMustHaveZeroRoutes. */
async function notAttachedAnywhere(r: Ref, g: Ref, listener: string): Promise<void> {
  const obj = await lab.getJson<KubeObject>('httproute', r.name, r.namespace);
  assert.ok(!routeParents(obj).some((p) => condition(p.conditions, 'Accepted')?.status === 'True'), `no accepted parents: ${JSON.stringify(routeParents(obj))}`);
  await listenerMust(lab, g, listener, 'attachedRoutes 0', (l) => assert.equal(l.attachedRoutes, 0));
}

// ======================= GATEWAY-HTTP extended =======================

test('HTTPRouteBackendRequestHeaderModifier', T, async (t) => {
  const rule = (path: string, mod: string) =>
    `  - {matches: [{path: {type: PathPrefix, value: ${path}}}], backendRefs: [{name: infra-backend-v1, port: 8080, filters: [{type: RequestHeaderModifier, requestHeaderModifier: ${mod}}]}]}`;
  await manifests(t, `${HTTPROUTE}\nmetadata: {name: request-header-modifier, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules:\n${REQUEST_HEADER_MODIFIERS.map(([p, m]) => rule(p, m)).join('\n')}`);
  const started = Date.now();
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [route('request-header-modifier')]);
  await routeMustHaveCondition(lab, route('request-header-modifier'), gw('same-namespace'), 'ResolvedRefs', 'True', 'ResolvedRefs');
  t.diagnostic(`route Accepted and ResolvedRefs after ${Date.now() - started} ms`);
  await expectAll(a, requestHeaderModifierCases());
  t.diagnostic(`every case answered correctly 3 times in a row after ${Date.now() - started} ms`);
});

test('HTTPRouteInvalidParentRefNotMatchingListenerPort', T, async (t) => {
  const r = route('httproute-listener-not-matching-route-port');
  await manifests(t, `${HTTPROUTE}\nmetadata: {name: ${r.name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace, namespace: ${INFRA_NS}, port: 81}]\n  rules: [{backendRefs: [{name: infra-backend-v1, kind: Service, port: 8080}]}]`);
  await routeMustHaveCondition(lab, r, gw('same-namespace'), 'ResolvedRefs', 'True', 'ResolvedRefs');
  await routeMustHaveCondition(lab, r, gw('same-namespace'), 'Accepted', 'False', 'NoMatchingParent');
  await notAttachedAnywhere(r, gw('same-namespace'), 'http');
});

test('HTTPRouteInvalidParentRefSectionNameNotMatchingPort', T, async (t) => {
  const G = 'gateway-with-one-not-matching-port-and-section-name-route';
  const r = route('httproute-listener-section-name-not-matching-port');
  await manifests(
    t,
    `${GATEWAY}\nmetadata: {name: ${G}, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: HTTPRoute}], namespaces: {from: All}}}]\n---\n` +
      `${HTTPROUTE}\nmetadata: {name: ${r.name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: ${G}, namespace: ${INFRA_NS}, sectionName: http, port: 81}]\n  rules: [{backendRefs: [{name: infra-backend-v1, kind: Service, port: 8080}]}]`,
  );
  await routeMustHaveCondition(lab, r, gw(G), 'Accepted', 'False', 'NoMatchingParent', 'http');
  await notAttachedAnywhere(r, gw(G), 'http');
});

test('HTTPRouteNamedRouteRule', T, async (t) => {
  await manifests(
    t,
    `${HTTPROUTE}\nmetadata: {name: http-named-rules, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules:\n  - {name: named-rule, matches: [{path: {type: PathPrefix, value: /named}}], backendRefs: [{name: infra-backend-v1, port: 8080}]}\n  - {matches: [{path: {type: PathPrefix, value: /unnamed}}], backendRefs: [{name: infra-backend-v2, port: 8080}]}`,
  );
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [route('http-named-rules')]);
  await routeMustHaveCondition(lab, route('http-named-rules'), gw('same-namespace'), 'ResolvedRefs', 'True', 'ResolvedRefs');
  await expectAll(a, [{ request: { path: '/named' }, namespace: INFRA_NS }, { request: { path: '/unnamed' }, namespace: INFRA_NS }]);
});

test('GatewayWithAttachedRoutesWithPort8080', T, async (t) => {
  const G = 'gateway-with-two-listeners-and-one-attached-route';
  const listener = (name: string, port: number) => `{name: ${name}, port: ${port}, protocol: HTTP, allowedRoutes: {kinds: [{kind: HTTPRoute}], namespaces: {from: All}}}`;
  await manifests(
    t,
    `${GATEWAY}\nmetadata: {name: ${G}, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [${listener('http-unattached', 8080)}, ${listener('http', 80)}]\n---\n` +
      `${HTTPROUTE}\nmetadata: {name: http-route-4-port-8080, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{kind: Gateway, name: ${G}, namespace: ${INFRA_NS}, sectionName: http}]\n  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080}]}]`,
  );
  for (const [name, attached] of [['http-unattached', 0], ['http', 1]] as const) {
    await listenerMust(lab, gw(G), name, `Accepted and ResolvedRefs True, supportedKinds [HTTPRoute], attachedRoutes ${attached}`, (l) => {
      expectCondition(l.conditions, 'Accepted', 'True');
      expectCondition(l.conditions, 'ResolvedRefs', 'True');
      assert.deepEqual(l.supportedKinds, [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }]);
      assert.equal(l.attachedRoutes, attached);
    });
  }
});

test('HTTPListenerIsolation', T, async (t) => {
  const listeners = [
    ['empty-hostname', undefined],
    ['wildcard-example-com', '*.example.com'],
    ['wildcard-foo-example-com', '*.foo.example.com'],
    ['abc-foo-example-com', 'abc.foo.example.com'],
  ] as const;
  const gateway = (name: string) =>
    `${GATEWAY}\nmetadata: {name: ${name}, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners:\n${listeners.map(([n, h]) => `  - {name: ${n}, port: 80, protocol: HTTP${h ? `, hostname: "${h}"` : ''}, allowedRoutes: {namespaces: {from: All}}}`).join('\n')}`;
  const ALL_HOSTS = ['bar.com', '*.example.com', '*.foo.example.com', 'abc.foo.example.com'];
  const routes = (g: string, suffix: string, hostnames: string[] | undefined) =>
    listeners.map(
      ([n]) =>
        `${HTTPROUTE}\nmetadata: {name: attaches-to-${n}${suffix}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: ${g}, namespace: ${INFRA_NS}, sectionName: ${n}}]\n${hostnames ? `  hostnames: [${hostnames.map((h) => `"${h}"`).join(', ')}]\n` : ''}  rules: [{matches: [{path: {type: PathPrefix, value: /${n}}}], backendRefs: [{name: infra-backend-v1, port: 8080}]}]`,
    );
  const G1 = 'http-listener-isolation';
  const G2 = 'http-listener-isolation-with-hostname-intersection';
  await manifests(t, [gateway(G1), ...routes(G1, '', undefined), gateway(G2), ...routes(G2, '-with-hostname-intersection', ALL_HOSTS)].join('\n---\n'));
  // Each request is served only by the most specific listener whose hostname covers its Host.
  const servedBy: Record<string, string> = { 'bar.com': 'empty-hostname', 'bar.example.com': 'wildcard-example-com', 'bar.foo.example.com': 'wildcard-foo-example-com', 'abc.foo.example.com': 'abc-foo-example-com' };
  const cases: ExpectedResponse[] = [];
  for (const [host, listener] of Object.entries(servedBy)) {
    for (const [path] of listeners) cases.push(path === listener ? ok(`/${path}`, 'infra-backend-v1', INFRA_NS, { host }) : status(`/${path}`, 404, { host }));
  }
  for (const [g, suffix] of [[G1, ''], [G2, '-with-hostname-intersection']] as const) {
    const a = await gatewayAndRoutesMustBeAccepted(lab, gw(g), []);
    for (const [n] of listeners) {
      await routeMustHaveCondition(lab, route(`attaches-to-${n}${suffix}`), gw(g), 'Accepted', 'True', 'Accepted', n);
      await routeMustHaveCondition(lab, route(`attaches-to-${n}${suffix}`), gw(g), 'ResolvedRefs', 'True', 'ResolvedRefs', n);
    }
    await expectAll(a, cases);
  }
});

test('HTTPSListenerDetectMisdirectedRequests', T, async (t) => {
  const G = 'same-namespace-with-https-listener';
  const sections = ['https', 'https-with-hostname', 'https-with-wildcard-hostname', 'https-with-hostname-matching-wildcard'];
  const backends = ['infra-backend-v1', 'infra-backend-v2', 'infra-backend-v3', 'infra-backend-v1'];
  await manifests(
    t,
    sections
      .map(
        (s, i) =>
          `${HTTPROUTE}\nmetadata: {name: https-listener-detect-misdirected-requests-test-${i + 1}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: ${G}, sectionName: ${s}}]\n${i === 0 ? '  hostnames: [example.org]\n' : ''}  rules: [{matches: [{path: {type: PathPrefix, value: /detect-misdirected-requests}}], backendRefs: [{name: ${backends[i]}, port: 8080}]}]`,
      )
      .join('\n---\n'),
  );
  const a = await gatewayAddress(lab, gw(G));
  for (const [i, s] of sections.entries()) {
    const r = route(`https-listener-detect-misdirected-requests-test-${i + 1}`);
    await routeMustHaveCondition(lab, r, gw(G), 'Accepted', 'True', 'Accepted', s);
    await routeMustHaveCondition(lab, r, gw(G), 'ResolvedRefs', 'True', 'ResolvedRefs', s);
  }
  const table: [string, string, number, string?][] = [
    ['example.org', 'example.org', 200, 'infra-backend-v1'],
    ['example.org', 'second-example.org', 421],
    ['example.org', 'unknown-example.org', 404],
    ['second-example.org', 'second-example.org', 200, 'infra-backend-v2'],
    ['second-example.org', 'example.org', 421],
    ['second-example.org', 'unknown-example.org', 421],
    ['third-example.wildcard.org', 'third-example.wildcard.org', 200, 'infra-backend-v3'],
    ['third-example.wildcard.org', 'fith-example.wildcard.org', 200, 'infra-backend-v3'],
    ['third-example.wildcard.org', 'fourth-example.wildcard.org', 421],
    ['third-example.wildcard.org', 'second-example.org', 421],
    ['third-example.wildcard.org', 'unknown-example.org', 421],
    ['fourth-example.wildcard.org', 'fourth-example.wildcard.org', 200, 'infra-backend-v1'],
    ['fourth-example.wildcard.org', 'fith-example.wildcard.org', 421],
    ['unknown-example.org', 'example.org', 200, 'infra-backend-v1'],
    ['unknown-example.org', 'unknown-example.org', 404],
  ];
  // As the suite: HTTP/2 over TLS, the server's certificate verified for the SNI; and HTTP/1.1 too.
  const cases = (protocol: 'h2' | undefined): ExpectedResponse[] =>
    table.map(([servername, host, code, backend]) => ({
      request: { path: '/detect-misdirected-requests', host, servername, scheme: 'https', port: 443, ca: infraCert.cert, ...(protocol ? { protocol } : {}) },
      response: { statusCode: code },
      ...(backend ? { backend, namespace: INFRA_NS } : {}),
    }));
  await expectAll(a, [...cases('h2'), ...cases(undefined)]);
});

test('GatewayStaticAddresses', T, async (t) => {
  const G = gw('gateway-static-addresses');
  // Usable: a free address of the lab's LoadBalancer pool (172.18.255.0/24, handed out from the
  // bottom); unusable: one outside the pool (TEST-NET-1).
  const invalid = { type: 'test/fake-invalid-type', value: 'fake address teehee!' };
  const unusable = { value: '192.0.2.10' };
  const usable = { type: 'IPAddress', value: '172.18.255.200' };
  await manifests(
    t,
    `${GATEWAY}\nmetadata: {name: ${G.name}, namespace: ${INFRA_NS}, annotations: {gateway-api/skip-this-for-readiness: "true"}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  addresses: ${JSON.stringify([invalid, unusable, usable])}\n  listeners: [{name: http, port: 8080, protocol: HTTP}]\n---\n` +
      `${HTTPROUTE}\nmetadata: {name: static-addresses, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: ${G.name}}]\n  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080}]}]`,
  );
  const conditionsMust = (what: string, check: (obj: KubeObject) => void) =>
    eventually(`Gateway ${G.name}: ${what} (every condition at the latest generation)`, async () => {
      const obj = (await lab.getJson<KubeObject>('gateway', G.name, INFRA_NS))!;
      for (const c of gatewayConditions(obj)) if (c.observedGeneration !== obj.metadata.generation) throw new Error(`${c.type} at ${c.observedGeneration}, generation ${obj.metadata.generation}`);
      check(obj);
      return obj;
    });
  await conditionsMust('Accepted=False/UnsupportedAddress', (o) => expectCondition(gatewayConditions(o), 'Accepted', 'False', 'UnsupportedAddress'));
  await patch('gateway', G.name, INFRA_NS, { spec: { addresses: [unusable, usable] } });
  await conditionsMust('Accepted=True/Accepted, Programmed=False/AddressNotUsable', (o) => {
    expectCondition(gatewayConditions(o), 'Accepted', 'True', 'Accepted');
    expectCondition(gatewayConditions(o), 'Programmed', 'False', 'AddressNotUsable');
  });
  await patch('gateway', G.name, INFRA_NS, { spec: { addresses: [usable] } });
  const done = await conditionsMust('Accepted=True/Accepted, Programmed=True/Programmed, one status address', (o) => {
    expectCondition(gatewayConditions(o), 'Accepted', 'True', 'Accepted');
    expectCondition(gatewayConditions(o), 'Programmed', 'True', 'Programmed');
    const l = listenerStatuses(o).find((x) => x.name === 'http');
    expectCondition(l?.conditions, 'Accepted', 'True');
    expectCondition(l?.conditions, 'ResolvedRefs', 'True');
    assert.equal((o.status?.addresses as unknown[] | undefined)?.length, 1, JSON.stringify(o.status?.addresses));
  });
  assert.deepEqual(done.status?.addresses, [{ type: 'IPAddress', value: usable.value }]);
  // The address is really the Gateway's: a request from outside to it reaches the route.
  await routeMustHaveCondition(lab, route('static-addresses'), G, 'Accepted', 'True', 'Accepted');
  await expectEventually(usable.value, ok('/', 'infra-backend-v1', INFRA_NS, { port: 8080 }));
});

// ======================= GRPCRoute, TLSRoute, TCPRoute, UDPRoute =======================

interface GrpcExpectation {
  method: string;
  metadata?: Record<string, string>;
  /** gRPC status code wanted (default 0). */
  code?: number;
  backend?: string;
  /** Metadata the backend must see (lower-case keys). */
  seen?: Record<string, string>;
  /** Response headers (initial metadata) wanted. */
  responseHeaders?: Record<string, string>;
}

function grpcMismatch(exp: GrpcExpectation, r: GrpcResult): string | undefined {
  const want = exp.code ?? 0;
  if (r.code !== want) return `gRPC code ${r.code} (${r.message}), want ${want}`;
  if (want !== 0) return undefined;
  const a = r.assertions;
  if (!a) return 'no EchoResponse';
  if (a.fullyQualifiedMethod !== `/${GRPC_SERVICE}/${exp.method}`) return `backend saw method ${a.fullyQualifiedMethod}`;
  if (exp.backend && !(a.context?.pod ?? '').startsWith(exp.backend)) return `answered by pod ${a.context?.pod}, want a pod of ${exp.backend}`;
  if (a.context?.namespace !== INFRA_NS) return `backend namespace ${a.context?.namespace}`;
  for (const [k, v] of Object.entries(exp.seen ?? {})) {
    const got = a.headers.filter((h) => h.key === k).map((h) => h.value).join(',');
    if (got !== v) return `backend saw metadata ${k}: ${JSON.stringify(got)}, want ${JSON.stringify(v)}`;
  }
  for (const [k, v] of Object.entries(exp.responseHeaders ?? {})) if (String(r.headers[k] ?? '') !== v) return `response header ${k}: ${JSON.stringify(r.headers[k])}, want ${JSON.stringify(v)}`;
  return undefined;
}

/** The gRPC version of expectEventually: 3 consecutive matching calls within 30 s. */
async function grpcEventually(address: string, exp: GrpcExpectation): Promise<void> {
  const deadline = Date.now() + MAX_TIME_TO_CONSISTENCY_MS;
  let streak = 0;
  let last = 'no call made';
  while (Date.now() < deadline) {
    let mismatch: string | undefined;
    try {
      mismatch = grpcMismatch(exp, await grpcEchoCall(await connectFromExt(address, 80), { authority: address, method: exp.method, metadata: exp.metadata }));
    } catch (err) {
      mismatch = `call failed: ${(err as Error).message}`;
    }
    if (mismatch === undefined) {
      if (++streak >= REQUIRED_CONSECUTIVE_SUCCESSES) return;
      continue;
    }
    streak = 0;
    last = mismatch;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${exp.method} ${JSON.stringify(exp.metadata ?? {})} via ${address}: no ${REQUIRED_CONSECUTIVE_SUCCESSES} consecutive correct answers within ${MAX_TIME_TO_CONSISTENCY_MS / 1000} s; last: ${last}`);
}

async function grpcAll(address: string, cases: GrpcExpectation[]): Promise<void> {
  const results = await Promise.allSettled(cases.map((c) => grpcEventually(address, c)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (failures.length > 0) throw new Error(`${failures.length} of ${cases.length} cases failed:\n${failures.join('\n')}`);
}

async function grpcRouteAccepted(name: string): Promise<string> {
  const a = await gatewayAddress(lab, gw('same-namespace'));
  await routeKindMustHaveCondition(lab, 'grpcroute', route(name), gw('same-namespace'), 'Accepted', 'True', 'Accepted');
  await routeKindMustHaveCondition(lab, 'grpcroute', route(name), gw('same-namespace'), 'ResolvedRefs', 'True', 'ResolvedRefs');
  return a;
}

const toGrpc = (n: number) => `backendRefs: [{name: grpc-infra-backend-v${n}, port: 8080}]`;

test('GRPCRouteExactMethodMatching', T, async (t) => {
  const m = (method: string) => `{method: {service: ${GRPC_SERVICE}, method: ${method}}}`;
  await manifests(t, `${GRPCROUTE}\nmetadata: {name: exact-matching, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules:\n  - {matches: [${m('Echo')}], ${toGrpc(1)}}\n  - {matches: [${m('EchoTwo')}], ${toGrpc(2)}}`);
  const a = await grpcRouteAccepted('exact-matching');
  await grpcAll(a, [
    { method: 'Echo', backend: 'grpc-infra-backend-v1' },
    { method: 'EchoTwo', backend: 'grpc-infra-backend-v2' },
    { method: 'EchoThree', code: 12 },
  ]);
});

test('GRPCRouteHeaderMatching', T, async (t) => {
  const h = (pairs: [string, string][]) => `{headers: [${pairs.map(([n, v]) => `{name: ${n}, value: ${v}}`).join(', ')}]}`;
  await manifests(
    t,
    `${GRPCROUTE}\nmetadata: {name: grpc-header-matching, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules:\n` +
      [
        `  - {matches: [${h([['version', 'one']])}], ${toGrpc(1)}}`,
        `  - {matches: [${h([['version', 'two']])}], ${toGrpc(2)}}`,
        `  - {matches: [${h([['version', 'two'], ['color', 'orange']])}], ${toGrpc(1)}}`,
        `  - {matches: [${h([['color', 'blue']])}, ${h([['color', 'green']])}], ${toGrpc(1)}}`,
        `  - {matches: [${h([['color', 'red']])}, ${h([['color', 'yellow']])}], ${toGrpc(2)}}`,
      ].join('\n'),
  );
  const a = await grpcRouteAccepted('grpc-header-matching');
  const to = (metadata: Record<string, string>, n: number): GrpcExpectation => ({ method: 'Echo', metadata, backend: `grpc-infra-backend-v${n}` });
  const none = (metadata: Record<string, string>): GrpcExpectation => ({ method: 'Echo', metadata, code: 12 });
  await grpcAll(a, [
    to({ Version: 'one' }, 1),
    to({ Version: 'two' }, 2),
    to({ Version: 'two', Color: 'orange' }, 1),
    to({ Version: 'two', Color: 'blue' }, 2),
    none({ Color: 'orange' }),
    none({ 'Some-Other-Header': 'one' }),
    to({ Color: 'blue' }, 1),
    to({ Color: 'green' }, 1),
    to({ Color: 'red' }, 2),
    to({ Color: 'yellow' }, 2),
    none({ Color: 'purple' }),
  ]);
});

test('GRPCRoute request and response header filters reach the gRPC backend and the client', T, async (t) => {
  await manifests(
    t,
    `${GRPCROUTE}\nmetadata: {name: grpc-header-filters, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules:\n` +
      `  - matches: [{method: {service: ${GRPC_SERVICE}}}]\n    filters:\n    - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-Header-Set, value: set-overwrites-values}], add: [{name: X-Header-Add, value: add-appends-values}], remove: [X-Header-Remove]}}\n    - {type: ResponseHeaderModifier, responseHeaderModifier: {add: [{name: X-Response-Add, value: from-the-gateway}]}}\n    ${toGrpc(1)}`,
  );
  const a = await grpcRouteAccepted('grpc-header-filters');
  await grpcEventually(a, {
    method: 'EchoTwo',
    metadata: { 'X-Header-Set': 'original', 'X-Header-Add': 'original', 'X-Header-Remove': 'gone' },
    backend: 'grpc-infra-backend-v1',
    seen: { 'x-header-set': 'set-overwrites-values', 'x-header-add': 'original,add-appends-values', 'x-header-remove': '' },
    responseHeaders: { 'x-response-add': 'from-the-gateway' },
  });
});

/** One conversation with the TCP echo (welcome, PING, IS_TLS, TEST) on a socket from flatnet-ext. */
async function tcpConversation(sock: Duplex): Promise<{ welcome: string; pong: string; isTls: string; payload: { pod: string; namespace: string; isTLS: boolean; tls?: { serverName: string } } }> {
  const lines: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  let buffered = '';
  sock.setEncoding('utf8');
  sock.on('data', (c: string) => {
    buffered += c;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl + 1);
      buffered = buffered.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const closed = new Promise<never>((_, reject) => {
    sock.once('close', () => reject(new Error('the connection was closed')));
    sock.once('error', reject);
  });
  closed.catch(() => undefined);
  const next = () => Promise.race([lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise<string>((resolve) => waiting.push(resolve)), closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no line within 5 s')), 5000))]);
  try {
    const welcome = await next();
    sock.write('PING\n');
    const pong = await next();
    sock.write('IS_TLS\n');
    const isTls = await next();
    sock.write('TEST\n');
    const payload = JSON.parse(await next()) as { pod: string; namespace: string; isTLS: boolean; tls?: { serverName: string } };
    return { welcome, pong, isTls, payload };
  } finally {
    sock.destroy();
  }
}

/** MakeTCPRequestAndExpectEventuallyValidResponse: one good conversation within 30 s (3 in a row, as the HTTP checks). */
async function tcpEventually(what: string, connect: () => Promise<Duplex>, want: { backend: string; namespace: string; tls: boolean; serverName?: string }): Promise<void> {
  let streak = 0;
  await eventually(what, async () => {
    try {
      const c = await tcpConversation(await connect());
      assert.equal(c.welcome, TCP_WELCOME);
      assert.equal(c.pong, 'PONG\n');
      assert.equal(c.isTls, `${want.tls}\n`);
      assert.equal(c.payload.namespace, want.namespace);
      assert.ok(c.payload.pod.startsWith(`${want.backend}-`), `pod ${c.payload.pod} is not a pod of ${want.backend}`);
      if (want.serverName !== undefined) assert.equal(c.payload.tls?.serverName, want.serverName);
    } catch (err) {
      streak = 0;
      throw err;
    }
    return ++streak >= REQUIRED_CONSECUTIVE_SUCCESSES;
  }, MAX_TIME_TO_CONSISTENCY_MS, 250);
}

test('TLSRouteSimpleSameNamespace: passthrough by SNI to a backend that terminates TLS itself', T, async (t) => {
  const G = 'gateway-tlsroute';
  await manifests(
    t,
    `${GATEWAY}\nmetadata: {name: ${G}, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [{name: https, port: 443, protocol: TLS, hostname: "*.example.com", allowedRoutes: {namespaces: {from: Same}, kinds: [{kind: TLSRoute}]}, tls: {mode: Passthrough}}]\n---\n` +
      `apiVersion: gateway.networking.k8s.io/v1\nkind: TLSRoute\nmetadata: {name: gateway-conformance-infra-test, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: ${G}, namespace: ${INFRA_NS}}]\n  hostnames: [abc.example.com]\n  rules: [{backendRefs: [{name: tcp-backend, port: 8443}]}]`,
  );
  await gatewayMustBeReady(lab, gw(G));
  const a = await gatewayAddress(lab, gw(G));
  await routeKindMustHaveCondition(lab, 'tlsroute', route('gateway-conformance-infra-test'), gw(G), 'Accepted', 'True', 'Accepted');
  // The client verifies the backend's own certificate: the gateway did not terminate the TLS.
  await tcpEventually('a TLS conversation with tcp-backend through the passthrough listener', () => connectFromExt(a, 443, { servername: 'abc.example.com', ca: passthroughCert.cert, alpn: [] }), {
    backend: 'tcp-backend',
    namespace: INFRA_NS,
    tls: true,
    serverName: 'abc.example.com',
  });
  // A name no TLSRoute serves is not passed anywhere (the port has no certificate of its own).
  await assert.rejects(
    (async () => {
      const s = (await connectFromExt(a, 443, { servername: 'def.example.com', alpn: [] })) as tls.TLSSocket;
      s.destroy();
    })(),
    'a handshake for def.example.com must fail',
  );
});

test('TCPRoute and UDPRoute: a TCP echo and a UDP echo behind one Gateway', T, async (t) => {
  const G = 'gateway-l4';
  await manifests(
    t,
    `${GATEWAY}\nmetadata: {name: ${G}, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners:\n  - {name: tcp, port: 9000, protocol: TCP, allowedRoutes: {namespaces: {from: Same}}}\n  - {name: udp, port: 5300, protocol: UDP, allowedRoutes: {namespaces: {from: Same}}}\n---\n` +
      `apiVersion: gateway.networking.k8s.io/v1\nkind: TCPRoute\nmetadata: {name: tcp-echo, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: ${G}, sectionName: tcp}]\n  rules: [{backendRefs: [{name: tcp-backend, port: 3000}]}]\n---\n` +
      `apiVersion: gateway.networking.k8s.io/v1\nkind: UDPRoute\nmetadata: {name: udp-echo, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: ${G}, sectionName: udp}]\n  rules: [{backendRefs: [{name: udp-backend, port: 5300}]}]`,
  );
  await gatewayMustBeReady(lab, gw(G));
  const a = await gatewayAddress(lab, gw(G));
  await routeKindMustHaveCondition(lab, 'tcproute', route('tcp-echo'), gw(G), 'Accepted', 'True', 'Accepted', 'tcp');
  await routeKindMustHaveCondition(lab, 'udproute', route('udp-echo'), gw(G), 'Accepted', 'True', 'Accepted', 'udp');
  await listenerMust(lab, gw(G), 'tcp', 'attachedRoutes 1', (l) => assert.equal(l.attachedRoutes, 1));
  await listenerMust(lab, gw(G), 'udp', 'attachedRoutes 1', (l) => assert.equal(l.attachedRoutes, 1));
  await tcpEventually('a TCP conversation with tcp-backend through the TCP listener', () => connectFromExt(a, 9000), { backend: 'tcp-backend', namespace: INFRA_NS, tls: false });
  let streak = 0;
  await eventually('UDP echoes from udp-backend through the UDP listener (3 in a row)', async () => {
    const message = `hello-${process.pid}-${streak}`;
    try {
      const reply = JSON.parse(await udpRequestFromExt(a, 5300, message, 3000)) as { request: string; pod: string; namespace: string };
      assert.equal(reply.request, message);
      assert.equal(reply.namespace, INFRA_NS);
      assert.ok(reply.pod.startsWith('udp-backend-'), `pod ${reply.pod}`);
    } catch (err) {
      streak = 0;
      throw err;
    }
    return ++streak >= REQUIRED_CONSECUTIVE_SUCCESSES;
  }, MAX_TIME_TO_CONSISTENCY_MS, 250);
});

test('ReferenceGrant under a TCPRoute: refused without it, served with it, revoked when it is deleted', T, async (t) => {
  const G = 'gateway-tcp-cross-namespace';
  const r = route('tcp-cross-namespace');
  const grant = `${GRANT}\nmetadata: {name: tcp-to-web, namespace: ${WEB_NS}}\nspec:\n  from: [{group: gateway.networking.k8s.io, kind: TCPRoute, namespace: ${INFRA_NS}}]\n  to: [{group: "", kind: Service, name: tcp-backend}]`;
  await manifests(
    t,
    `${GATEWAY}\nmetadata: {name: ${G}, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [{name: tcp, port: 9001, protocol: TCP, allowedRoutes: {namespaces: {from: Same}}}]\n---\n` +
      `apiVersion: gateway.networking.k8s.io/v1\nkind: TCPRoute\nmetadata: {name: ${r.name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: ${G}}]\n  rules: [{backendRefs: [{name: tcp-backend, namespace: ${WEB_NS}, port: 3000}]}]`,
  );
  t.after(() => lab.remove(grant));
  await gatewayMustBeReady(lab, gw(G));
  const a = await gatewayAddress(lab, gw(G));
  const refused = async (what: string) => {
    await routeKindMustHaveCondition(lab, 'tcproute', r, gw(G), 'ResolvedRefs', 'False', 'RefNotPermitted');
    let streak = 0;
    await eventually(`${what}: connections to the cross-namespace backend are closed (3 in a row)`, async () => {
      try {
        await tcpConversation(await connectFromExt(a, 9001));
      } catch {
        return ++streak >= REQUIRED_CONSECUTIVE_SUCCESSES;
      }
      streak = 0;
      throw new Error('the conversation reached the backend');
    }, MAX_TIME_TO_CONSISTENCY_MS, 250);
  };
  await refused('without a ReferenceGrant');
  await lab.apply(grant);
  await routeKindMustHaveCondition(lab, 'tcproute', r, gw(G), 'ResolvedRefs', 'True', 'ResolvedRefs');
  await tcpEventually('the web namespace tcp-backend with the grant', () => connectFromExt(a, 9001), { backend: 'tcp-backend', namespace: WEB_NS, tls: false });
  await lab.ok(['-n', WEB_NS, 'delete', 'referencegrant', 'tcp-to-web']);
  await refused('after the grant was deleted');
  assert.ok(routeParents(await lab.getJson<KubeObject>('tcproute', r.name, r.namespace)).every((p) => p.controllerName === CONTROLLER_NAME), 'only our parent entries');
});
