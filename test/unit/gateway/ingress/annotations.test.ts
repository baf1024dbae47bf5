// nginx.ingress.kubernetes.io/* annotations through computeIngressState.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpPortConfig, HttpRouteEntry } from '../../../../src/gateway/config.js';
import { computeIngressState } from '../../../../src/gateway/ingress/state.js';
import { CORS_DEFAULTS, parseIngressAnnotations, parseNginxSize, type AnnotationProblem } from '../../../../src/gateway/ingress/annotations.js';
import { caseInsensitiveSource } from '../../../../src/gateway/ingress/regex.js';
import { applyRegexReplace, ingress, route, rule, servicesWithEndpoints, tlsSecret, world } from './fixtures.js';

const A = (name: string) => `nginx.ingress.kubernetes.io/${name}`;

function single(annotations: Record<string, string>, paths: [string, string][] = [['/', 'Prefix']], extraSpec: Record<string, unknown> = {}) {
  const ing = ingress('app', { rules: [rule('app.com', ...paths.map(([p, t]): [string, string, string] => [p, t, 'web']))], ...extraSpec }, annotations);
  return computeIngressState(world({ ingresses: [ing], ...servicesWithEndpoints('web') }));
}

function entryFor(annotations: Record<string, string>, path = '/x', paths?: [string, string][]): HttpRouteEntry {
  const r = route(single(annotations, paths).config, { host: 'app.com', path });
  assert.ok(r, `a route for ${path}`);
  return r.entry;
}

function rewriteOf(e: HttpRouteEntry) {
  const f = e.filters.find((x) => x.type === 'URLRewrite');
  return f && f.type === 'URLRewrite' ? f : undefined;
}

test('rewrite-target with capture groups: /something(/|$)(.*) -> /$2 (the ingress-nginx documentation example)', () => {
  const ann = { [A('rewrite-target')]: '/$2' };
  const paths: [string, string][] = [['/something(/|$)(.*)', 'ImplementationSpecific']];
  const { config, events } = single(ann, paths);
  assert.deepEqual(events, []);
  for (const [path, expected] of [['/something', '/'], ['/something/', '/'], ['/something/new', '/new'], ['/something/new/deep', '/new/deep'], ['/SOMETHING/new', '/new']] as const) {
    const r = route(config, { host: 'app.com', path });
    assert.ok(r, `${path} matches`);
    const rw = rewriteOf(r.entry)!;
    assert.equal(rw.path!.type, 'RegexReplace');
    if (rw.path!.type !== 'RegexReplace') return;
    assert.equal(rw.path!.replacement, '/$2');
    assert.equal(applyRegexReplace(rw.path!.pattern, rw.path!.replacement, path), expected, path);
  }
  assert.equal(route(config, { host: 'app.com', path: '/somethingelse' }), undefined, '(/|$) needs a slash or the end');
  assert.equal(route(config, { host: 'app.com', path: '/other' }), undefined);
});

test('rewrite-target / on a Prefix path: the whole path becomes / (nginx rewrite), Prefix keeps whole-element matching', () => {
  const ann = { [A('rewrite-target')]: '/' };
  const { config } = single(ann, [['/users', 'Prefix']]);
  const r = route(config, { host: 'app.com', path: '/users/42' })!;
  const rw = rewriteOf(r.entry)!;
  assert.ok(rw.path?.type === 'RegexReplace');
  assert.equal(applyRegexReplace(rw.path.pattern, rw.path.replacement, '/users/42'), '/');
  assert.equal(applyRegexReplace(rw.path.pattern, rw.path.replacement, '/users'), '/');
  assert.equal(route(config, { host: 'app.com', path: '/usersx' }), undefined);
});

test('use-regex false with a malformed value is reported and ignored', () => {
  const { events } = single({ [A('use-regex')]: 'yes please' });
  assert.deepEqual(events.map((e) => e.reason), ['InvalidAnnotation']);
  assert.match(events[0]!.message, /use-regex: value "yes please" is ignored/);
});

