// GatewayModel (the route model with memory between computations) against computeGatewayState
// (from scratch, the reference): over seeded random worlds and random edit sequences, as an
// informer delivers them (a changed object is a new object with a new resourceVersion), both
// must give deep-equal states after every edit.
import assert from 'node:assert/strict';
import test from 'node:test';
import type { KubeObject } from '../../../../src/api/types.js';
import { computeGatewayState, GatewayModel } from '../../../../src/gateway/model/state.js';
import type { GatewayWorld } from '../../../../src/gateway/model/types.js';
import { INFRA, backend, gateway, namespace, referenceGrant, route, tlsSecret, world } from './fixtures.js';
import { prng } from '../../../support/prng.js';

const NAMESPACES = [INFRA, 'gateway-conformance-web-backend', 'team-a'];
const HOSTS = ['a.example.com', 'b.example.com', '*.example.com', 'x.a.example.com', '*.a.example.com', 'other.org', 'A.Example.com'];
const SERVICES = ['svc-0', 'svc-1', 'svc-2', 'svc-3'];

class Generator {
  private rv = 100;
  private serial = 0;
  constructor(readonly rand: () => number) {}

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rand() * list.length)];
  }

  chance(p: number): boolean {
    return this.rand() < p;
  }

  /** A new version of `o` (a new object with a new resourceVersion, as the API server gives). */
  bump(o: KubeObject, change: (copy: KubeObject) => void): KubeObject {
    const copy = structuredClone(o);
    this.rv += 1;
    copy.metadata = { ...copy.metadata, resourceVersion: String(this.rv), uid: copy.metadata?.uid ?? `uid-${this.serial++}` };
    change(copy);
    return copy;
  }

  stamp(o: KubeObject): KubeObject {
    this.rv += 1;
    o.metadata = { ...o.metadata, uid: `uid-${this.serial++}`, resourceVersion: String(this.rv) };
    return o;
  }

  parentRef(): Record<string, unknown> {
    const ref: Record<string, unknown> = { name: this.pick(['gw-1', 'gw-2', 'missing']), namespace: INFRA };
    if (this.chance(0.3)) ref.sectionName = this.pick(['http', 'wild', 'https', 'tls', 'tcp', 'nope']);
    if (this.chance(0.1)) ref.port = this.pick([80, 443, 9000]);
    return ref;
  }

  backendRef(ns: string): Record<string, unknown> {
    const ref: Record<string, unknown> = { name: this.pick(SERVICES), port: this.pick([8080, 8080, 8080, 81]) };
    if (this.chance(0.15)) ref.namespace = this.pick(NAMESPACES.filter((n) => n !== ns));
    if (this.chance(0.2)) ref.weight = this.pick([0, 1, 3]);
    return ref;
  }

  httpRule(ns: string): Record<string, unknown> {
    const matches = Array.from({ length: Math.floor(this.rand() * 3) }, () => {
      const m: Record<string, unknown> = {};
      if (this.chance(0.8)) m.path = { type: this.pick(['PathPrefix', 'Exact', 'RegularExpression', 'PathPrefix']), value: this.pick(['/', '/api', '/api/v1', '/x/', '/a.*']) };
      if (this.chance(0.3)) m.headers = [{ name: this.pick(['x-a', 'x-b']), value: 'v' }];
      if (this.chance(0.2)) m.method = this.pick(['GET', 'POST']);
      if (this.chance(0.2)) m.queryParams = [{ name: 'q', value: '1' }];
      return m;
    });
    const rule: Record<string, unknown> = { backendRefs: Array.from({ length: 1 + Math.floor(this.rand() * 2) }, () => this.backendRef(ns)) };
    if (matches.length > 0) rule.matches = matches;
    if (this.chance(0.2)) rule.filters = [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-r', value: '1' }] } }];
    if (this.chance(0.05)) rule.filters = [{ type: 'Bogus' }];
    return rule;
  }

  route(): KubeObject {
    const kind = this.pick(['HTTPRoute', 'HTTPRoute', 'HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute']);
    const ns = this.pick(NAMESPACES);
    const name = `r-${this.serial++}`;
    const spec: Record<string, unknown> = { parentRefs: Array.from({ length: 1 + Math.floor(this.rand() * 2) }, () => this.parentRef()) };
    if (kind !== 'TCPRoute' && this.chance(0.8)) spec.hostnames = Array.from({ length: 1 + Math.floor(this.rand() * 2) }, () => this.pick(HOSTS));
    if (kind === 'HTTPRoute') spec.rules = Array.from({ length: 1 + Math.floor(this.rand() * 2) }, () => this.httpRule(ns));
    else if (kind === 'GRPCRoute') {
      spec.rules = [{ matches: [{ method: { service: this.pick(['a.B', 'c.D']), ...(this.chance(0.5) ? { method: 'M' } : {}) } }], backendRefs: [this.backendRef(ns)] }];
    } else spec.rules = [{ backendRefs: [this.backendRef(ns)] }];
    const created = new Date(Date.UTC(2026, 0, 1, 0, 0, Math.floor(this.rand() * 50))).toISOString();
    return this.stamp(route(kind, name, spec, ns, { creationTimestamp: created }));
  }

  gateway(name: string): KubeObject {
    const fromAll = { namespaces: { from: 'All' } };
    const listeners: Record<string, unknown>[] = [
      { name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: this.chance(0.8) ? fromAll : { namespaces: { from: 'Selector', selector: { matchLabels: { team: 'yes' } } } } },
    ];
    if (this.chance(0.7)) listeners.push({ name: 'wild', port: 80, protocol: 'HTTP', hostname: this.pick(['*.example.com', '*.a.example.com']), allowedRoutes: fromAll });
    if (this.chance(0.5)) listeners.push({ name: 'https', port: 443, protocol: 'HTTPS', hostname: 'a.example.com', allowedRoutes: fromAll, tls: { certificateRefs: [{ name: 'cert' }] } });
    if (this.chance(0.5)) listeners.push({ name: 'tls', port: 443, protocol: 'TLS', allowedRoutes: fromAll, tls: { mode: 'Passthrough' } });
    if (this.chance(0.5)) listeners.push({ name: 'tcp', port: 9000, protocol: 'TCP', allowedRoutes: fromAll });
    return this.stamp(gateway(name, listeners));
  }

  services(name: string, ns: string): KubeObject[] {
    const ips = Array.from({ length: Math.floor(this.rand() * 3) }, (_, i) => `10.0.${this.serial % 200}.${i + 1}`);
    return backend(name, ips, { namespace: ns, ...(this.chance(0.1) ? { appProtocol: 'kubernetes.io/h2c' } : {}) }).map((o) => this.stamp(o));
  }
}

