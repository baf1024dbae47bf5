// Extended features: query/method matching, filters, timeouts, retry, CORS, backend protocols,
// GRPCRoute, TLS passthrough, TCP and UDP routes, and the routing table text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRoutingTable } from '../../../../src/gateway/model/describe.js';
import { selectEntry } from '../../../../src/gateway/model/match.js';
import { computeGatewayState } from '../../../../src/gateway/model/state.js';
import { INFRA, backend, backendRef, conds, gateway, http, httpRoute, parent, route, world } from './fixtures.js';

const SAME = 'same-namespace';
const sameGw = () => gateway(SAME, [http('http', 80)]);
const cfgOf = (s: ReturnType<typeof computeGatewayState>, g = SAME) => s.gateways.get(`${INFRA}/${g}`)!.config;
const svcOf = (sel: ReturnType<typeof selectEntry>) => (sel ? sel.entry.backends[0]?.name.split('/')[1].split(':')[0] : '404');

test('query parameters and methods: more query matches win; method beats none', () => {
  const r = httpRoute('qm', {
    parentRefs: [parent(SAME)],
    rules: [
      { matches: [{ queryParams: [{ name: 'animal', value: 'whale' }] }], backendRefs: [backendRef('infra-backend-v1')] },
      { matches: [{ queryParams: [{ name: 'animal', value: 'whale' }, { name: 'color', value: 'blue' }] }], backendRefs: [backendRef('infra-backend-v2')] },
      { matches: [{ method: 'POST' }], backendRefs: [backendRef('infra-backend-v3')] },
      { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [backendRef('infra-backend-v1')] },
    ],
  });
  const cfg = cfgOf(computeGatewayState(world([sameGw(), r])));
  assert.equal(svcOf(selectEntry(cfg, 80, 'x', 'GET', '/?animal=whale')), 'infra-backend-v1');
  assert.equal(svcOf(selectEntry(cfg, 80, 'x', 'GET', '/?animal=whale&color=blue')), 'infra-backend-v2');
  assert.equal(svcOf(selectEntry(cfg, 80, 'x', 'POST', '/')), 'infra-backend-v3');
  assert.equal(svcOf(selectEntry(cfg, 80, 'x', 'GET', '/?ANIMAL=whale')), 'infra-backend-v1');
});

test('filters: header modifiers, redirect (default 302), rewrite, mirror with fraction, CORS, backend filters', () => {
  const r = httpRoute('filters', {
    parentRefs: [parent(SAME)],
    rules: [
      {
        matches: [{ path: { type: 'PathPrefix', value: '/redirect' } }],
        filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', hostname: 'example.org', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } } }],
      },
      {
        matches: [{ path: { type: 'PathPrefix', value: '/rewrite' } }],
        filters: [
          { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Set', value: 'a' }], add: [{ name: 'X-Add', value: 'b' }], remove: ['X-Gone'] } },
          { type: 'URLRewrite', urlRewrite: { hostname: 'internal', path: { type: 'ReplaceFullPath', replaceFullPath: '/full' } } },
          { type: 'RequestMirror', requestMirror: { backendRef: { name: 'infra-backend-v2', port: 8080 }, fraction: { numerator: 1, denominator: 4 } } },
          { type: 'CORS', cors: { allowOrigins: ['https://*.example.com'], allowMethods: ['GET'], allowCredentials: true } },
        ],
        backendRefs: [backendRef('infra-backend-v1', { filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'X-Backend', value: 'v1' }] } }] })],
      },
    ],
  });
  const s = computeGatewayState(world([sameGw(), r]));
  const red = selectEntry(cfgOf(s), 80, 'x', 'GET', '/redirect/a')!.entry;
  assert.deepEqual(red.filters, [{ type: 'RequestRedirect', scheme: 'https', hostname: 'example.org', path: { type: 'ReplacePrefixMatch', value: '/new' }, statusCode: 302 }]);
  assert.deepEqual(red.backends, []);
  const rw = selectEntry(cfgOf(s), 80, 'x', 'GET', '/rewrite')!.entry;
  assert.deepEqual(rw.filters.map((f) => f.type), ['RequestHeaderModifier', 'URLRewrite', 'RequestMirror', 'CORS']);
  assert.deepEqual(rw.filters[0], { type: 'RequestHeaderModifier', set: [['X-Set', 'a']], add: [['X-Add', 'b']], remove: ['X-Gone'] });
  const mirror = rw.filters[2];
  assert.ok(mirror.type === 'RequestMirror' && mirror.percent === 25 && mirror.backend.endpoints[0].address === '10.244.1.12');
  const cors = rw.filters[3];
  assert.ok(cors.type === 'CORS' && cors.allowCredentials && cors.maxAgeSeconds === 5);
  assert.deepEqual(rw.backends[0].filters, [{ type: 'ResponseHeaderModifier', set: [['X-Backend', 'v1']], add: [], remove: [] }]);
});

