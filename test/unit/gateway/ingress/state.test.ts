// Hosts, classes, backends, TLS and statuses of computeIngressState.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpPortConfig } from '../../../../src/gateway/config.js';
import { computeIngressState } from '../../../../src/gateway/ingress/state.js';
import { INGRESS_CONTROLLER_NAME, NGINX_INGRESS_CONTROLLER_NAME } from '../../../../src/gateway/ingress/types.js';
import { ingress, route, rule, service, servicesWithEndpoints, slice, tlsSecret, world } from './fixtures.js';

test('a wildcard host covers exactly one label; exact hosts win over wildcards', () => {
  const ing = ingress('hosts', { rules: [rule('*.bar.com', ['/', 'Prefix', 'wild']), rule('foo.bar.com', ['/', 'Prefix', 'exact'])] });
  const { config } = computeIngressState(world({ ingresses: [ing], ...servicesWithEndpoints('wild', 'exact') }));
  assert.equal(route(config, { host: 'foo.bar.com', path: '/' })?.to, 'default/exact:80');
  assert.equal(route(config, { host: 'baz.bar.com', path: '/' })?.to, 'default/wild:80');
  assert.equal(route(config, { host: 'baz.bar.com:8080', path: '/' })?.to, 'default/wild:80');
  assert.equal(route(config, { host: 'baz.foo.bar.com', path: '/' }), undefined);
  assert.equal(route(config, { host: 'bar.com', path: '/' }), undefined);
  const hosts = (config.ports[0] as HttpPortConfig).hosts;
  assert.deepEqual(hosts.map((h) => [h.hostname, h.wildcardOneLabel ?? false]), [['foo.bar.com', false], ['*.bar.com', true]]);
});

test('the conformance host rules: *.foo.com serves bar.foo.com, not baz.bar.foo.com nor foo.com', () => {
  const ing = ingress('conf', { rules: [rule('*.foo.com', ['/', 'Prefix', 'wild']), rule('foo.bar.com', ['/', 'Prefix', 'exact'])] });
  const { config } = computeIngressState(world({ ingresses: [ing], ...servicesWithEndpoints('wild', 'exact') }));
  assert.equal(route(config, { host: 'bar.foo.com', path: '/' })?.to, 'default/wild:80');
  assert.equal(route(config, { host: 'baz.bar.foo.com', path: '/' }), undefined);
  assert.equal(route(config, { host: 'foo.com', path: '/' }), undefined);
  assert.equal(route(config, { host: 'subdomain.bar.com', path: '/' }), undefined);
});

test('a rule without host serves any host; host names are case-insensitive', () => {
  const ing = ingress('any', { rules: [rule(undefined, ['/', 'Prefix', 'any']), rule('Named.Example.COM', ['/', 'Prefix', 'named'])] });
  const { config } = computeIngressState(world({ ingresses: [ing], ...servicesWithEndpoints('any', 'named') }));
  assert.equal(route(config, { host: 'whatever.org', path: '/x' })?.to, 'default/any:80');
  assert.equal(route(config, { host: 'named.example.com', path: '/' })?.to, 'default/named:80');
  assert.deepEqual((config.ports[0] as HttpPortConfig).hosts.map((h) => h.hostname), ['named.example.com', '*']);
});

test('defaultBackend: an Ingress without rules catches everything; a host with its own default uses it', () => {
  const catchAll = ingress('catch-all', { defaultBackend: { service: { name: 'fallback', port: { number: 80 } } } });
  const site = ingress('site', { defaultBackend: { service: { name: 'site-default', port: { number: 80 } } }, rules: [rule('site.com', ['/app', 'Prefix', 'app'])] });
  const other = ingress('other', { rules: [rule('other.com', ['/x', 'Exact', 'x'])] });
  const { config, events } = computeIngressState(world({ ingresses: [site, catchAll, other], ...servicesWithEndpoints('fallback', 'site-default', 'app', 'x') }));
  assert.deepEqual(events, []);
  assert.equal(route(config, { host: 'nothing.com', path: '/a' })?.to, 'default/fallback:80');
  assert.equal(route(config, { host: 'site.com', path: '/app/1' })?.to, 'default/app:80');
  assert.equal(route(config, { host: 'site.com', path: '/b' })?.to, 'default/site-default:80');
  assert.equal(route(config, { host: 'other.com', path: '/y' })?.to, 'default/fallback:80');
  const any = (config.ports[0] as HttpPortConfig).hosts.find((h) => h.hostname === '*')!;
  assert.deepEqual(any.entries.at(-1)!.source, { kind: 'Ingress', namespace: 'default', name: 'catch-all', rule: -1, match: 0 });
});

