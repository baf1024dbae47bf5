// Routing outcomes of the conformance HTTPRoute tests, through selectEntry on the computed config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayState } from '../../../../src/gateway/model/types.js';
import { selectEntry } from '../../../../src/gateway/model/match.js';
import { computeGatewayState } from '../../../../src/gateway/model/state.js';
import { INFRA, backend, backendRef, conds, gateway, http, httpRoute, parent, referenceGrant, tlsSecret, world } from './fixtures.js';

const GROUP = 'gateway.networking.k8s.io';
const SAME = 'same-namespace';
const sameGw = () => gateway(SAME, [http('http', 80, { allowedRoutes: { namespaces: { from: 'Same' } } })]);

/** What a request gets: the backend Service name, or the status code the proxy answers. */
function serve(s: GatewayState, gw: string, host: string, target: string, headers: Record<string, string> = {}, port = 80, method = 'GET'): string {
  const cfg = s.gateways.get(gw.includes('/') ? gw : `${INFRA}/${gw}`)!.config;
  const sel = selectEntry(cfg, port, host, method, target, headers);
  if (!sel) return '404';
  const backends = sel.entry.backends;
  if (backends.length === 0) return sel.entry.filters.some((f) => f.type === 'RequestRedirect') ? 'redirect' : '500';
  if (backends.length > 1) return backends.map((b) => (b.invalid ? '500' : b.name.split('/')[1].split(':')[0])).join('|');
  return backends[0].invalid ? '500' : backends[0].name.split('/')[1].split(':')[0];
}

const rule = (svc: string, ...matches: unknown[]) => ({ ...(matches.length ? { matches } : {}), backendRefs: [backendRef(svc)] });
const prefix = (value: string) => ({ path: { type: 'PathPrefix', value } });
const exact = (value: string) => ({ path: { type: 'Exact', value } });
const header = (name: string, value: string) => ({ name, value });

test('13: simple same-namespace route; endpoints come from the slice (pod IP and target port)', () => {
  const s = computeGatewayState(world([sameGw(), httpRoute('gateway-conformance-infra-test', { parentRefs: [parent(SAME)], rules: [rule('infra-backend-v1')] })]));
  assert.equal(serve(s, SAME, 'x', '/'), 'infra-backend-v1');
  const sel = selectEntry(s.gateways.get(`${INFRA}/${SAME}`)!.config, 80, 'x', 'GET', '/')!;
  assert.deepEqual(sel.entry.backends[0].endpoints, [{ address: '10.244.1.11', port: 3000 }]);
  assert.equal(sel.entry.backends[0].name, `${INFRA}/infra-backend-v1:8080`);
});

test('14: cross-namespace route attaches through allowedRoutes Selector', () => {
  const gw = gateway('backend-namespaces', [http('http', 80, { allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { 'gateway-conformance': 'backend' } } } } })]);
  const ns = world([gw]).namespaces;
  ns.push({ kind: 'Namespace', metadata: { name: 'web', labels: { 'gateway-conformance': 'backend' } } });
  const w = world([gw, httpRoute('cross', { parentRefs: [parent('backend-namespaces', { namespace: INFRA })], rules: [rule('web-backend')] }, 'web')]);
  w.namespaces = ns;
  w.services.push(...backend('web-backend', ['10.244.3.1'], { namespace: 'web' }).slice(0, 1));
  w.endpointSlices.push(...backend('web-backend', ['10.244.3.1'], { namespace: 'web' }).slice(1));
  const s = computeGatewayState(w);
  assert.equal(conds(s.routes.get('HTTPRoute/web/cross')![0].conditions).Accepted, 'True/Accepted');
  assert.equal(serve(s, 'backend-namespaces', 'x', '/'), 'web-backend');
});

test('17: exact path matching', () => {
  const s = computeGatewayState(world([sameGw(), httpRoute('exact-matching', { parentRefs: [parent(SAME)], rules: [rule('infra-backend-v1', exact('/one')), rule('infra-backend-v2', exact('/two'))] })]));
  assert.equal(serve(s, SAME, 'x', '/one'), 'infra-backend-v1');
  assert.equal(serve(s, SAME, 'x', '/two'), 'infra-backend-v2');
  for (const p of ['/', '/one/example', '/two/', '/Two']) assert.equal(serve(s, SAME, 'x', p), '404', p);
});

