// Route parent statuses of the conformance HTTPRoute tests 15, 16, 30-33, 35, 36.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectEntry } from '../../../../src/gateway/model/match.js';
import { computeGatewayState } from '../../../../src/gateway/model/state.js';
import { INFRA, backendRef, conds, gateway, http, httpRoute, parent, referenceGrant, world } from './fixtures.js';

const GROUP = 'gateway.networking.k8s.io';
const SAME = 'same-namespace';
const sameGw = () => gateway(SAME, [http('http', 80, { allowedRoutes: { namespaces: { from: 'Same' } } })]);
const WEB = 'gateway-conformance-web-backend';

function statusOf(objects: Parameters<typeof world>[0], key: string) {
  const s = computeGatewayState(world(objects));
  return { s, parents: s.routes.get(key)! };
}

test('15: a route in another namespace on a Same-only Gateway -> NotAllowedByListeners, not counted', () => {
  const r = httpRoute('invalid-cross-namespace-parent-ref', { parentRefs: [parent(SAME, { namespace: INFRA })], rules: [{ backendRefs: [backendRef('web-backend')] }] }, WEB);
  const { s, parents } = statusOf([sameGw(), r], `HTTPRoute/${WEB}/invalid-cross-namespace-parent-ref`);
  assert.equal(conds(parents[0].conditions).Accepted, 'False/NotAllowedByListeners');
  assert.deepEqual(parents[0].parentRef, { group: GROUP, kind: 'Gateway', name: SAME, namespace: INFRA });
  assert.equal(s.gateways.get(`${INFRA}/${SAME}`)!.status.listeners[0].attachedRoutes, 0);
  assert.equal(selectEntry(s.gateways.get(`${INFRA}/${SAME}`)!.config, 80, 'x', 'GET', '/'), undefined);
});

test('16: sectionName not on the Gateway -> NoMatchingParent; port mismatch too', () => {
  const r = httpRoute('bad-section', { parentRefs: [parent(SAME, { sectionName: 'nonexistent' })], rules: [{ backendRefs: [backendRef('infra-backend-v1')] }] });
  const r2 = httpRoute('bad-port', { parentRefs: [parent(SAME, { port: 81 })], rules: [{ backendRefs: [backendRef('infra-backend-v1')] }] });
  const s = computeGatewayState(world([sameGw(), r, r2]));
  const p = s.routes.get(`HTTPRoute/${INFRA}/bad-section`)!;
  assert.equal(conds(p[0].conditions).Accepted, 'False/NoMatchingParent');
  assert.equal(p[0].parentRef.sectionName, 'nonexistent');
  assert.equal(conds(s.routes.get(`HTTPRoute/${INFRA}/bad-port`)![0].conditions).Accepted, 'False/NoMatchingParent');
  assert.equal(s.gateways.get(`${INFRA}/${SAME}`)!.status.listeners[0].attachedRoutes, 0);
});

test('30-33: invalid backendRefs keep the route Accepted with ResolvedRefs False and answer 500', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['nonexistent', backendRef('nonexistent'), 'BackendNotFound'],
    ['unknown-kind', backendRef('infra-backend-v1', { group: 'unknownkind.example.com', kind: 'NonExistent' }), 'InvalidKind'],
    ['cross-ns', backendRef('web-backend', { namespace: WEB }), 'RefNotPermitted'],
  ];
  const wrongGrant = referenceGrant('not-matching', WEB, [{ group: GROUP, kind: 'HTTPRoute', namespace: INFRA }], [{ group: '', kind: 'Service', name: 'not-web-backend' }]);
  for (const [name, ref, reason] of cases) {
    for (const extra of name === 'cross-ns' ? [[], [wrongGrant]] : [[]]) {
      const r = httpRoute(name, { parentRefs: [parent(SAME)], rules: [{ backendRefs: [ref] }] });
      const { s, parents } = statusOf([sameGw(), r, ...extra], `HTTPRoute/${INFRA}/${name}`);
      assert.deepEqual(conds(parents[0].conditions), { Accepted: 'True/Accepted', ResolvedRefs: `False/${reason}` }, name);
      const sel = selectEntry(s.gateways.get(`${INFRA}/${SAME}`)!.config, 80, 'x', 'GET', '/')!;
      assert.ok(sel.entry.backends[0].invalid, name);
      assert.equal(s.gateways.get(`${INFRA}/${SAME}`)!.status.listeners[0].attachedRoutes, 1);
    }
  }
});