test('ssl-redirect: default on for TLS hosts, "false" turns it off; force-ssl-redirect without TLS', () => {
  const tlsSpec = { tls: [{ hosts: ['app.com'], secretName: 's' }] };
  const mk = (ann: Record<string, string>, tls: boolean) => {
    const ing = ingress('app', { rules: [rule('app.com', ['/', 'Prefix', 'web'])], ...(tls ? tlsSpec : {}) }, ann);
    return computeIngressState(world({ ingresses: [ing], secrets: [tlsSecret('s', ['app.com'])], ...servicesWithEndpoints('web') })).config;
  };
  assert.equal(route(mk({}, true), { host: 'app.com', path: '/' })?.to, 'redirect');
  assert.equal(route(mk({ [A('ssl-redirect')]: 'false' }, true), { host: 'app.com', path: '/' })?.to, 'default/web:80');
  assert.equal(route(mk({}, false), { host: 'app.com', path: '/' })?.to, 'default/web:80');
  const forced = route(mk({ [A('force-ssl-redirect')]: 'true' }, false), { host: 'app.com', path: '/a' })!;
  assert.deepEqual(forced.entry.filters, [{ type: 'RequestRedirect', scheme: 'https', statusCode: 308 }]);
});

test('backend-protocol: HTTPS, GRPC, AUTO_HTTP; FCGI and GRPCS are reported as unsupported', () => {
  assert.equal(entryFor({ [A('backend-protocol')]: 'HTTPS' }).backends[0]!.protocol, 'https');
  assert.equal(entryFor({ [A('backend-protocol')]: 'GRPC' }).backends[0]!.protocol, 'grpc');
  assert.equal(entryFor({ [A('backend-protocol')]: 'AUTO_HTTP' }).backends[0]!.protocol, 'http');
  for (const p of ['FCGI', 'GRPCS']) {
    const { events, config } = single({ [A('backend-protocol')]: p });
    assert.deepEqual(events.map((e) => e.reason), ['UnsupportedAnnotationValue']);
    assert.match(events[0]!.message, new RegExp(`backend-protocol: value "${p}"`));
    assert.equal(route(config, { host: 'app.com', path: '/' })!.entry.backends[0]!.protocol, 'http');
  }
  assert.deepEqual(single({ [A('backend-protocol')]: 'SMTP' }).events.map((e) => e.reason), ['InvalidAnnotation']);
});

test('app-root: / answers 302 to the app root, other paths are proxied', () => {
  const { config } = single({ [A('app-root')]: '/app1' });
  const root = route(config, { host: 'app.com', path: '/' })!;
  assert.deepEqual(root.entry.filters, [{ type: 'RequestRedirect', path: { type: 'ReplaceFullPath', value: '/app1' }, statusCode: 302 }]);
  assert.equal(route(config, { host: 'app.com', path: '/app1' })?.to, 'default/web:80');
  assert.deepEqual(single({ [A('app-root')]: 'app1' }).events.map((e) => e.reason), ['InvalidAnnotation']);
});

test('permanent-redirect (301, code override) and temporal-redirect (302)', () => {
  const p = entryFor({ [A('permanent-redirect')]: 'https://www.example.org/new?x=1' });
  assert.deepEqual(p.filters, [{ type: 'RequestRedirect', scheme: 'https', hostname: 'www.example.org', path: { type: 'ReplaceFullPath', value: '/new?x=1' }, statusCode: 301 }]);
  assert.deepEqual(p.backends, []);
  const c = entryFor({ [A('permanent-redirect')]: 'http://example.org:8080', [A('permanent-redirect-code')]: '308' });
  assert.deepEqual(c.filters, [{ type: 'RequestRedirect', scheme: 'http', hostname: 'example.org', port: 8080, path: { type: 'ReplaceFullPath', value: '/' }, statusCode: 308 }]);
  const t = entryFor({ [A('temporal-redirect')]: 'https://maintenance.example.org/' });
  assert.equal(t.filters[0]!.type === 'RequestRedirect' && t.filters[0]!.statusCode, 302);
  const bad = single({ [A('permanent-redirect')]: 'not a url', [A('permanent-redirect-code')]: '200' });
  assert.deepEqual(bad.events.map((e) => e.reason), ['InvalidAnnotation', 'InvalidAnnotation']);
  assert.equal(route(bad.config, { host: 'app.com', path: '/' })?.to, 'default/web:80');
});

