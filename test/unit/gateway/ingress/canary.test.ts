// Canary Ingresses merge into the main Ingress of the same host and path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpPortConfig } from '../../../../src/gateway/config.js';
import { computeIngressState } from '../../../../src/gateway/ingress/state.js';
import { ingress, route, rule, servicesWithEndpoints, world } from './fixtures.js';

const A = (name: string) => `nginx.ingress.kubernetes.io/${name}`;

function canaryWorld(canaryAnnotations: Record<string, string>, canaryPath = '/') {
  const main = ingress('main', { rules: [rule('app.com', ['/', 'Prefix', 'stable'], ['/other', 'Prefix', 'stable'])] });
  const canary = ingress('canary', { rules: [rule('app.com', [canaryPath, 'Prefix', 'preview'])] }, { [A('canary')]: 'true', ...canaryAnnotations });
  return computeIngressState(world({ ingresses: [main, canary], addresses: ['172.18.255.3'], ...servicesWithEndpoints('stable', 'preview') }));
}

test('canary-weight: the main entry gets weighted backends, the canary has no entry of its own', () => {
  const { config, events, statuses } = canaryWorld({ [A('canary-weight')]: '20' });
  assert.deepEqual(events, []);
  const e = route(config, { host: 'app.com', path: '/x' })!.entry;
  assert.deepEqual(e.backends.map((b) => [b.name, b.weight]), [['default/stable:80', 80], ['default/preview:80', 20]]);
  assert.equal(e.source.name, 'main');
  assert.deepEqual(route(config, { host: 'app.com', path: '/other' })!.entry.backends.map((b) => b.name), ['default/stable:80']);
  assert.equal((config.ports[0] as HttpPortConfig).hosts[0]!.entries.length, 2);
  assert.deepEqual(statuses.get('default/canary'), [{ ip: '172.18.255.3' }]);
});

test('canary-weight-total changes the scale', () => {
  const e = route(canaryWorld({ [A('canary-weight')]: '5', [A('canary-weight-total')]: '1000' }).config, { host: 'app.com', path: '/' })!.entry;
  assert.deepEqual(e.backends.map((b) => b.weight), [995, 5]);
});

test('canary-by-header without a value: "always" -> canary, "never" -> main only, else the weights', () => {
  const { config } = canaryWorld({ [A('canary-by-header')]: 'X-Canary', [A('canary-weight')]: '10' });
  assert.deepEqual(route(config, { host: 'app.com', path: '/a', headers: { 'X-Canary': 'always' } })!.entry.backends.map((b) => b.name), ['default/preview:80']);
  const never = route(config, { host: 'app.com', path: '/a', headers: { 'X-Canary': 'never' } })!.entry;
  assert.deepEqual(never.backends.map((b) => [b.name, b.weight]), [['default/stable:80', 1]]);
  assert.deepEqual(route(config, { host: 'app.com', path: '/a', headers: { 'X-Canary': 'maybe' } })!.entry.backends.map((b) => b.weight), [90, 10]);
  assert.deepEqual(route(config, { host: 'app.com', path: '/a' })!.entry.backends.map((b) => b.weight), [90, 10]);
  assert.equal(route(config, { host: 'app.com', path: '/a', headers: { 'X-Canary': 'always' } })!.entry.source.name, 'canary');
});

test('canary-by-header-value: only that value selects the canary; weight 0 keeps everything else on main', () => {
  const { config } = canaryWorld({ [A('canary-by-header')]: 'x-version', [A('canary-by-header-value')]: 'v2' });
  assert.deepEqual(route(config, { host: 'app.com', path: '/', headers: { 'x-version': 'v2' } })!.entry.backends.map((b) => b.name), ['default/preview:80']);
  assert.deepEqual(route(config, { host: 'app.com', path: '/', headers: { 'x-version': 'always' } })!.entry.backends.map((b) => b.name), ['default/stable:80']);
  assert.deepEqual(route(config, { host: 'app.com', path: '/' })!.entry.backends.map((b) => b.name), ['default/stable:80']);
});

test('canary-by-header-pattern matches the header value by regular expression', () => {
  const { config } = canaryWorld({ [A('canary-by-header')]: 'x-user', [A('canary-by-header-pattern')]: 'beta-.*' });
  assert.equal(route(config, { host: 'app.com', path: '/', headers: { 'x-user': 'beta-42' } })?.to, 'default/preview:80');
  assert.equal(route(config, { host: 'app.com', path: '/', headers: { 'x-user': 'gamma' } })?.to, 'default/stable:80');
});

test('a canary whose path matches no main Ingress is reported and not served', () => {
  const { config, events } = canaryWorld({ [A('canary-weight')]: '50' }, '/nowhere');
  assert.deepEqual(events.map((e) => [e.name, e.reason]), [['canary', 'CanaryWithoutMain']]);
  assert.equal(route(config, { host: 'app.com', path: '/nowhere' })?.to, 'default/stable:80');
});