type ListField = Exclude<keyof GatewayWorld, 'infra'>;

function replaceIn(w: GatewayWorld, field: ListField, index: number, next: KubeObject | undefined): GatewayWorld {
  const list = w[field].slice();
  if (next) list[index] = next;
  else list.splice(index, 1);
  return { ...w, [field]: list };
}

function addTo(w: GatewayWorld, field: ListField, objs: KubeObject[]): GatewayWorld {
  return { ...w, [field]: [...w[field], ...objs] };
}

/** One random edit, as a new world (the old one is left as it was). */
function edit(g: Generator, w: GatewayWorld): { world: GatewayWorld; what: string } {
  const routeFields: ListField[] = ['httpRoutes', 'grpcRoutes', 'tlsRoutes', 'tcpRoutes'];
  const roll = g.rand();
  if (roll < 0.25) {
    const r = g.route();
    const field = ({ HTTPRoute: 'httpRoutes', GRPCRoute: 'grpcRoutes', TLSRoute: 'tlsRoutes', TCPRoute: 'tcpRoutes' } as const)[r.kind as 'HTTPRoute'];
    return { world: addTo(w, field, [r]), what: `add ${r.kind} ${r.metadata.name}` };
  }
  const field = g.pick(routeFields);
  if (roll < 0.4 && w[field].length > 0) {
    const i = Math.floor(g.rand() * w[field].length);
    return { world: replaceIn(w, field, i, undefined), what: `delete ${field}[${i}]` };
  }
  if (roll < 0.55 && w[field].length > 0) {
    const i = Math.floor(g.rand() * w[field].length);
    const old = w[field][i];
    const fresh = g.route();
    const next = g.bump(old, (c) => {
      if (fresh.kind === old.kind) c.spec = fresh.spec;
      else (c.spec as Record<string, unknown>).hostnames = [g.pick(HOSTS)];
      c.metadata.generation = (c.metadata.generation ?? 1) + 1;
    });
    return { world: replaceIn(w, field, i, next), what: `modify ${field}[${i}]` };
  }
  if (roll < 0.7) {
    // A Service or its EndpointSlice changes, appears or goes.
    const which = g.pick(['services', 'endpointSlices'] as const);
    if (w[which].length > 0 && g.chance(0.7)) {
      const i = Math.floor(g.rand() * w[which].length);
      if (g.chance(0.3)) return { world: replaceIn(w, which, i, undefined), what: `delete ${which}[${i}]` };
      const next = g.bump(w[which][i], (c) => {
        if (which === 'endpointSlices') c.endpoints = [{ addresses: [`10.9.${Math.floor(g.rand() * 250)}.1`], conditions: { ready: g.chance(0.7) } }];
        else (c.spec as Record<string, unknown>).ports = [{ port: g.pick([8080, 81]), protocol: 'TCP' }];
      });
      return { world: replaceIn(w, which, i, next), what: `modify ${which}[${i}]` };
    }
    const [svc, slice] = g.services(g.pick(SERVICES), g.pick(NAMESPACES));
    return { world: addTo(addTo(w, 'services', [svc]), 'endpointSlices', [slice]), what: `add service ${svc.metadata.namespace}/${svc.metadata.name}` };
  }
  if (roll < 0.78) {
    if (w.referenceGrants.length > 0 && g.chance(0.5)) return { world: replaceIn(w, 'referenceGrants', 0, undefined), what: 'delete grant' };
    const to = g.pick(NAMESPACES);
    const grant = g.stamp(referenceGrant(`grant-${to}`, to, [{ group: 'gateway.networking.k8s.io', kind: g.pick(['HTTPRoute', 'GRPCRoute', 'TLSRoute']), namespace: g.pick(NAMESPACES) }], [{ group: '', kind: 'Service' }]));
    return { world: addTo(w, 'referenceGrants', [grant]), what: 'add grant' };
  }
  if (roll < 0.86) {
    // A Gateway goes, comes back, or gets new listeners.
    const missing = ['gw-1', 'gw-2'].filter((n) => !w.gateways.some((gw) => gw.metadata.name === n));
    if (missing.length > 0 && g.chance(0.5)) {
      const gw = g.gateway(g.pick(missing));
      return { world: addTo(w, 'gateways', [gw]), what: `add gateway ${gw.metadata.name}` };
    }
    if (w.gateways.length === 0) return { world: addTo(w, 'gateways', [g.gateway('gw-1')]), what: 'add gateway gw-1' };
    const i = Math.floor(g.rand() * w.gateways.length);
    if (g.chance(0.15)) return { world: replaceIn(w, 'gateways', i, undefined), what: `delete gateway ${w.gateways[i].metadata.name}` };
    const next = g.bump(g.gateway(w.gateways[i].metadata.name ?? 'gw'), (c) => {
      c.metadata.uid = w.gateways[i].metadata.uid;
      c.metadata.creationTimestamp = w.gateways[i].metadata.creationTimestamp;
    });
    return { world: replaceIn(w, 'gateways', i, next), what: `modify gateway ${i}` };
  }
  if (roll < 0.9) {
    // The listeners' certificate Secret goes, comes back, or is replaced.
    const i = w.secrets.findIndex((x) => x.metadata.name === 'cert');
    if (i >= 0 && g.chance(0.4)) return { world: replaceIn(w, 'secrets', i, undefined), what: 'delete secret cert' };
    if (i >= 0) return { world: replaceIn(w, 'secrets', i, g.bump(w.secrets[i], (c) => (c.metadata.labels = { v: String(g.rand()) }))), what: 'replace secret cert' };
    return { world: addTo(w, 'secrets', [g.stamp(tlsSecret('cert'))]), what: 'add secret cert' };
  }
  if (roll < 0.93) {
    const i = w.namespaces.findIndex((n) => n.metadata.name === 'team-a');
    const next = g.bump(w.namespaces[i], (c) => {
      c.metadata.labels = { 'kubernetes.io/metadata.name': 'team-a', ...(g.chance(0.5) ? { team: 'yes' } : {}) };
    });
    return { world: replaceIn(w, 'namespaces', i, next), what: 'relabel namespace team-a' };
  }
  // The infra (addresses, ready pods) changes.
  const infra = new Map(w.infra);
  infra.set(`${INFRA}/gw-1`, { addresses: g.chance(0.5) ? ['172.18.0.1'] : [], readyReplicas: Math.floor(g.rand() * 2) });
  return { world: { ...w, infra }, what: 'infra' };
}