test('proxy-body-size in nginx size syntax; 0 is unlimited', () => {
  assert.equal(parseNginxSize('8k'), 8192);
  assert.equal(parseNginxSize('1m'), 1048576);
  assert.equal(parseNginxSize('2G'), 2 * 1024 ** 3);
  assert.equal(parseNginxSize('100'), 100);
  assert.equal(entryFor({ [A('proxy-body-size')]: '1m' }).maxBodyBytes, 1048576);
  assert.equal(entryFor({ [A('proxy-body-size')]: '0' }).maxBodyBytes, undefined);
  const bad = single({ [A('proxy-body-size')]: '1mb' });
  assert.match(bad.events[0]!.message, /proxy-body-size: value "1mb" is ignored/);
});

test('proxy timeouts in seconds: connect and read; send is reported as having no separate effect', () => {
  const e = entryFor({ [A('proxy-connect-timeout')]: '5', [A('proxy-read-timeout')]: '120' });
  assert.deepEqual(e.timeouts, { connectMs: 5000, backendRequestMs: 120000 });
  const { events } = single({ [A('proxy-send-timeout')]: '30' });
  assert.match(events[0]!.message, /proxy-send-timeout has no separate effect/);
  const bad = single({ [A('proxy-read-timeout')]: '60s' });
  assert.equal(bad.events[0]!.reason, 'InvalidAnnotation');
  assert.equal(route(bad.config, { host: 'app.com', path: '/' })!.entry.timeouts, undefined);
});

test('whitelist/denylist-source-range -> SourceRange; a bad CIDR is reported and the annotation ignored', () => {
  const e = entryFor({ [A('whitelist-source-range')]: '10.0.0.0/8, 192.168.1.7', [A('denylist-source-range')]: '10.1.0.0/16,fd00::/8' });
  assert.deepEqual(e.filters, [{ type: 'SourceRange', allow: ['10.0.0.0/8', '192.168.1.7/32'], deny: ['10.1.0.0/16', 'fd00::/8'] }]);
  const bad = single({ [A('whitelist-source-range')]: '10.0.0.0/33' });
  assert.match(bad.events[0]!.message, /whitelist-source-range: value "10.0.0.0\/33" is ignored: "10.0.0.0\/33" is not a CIDR/);
  assert.deepEqual(route(bad.config, { host: 'app.com', path: '/' })!.entry.filters, []);
});

test('enable-cors: ingress-nginx defaults, or the cors-* values', () => {
  const d = entryFor({ [A('enable-cors')]: 'true' });
  assert.deepEqual(d.filters, [{ type: 'CORS', ...CORS_DEFAULTS }]);
  const c = entryFor({
    [A('enable-cors')]: 'true',
    [A('cors-allow-origin')]: 'https://a.example.com, https://*.b.example.com',
    [A('cors-allow-methods')]: 'GET, post',
    [A('cors-allow-headers')]: 'X-Token,Content-Type',
    [A('cors-expose-headers')]: 'X-Total',
    [A('cors-allow-credentials')]: 'false',
    [A('cors-max-age')]: '600',
  });
  assert.deepEqual(c.filters, [{ type: 'CORS', allowOrigins: ['https://a.example.com', 'https://*.b.example.com'], allowMethods: ['GET', 'POST'], allowHeaders: ['X-Token', 'Content-Type'], exposeHeaders: ['X-Total'], allowCredentials: false, maxAgeSeconds: 600 }]);
  assert.deepEqual(entryFor({ [A('cors-allow-origin')]: 'https://a.com' }).filters, [], 'cors-* without enable-cors does nothing');
  const bad = single({ [A('enable-cors')]: 'true', [A('cors-allow-origin')]: 'javascript:alert(1)' });
  assert.match(bad.events[0]!.message, /cors-allow-origin/);
  const f = route(bad.config, { host: 'app.com', path: '/' })!.entry.filters[0]!;
  assert.ok(f.type === 'CORS' && f.allowOrigins[0] === '*');
});

test('affinity=cookie with the default name, or session-cookie-name/max-age/path', () => {
  assert.deepEqual(entryFor({ [A('affinity')]: 'cookie' }).affinityCookie, { name: 'INGRESSCOOKIE', maxAgeSeconds: undefined, path: undefined });
  assert.deepEqual(entryFor({ [A('affinity')]: 'cookie', [A('session-cookie-name')]: 'route', [A('session-cookie-max-age')]: '172800', [A('session-cookie-path')]: '/app' }).affinityCookie, { name: 'route', maxAgeSeconds: 172800, path: '/app' });
  assert.equal(single({ [A('affinity')]: 'ip' }).events[0]!.reason, 'InvalidAnnotation');
});

