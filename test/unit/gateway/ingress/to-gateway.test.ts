// ingress2gateway: the translation, printed as YAML and parsed back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../../../src/api/types.js';
import { ingressesToGateway, renderGatewayYaml } from '../../../../src/gateway/ingress/to-gateway.js';
import { ingress, rule, service } from './fixtures.js';

const A = (name: string) => `nginx.ingress.kubernetes.io/${name}`;

function translate(ingresses: KubeObject[], services: KubeObject[] = []) {
  const text = renderGatewayYaml(ingressesToGateway({ ingresses, services, gatewayClassName: 'flatnet' }), ['header line']);
  const docs = parseAllDocuments(text);
  for (const d of docs) assert.deepEqual(d.errors, []);
  const objects = docs.map((d) => d.toJS() as KubeObject & { spec: any });
  const find = (kind: string, name: string) => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
    assert.ok(o, `${kind} ${name} in ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
    return o;
  };
  return { text, objects, find };
}

test('seed 003: a Gateway with HTTP and an HTTPS listener, the route on HTTPS, a 308 redirect route on HTTP', () => {
  const ing = ingress('app-ingress', {
    tls: [{ hosts: ['app.example.com'], secretName: 'app-tls' }],
    rules: [rule('app.example.com', ['/api', 'Prefix', 'api-service'], ['/', 'Prefix', 'web-service'])],
  }, { [A('rewrite-target')]: '/', [A('ssl-redirect')]: 'true', 'cert-manager.io/cluster-issuer': 'letsencrypt-prod' });
  const { text, objects, find } = translate([ing]);
  assert.match(text, /^# header line\n/);
  assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`), ['Gateway/nginx', 'HTTPRoute/app-ingress', 'HTTPRoute/app-ingress-https-redirect']);
  const gw = find('Gateway', 'nginx');
  assert.equal(gw.apiVersion, 'gateway.networking.k8s.io/v1');
  assert.equal(gw.metadata.namespace, 'default');
  assert.equal(gw.spec.gatewayClassName, 'flatnet');
  assert.deepEqual(gw.spec.listeners, [
    { name: 'http', protocol: 'HTTP', port: 80 },
    { name: 'https-app-example-com', protocol: 'HTTPS', port: 443, hostname: 'app.example.com', tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'app-tls' }] } },
  ]);
  const route = find('HTTPRoute', 'app-ingress');
  assert.deepEqual(route.spec.parentRefs, [{ name: 'nginx', sectionName: 'https-app-example-com' }]);
  assert.deepEqual(route.spec.hostnames, ['app.example.com']);
  assert.deepEqual(route.spec.rules, [
    { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }], backendRefs: [{ name: 'api-service', port: 80 }] },
    { matches: [{ path: { type: 'PathPrefix', value: '/' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }], backendRefs: [{ name: 'web-service', port: 80 }] },
  ]);
  const redirect = find('HTTPRoute', 'app-ingress-https-redirect');
  assert.deepEqual(redirect.spec.parentRefs, [{ name: 'nginx', sectionName: 'http' }]);
  assert.deepEqual(redirect.spec.rules, [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 308 } }] }]);
  assert.match(text, /# rewrite-target \/: nginx replaced the whole path; ReplacePrefixMatch/);
});