test('incompatible filters and bad redirect codes drop the rule', () => {
  const r = httpRoute('bad-filters', {
    parentRefs: [parent(SAME)],
    rules: [
      { filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 399 } }] },
      { matches: [{ path: { type: 'Exact', value: '/x' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }], backendRefs: [backendRef('infra-backend-v1')] },
      { matches: [{ path: { type: 'PathPrefix', value: '/ok' } }], backendRefs: [backendRef('infra-backend-v1')] },
    ],
  });
  const s = computeGatewayState(world([sameGw(), r]));
  assert.equal(conds(s.routes.get(`HTTPRoute/${INFRA}/bad-filters`)![0].conditions).PartiallyInvalid, 'True/UnsupportedValue');
  assert.equal(selectEntry(cfgOf(s), 80, 'x', 'GET', '/'), undefined);
  assert.equal(selectEntry(cfgOf(s), 80, 'x', 'GET', '/x'), undefined);
  assert.ok(selectEntry(cfgOf(s), 80, 'x', 'GET', '/ok'));
});

test('an ExtensionRef filter is never skipped: the rule answers 500 and ResolvedRefs is InvalidKind', () => {
  const r = httpRoute('ext', { parentRefs: [parent(SAME)], rules: [{ filters: [{ type: 'ExtensionRef', extensionRef: { group: 'x.io', kind: 'Auth', name: 'a' } }], backendRefs: [backendRef('infra-backend-v1')] }] });
  const s = computeGatewayState(world([sameGw(), r]));
  assert.equal(conds(s.routes.get(`HTTPRoute/${INFRA}/ext`)![0].conditions).ResolvedRefs, 'False/InvalidKind');
  assert.ok(selectEntry(cfgOf(s), 80, 'x', 'GET', '/')!.entry.backends[0].invalid);
});

test('timeouts (0s disables) and retry', () => {
  const r = httpRoute('t', {
    parentRefs: [parent(SAME)],
    rules: [
      { matches: [{ path: { type: 'PathPrefix', value: '/a' } }], timeouts: { request: '500ms', backendRequest: '1m30s' }, retry: { codes: [500, 503], attempts: 2, backoff: '100ms' }, backendRefs: [backendRef('infra-backend-v1')] },
      { matches: [{ path: { type: 'PathPrefix', value: '/b' } }], timeouts: { request: '0s' }, backendRefs: [backendRef('infra-backend-v1')] },
      { matches: [{ path: { type: 'PathPrefix', value: '/c' } }], timeouts: { request: 'soon' }, backendRefs: [backendRef('infra-backend-v1')] },
    ],
  });
  const s = computeGatewayState(world([sameGw(), r]));
  const a = selectEntry(cfgOf(s), 80, 'x', 'GET', '/a')!.entry;
  assert.deepEqual(a.timeouts, { requestMs: 500, backendRequestMs: 90_000 });
  assert.deepEqual(a.retry, { attempts: 2, codes: [500, 503], backoffMs: 100 });
  assert.equal(selectEntry(cfgOf(s), 80, 'x', 'GET', '/b')!.entry.timeouts, undefined);
  assert.equal(selectEntry(cfgOf(s), 80, 'x', 'GET', '/c'), undefined);
});