test('no defaultBackend anywhere: an unmatched request finds no entry (404)', () => {
  const ing = ingress('only', { rules: [rule('a.com', ['/a', 'Prefix', 'svc0'])] });
  const { config } = computeIngressState(world({ ingresses: [ing], ...servicesWithEndpoints('svc0') }));
  assert.equal(route(config, { host: 'a.com', path: '/b' }), undefined);
  assert.equal(route(config, { host: 'b.com', path: '/a' }), undefined);
  assert.equal(config.ports.length, 1);
});

test('class selection: nginx and flatnet without objects, IngressClasses by controller, others and classless not served', () => {
  const mk = (name: string, cls: string | undefined, legacy?: string) => {
    const i = ingress(name, { rules: [rule(`${name}.com`, ['/', 'Prefix', 'svc0'])] }, legacy ? { 'kubernetes.io/ingress.class': legacy } : {});
    (i.spec as Record<string, unknown>).ingressClassName = cls;
    return i;
  };
  const classes = [
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'ours' }, spec: { controller: INGRESS_CONTROLLER_NAME } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx-public' }, spec: { controller: NGINX_INGRESS_CONTROLLER_NAME } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'traefik' }, spec: { controller: 'traefik.io/ingress-controller' } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'flatnet' }, spec: { controller: 'example.com/other' } },
  ];
  const ings = [mk('nginx', 'nginx'), mk('ours', 'ours'), mk('public', 'nginx-public'), mk('traefik', 'traefik'), mk('unknown', 'unknown'), mk('none', undefined), mk('legacy', undefined, 'nginx'), mk('flatnetobj', 'flatnet')];
  const { config, statuses } = computeIngressState(world({ ingresses: ings, ingressClasses: classes, addresses: ['172.18.255.1'], ...servicesWithEndpoints('svc0') }));
  assert.deepEqual([...statuses.keys()].sort(), ['default/legacy', 'default/nginx', 'default/ours', 'default/public']);
  for (const v of statuses.values()) assert.deepEqual(v, [{ ip: '172.18.255.1' }]);
  assert.deepEqual((config.ports[0] as HttpPortConfig).hosts.map((h) => h.hostname), ['legacy.com', 'nginx.com', 'ours.com', 'public.com']);
  assert.equal(route(config, { host: 'traefik.com', path: '/' }), undefined);
});

test('statuses: an empty list while there is no address', () => {
  const { statuses } = computeIngressState(world({ ingresses: [ingress('x', { rules: [rule('x.com', ['/', 'Prefix', 'svc0'])] })] }));
  assert.deepEqual(statuses.get('default/x'), []);
});

test('backends: port by number or name, the slice port of the same name, ready endpoints, never the ClusterIP', () => {
  const svc = service('web', [{ port: 80, name: 'http' }, { port: 9090, name: 'metrics' }]);
  const s1 = slice('web', [{ ip: '10.244.1.5' }, { ip: '10.244.1.6', ready: false }], [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9100 }]);
  const s2 = slice('web', [{ ip: '10.244.2.7' }], [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9100 }]);
  const ing = ingress('b', { rules: [{ http: { paths: [
    { path: '/m', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'metrics' } } } },
    { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
  ] } }] });
  const { config } = computeIngressState(world({ ingresses: [ing], services: [svc], endpointSlices: [s1, s2] }));
  const m = route(config, { path: '/m' })!.entry.backends[0]!;
  assert.equal(m.name, 'default/web:9090');
  assert.deepEqual(m.endpoints.map((e) => `${e.address}:${e.port}`).sort(), ['10.244.1.5:9100', '10.244.2.7:9100']);
  const r = route(config, { path: '/' })!.entry.backends[0]!;
  assert.deepEqual(r.endpoints.map((e) => `${e.address}:${e.port}`).sort(), ['10.244.1.5:8080', '10.244.2.7:8080']);
  assert.equal(r.protocol, 'http');
  assert.equal(r.invalid, undefined);
});