test('paths: Exact, Prefix, ImplementationSpecific -> PathPrefix, regex -> RegularExpression; named ports resolved', () => {
  const ing = ingress('p', { rules: [{ host: 'a.com', http: { paths: [
    { path: '/exact', pathType: 'Exact', backend: { service: { name: 'web', port: { name: 'http' } } } },
    { path: '/pre/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
    { path: '/impl', pathType: 'ImplementationSpecific', backend: { service: { name: 'web', port: { number: 80 } } } },
    { path: '/gone', pathType: 'Prefix', backend: { service: { name: 'missing', port: { name: 'http' } } } },
  ] } }] });
  const rx = ingress('rx', { rules: [rule('b.com', ['/v[0-9]+/', 'ImplementationSpecific', 'web'])] }, { [A('use-regex')]: 'true' });
  const { find, text } = translate([ing, rx], [service('web', [{ port: 8080, name: 'http' }])]);
  const r = find('HTTPRoute', 'p').spec.rules;
  assert.deepEqual(r.map((x: any) => x.matches[0].path), [{ type: 'Exact', value: '/exact' }, { type: 'PathPrefix', value: '/pre' }, { type: 'PathPrefix', value: '/impl' }, { type: 'PathPrefix', value: '/gone' }]);
  assert.deepEqual(r.map((x: any) => x.backendRefs[0]), [{ name: 'web', port: 8080 }, { name: 'web', port: 80 }, { name: 'web', port: 80 }, { name: 'missing' }]);
  assert.match(text, /backend missing port "http": the Service or its port was not found/);
  assert.deepEqual(find('HTTPRoute', 'rx').spec.rules[0].matches[0].path, { type: 'RegularExpression', value: '/v[0-9]+/' });
  assert.match(text, /nginx matched this regular expression case-insensitively/);
});

test('redirect annotations, app-root, CORS, upstream-vhost and read timeout translate; the others are comments', () => {
  const red = ingress('red', { rules: [rule('r.com', ['/', 'Prefix', 'web'])] }, { [A('permanent-redirect')]: 'https://new.example.com/x', [A('permanent-redirect-code')]: '308' });
  const tmp = ingress('tmp', { rules: [rule('t.com', ['/', 'Prefix', 'web'])] }, { [A('temporal-redirect')]: 'http://m.example.com' });
  const rich = ingress('rich', { rules: [rule('c.com', ['/api', 'Prefix', 'web'])] }, {
    [A('app-root')]: '/app',
    [A('enable-cors')]: 'true',
    [A('cors-allow-origin')]: 'https://ui.example.com',
    [A('upstream-vhost')]: 'internal.local',
    [A('proxy-read-timeout')]: '30',
    [A('proxy-connect-timeout')]: '5',
    [A('proxy-body-size')]: '8m',
    [A('whitelist-source-range')]: '10.0.0.0/8',
    [A('affinity')]: 'cookie',
    [A('rewrite-target')]: '/$1',
    [A('configuration-snippet')]: 'x',
    [A('limit-rps')]: '3',
  });
  const { find, text } = translate([red, tmp, rich]);
  assert.deepEqual(find('HTTPRoute', 'red').spec.rules[0], {
    matches: [{ path: { type: 'PathPrefix', value: '/' } }],
    filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', hostname: 'new.example.com', path: { type: 'ReplaceFullPath', replaceFullPath: '/x' }, statusCode: 308 } }],
  });
  assert.equal(find('HTTPRoute', 'tmp').spec.rules[0].filters[0].requestRedirect.statusCode, 302);
  const rules = find('HTTPRoute', 'rich').spec.rules;
  assert.deepEqual(rules[0], { matches: [{ path: { type: 'Exact', value: '/' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/app' }, statusCode: 302 } }] });
  assert.deepEqual(rules[1].filters, [
    { type: 'CORS', cors: { allowOrigins: ['https://ui.example.com'], allowMethods: ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'], allowHeaders: ['DNT', 'Keep-Alive', 'User-Agent', 'X-Requested-With', 'If-Modified-Since', 'Cache-Control', 'Content-Type', 'Range', 'Authorization'], allowCredentials: true, maxAge: 1728000 } },
    { type: 'URLRewrite', urlRewrite: { hostname: 'internal.local' } },
  ]);
  assert.deepEqual(rules[1].timeouts, { backendRequest: '30s' });
  for (const re of [/proxy-body-size: no Gateway API equivalent/, /whitelist-source-range: no Gateway API equivalent/, /affinity: no Gateway API equivalent/, /proxy-connect-timeout: no Gateway API equivalent/, /rewrite-target \/\$1 uses regex capture groups/, /configuration-snippet: configuration snippets have no Gateway API equivalent/, /limit-rps is not implemented/]) {
    assert.match(text, re);
  }
});

test('canary weight and header merge into the main route', () => {
  const main = ingress('main', { rules: [rule('app.com', ['/', 'Prefix', 'stable'])] });
  const byWeight = ingress('canary', { rules: [rule('app.com', ['/', 'Prefix', 'preview'])] }, { [A('canary')]: 'true', [A('canary-weight')]: '25', [A('canary-by-header')]: 'x-canary' });
  const orphan = ingress('orphan', { rules: [rule('none.com', ['/', 'Prefix', 'preview'])] }, { [A('canary')]: 'true', [A('canary-weight')]: '5' });
  const { objects, find, text } = translate([main, byWeight, orphan]);
  assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`), ['Gateway/nginx', 'HTTPRoute/main']);
  const rules = find('HTTPRoute', 'main').spec.rules;
  assert.deepEqual(rules, [
    { matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'x-canary', value: 'always' }] }], backendRefs: [{ name: 'preview', port: 80 }] },
    { matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'x-canary', value: 'never' }] }], backendRefs: [{ name: 'stable', port: 80 }] },
    { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'stable', port: 80, weight: 75 }, { name: 'preview', port: 80, weight: 25 }] },
  ]);
  assert.match(text, /canary Ingress default\/orphan: none.com \/ matches no path of a main Ingress/);
});

test('defaultBackend, hosts, classes and namespaces: one Gateway per class per namespace, a route per host', () => {
  const a = ingress('multi', { defaultBackend: { service: { name: 'fallback', port: { number: 80 } } }, rules: [rule('a.com', ['/a', 'Prefix', 'web']), rule(undefined, ['/any', 'Prefix', 'web'])] });
  const b = ingress('other-ns', { rules: [rule('b.com', ['/', 'Prefix', 'web'])] }, {}, 'shop');
  const c = ingress('traefik', { rules: [rule('c.com', ['/', 'Prefix', 'web'])] });
  (c.spec as Record<string, unknown>).ingressClassName = 'traefik';
  const { objects, find } = translate([a, b, c]);
  assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`), [
    'Gateway/default/nginx', 'Gateway/default/traefik', 'Gateway/shop/nginx',
    'HTTPRoute/default/multi-a-com', 'HTTPRoute/default/multi-all-hosts', 'HTTPRoute/shop/other-ns', 'HTTPRoute/default/traefik',
  ]);
  const byHost = find('HTTPRoute', 'multi-a-com');
  assert.deepEqual(byHost.spec.hostnames, ['a.com']);
  assert.deepEqual(byHost.spec.rules.at(-1), { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'fallback', port: 80 }] });
  assert.equal(find('HTTPRoute', 'multi-all-hosts').spec.hostnames, undefined);
  assert.deepEqual(find('HTTPRoute', 'traefik').spec.parentRefs, [{ name: 'traefik', sectionName: 'http' }]);
});

test('TLS with ssl-redirect off: the route is on both listeners; no Ingress gives a comment-only output', () => {
  const ing = ingress('t', { tls: [{ hosts: ['t.com'], secretName: 's' }], rules: [rule('t.com', ['/', 'Prefix', 'web'])] }, { [A('ssl-redirect')]: 'false' });
  const { objects, find } = translate([ing]);
  assert.equal(objects.length, 2);
  assert.deepEqual(find('HTTPRoute', 't').spec.parentRefs, [{ name: 'nginx', sectionName: 'http' }, { name: 'nginx', sectionName: 'https-t-com' }]);
  assert.equal(renderGatewayYaml(ingressesToGateway({ ingresses: [], services: [], gatewayClassName: 'flatnet' }), ['nothing']), '# nothing\n');
});

test('HTTPS listener names stay unique when host slugs collide; the same host shares one listener', () => {
  const a = ingress('a', { tls: [{ hosts: ['a-b.com'], secretName: 's1' }], rules: [rule('a-b.com', ['/', 'Prefix', 'web'])] });
  const b = ingress('b', { tls: [{ hosts: ['a.b.com', 'a-b.com'], secretName: 's2' }], rules: [rule('a.b.com', ['/', 'Prefix', 'web'])] });
  const { find, text } = translate([a, b]);
  assert.deepEqual(find('Gateway', 'nginx').spec.listeners.map((l: any) => [l.name, l.hostname, l.tls?.certificateRefs[0].name]), [
    ['http', undefined, undefined],
    ['https-a-b-com', 'a-b.com', 's1'],
    ['https-a-b-com-2', 'a.b.com', 's2'],
  ]);
  assert.match(text, /listener https-a-b-com: Ingress default\/b names Secret s2, but s1 is already used for a-b.com/);
  assert.deepEqual(find('HTTPRoute', 'b').spec.parentRefs, [{ name: 'nginx', sectionName: 'https-a-b-com-2' }]);
});