test('18: path prefixes per path element, OR of matches with headers', () => {
  const r = httpRoute('matching', {
    parentRefs: [parent(SAME)],
    rules: [
      rule('infra-backend-v1', prefix('/'), { headers: [header('version', 'one')] }),
      rule('infra-backend-v2', prefix('/v2'), { headers: [header('version', 'two')] }),
    ],
  });
  const s = computeGatewayState(world([sameGw(), r]));
  const cases: [string, Record<string, string>, string][] = [
    ['/', {}, 'infra-backend-v1'],
    ['/example', {}, 'infra-backend-v1'],
    ['/', { Version: 'one' }, 'infra-backend-v1'],
    ['/v2', {}, 'infra-backend-v2'],
    ['/v2/', {}, 'infra-backend-v2'],
    ['/v2/example', {}, 'infra-backend-v2'],
    ['/', { Version: 'two' }, 'infra-backend-v2'],
    ['/v2example', {}, 'infra-backend-v1'],
    ['/foo/v2/example', {}, 'infra-backend-v1'],
  ];
  for (const [p, h, want] of cases) assert.equal(serve(s, SAME, 'x', p, h), want, `${p} ${JSON.stringify(h)}`);
});

test('19: precedence merged across routes with hostnames', () => {
  const gw = sameGw();
  const part1 = httpRoute('matching-part1', { parentRefs: [parent(SAME)], hostnames: ['example.com', 'example.net'], rules: [rule('infra-backend-v1', prefix('/'), { headers: [header('version', 'one')] })] });
  const part2 = httpRoute('matching-part2', { parentRefs: [parent(SAME)], hostnames: ['example.com'], rules: [rule('infra-backend-v2', prefix('/v2'), { headers: [header('version', 'two')] })] });
  const s = computeGatewayState(world([gw, part1, part2]));
  const cases: [string, string, Record<string, string>, string][] = [
    ['example.com', '/', {}, 'infra-backend-v1'],
    ['example.net', '/', {}, 'infra-backend-v1'],
    ['example.com', '/example', {}, 'infra-backend-v1'],
    ['example.com', '/', { Version: 'one' }, 'infra-backend-v1'],
    ['example.com', '/v2', {}, 'infra-backend-v2'],
    ['example.com', '/v2/', {}, 'infra-backend-v2'],
    ['example.com', '/v2/example', {}, 'infra-backend-v2'],
    ['example.com', '/', { Version: 'two' }, 'infra-backend-v2'],
    ['example.net', '/v2', {}, 'infra-backend-v1'],
    ['example.net', '/', { Version: 'two' }, 'infra-backend-v1'],
    ['example.com', '/v2example', {}, 'infra-backend-v1'],
    ['example.com', '/foo/v2/example', {}, 'infra-backend-v1'],
    ['example.org', '/', {}, '404'],
  ];
  for (const [h, p, hd, want] of cases) assert.equal(serve(s, SAME, h, p, hd), want, `${h}${p} ${JSON.stringify(hd)}`);
});

test('20: path match order', () => {
  const r = httpRoute('path-matching-order', {
    parentRefs: [parent(SAME)],
    rules: [
      rule('infra-backend-v1', exact('/match')),
      rule('infra-backend-v2', exact('/match/exact')),
      rule('infra-backend-v3', exact('/match/exact/one')),
      rule('infra-backend-v3', prefix('/match/')),
      rule('infra-backend-v1', prefix('/match/prefix/')),
      rule('infra-backend-v2', prefix('/match/prefix/one')),
    ],
  });
  const s = computeGatewayState(world([sameGw(), r]));
  const cases: [string, string][] = [
    ['/match/exact/one', 'infra-backend-v3'],
    ['/match/exact', 'infra-backend-v2'],
    ['/match', 'infra-backend-v1'],
    ['/match/prefix/one/any', 'infra-backend-v2'],
    ['/match/prefix/any', 'infra-backend-v1'],
    ['/match/any', 'infra-backend-v3'],
  ];
  for (const [p, want] of cases) assert.equal(serve(s, SAME, 'x', p), want, p);
});