function initialWorld(g: Generator): GatewayWorld {
  const objects: KubeObject[] = [namespace('team-a'), tlsSecret('cert'), g.gateway('gw-1'), g.gateway('gw-2')];
  for (const ns of NAMESPACES) for (const s of SERVICES) if (g.chance(0.6)) objects.push(...g.services(s, ns));
  for (let i = 0; i < 12; i++) objects.push(g.route());
  const w = world(objects.map((o) => (o.metadata.resourceVersion ? o : g.stamp(o))));
  for (const f of Object.keys(w) as (keyof GatewayWorld)[]) if (f !== 'infra') w[f] = w[f].map((o) => (o.metadata.resourceVersion ? o : g.stamp(o)));
  return w;
}

test('GatewayModel.compute equals computeGatewayState over random edit sequences', () => {
  let compared = 0;
  let withHosts = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const g = new Generator(prng(seed));
    let w = initialWorld(g);
    const model = new GatewayModel();
    const history: string[] = ['initial'];
    for (let step = 0; step < 40; step++) {
      const expected = computeGatewayState(w);
      const actual = model.compute(w);
      assert.deepStrictEqual(actual, expected, `seed ${seed}, after: ${history.join(' / ')}`);
      compared += 1;
      for (const gw of expected.gateways.values()) for (const p of gw.config.ports) if (p.kind === 'http' && p.hosts.some((h) => h.entries.length > 0)) withHosts += 1;
      const e = edit(g, w);
      w = e.world;
      history.push(e.what);
    }
  }
  // The generator must really exercise routing, not only empty configs.
  assert.ok(withHosts > compared / 2, `only ${withHosts} of ${compared} states had routed virtual hosts`);
});