test('appProtocol: kubernetes.io/h2c -> h2c, kubernetes.io/ws -> ws, https -> UnsupportedProtocol; ExternalName refused', () => {
  const objs = [
    ...backend('h2c', ['10.244.1.50'], { appProtocol: 'kubernetes.io/h2c' }),
    ...backend('ws', ['10.244.1.51'], { appProtocol: 'kubernetes.io/ws' }),
    ...backend('tls', ['10.244.1.52'], { appProtocol: 'https' }),
    { kind: 'Service', metadata: { name: 'ext', namespace: INFRA }, spec: { type: 'ExternalName', externalName: 'example.com', ports: [{ port: 8080 }] } },
  ];
  const mk = (n: string) => httpRoute(`r-${n}`, { parentRefs: [parent(SAME)], rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/${n}` } }], backendRefs: [backendRef(n)] }] });
  const s = computeGatewayState(world([sameGw(), ...objs, mk('h2c'), mk('ws'), mk('tls'), mk('ext')]));
  assert.equal(selectEntry(cfgOf(s), 80, 'x', 'GET', '/h2c')!.entry.backends[0].protocol, 'h2c');
  assert.equal(selectEntry(cfgOf(s), 80, 'x', 'GET', '/ws')!.entry.backends[0].protocol, 'ws');
  assert.equal(conds(s.routes.get(`HTTPRoute/${INFRA}/r-tls`)![0].conditions).ResolvedRefs, 'False/UnsupportedProtocol');
  assert.equal(conds(s.routes.get(`HTTPRoute/${INFRA}/r-ext`)![0].conditions).ResolvedRefs, 'False/InvalidKind');
});

test('GRPCRoute: method matches become paths, gRPC entries only match gRPC calls and come first', () => {
  const g = route('GRPCRoute', 'grpc', {
    parentRefs: [parent(SAME)],
    rules: [
      { matches: [{ method: { service: 'echo.Echo', method: 'Say' } }], backendRefs: [backendRef('infra-backend-v1')] },
      { matches: [{ method: { service: 'echo.Echo' } }], backendRefs: [backendRef('infra-backend-v2')] },
      { matches: [{ method: { method: 'Ping' } }], backendRefs: [backendRef('infra-backend-v3')] },
    ],
  });
  const h = httpRoute('web', { parentRefs: [parent(SAME)], rules: [{ backendRefs: [backendRef('infra-backend-v1')] }] });
  const s = computeGatewayState(world([sameGw(), g, h]));
  const grpc = { 'content-type': 'application/grpc' };
  const cfg = cfgOf(s);
  const call = (path: string, headers: Record<string, string> = grpc) => selectEntry(cfg, 80, 'x', 'POST', path, headers);
  assert.equal(call('/echo.Echo/Say')!.entry.source.rule, 0);
  assert.equal(call('/echo.Echo/Say')!.entry.backends[0].protocol, 'grpc');
  assert.equal(call('/echo.Echo/Other')!.entry.source.rule, 1);
  assert.equal(call('/other.Svc/Ping')!.entry.source.rule, 2);
  assert.equal(call('/other.Svc/Nope')!.entry.source.kind, 'HTTPRoute');
  assert.equal(call('/echo.Echo/Say', {})!.entry.source.kind, 'HTTPRoute');
  assert.equal(conds(s.routes.get(`GRPCRoute/${INFRA}/grpc`)![0].conditions).Accepted, 'True/Accepted');
  assert.equal(s.gateways.get(`${INFRA}/${SAME}`)!.status.listeners[0].attachedRoutes, 2);
});

test('TLSRoute passthrough by SNI, TCPRoute (oldest wins) and UDPRoute on their ports', () => {
  const gw = gateway('l4', [
    { name: 'tls', port: 443, protocol: 'TLS', hostname: '*.example.com', tls: { mode: 'Passthrough' } },
    { name: 'tcp', port: 9000, protocol: 'TCP' },
    { name: 'udp', port: 5300, protocol: 'UDP' },
  ]);
  const objs = [...backend('dns', ['10.244.1.60'], { port: 53, targetPort: 5353, protocol: 'UDP' })];
  const tls = route('TLSRoute', 'tls', { parentRefs: [parent('l4')], hostnames: ['abc.example.com', 'other.org'], rules: [{ backendRefs: [{ name: 'infra-backend-v1', port: 8080 }] }] });
  const tcpOld = route('TCPRoute', 'tcp-old', { parentRefs: [parent('l4', { sectionName: 'tcp' })], rules: [{ backendRefs: [{ name: 'infra-backend-v2', port: 8080 }] }] });
  const tcpNew = route('TCPRoute', 'tcp-new', { parentRefs: [parent('l4', { sectionName: 'tcp' })], rules: [{ backendRefs: [{ name: 'infra-backend-v3', port: 8080 }] }] });
  const udp = route('UDPRoute', 'udp', { parentRefs: [parent('l4')], rules: [{ backendRefs: [{ name: 'dns', port: 53 }] }] });
  const s = computeGatewayState(world([gw, ...objs, tls, tcpOld, tcpNew, udp]));
  const ports = s.gateways.get(`${INFRA}/l4`)!.config.ports;
  assert.deepEqual(ports.map((p) => `${p.port}/${p.kind}`), ['443/http', '5300/udp', '9000/tcp']);
  const p443 = ports[0];
  assert.ok(p443.kind === 'http');
  assert.deepEqual(p443.tls!.passthrough.map((r) => [r.hostnames, r.backends[0].endpoints[0].address]), [[['abc.example.com'], '10.244.1.11']]);
  const p9000 = ports[2];
  assert.ok(p9000.kind === 'tcp' && p9000.source?.name === 'tcp-old' && p9000.backends[0].endpoints[0].address === '10.244.1.12');
  const p5300 = ports[1];
  assert.ok(p5300.kind === 'udp' && p5300.backends[0].endpoints[0].port === 5353);
  assert.equal(conds(s.routes.get(`TCPRoute/${INFRA}/tcp-new`)![0].conditions).Accepted, 'False/NotAllowedByListeners');
  assert.deepEqual(s.gateways.get(`${INFRA}/l4`)!.status.listeners.map((l) => l.attachedRoutes), [1, 1, 1]);
});

test('formatRoutingTable lists ports, hosts, entries in order with sources and backends', () => {
  const r = httpRoute('table', {
    parentRefs: [parent(SAME)],
    hostnames: ['shop.example.com'],
    rules: [
      { matches: [{ path: { type: 'Exact', value: '/cart' } }], backendRefs: [backendRef('infra-backend-v1', { weight: 3 }), backendRef('missing', { weight: 1 })] },
      { matches: [{ path: { type: 'PathPrefix', value: '/' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }] },
    ],
  });
  const s = computeGatewayState(world([sameGw(), r]));
  const text = formatRoutingTable(`${INFRA}/${SAME}`, cfgOf(s));
  const lines = text.split('\n');
  assert.equal(lines[0], `Gateway ${INFRA}/${SAME}`);
  assert.ok(lines.includes('  port 80/HTTP'));
  const cart = lines.findIndex((l) => l.includes('=/cart') && l.includes(`HTTPRoute ${INFRA}/table rule 0 match 0`));
  const root = lines.findIndex((l) => l.includes('/*') && l.includes('rule 1 match 0'));
  assert.ok(cart > 0 && root > cart, text);
  assert.ok(text.includes(`${INFRA}/infra-backend-v1:8080 http weight 3 (75%), 1 endpoint`), text);
  assert.ok(text.includes('INVALID: Service'), text);
  assert.ok(text.includes('redirect 302 https://'), text);
});