test('21: header matching: ANDed within a match, ORed across, more headers win', () => {
  const r = httpRoute('header-matching', {
    parentRefs: [parent(SAME)],
    rules: [
      rule('infra-backend-v1', { headers: [header('version', 'one')] }),
      rule('infra-backend-v2', { headers: [header('version', 'two')] }),
      rule('infra-backend-v1', { headers: [header('version', 'two'), header('color', 'orange')] }),
      rule('infra-backend-v1', { headers: [header('color', 'blue')] }, { headers: [header('color', 'green')] }),
      rule('infra-backend-v2', { headers: [header('color', 'red')] }, { headers: [header('color', 'yellow')] }),
    ],
  });
  const s = computeGatewayState(world([sameGw(), r]));
  const cases: [Record<string, string>, string][] = [
    [{ Version: 'one' }, 'infra-backend-v1'],
    [{ Version: 'two' }, 'infra-backend-v2'],
    [{ Version: 'two', Color: 'orange' }, 'infra-backend-v1'],
    [{ Version: 'two', Color: 'blue' }, 'infra-backend-v2'],
    [{ Color: 'blue' }, 'infra-backend-v1'],
    [{ Color: 'green' }, 'infra-backend-v1'],
    [{ Color: 'red' }, 'infra-backend-v2'],
    [{ Color: 'yellow' }, 'infra-backend-v2'],
    [{ Color: 'orange' }, '404'],
    [{ Some: 'Thing' }, '404'],
    [{ Color: 'purple' }, '404'],
  ];
  for (const [h, want] of cases) assert.equal(serve(s, SAME, 'x', '/', h), want, JSON.stringify(h));
});

test('22: hostname intersection, wildcards over several labels, Host port ignored, isolation; statuses', () => {
  const same = { allowedRoutes: { namespaces: { from: 'Same' } } };
  const gw = gateway('httproute-hostname-intersection', [
    http('listener-1', 80, { ...same, hostname: 'very.specific.com' }),
    http('listener-2', 80, { ...same, hostname: '*.wildcard.io' }),
    http('listener-3', 80, { ...same, hostname: '*.anotherwildcard.io' }),
  ]);
  const all = gateway('httproute-hostname-intersection-all', [http('listener-1', 80, same)]);
  const p = [parent('httproute-hostname-intersection', { namespace: INFRA })];
  const routes = [
    httpRoute('r1', { parentRefs: p, hostnames: ['non.matching.com', '*.nonmatchingwildcard.io', 'very.specific.com'], rules: [rule('infra-backend-v1', prefix('/s1'))] }),
    httpRoute('r2', { parentRefs: p, hostnames: ['non.matching.com', 'wildcard.io', 'foo.wildcard.io', 'bar.wildcard.io', 'foo.bar.wildcard.io'], rules: [rule('infra-backend-v2', prefix('/s2'))] }),
    httpRoute('r3', { parentRefs: p, hostnames: ['non.matching.com', '*.specific.com'], rules: [rule('infra-backend-v3', prefix('/s3'))] }),
    httpRoute('r4', { parentRefs: p, hostnames: ['*.anotherwildcard.io'], rules: [rule('infra-backend-v1', prefix('/s4'))] }),
    httpRoute('no-intersecting-hosts', { parentRefs: p, hostnames: ['specific.but.wrong.com', 'wildcard.io'], rules: [rule('infra-backend-v2', prefix('/s5'))] }),
    httpRoute('all', { parentRefs: [parent('httproute-hostname-intersection-all', { namespace: INFRA })], hostnames: ['first.com', 'sub.first.com', 'second.com', 'sub.second.com'], rules: [rule('infra-backend-v2')] }),
  ];
  const s = computeGatewayState(world([gw, all, ...routes]));
  const g = 'httproute-hostname-intersection';
  const cases: [string, string, string][] = [
    ['very.specific.com', '/s1', 'infra-backend-v1'],
    ['very.specific.com:1234', '/s1', 'infra-backend-v1'],
    ['non.matching.com', '/s1', '404'],
    ['foo.nonmatchingwildcard.io', '/s1', '404'],
    ['foo.wildcard.io', '/s1', '404'],
    ['very.specific.com', '/non-matching-prefix', '404'],
    ['foo.wildcard.io', '/s2', 'infra-backend-v2'],
    ['bar.wildcard.io', '/s2', 'infra-backend-v2'],
    ['foo.bar.wildcard.io', '/s2', 'infra-backend-v2'],
    ['non.matching.com', '/s2', '404'],
    ['wildcard.io', '/s2', '404'],
    ['very.specific.com', '/s2', '404'],
    ['very.specific.com', '/s3', 'infra-backend-v3'],
    ['foo.specific.com', '/s3', '404'],
    ['foo.wildcard.io', '/s3', '404'],
    ['foo.anotherwildcard.io', '/s4', 'infra-backend-v1'],
    ['foo.bar.anotherwildcard.io', '/s4', 'infra-backend-v1'],
    ['anotherwildcard.io', '/s4', '404'],
    ['very.specific.com', '/s4', '404'],
    ['specific.but.wrong.com', '/s5', '404'],
    ['wildcard.io', '/s5', '404'],
  ];
  for (const [h, path, want] of cases) assert.equal(serve(s, g, h, path), want, `${h}${path}`);
  for (const h of ['first.com', 'sub.first.com', 'second.com', 'sub.second.com']) assert.equal(serve(s, 'httproute-hostname-intersection-all', h, '/'), 'infra-backend-v2', h);
  assert.equal(serve(s, 'httproute-hostname-intersection-all', 'third.com', '/'), '404');
  for (const r of ['r1', 'r2', 'r3', 'r4']) assert.equal(conds(s.routes.get(`HTTPRoute/${INFRA}/${r}`)![0].conditions).Accepted, 'True/Accepted', r);
  const bad = s.routes.get(`HTTPRoute/${INFRA}/no-intersecting-hosts`)!;
  assert.equal(conds(bad[0].conditions).Accepted, 'False/NoMatchingListenerHostname');
  assert.deepEqual(bad[0].parentRef, { group: GROUP, kind: 'Gateway', name: g, namespace: INFRA });
  const attached = s.gateways.get(`${INFRA}/${g}`)!.status.listeners.map((l) => l.attachedRoutes);
  assert.deepEqual(attached, [2, 1, 1]);
});