test('35: a ReferenceGrant permits the cross-namespace backend; deleting it revokes', () => {
  const r = httpRoute('reference-grant', { parentRefs: [parent(SAME)], rules: [{ backendRefs: [backendRef('web-backend', { namespace: WEB })] }] });
  const grant = referenceGrant('reference-grant', WEB, [{ group: GROUP, kind: 'HTTPRoute', namespace: INFRA }], [{ group: '', kind: 'Service', name: 'web-backend' }]);
  const withGrant = computeGatewayState(world([sameGw(), r, grant]));
  const sel = selectEntry(withGrant.gateways.get(`${INFRA}/${SAME}`)!.config, 80, 'x', 'GET', '/')!;
  assert.equal(sel.entry.backends[0].invalid, undefined);
  assert.deepEqual(sel.entry.backends[0].endpoints, [{ address: '10.244.2.11', port: 3000 }]);
  assert.equal(conds(withGrant.routes.get(`HTTPRoute/${INFRA}/reference-grant`)![0].conditions).ResolvedRefs, 'True/ResolvedRefs');
  const revoked = computeGatewayState(world([sameGw(), r]));
  assert.ok(selectEntry(revoked.gateways.get(`${INFRA}/${SAME}`)!.config, 80, 'x', 'GET', '/')!.entry.backends[0].invalid);
});

test('36: conditions carry the route generation after a change', () => {
  const r = httpRoute('observed-generation-bump', { parentRefs: [parent(SAME)], rules: [{ backendRefs: [backendRef('infra-backend-v2')] }] });
  r.metadata.generation = 2;
  const { parents } = statusOf([sameGw(), r], `HTTPRoute/${INFRA}/observed-generation-bump`);
  assert.deepEqual(conds(parents[0].conditions), { Accepted: 'True/Accepted', ResolvedRefs: 'True/ResolvedRefs' });
  for (const c of parents[0].conditions) assert.equal(c.observedGeneration, 2);
  assert.equal(parents[0].controllerName, 'flatnet.dev/gateway-controller');
});

test('routes naming no Gateway of ours are absent; parentRefs to other kinds are not reported', () => {
  const r = httpRoute('elsewhere', { parentRefs: [parent('missing'), { group: 'example.com', kind: 'Mesh', name: SAME }], rules: [] });
  const mixed = httpRoute('mixed', { parentRefs: [parent('missing'), parent(SAME)], rules: [] });
  const s = computeGatewayState(world([sameGw(), r, mixed]));
  assert.equal(s.routes.has(`HTTPRoute/${INFRA}/elsewhere`), false);
  assert.deepEqual(s.routes.get(`HTTPRoute/${INFRA}/mixed`)!.map((p) => p.parentRef.name), [SAME]);
});

test('a route whose every rule is invalid is not Accepted; one bad rule is dropped (PartiallyInvalid) with an event', () => {
  const bad = httpRoute('all-bad', { parentRefs: [parent(SAME)], rules: [{ matches: [{ path: { type: 'RegularExpression', value: '([' } }] }] });
  const partly = httpRoute('partly', {
    parentRefs: [parent(SAME)],
    rules: [
      { matches: [{ path: { type: 'PathPrefix', value: '/ok' } }], backendRefs: [backendRef('infra-backend-v1')] },
      { matches: [{ headers: [{ type: 'Fancy', name: 'x', value: 'y' }] }], backendRefs: [backendRef('infra-backend-v1')] },
    ],
  });
  const s = computeGatewayState(world([sameGw(), bad, partly]));
  assert.equal(conds(s.routes.get(`HTTPRoute/${INFRA}/all-bad`)![0].conditions).Accepted, 'False/UnsupportedValue');
  const p = conds(s.routes.get(`HTTPRoute/${INFRA}/partly`)![0].conditions);
  assert.equal(p.Accepted, 'True/Accepted');
  assert.equal(p.PartiallyInvalid, 'True/UnsupportedValue');
  assert.ok(s.events.some((e) => e.name === 'all-bad' && /regular expression/.test(e.message)));
  assert.ok(s.events.some((e) => e.name === 'partly' && /Fancy/.test(e.message)));
  const cfg = s.gateways.get(`${INFRA}/${SAME}`)!.config;
  assert.ok(selectEntry(cfg, 80, 'x', 'GET', '/ok'));
  assert.equal(selectEntry(cfg, 80, 'x', 'GET', '/', { x: 'y' }), undefined);
  assert.equal(s.gateways.get(`${INFRA}/${SAME}`)!.status.listeners[0].attachedRoutes, 1);
});

test('malformed objects never throw: they get conditions and events', () => {
  const weird = httpRoute('weird', { parentRefs: [parent(SAME)], rules: 'not-a-list', hostnames: [42] } as never);
  const weirdGw = gateway('weird-gw', 'nope' as never);
  const s = computeGatewayState(world([sameGw(), weird, weirdGw]));
  assert.equal(conds(s.routes.get(`HTTPRoute/${INFRA}/weird`)![0].conditions).Accepted, 'True/Accepted');
  assert.equal(conds(s.gateways.get(`${INFRA}/weird-gw`)!.status.conditions).Accepted, 'False/ListenersNotValid');
});