test('GatewayModel notices an object replaced with the same identity but a new resourceVersion', () => {
  const g = new Generator(prng(7));
  const w = initialWorld(g);
  const model = new GatewayModel();
  model.compute(w);
  // Edited in place, but with a new resourceVersion as the API server would give it.
  const r = w.httpRoutes[0];
  (r.spec as Record<string, unknown>).hostnames = ['changed.example.com'];
  r.metadata = { ...r.metadata, resourceVersion: '999999' };
  assert.deepStrictEqual(model.compute(w), computeGatewayState(w));
});

test('GatewayModel reuses unchanged virtual hosts and their entry lists', () => {
  const g = new Generator(prng(3));
  let w = initialWorld(g);
  const model = new GatewayModel();
  const before = model.compute(w);
  w = { ...w, infra: new Map(w.infra) };
  const after = model.compute(w);
  let shared = 0;
  for (const [key, gw] of before.gateways) {
    const next = after.gateways.get(key)!;
    for (const [i, p] of gw.config.ports.entries()) {
      const q = next.config.ports[i];
      if (p.kind !== 'http' || q.kind !== 'http') continue;
      for (const [j, h] of p.hosts.entries()) if (q.hosts[j] === h) shared += 1;
    }
  }
  assert.ok(shared > 0, 'no virtual host was reused although nothing routed changed');
  assert.deepStrictEqual(after, computeGatewayState(w));
});