test('23: several listeners on one port, routes bound by sectionName', () => {
  const gw = gateway('httproute-listener-hostname-matching', [
    http('listener-1', 80, { hostname: 'bar.com' }),
    http('listener-2', 80, { hostname: 'foo.bar.com' }),
    http('listener-3', 80, { hostname: '*.bar.com' }),
    http('listener-4', 80, { hostname: '*.foo.com' }),
  ]);
  const p = (section: string) => ({ name: 'httproute-listener-hostname-matching', namespace: INFRA, sectionName: section });
  const routes = [
    httpRoute('backend-v1', { parentRefs: [p('listener-1')], rules: [rule('infra-backend-v1')] }),
    httpRoute('backend-v2', { parentRefs: [p('listener-2')], rules: [rule('infra-backend-v2')] }),
    httpRoute('backend-v3', { parentRefs: [p('listener-3'), p('listener-4')], rules: [rule('infra-backend-v3')] }),
  ];
  const s = computeGatewayState(world([gw, ...routes]));
  const g = 'httproute-listener-hostname-matching';
  const cases: [string, string][] = [
    ['bar.com', 'infra-backend-v1'],
    ['foo.bar.com', 'infra-backend-v2'],
    ['baz.bar.com', 'infra-backend-v3'],
    ['boo.bar.com', 'infra-backend-v3'],
    ['multiple.prefixes.bar.com', 'infra-backend-v3'],
    ['multiple.prefixes.foo.com', 'infra-backend-v3'],
    ['foo.com', '404'],
    ['no.matching.host', '404'],
  ];
  for (const [h, want] of cases) assert.equal(serve(s, g, h, '/'), want, h);
  assert.equal(s.routes.get(`HTTPRoute/${INFRA}/backend-v3`)!.length, 2);
});