test('upstream-vhost -> URLRewrite hostname (with the rewrite-target path in the same filter)', () => {
  assert.deepEqual(rewriteOf(entryFor({ [A('upstream-vhost')]: 'internal.svc' })), { type: 'URLRewrite', hostname: 'internal.svc' });
  const both = rewriteOf(entryFor({ [A('upstream-vhost')]: 'internal.svc', [A('rewrite-target')]: '/' }))!;
  assert.equal(both.hostname, 'internal.svc');
  assert.equal(both.path?.type, 'RegexReplace');
  assert.equal(single({ [A('upstream-vhost')]: 'bad host; x' }).events[0]!.reason, 'InvalidAnnotation');
});

test('snippets are refused with an event and the Ingress is still served', () => {
  const { config, events } = single({
    [A('configuration-snippet')]: 'more_set_headers "X: y";',
    [A('server-snippet')]: 'location /x { return 200; }',
    [A('auth-snippet')]: 'x',
    [A('stream-snippet')]: 'y',
  });
  assert.deepEqual(events.map((e) => e.reason), ['SnippetRefused', 'SnippetRefused', 'SnippetRefused', 'SnippetRefused']);
  assert.match(events[0]!.message, /configuration-snippet was not executed and never will be.*CVE-2025-1974/);
  assert.equal(events[0]!.kind, 'Ingress');
  assert.equal(events[0]!.name, 'app');
  assert.equal(route(config, { host: 'app.com', path: '/' })?.to, 'default/web:80');
});

test('an unknown nginx annotation is named in an event; other annotations are left alone', () => {
  const { events } = single({ [A('limit-rps')]: '5', 'cert-manager.io/cluster-issuer': 'letsencrypt-prod', [A('rewrite-target')]: '/' });
  assert.deepEqual(events.map((e) => [e.reason, e.message]), [['AnnotationNotImplemented', 'annotation nginx.ingress.kubernetes.io/limit-rps is not implemented by flatnet and has no effect']]);
});

test('one Ingress with bad annotations never stops another', () => {
  const bad = ingress('bad', { rules: [rule('bad.com', ['/', 'Prefix', 'web'])] }, { [A('proxy-body-size')]: 'huge', [A('canary-weight')]: 'x', [A('server-snippet')]: 'evil' });
  const good = ingress('good', { rules: [rule('good.com', ['/', 'Prefix', 'web'])] });
  const { config } = computeIngressState(world({ ingresses: [bad, good], ...servicesWithEndpoints('web') }));
  assert.equal(route(config, { host: 'bad.com', path: '/' })?.to, 'default/web:80');
  assert.equal(route(config, { host: 'good.com', path: '/' })?.to, 'default/web:80');
  assert.equal((config.ports[0] as HttpPortConfig).hosts.length, 2);
});

test('annotation parser: every problem reported, values typed', () => {
  const problems: AnnotationProblem[] = [];
  const a = parseIngressAnnotations({ [A('ssl-redirect')]: 'False', [A('canary')]: 'true', [A('canary-weight')]: '30', [A('canary-weight-total')]: '1000', [A('canary-by-header')]: 'X-Canary' }, (p) => problems.push(p));
  assert.equal(problems.length, 0);
  assert.equal(a.sslRedirect, false);
  assert.deepEqual(a.canary, { weight: 30, weightTotal: 1000, header: 'x-canary', headerValue: undefined, headerPattern: undefined });
  parseIngressAnnotations({ [A('canary')]: 'true', [A('canary-weight')]: '101' }, (p) => problems.push(p));
  assert.match(problems[0]!.message, /canary-weight: value "101" is ignored: expected 0 to 100/);
});

test('case-insensitive regex rewriting keeps escapes, classes and groups', () => {
  const src = caseInsensitiveSource('/a[b-d]\\d\\u00E9(?<Name>x)\\k<Name>{2}[^A-Z]');
  const re = new RegExp(`^(?:${src})$`);
  for (const s of ['/aB3éxxx7', '/Ac0\u00e9XXX!']) assert.equal(re.test(s), new RegExp('^(?:/a[b-d]\\d\\u00E9(?<Name>x)\\k<Name>{2}[^A-Z])$', 'i').test(s), s);
  assert.ok(re.test('/ab1éxxx!'));
  assert.ok(!re.test('/ab1éxxxq'));
});