test('GatewayModel keeps routes and hostname order right when routes leave and come back', () => {
  // The route caches are swept only when a route was not seen, and the hostname order is patched
  // (names inserted and dropped) rather than sorted: removals, re-additions of the very same
  // objects, and batches of new hostnames must all still equal the reference.
  const g = new Generator(prng(11));
  let w = initialWorld(g);
  const model = new GatewayModel();
  const many = (from: number, count: number) =>
    Array.from({ length: count }, (_, k) =>
      g.stamp(
        route('HTTPRoute', `many-${from + k}`, { parentRefs: [{ name: 'gw-1', namespace: INFRA }], hostnames: [k % 4 === 3 ? `*.w${from + k}.example.com` : `h${from + k}.example.com`], rules: [{ backendRefs: [{ name: 'svc-0', port: 8080 }] }] }, INFRA),
      ),
    );
  const check = (what: string) => assert.deepStrictEqual(model.compute(w), computeGatewayState(w), what);
  check('initial');
  const first = many(0, 40);
  w = addTo(w, 'httpRoutes', first);
  check('40 new hostnames at once (sorted afresh)');
  for (let k = 0; k < 5; k++) {
    w = addTo(w, 'httpRoutes', many(100 + k, 1));
    check(`one new hostname ${k} (inserted in place)`);
  }
  const kept = w.httpRoutes;
  w = { ...w, httpRoutes: kept.filter((r) => !first.includes(r) || first.indexOf(r) % 3 !== 0) };
  check('every third of the batch removed');
  w = { ...w, httpRoutes: kept };
  check('the very same objects back');
  const renamed = g.bump(first[1], (c) => ((c.spec as Record<string, unknown>).hostnames = ['renamed.example.com']));
  w = replaceIn(w, 'httpRoutes', w.httpRoutes.indexOf(first[1]), renamed);
  check('one route replaced by a new version with another hostname');
  w = replaceIn(w, 'httpRoutes', w.httpRoutes.indexOf(renamed), first[1]);
  check('the old version of that route back');
  w = { ...w, httpRoutes: [] };
  check('every HTTPRoute removed');
  w = { ...w, httpRoutes: kept };
  check('all back');
  const served = model.compute(w).gateways.get(`${INFRA}/gw-1`)!.config.ports.flatMap((p) => (p.kind === 'http' ? p.hosts.map((h) => h.hostname) : []));
  assert.ok(served.includes('h5.example.com') && served.includes('*.w3.example.com'), `the batch is served: ${served.join(' ')}`);
});

test('GatewayModel keeps route statuses when only a Gateway status changed (attachedRoutes written)', () => {
  const g = new Generator(prng(11));
  let w = initialWorld(g);
  const model = new GatewayModel();
  const before = model.compute(w);
  const i = w.gateways.findIndex((gw) => gw.metadata.name === 'gw-1');
  const written = g.bump(w.gateways[i], (c) => {
    c.status = { listeners: [{ name: 'http', attachedRoutes: 42, supportedKinds: [], conditions: [] }] };
  });
  w = replaceIn(w, 'gateways', i, written);
  const after = model.compute(w);
  assert.deepStrictEqual(after, computeGatewayState(w));
  let onGw1 = 0;
  let kept = 0;
  for (const [id, statuses] of before.routes) {
    if (!statuses.some((s) => s.parentRef.name === 'gw-1')) continue;
    onGw1 += 1;
    if (after.routes.get(id) === statuses) kept += 1;
  }
  assert.ok(onGw1 > 0, 'the generated world has no route on gw-1');
  assert.ok(kept > 0, `none of the ${onGw1} route statuses on gw-1 was kept although only its status changed`);
});