test('24: HTTPS listeners with certificates per hostname; SNI and Host pick the route', () => {
  const secret = tlsSecret('tls-checks-certificate');
  const cert = { certificateRefs: [{ name: 'tls-checks-certificate' }] };
  const gw = gateway('httproute-https-listener', [
    { name: 'https', port: 443, protocol: 'HTTPS', tls: cert },
    { name: 'https-org', port: 443, protocol: 'HTTPS', hostname: '*.org', tls: cert },
    { name: 'https-wildcard', port: 443, protocol: 'HTTPS', hostname: '*.wildcard.org', tls: cert },
  ]);
  const routes = [
    httpRoute('https-test-1', { parentRefs: [parent('httproute-https-listener')], hostnames: ['example.org'], rules: [rule('infra-backend-v1')] }),
    httpRoute('https-test-2', { parentRefs: [parent('httproute-https-listener')], hostnames: ['second-example.org'], rules: [rule('infra-backend-v2')] }),
  ];
  const s = computeGatewayState(world([secret, gw, ...routes]));
  const port = s.gateways.get(`${INFRA}/httproute-https-listener`)!.config.ports[0];
  assert.equal(port.kind, 'http');
  assert.deepEqual(port.kind === 'http' && port.tls!.certificates.map((c) => c.hostnames[0]), ['*.wildcard.org', '*.org', '*']);
  assert.equal(serve(s, 'httproute-https-listener', 'example.org', '/', {}, 443), 'infra-backend-v1');
  assert.equal(serve(s, 'httproute-https-listener', 'second-example.org', '/', {}, 443), 'infra-backend-v2');
  assert.equal(serve(s, 'httproute-https-listener', 'unknown-example.org', '/', {}, 443), '404');
});

test('25: one route with two Gateways as parents; dedicated routes per Gateway', () => {
  const all = gateway('all-namespaces', [http('http', 80, { allowedRoutes: { namespaces: { from: 'All' } } })]);
  const routes = [
    httpRoute('shared', { parentRefs: [parent(SAME), parent('all-namespaces')], rules: [rule('infra-backend-v1', prefix('/shared'))] }),
    httpRoute('same-only', { parentRefs: [parent(SAME)], rules: [rule('infra-backend-v2')] }),
    httpRoute('all-only', { parentRefs: [parent('all-namespaces')], rules: [rule('infra-backend-v3')] }),
  ];
  const s = computeGatewayState(world([sameGw(), all, ...routes]));
  assert.equal(serve(s, SAME, 'x', '/shared'), 'infra-backend-v1');
  assert.equal(serve(s, 'all-namespaces', 'x', '/shared'), 'infra-backend-v1');
  assert.equal(serve(s, SAME, 'x', '/'), 'infra-backend-v2');
  assert.equal(serve(s, 'all-namespaces', 'x', '/'), 'infra-backend-v3');
  assert.deepEqual(s.routes.get(`HTTPRoute/${INFRA}/shared`)!.map((p) => [p.parentRef.name, conds(p.conditions).Accepted]), [
    [SAME, 'True/Accepted'],
    ['all-namespaces', 'True/Accepted'],
  ]);
});

test('26 (weights): weights kept, weight 0 dropped, an all-zero rule answers 500', () => {
  const r = httpRoute('weighted', {
    parentRefs: [parent(SAME)],
    rules: [
      { backendRefs: [backendRef('infra-backend-v1', { weight: 70 }), backendRef('infra-backend-v2', { weight: 30 }), backendRef('infra-backend-v3', { weight: 0 })] },
      { matches: [prefix('/zero')], backendRefs: [backendRef('infra-backend-v1', { weight: 0 })] },
    ],
  });
  const s = computeGatewayState(world([sameGw(), r]));
  const sel = selectEntry(s.gateways.get(`${INFRA}/${SAME}`)!.config, 80, 'x', 'GET', '/')!;
  assert.deepEqual(sel.entry.backends.map((b) => [b.name, b.weight]), [
    [`${INFRA}/infra-backend-v1:8080`, 70],
    [`${INFRA}/infra-backend-v2:8080`, 30],
  ]);
  assert.equal(serve(s, SAME, 'x', '/zero'), '500');
});

test('29: rules without backendRefs answer 500', () => {
  const r = httpRoute('no-backends', {
    parentRefs: [parent(SAME)],
    rules: [rule('infra-backend-v1', prefix('/forward')), { matches: [prefix('/omitted')] }, { matches: [prefix('/empty')], backendRefs: [] }],
  });
  const s = computeGatewayState(world([sameGw(), r]));
  assert.equal(serve(s, SAME, 'x', '/forward'), 'infra-backend-v1');
  assert.equal(serve(s, SAME, 'x', '/omitted'), '500');
  assert.equal(serve(s, SAME, 'x', '/empty'), '500');
  assert.equal(conds(s.routes.get(`HTTPRoute/${INFRA}/no-backends`)![0].conditions).Accepted, 'True/Accepted');
});

