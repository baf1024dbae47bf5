// The Kubernetes Ingress docs' path-matching table, row by row, through computeIngressState and
// the proxy's own entry selection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeIngressState } from '../../../../src/gateway/ingress/state.js';
import { ingress, route, rule, servicesWithEndpoints, world } from './fixtures.js';

type Row = { n: number; paths: [string, string][]; requests: string[]; expect: number | null };

// expect: index into `paths` of the path that must serve, or null for no match (404).
const TABLE: Row[] = [
  { n: 1, paths: [['/', 'Prefix']], requests: ['/', '/anything', '/a/b/c'], expect: 0 },
  { n: 2, paths: [['/foo', 'Exact']], requests: ['/foo'], expect: 0 },
  { n: 3, paths: [['/foo', 'Exact']], requests: ['/bar'], expect: null },
  { n: 4, paths: [['/foo', 'Exact']], requests: ['/foo/'], expect: null },
  { n: 5, paths: [['/foo/', 'Exact']], requests: ['/foo'], expect: null },
  { n: 6, paths: [['/foo', 'Prefix']], requests: ['/foo', '/foo/'], expect: 0 },
  { n: 7, paths: [['/foo/', 'Prefix']], requests: ['/foo', '/foo/'], expect: 0 },
  { n: 8, paths: [['/aaa/bb', 'Prefix']], requests: ['/aaa/bbb'], expect: null },
  { n: 9, paths: [['/aaa/bbb', 'Prefix']], requests: ['/aaa/bbb'], expect: 0 },
  { n: 10, paths: [['/aaa/bbb/', 'Prefix']], requests: ['/aaa/bbb'], expect: 0 },
  { n: 11, paths: [['/aaa/bbb', 'Prefix']], requests: ['/aaa/bbb/'], expect: 0 },
  { n: 12, paths: [['/aaa/bbb', 'Prefix']], requests: ['/aaa/bbb/ccc'], expect: 0 },
  { n: 13, paths: [['/aaa/bbb', 'Prefix']], requests: ['/aaa/bbbxyz'], expect: null },
  { n: 14, paths: [['/', 'Prefix'], ['/aaa', 'Prefix']], requests: ['/aaa/ccc'], expect: 1 },
  { n: 15, paths: [['/', 'Prefix'], ['/aaa', 'Prefix'], ['/aaa/bbb', 'Prefix']], requests: ['/aaa/bbb'], expect: 2 },
  { n: 16, paths: [['/', 'Prefix'], ['/aaa', 'Prefix'], ['/aaa/bbb', 'Prefix']], requests: ['/ccc'], expect: 0 },
  { n: 17, paths: [['/aaa', 'Prefix']], requests: ['/ccc'], expect: null },
  { n: 18, paths: [['/foo', 'Prefix'], ['/foo', 'Exact']], requests: ['/foo'], expect: 1 },
];

for (const row of TABLE) {
  test(`Ingress path table row ${row.n}: ${row.paths.map(([p, t]) => `${t} ${p}`).join(', ')} -> ${row.requests.join(', ')}`, () => {
    const names = row.paths.map((_, i) => `svc${i}`);
    const ing = ingress(`row${row.n}`, { rules: [rule('foo.bar.com', ...row.paths.map(([p, t], i): [string, string, string] => [p, t, names[i]!]))] });
    const { config, events } = computeIngressState(world({ ingresses: [ing], ...servicesWithEndpoints(...names) }));
    assert.deepEqual(events, []);
    for (const path of row.requests) {
      const r = route(config, { host: 'foo.bar.com', path });
      if (row.expect === null) assert.equal(r, undefined, `${path} must not match`);
      else assert.equal(r?.to, `default/svc${row.expect}:80`, `${path} must go to svc${row.expect}`);
    }
  });
}

test('row 17 with a defaultBackend: the unmatched path goes to the default backend', () => {
  const ing = ingress('row17d', { defaultBackend: { service: { name: 'fallback', port: { number: 80 } } }, rules: [rule('foo.bar.com', ['/aaa', 'Prefix', 'svc0'])] });
  const { config } = computeIngressState(world({ ingresses: [ing], ...servicesWithEndpoints('svc0', 'fallback') }));
  assert.equal(route(config, { host: 'foo.bar.com', path: '/ccc' })?.to, 'default/fallback:80');
  assert.equal(route(config, { host: 'other.com', path: '/ccc' })?.to, 'default/fallback:80');
  assert.equal(route(config, { host: 'foo.bar.com', path: '/aaa/x' })?.to, 'default/svc0:80');
});