test('GatewayModel without proxy configs gives the same statuses and events as computeGatewayState', () => {
  for (const seed of [5, 12, 19, 26, 33]) checkStatusesOnly(seed, 100);
});

function checkStatusesOnly(seed: number, steps: number): void {
  const g = new Generator(prng(seed));
  let w = initialWorld(g);
  const model = new GatewayModel({ proxyConfigs: false });
  for (let step = 0; step < steps; step++) {
    const state = model.compute(w);
    const reference = computeGatewayState(w);
    const what = `seed ${seed}, step ${step}`;
    assert.deepStrictEqual(state.routes, reference.routes, what);
    assert.deepStrictEqual(state.events, reference.events, what);
    assert.deepStrictEqual(state.gatewayClasses, reference.gatewayClasses, what);
    assert.deepStrictEqual([...state.gateways.keys()], [...reference.gateways.keys()], what);
    for (const [key, gw] of state.gateways) {
      assert.deepStrictEqual(gw.status, reference.gateways.get(key)!.status, `${what}: ${key}`);
      assert.deepStrictEqual(gw.config, { ports: [] }, `${what}: ${key}`);
    }
    w = edit(g, w).world;
  }
}

/** Many routes on two Gateways (exact and wildcard hostnames), edited one at a time. */
function bigWorld(g: Generator, routes: number): GatewayWorld {
  const objects: KubeObject[] = [namespace('team-a'), tlsSecret('cert'), g.gateway('gw-1'), g.gateway('gw-2')];
  for (const ns of NAMESPACES) for (const s of SERVICES) objects.push(...g.services(s, ns));
  for (let i = 0; i < routes; i++) objects.push(g.route());
  return world(objects.map((o) => (o.metadata.resourceVersion ? o : g.stamp(o))));
}

test('GatewayModel stays equal to computeGatewayState through long walks over hundreds of routes, for proxies and for the status controller', () => {
  for (const seed of [101, 202, 303]) {
    const g = new Generator(prng(seed));
    let w = bigWorld(g, 150);
    const proxy = new GatewayModel();
    const controller = new GatewayModel({ proxyConfigs: false });
    let previous: { state: ReturnType<typeof computeGatewayState>; copy: ReturnType<typeof computeGatewayState> } | undefined;
    const history: string[] = [];
    for (let step = 0; step < 60; step++) {
      const what = `seed ${seed}, step ${step}, after: ${history.slice(-5).join(' / ')}`;
      const expected = computeGatewayState(w);
      const actual = proxy.compute(w);
      assert.deepStrictEqual(actual, expected, what);
      // What was handed out before is never changed by a later computation.
      if (previous) assert.deepStrictEqual(previous.state, previous.copy, `${what}: an earlier state was modified`);
      previous = { state: actual, copy: structuredClone(actual) };
      const statuses = controller.compute(w);
      assert.deepStrictEqual(statuses.routes, expected.routes, what);
      assert.deepStrictEqual(statuses.events, expected.events, what);
      for (const [key, gw] of statuses.gateways) assert.deepStrictEqual(gw.status, expected.gateways.get(key)!.status, `${what}: ${key}`);
      // Mostly route changes (the common case), sometimes anything else.
      const e = g.chance(0.7) ? routeEdit(g, w) : edit(g, w);
      w = e.world;
      history.push(e.what);
    }
  }
});