test('backends: serving+terminating endpoints only when none is ready; appProtocol picks h2c/ws', () => {
  const svc = service('web', [{ port: 80, appProtocol: 'kubernetes.io/h2c' }]);
  const s = slice('web', [{ ip: '10.244.1.5', ready: false, serving: true, terminating: true }, { ip: '10.244.1.6', ready: false, serving: false, terminating: true }], [{ port: 8080 }]);
  const ing = ingress('t', { rules: [rule(undefined, ['/', 'Prefix', 'web'])] });
  const b = route(computeIngressState(world({ ingresses: [ing], services: [svc], endpointSlices: [s] })).config, { path: '/' })!.entry.backends[0]!;
  assert.deepEqual(b.endpoints, [{ address: '10.244.1.5', port: 8080 }]);
  assert.equal(b.protocol, 'h2c');
});

test('a missing Service or port: no endpoints (503) and a Warning; other paths unaffected', () => {
  const ing = ingress('m', { rules: [{ http: { paths: [
    { path: '/gone', pathType: 'Prefix', backend: { service: { name: 'gone', port: { number: 80 } } } },
    { path: '/port', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 81 } } } },
    { path: '/bucket', pathType: 'Prefix', backend: { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static' } } },
    { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
  ] } }] });
  const { config, events } = computeIngressState(world({ ingresses: [ing], ...servicesWithEndpoints('web') }));
  assert.deepEqual(events.map((e) => e.reason), ['BackendNotFound', 'BackendNotFound', 'BackendNotFound']);
  assert.match(events[0]!.message, /Service default\/gone does not exist/);
  assert.match(events[1]!.message, /has no port 81/);
  assert.match(events[2]!.message, /StorageBucket\/static is not supported/);
  assert.deepEqual(route(config, { path: '/gone' })!.entry.backends[0]!.endpoints, []);
  assert.equal(route(config, { path: '/gone' })!.entry.backends[0]!.invalid, undefined);
  assert.match(route(config, { path: '/bucket' })!.entry.backends[0]!.invalid!, /not supported/);
  assert.equal(route(config, { path: '/' })!.entry.backends[0]!.endpoints.length, 1);
});

test('TLS: certificates for the listed hosts on 443, the same rules there, 308 to https on 80', () => {
  const secret = tlsSecret('site-tls', ['secure.com']);
  const ing = ingress('tls', { tls: [{ hosts: ['secure.com'], secretName: 'site-tls' }], rules: [rule('secure.com', ['/', 'Prefix', 'web']), rule('plain.com', ['/', 'Prefix', 'web'])] });
  const { config, events } = computeIngressState(world({ ingresses: [ing], secrets: [secret], ...servicesWithEndpoints('web') }));
  assert.deepEqual(events, []);
  assert.deepEqual(config.ports.map((p) => p.port), [80, 443]);
  const https = config.ports[1] as HttpPortConfig;
  assert.equal(https.tls!.certificates.length, 1);
  assert.deepEqual(https.tls!.certificates[0]!.hostnames, ['secure.com']);
  assert.match(https.tls!.certificates[0]!.certPem, /BEGIN CERTIFICATE/);
  assert.match(https.tls!.certificates[0]!.keyPem, /PRIVATE KEY/);
  assert.deepEqual(https.hosts.map((h) => h.hostname), ['secure.com']);
  assert.equal(route(config, { port: 443, host: 'secure.com', path: '/x' })?.to, 'default/web:80');
  const redirect = route(config, { port: 80, host: 'secure.com', path: '/x' })!;
  assert.deepEqual(redirect.entry.filters, [{ type: 'RequestRedirect', scheme: 'https', statusCode: 308 }]);
  assert.deepEqual(redirect.entry.backends, []);
  assert.equal(route(config, { port: 80, host: 'plain.com', path: '/x' })?.to, 'default/web:80');
});