test('Exact and Prefix are case-sensitive', () => {
  const ing = ingress('case', { rules: [rule(undefined, ['/Foo', 'Exact', 'svc0'], ['/bar', 'Prefix', 'svc1'])] });
  const { config } = computeIngressState(world({ ingresses: [ing], ...servicesWithEndpoints('svc0', 'svc1') }));
  assert.equal(route(config, { path: '/Foo' })?.to, 'default/svc0:80');
  assert.equal(route(config, { path: '/foo' }), undefined);
  assert.equal(route(config, { path: '/BAR/x' }), undefined);
});

test('ImplementationSpecific is Prefix without use-regex', () => {
  const ing = ingress('is', { rules: [rule(undefined, ['/app', 'ImplementationSpecific', 'svc0'])] });
  const { config } = computeIngressState(world({ ingresses: [ing], ...servicesWithEndpoints('svc0') }));
  assert.equal(route(config, { path: '/app/x' })?.to, 'default/svc0:80');
  assert.equal(route(config, { path: '/app' })?.to, 'default/svc0:80');
  assert.equal(route(config, { path: '/apps' }), undefined);
});

test('use-regex: ImplementationSpecific paths are case-insensitive regexes anchored at the start', () => {
  const ing = ingress('rx', { rules: [rule(undefined, ['/api/v[0-9]+/users', 'ImplementationSpecific', 'svc0'], ['/', 'Prefix', 'svc1'])] }, { 'nginx.ingress.kubernetes.io/use-regex': 'true' });
  const { config, events } = computeIngressState(world({ ingresses: [ing], ...servicesWithEndpoints('svc0', 'svc1') }));
  assert.deepEqual(events, []);
  assert.equal(route(config, { path: '/api/v2/users' })?.to, 'default/svc0:80');
  assert.equal(route(config, { path: '/API/V12/Users/7' })?.to, 'default/svc0:80');
  assert.equal(route(config, { path: '/api/vx/users' })?.to, 'default/svc1:80');
  assert.equal(route(config, { path: '/x/api/v2/users' })?.to, 'default/svc1:80');
});

test('paths merge across Ingresses of the same host: longest first, then Exact, then the oldest Ingress', () => {
  const a = ingress('a', { rules: [rule('shop.com', ['/', 'Prefix', 'root'], ['/cart', 'Prefix', 'cart-old'])] });
  const b = ingress('b', { rules: [rule('shop.com', ['/cart/items', 'Prefix', 'items'], ['/cart', 'Prefix', 'cart-new'], ['/cart', 'Exact', 'cart-exact'])] });
  const { config } = computeIngressState(world({ ingresses: [b, a], ...servicesWithEndpoints('root', 'cart-old', 'cart-new', 'items', 'cart-exact') }));
  assert.equal(route(config, { host: 'shop.com', path: '/cart/items/3' })?.to, 'default/items:80');
  assert.equal(route(config, { host: 'shop.com', path: '/cart' })?.to, 'default/cart-exact:80');
  assert.equal(route(config, { host: 'shop.com', path: '/cart/x' })?.to, 'default/cart-old:80');
  assert.equal(route(config, { host: 'shop.com', path: '/x' })?.to, 'default/root:80');
});

test('a bad path is reported and skipped; the other paths and Ingresses still work', () => {
  const bad = ingress('bad', { rules: [rule(undefined, ['/ok', 'Prefix', 'svc0'], ['/(', 'ImplementationSpecific', 'svc0'], ['/x', 'Weird', 'svc0'])] }, { 'nginx.ingress.kubernetes.io/use-regex': 'true' });
  const good = ingress('good', { rules: [rule('good.com', ['/', 'Prefix', 'svc1'])] });
  const { config, events } = computeIngressState(world({ ingresses: [bad, good], ...servicesWithEndpoints('svc0', 'svc1') }));
  assert.deepEqual(events.map((e) => [e.name, e.reason]), [['bad', 'InvalidPath'], ['bad', 'InvalidPath']]);
  assert.match(events[0]!.message, /paths\[1\].*not a valid regular expression/);
  assert.match(events[1]!.message, /pathType "Weird"/);
  assert.equal(route(config, { path: '/ok' })?.to, 'default/svc0:80');
  assert.equal(route(config, { host: 'good.com', path: '/' })?.to, 'default/svc1:80');
});