/** A route added, changed or deleted. */
function routeEdit(g: Generator, w: GatewayWorld): { world: GatewayWorld; what: string } {
  for (;;) {
    const e = edit(g, w);
    if (/^(add HTTPRoute|add GRPCRoute|add TLSRoute|add TCPRoute|delete \w+Routes|modify \w+Routes)/.test(e.what)) return e;
  }
}

test('one new route rebuilds only the virtual hosts it covers; everything else is handed out again as the same objects', () => {
  const g = new Generator(prng(17));
  const exact = (i: number) => g.stamp(route('HTTPRoute', `own-${i}`, { parentRefs: [{ name: 'gw', namespace: INFRA }], hostnames: [`h${i}.example.com`], rules: [{ backendRefs: [{ name: 'svc-0', port: 8080 }] }] }, INFRA));
  const routes = Array.from({ length: 200 }, (_, i) => exact(i));
  let w = world([namespace('team-a'), ...backend('svc-0', ['10.0.0.1']).map((o) => g.stamp(o)), g.stamp(gateway('gw', [{ name: 'http', port: 80, protocol: 'HTTP' }])), ...routes]);
  w.namespaces = w.namespaces.map((o) => (o.metadata.resourceVersion ? o : g.stamp(o)));
  w.gatewayClasses = w.gatewayClasses.map((o) => (o.metadata.resourceVersion ? o : g.stamp(o)));
  const model = new GatewayModel();
  const hostsOf = (s: ReturnType<typeof computeGatewayState>) => {
    const port = s.gateways.get(`${INFRA}/gw`)!.config.ports[0];
    assert.ok(port && port.kind === 'http');
    return new Map(port.hosts.map((h) => [h.hostname, h]));
  };
  const before = model.compute(w);
  // An exact hostname: one new virtual host; every other one is the same object.
  w = addTo(w, 'httpRoutes', [exact(1000)]);
  const after = model.compute(w);
  assert.deepStrictEqual(after, computeGatewayState(w));
  const [h0, h1] = [hostsOf(before), hostsOf(after)];
  assert.equal(h1.size, h0.size + 1);
  for (const [name, host] of h0) assert.equal(h1.get(name), host, `virtual host ${name} was rebuilt`);
  for (const [id, statuses] of before.routes) assert.equal(after.routes.get(id), statuses, `status of ${id} was rebuilt`);
  assert.notEqual(after.routes, before.routes, 'the routes map handed out before was reused (and so changed)');
  // A wildcard hostname: the hosts under it are rebuilt, the others are not.
  w = addTo(w, 'httpRoutes', [g.stamp(route('HTTPRoute', 'wild', { parentRefs: [{ name: 'gw', namespace: INFRA }], hostnames: ['*.example.com'], rules: [{ backendRefs: [{ name: 'svc-0', port: 8080 }] }] }, INFRA))]);
  const unrelated = g.stamp(route('HTTPRoute', 'other', { parentRefs: [{ name: 'gw', namespace: INFRA }], hostnames: ['x.other.org'], rules: [{ backendRefs: [{ name: 'svc-0', port: 8080 }] }] }, INFRA));
  w = addTo(w, 'httpRoutes', [unrelated]);
  const third = model.compute(w);
  assert.deepStrictEqual(third, computeGatewayState(w));
  const h2 = hostsOf(third);
  for (const [name, host] of h1) {
    if (name.endsWith('.example.com')) assert.notEqual(h2.get(name), host, `${name} is under *.example.com and must list its entries`);
    else assert.equal(h2.get(name), host, `${name} is not under *.example.com but was rebuilt`);
  }
  // Nothing changed: the very same config object (the proxy's comparison is one identity check).
  const fourth = model.compute({ ...w, infra: new Map(w.infra) });
  assert.equal(fourth.gateways.get(`${INFRA}/gw`)!.config, third.gateways.get(`${INFRA}/gw`)!.config);
  assert.equal(fourth.routes, third.routes);
});