test('34: one rule with a backend not permitted answers 500, the other rule still routes', () => {
  const r = httpRoute('invalid-backend-ref-partially', {
    parentRefs: [parent(SAME)],
    rules: [rule('app-backend-v1', prefix('/')), rule('app-backend-v2', prefix('/v2'))].map((x, i) => ({
      ...x,
      backendRefs: [backendRef(i === 0 ? 'app-backend-v1' : 'app-backend-v2', { namespace: 'gateway-conformance-app-backend' })],
    })),
  });
  const grant = referenceGrant('reference-grant', 'gateway-conformance-app-backend', [{ group: GROUP, kind: 'HTTPRoute', namespace: INFRA }], [
    { group: '', kind: 'Service', name: 'app-backend-v1' },
  ]);
  const s = computeGatewayState(world([sameGw(), r, grant]));
  assert.equal(serve(s, SAME, 'x', '/'), 'app-backend-v1');
  assert.equal(serve(s, SAME, 'x', '/v2'), '500');
  const c = conds(s.routes.get(`HTTPRoute/${INFRA}/invalid-backend-ref-partially`)![0].conditions);
  assert.equal(c.Accepted, 'True/Accepted');
  assert.equal(c.ResolvedRefs, 'False/RefNotPermitted');
});

test('37: headless and selector-less Services route to EndpointSlice addresses (IPv4 and IPv6), never the ClusterIP', () => {
  const headless = { kind: 'Service', metadata: { name: 'headless', namespace: INFRA }, spec: { clusterIP: 'None', ports: [{ port: 8080, targetPort: 3000 }] } };
  const manual = { kind: 'Service', metadata: { name: 'manual', namespace: INFRA }, spec: { clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 8080 }] } };
  const slice = (name: string, svc: string, type: string, ip: string, portName: string) => ({
    kind: 'EndpointSlice',
    metadata: { name, namespace: INFRA, labels: { 'kubernetes.io/service-name': svc } },
    addressType: type,
    ports: [{ name: portName, port: 3000, protocol: 'TCP' }],
    endpoints: [{ addresses: [ip] }, { addresses: ['10.9.9.9'], conditions: { ready: false } }],
  });
  const r = httpRoute('service-types', {
    parentRefs: [parent(SAME)],
    rules: [rule('headless', prefix('/headless')), rule('manual', prefix('/manual'))],
  });
  const s = computeGatewayState(
    world([sameGw(), headless, manual, slice('h4', 'headless', 'IPv4', '10.244.1.11', ''), slice('m4', 'manual', 'IPv4', '10.244.1.11', 'http'), slice('m6', 'manual', 'IPv6', 'fd00::b', 'http'), r]),
  );
  const cfg = s.gateways.get(`${INFRA}/${SAME}`)!.config;
  assert.deepEqual(selectEntry(cfg, 80, 'x', 'GET', '/headless')!.entry.backends[0].endpoints, [{ address: '10.244.1.11', port: 3000 }]);
  assert.deepEqual(selectEntry(cfg, 80, 'x', 'GET', '/manual')!.entry.backends[0].endpoints, [
    { address: '10.244.1.11', port: 3000 },
    { address: 'fd00::b', port: 3000 },
  ]);
});

test('endpoints: serving-and-terminating ones are used only when none is ready', () => {
  const [svc] = backend('drain', []);
  const slice = {
    kind: 'EndpointSlice',
    metadata: { name: 'drain-1', namespace: INFRA, labels: { 'kubernetes.io/service-name': 'drain' } },
    addressType: 'IPv4',
    ports: [{ name: '', port: 3000 }],
    endpoints: [
      { addresses: ['10.244.1.40'], conditions: { ready: false, serving: true, terminating: true } },
      { addresses: ['10.244.1.41'], conditions: { ready: false, serving: false, terminating: true } },
    ],
  };
  const s = computeGatewayState(world([sameGw(), svc, slice, httpRoute('d', { parentRefs: [parent(SAME)], rules: [rule('drain')] })]));
  assert.deepEqual(selectEntry(s.gateways.get(`${INFRA}/${SAME}`)!.config, 80, 'x', 'GET', '/')!.entry.backends[0].endpoints, [{ address: '10.244.1.40', port: 3000 }]);
});