test('TLS: a missing or malformed Secret is a Warning; the host is still served on 443 without a certificate', () => {
  const wrongType = { ...tlsSecret('opaque', ['b.com']), type: 'Opaque' };
  const broken = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'broken', namespace: 'default' }, data: { 'tls.crt': Buffer.from('nope').toString('base64'), 'tls.key': Buffer.from('nope').toString('base64') } };
  const mismatched = tlsSecret('mismatch', ['d.com']);
  mismatched.data = { ...(mismatched.data as object), 'tls.key': (tlsSecret('other', ['x.com']).data as Record<string, string>)['tls.key'] };
  const ing = ingress('tls', {
    tls: [{ hosts: ['a.com'], secretName: 'missing' }, { hosts: ['b.com'], secretName: 'opaque' }, { hosts: ['c.com'], secretName: 'broken' }, { hosts: ['d.com'], secretName: 'mismatch' }],
    rules: ['a.com', 'b.com', 'c.com', 'd.com'].map((h) => rule(h, ['/', 'Prefix', 'web'])),
  });
  const { config, events } = computeIngressState(world({ ingresses: [ing], secrets: [wrongType, broken, mismatched], ...servicesWithEndpoints('web') }));
  assert.deepEqual(events.map((e) => e.reason), ['InvalidTLSSecret', 'InvalidTLSSecret', 'InvalidTLSSecret', 'InvalidTLSSecret']);
  assert.match(events[0]!.message, /default\/missing does not exist/);
  assert.match(events[1]!.message, /type Opaque, not kubernetes.io\/tls/);
  assert.match(events[2]!.message, /no valid PEM/);
  assert.match(events[3]!.message, /does not belong to the certificate/);
  const https = config.ports[1] as HttpPortConfig;
  assert.deepEqual(https.tls!.certificates, []);
  assert.equal(route(config, { port: 443, host: 'a.com', path: '/' })?.to, 'default/web:80');
});

test('TLS with a wildcard host covers one-label rule hosts', () => {
  const ing = ingress('w', { tls: [{ hosts: ['*.shop.com'], secretName: 'wild' }], rules: [rule('a.shop.com', ['/', 'Prefix', 'web']), rule('a.b.shop.com', ['/', 'Prefix', 'web'])] });
  const { config } = computeIngressState(world({ ingresses: [ing], secrets: [tlsSecret('wild', ['*.shop.com'])], ...servicesWithEndpoints('web') }));
  assert.equal(route(config, { host: 'a.shop.com', path: '/' })?.to, 'redirect');
  assert.equal(route(config, { host: 'a.b.shop.com', path: '/' })?.to, 'default/web:80');
  assert.equal(route(config, { port: 443, host: 'a.shop.com', path: '/' })?.to, 'default/web:80');
});

test('a TLS host without rules does not shadow the rules for any host', () => {
  const ing = ingress('t', { tls: [{ hosts: ['only-tls.com'], secretName: 's' }], rules: [rule(undefined, ['/', 'Prefix', 'web'])] });
  const { config } = computeIngressState(world({ ingresses: [ing], secrets: [tlsSecret('s', ['only-tls.com'])], ...servicesWithEndpoints('web') }));
  assert.equal(route(config, { host: 'only-tls.com', path: '/' })?.to, 'default/web:80');
  assert.deepEqual((config.ports[0] as HttpPortConfig).hosts.map((h) => h.hostname), ['*']);
});

test('a rule host without paths uses its Ingress\'s defaultBackend', () => {
  const ing = ingress('d', { defaultBackend: { service: { name: 'web', port: { number: 80 } } }, rules: [{ host: 'bare.com' }] });
  const other = ingress('o', { rules: [rule(undefined, ['/', 'Prefix', 'other'])] });
  const { config } = computeIngressState(world({ ingresses: [ing, other], ...servicesWithEndpoints('web', 'other') }));
  assert.equal(route(config, { host: 'bare.com', path: '/x' })?.to, 'default/web:80');
});

test('the same problem is reported once per Ingress', () => {
  const ing = ingress('dup', { rules: [rule(undefined, ['/a', 'Prefix', 'gone'], ['/b', 'Prefix', 'gone'])] });
  const { events } = computeIngressState(world({ ingresses: [ing] }));
  assert.deepEqual(events.map((e) => e.reason), ['BackendNotFound']);
});
