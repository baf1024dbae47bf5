// Gateway and GatewayClass statuses: the conformance Gateway tests (1-12) and listener conflicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeGatewayState } from '../../../../src/gateway/model/state.js';
import { INFRA, backendRef, conds, gateway, gatewayClass, http, httpRoute, parent, referenceGrant, tlsSecret, world } from './fixtures.js';

const GROUP = 'gateway.networking.k8s.io';
const fromAll = { namespaces: { from: 'All' } };

test('1: GatewayClass Accepted carries the new generation; parametersRef -> InvalidParameters; foreign classes ignored', () => {
  const gc = gatewayClass('flatnet-2', { description: 'bumped' });
  gc.metadata.generation = 2;
  const withParams = gatewayClass('with-params', { parametersRef: { group: 'x.io', kind: 'Params', name: 'p' } });
  const foreign = { kind: 'GatewayClass', metadata: { name: 'other', generation: 1 }, spec: { controllerName: 'example.com/other' } };
  const s = computeGatewayState(world([gc, withParams, foreign]));
  const c = s.gatewayClasses.get('flatnet-2')!.find((x) => x.type === 'Accepted')!;
  assert.equal(c.status, 'True');
  assert.equal(c.observedGeneration, 2);
  assert.equal(conds(s.gatewayClasses.get('with-params')).Accepted, 'False/InvalidParameters');
  assert.equal(s.gatewayClasses.has('other'), false);
});

test('Gateways of a class that is not accepted, or not ours, are not in the output', () => {
  const bad = gatewayClass('with-params', { parametersRef: { group: 'x.io', kind: 'Params', name: 'p' } });
  const gw = gateway('g', [http('http')], { spec: { gatewayClassName: 'with-params' } });
  const other = gateway('o', [http('http')], { spec: { gatewayClassName: 'nope' } });
  const r = httpRoute('r', { parentRefs: [parent('g')], rules: [{ backendRefs: [backendRef('infra-backend-v1')] }] });
  const s = computeGatewayState(world([bad, gw, other, r]));
  assert.equal(s.gateways.size, 0);
  assert.equal(s.routes.size, 0);
});

test('2: every Gateway condition carries the new observedGeneration after adding a listener', () => {
  const gw = gateway('gateway-observed-generation-bump', [http('http'), http('alternate', 80, { hostname: 'foo.com' })], { generation: 2 });
  const st = computeGatewayState(world([gw], { [`${INFRA}/gateway-observed-generation-bump`]: { addresses: ['172.18.255.1'], readyReplicas: 1 } }))
    .gateways.get(`${INFRA}/gateway-observed-generation-bump`)!.status;
  assert.deepEqual(conds(st.conditions), { Accepted: 'True/Accepted', Programmed: 'True/Programmed' });
  for (const c of [...st.conditions, ...st.listeners.flatMap((l) => l.conditions)]) assert.equal(c.observedGeneration, 2, c.type);
  assert.deepEqual(st.addresses, [{ type: 'IPAddress', value: '172.18.255.1' }]);
});

test('3: infrastructure.parametersRef -> Accepted False/InvalidParameters', () => {
  const gw = gateway('gateway-with-invalid-parameters-ref', [http('http')], {
    spec: { infrastructure: { parametersRef: { group: 'invalid.io', kind: 'InvalidParameters', name: 'invalid' } } },
  });
  const st = computeGatewayState(world([gw])).gateways.get(`${INFRA}/gateway-with-invalid-parameters-ref`)!;
  assert.equal(conds(st.status.conditions).Accepted, 'False/InvalidParameters');
  assert.equal(conds(st.status.conditions).Programmed, 'False/Invalid');
  assert.deepEqual(st.config.ports, []);
});

test('4: unsupported protocol: only-invalid -> False/ListenersNotValid, mixed -> True/ListenersNotValid', () => {
  const only = gateway('only-invalid', [{ name: 'bad', port: 80, protocol: 'example.com/UNSUPPORTED' }]);
  const mixed = gateway('mixed', [http('http'), { name: 'bad', port: 81, protocol: 'example.com/UNSUPPORTED' }]);
  const s = computeGatewayState(world([only, mixed]));
  const o = s.gateways.get(`${INFRA}/only-invalid`)!.status;
  assert.equal(conds(o.conditions).Accepted, 'False/ListenersNotValid');
  assert.equal(conds(o.listeners[0].conditions).Accepted, 'False/UnsupportedProtocol');
  assert.deepEqual(o.listeners[0].supportedKinds, []);
  assert.equal(o.listeners[0].attachedRoutes, 0);
  const m = s.gateways.get(`${INFRA}/mixed`)!.status;
  assert.equal(conds(m.conditions).Accepted, 'True/ListenersNotValid');
  assert.equal(conds(m.listeners[0].conditions).Accepted, 'True/Accepted');
  assert.equal(conds(m.listeners[1].conditions).Accepted, 'False/UnsupportedProtocol');
  assert.deepEqual(s.gateways.get(`${INFRA}/mixed`)!.config.ports.map((p) => p.port), [80]);
});

test('5: invalid route kinds -> ResolvedRefs False/InvalidRouteKinds, supportedKinds only the valid ones', () => {
  const only = gateway('gateway-only-invalid-route-kind', [http('http', 80, { allowedRoutes: { ...fromAll, kinds: [{ kind: 'InvalidRoute' }] } })]);
  const mixed = gateway('gateway-supported-and-invalid-route-kind', [
    http('http', 80, { allowedRoutes: { ...fromAll, kinds: [{ kind: 'InvalidRoute' }, { kind: 'HTTPRoute' }] } }),
  ]);
  const s = computeGatewayState(world([only, mixed]));
  const o = s.gateways.get(`${INFRA}/gateway-only-invalid-route-kind`)!.status.listeners[0];
  assert.equal(conds(o.conditions).ResolvedRefs, 'False/InvalidRouteKinds');
  assert.deepEqual(o.supportedKinds, []);
  const m = s.gateways.get(`${INFRA}/gateway-supported-and-invalid-route-kind`)!.status.listeners[0];
  assert.equal(conds(m.conditions).ResolvedRefs, 'False/InvalidRouteKinds');
  assert.deepEqual(m.supportedKinds, [{ group: GROUP, kind: 'HTTPRoute' }]);
  // Default kinds per protocol.
  const d = computeGatewayState(world([gateway('d', [http('http')])])).gateways.get(`${INFRA}/d`)!.status.listeners[0];
  assert.deepEqual(d.supportedKinds.map((k) => k.kind), ['HTTPRoute', 'GRPCRoute']);
});

test('6: invalid certificate refs -> ResolvedRefs False/InvalidCertificateRef', () => {
  const https = (name: string, ref: Record<string, unknown>) =>
    gateway(name, [{ name: 'https', port: 443, protocol: 'HTTPS', allowedRoutes: fromAll, tls: { certificateRefs: [ref] } }]);
  const malformed = tlsSecret('malformed-certificate', INFRA, { cert: 'Hello world\n', key: 'Hello world\n' });
  const good = tlsSecret('tls-validity-checks-certificate');
  const s = computeGatewayState(
    world([
      malformed,
      good,
      https('nonexistent', { group: '', kind: 'Secret', name: 'nonexistent-certificate' }),
      https('unsupported-group', { group: 'wrong.group.company.io', kind: 'Secret', name: 'tls-validity-checks-certificate' }),
      https('unsupported-kind', { group: '', kind: 'WrongKind', name: 'tls-validity-checks-certificate' }),
      https('malformed', { group: '', kind: 'Secret', name: 'malformed-certificate' }),
      https('valid', { group: '', kind: 'Secret', name: 'tls-validity-checks-certificate' }),
    ]),
  );
  for (const name of ['nonexistent', 'unsupported-group', 'unsupported-kind', 'malformed']) {
    const l = s.gateways.get(`${INFRA}/${name}`)!.status.listeners[0];
    assert.equal(conds(l.conditions).ResolvedRefs, 'False/InvalidCertificateRef', name);
    assert.equal(conds(l.conditions).Programmed, 'False/Invalid', name);
    assert.deepEqual(l.supportedKinds.map((k) => k.kind), ['HTTPRoute', 'GRPCRoute']);
    assert.deepEqual(s.gateways.get(`${INFRA}/${name}`)!.config.ports, [], name);
  }
  const v = s.gateways.get(`${INFRA}/valid`)!;
  assert.equal(conds(v.status.listeners[0].conditions).ResolvedRefs, 'True/ResolvedRefs');
  const port = v.config.ports[0];
  assert.equal(port.kind === 'http' && port.tls?.certificates[0].hostnames[0], '*');
});

test('7: adding and removing listeners: both attached, status lists only present listeners', () => {
  const secret = tlsSecret('tls-validity-checks-certificate');
  const https = { name: 'https', port: 443, protocol: 'HTTPS', allowedRoutes: fromAll, tls: { certificateRefs: [{ name: 'tls-validity-checks-certificate' }] } };
  const r = httpRoute('http-route', { parentRefs: [parent('gateway-add-listener')], rules: [{ backendRefs: [backendRef('infra-backend-v1')] }] });
  const both = gateway('gateway-add-listener', [https, http('http', 80, { hostname: 'data.test.com', allowedRoutes: fromAll })]);
  const s = computeGatewayState(world([secret, both, r])).gateways.get(`${INFRA}/gateway-add-listener`)!.status;
  assert.deepEqual(s.listeners.map((l) => [l.name, l.attachedRoutes, conds(l.conditions).Accepted, conds(l.conditions).ResolvedRefs]), [
    ['https', 1, 'True/Accepted', 'True/ResolvedRefs'],
    ['http', 1, 'True/Accepted', 'True/ResolvedRefs'],
  ]);
  const one = gateway('gateway-add-listener', [http('http', 80, { hostname: 'data.test.com', allowedRoutes: fromAll })]);
  const s2 = computeGatewayState(world([one, r])).gateways.get(`${INFRA}/gateway-add-listener`)!.status;
  assert.deepEqual(s2.listeners.map((l) => l.name), ['http']);
});

const certGateway = (name: string, secretNs: string) =>
  gateway(name, [{ name: 'https', port: 443, protocol: 'HTTPS', allowedRoutes: fromAll, tls: { certificateRefs: [{ name: 'certificate', namespace: secretNs }] } }]);
const secretNs = 'gateway-conformance-web-backend';

test('8 & 9: cross-namespace certificate without a (matching) ReferenceGrant -> RefNotPermitted', () => {
  const secret = tlsSecret('certificate', secretNs);
  const wrongName = referenceGrant('g', secretNs, [{ group: GROUP, kind: 'Gateway', namespace: INFRA }], [{ group: '', kind: 'Secret', name: 'not-the-one' }]);
  for (const objects of [[secret], [secret, wrongName]]) {
    const gw = certGateway('gateway-secret-ref', secretNs);
    const r = httpRoute('r', { parentRefs: [parent('gateway-secret-ref')], rules: [{ backendRefs: [backendRef('infra-backend-v1')] }] });
    const st = computeGatewayState(world([...objects, gw, r])).gateways.get(`${INFRA}/gateway-secret-ref`)!.status;
    assert.equal(conds(st.listeners[0].conditions).ResolvedRefs, 'False/RefNotPermitted');
    assert.equal(conds(st.listeners[0].conditions).Programmed, 'False/Invalid');
  }
});

test('10 & 11: a ReferenceGrant for all Secrets or for that Secret -> listener Programmed', () => {
  const secret = tlsSecret('certificate', secretNs);
  for (const to of [{ group: '', kind: 'Secret' }, { group: '', kind: 'Secret', name: 'certificate' }]) {
    const grant = referenceGrant('g', secretNs, [{ group: GROUP, kind: 'Gateway', namespace: INFRA }], [to]);
    const st = computeGatewayState(world([secret, grant, certGateway('gw', secretNs)])).gateways.get(`${INFRA}/gw`)!.status;
    assert.equal(conds(st.listeners[0].conditions).ResolvedRefs, 'True/ResolvedRefs');
    assert.equal(conds(st.listeners[0].conditions).Programmed, 'True/Programmed');
  }
});

test('12: attachedRoutes 1 and 2, a non-intersecting route is not counted, unresolved listener still counts', () => {
  const sel = { kinds: [{ kind: 'HTTPRoute' }], namespaces: { from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': INFRA } } } };
  const one = gateway('gateway-with-one-attached-route', [http('http', 80, { allowedRoutes: sel })]);
  const two = gateway('gateway-with-two-attached-routes', [http('http', 80, { hostname: 'foo.example.com', allowedRoutes: sel })]);
  const unresolved = gateway('unresolved-gateway', [
    { name: 'tls', port: 443, protocol: 'HTTPS', allowedRoutes: sel, tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'does-not-exist' }] } },
  ]);
  const ref = (name: string, extra = {}) => ({ kind: 'Gateway', name, namespace: INFRA, ...extra });
  const rules = [{ backendRefs: [backendRef('infra-backend-v1')] }];
  const routes = [
    httpRoute('http-route-1', { parentRefs: [ref('gateway-with-one-attached-route')], rules }),
    httpRoute('http-route-2', { parentRefs: [ref('gateway-with-two-attached-routes')], rules }),
    httpRoute('http-route-3', { parentRefs: [ref('gateway-with-two-attached-routes')], rules }),
    httpRoute('http-route-not-accepted', { hostnames: ['not-accepted.test.com'], parentRefs: [ref('gateway-with-two-attached-routes')], rules }),
    httpRoute('http-route-4', { parentRefs: [ref('unresolved-gateway', { sectionName: 'tls' })], rules: [{ backendRefs: [backendRef('does-not-exist')] }] }),
  ];
  const s = computeGatewayState(world([one, two, unresolved, ...routes]));
  assert.equal(s.gateways.get(`${INFRA}/gateway-with-one-attached-route`)!.status.listeners[0].attachedRoutes, 1);
  assert.equal(s.gateways.get(`${INFRA}/gateway-with-two-attached-routes`)!.status.listeners[0].attachedRoutes, 2);
  const na = s.routes.get(`HTTPRoute/${INFRA}/http-route-not-accepted`)!;
  assert.equal(conds(na[0].conditions).Accepted, 'False/NoMatchingListenerHostname');
  assert.deepEqual(na[0].parentRef, { group: GROUP, kind: 'Gateway', name: 'gateway-with-two-attached-routes', namespace: INFRA });
  const u = s.gateways.get(`${INFRA}/unresolved-gateway`)!.status.listeners[0];
  assert.equal(u.attachedRoutes, 1);
  assert.equal(conds(u.conditions).Programmed, 'False/Invalid');
  assert.equal(conds(u.conditions).ResolvedRefs, 'False/InvalidCertificateRef');
  const r4 = s.routes.get(`HTTPRoute/${INFRA}/http-route-4`)!;
  assert.equal(conds(r4[0].conditions).ResolvedRefs, 'False/BackendNotFound');
  assert.equal(r4[0].parentRef.sectionName, 'tls');
});

test('listeners sharing a port: incompatible protocols -> ProtocolConflict; same hostname -> HostnameConflict; the others are served', () => {
  const gw = gateway('conflicts', [
    http('a', 80, { hostname: 'same.example.com' }),
    http('b', 80, { hostname: 'same.example.com' }),
    http('c', 80, { hostname: 'other.example.com' }),
    http('d', 8443),
    { name: 'e', port: 8443, protocol: 'TCP' },
    { name: 'f', port: 53, protocol: 'UDP' },
    { name: 'g', port: 53, protocol: 'TCP' },
  ]);
  const st = computeGatewayState(world([gw])).gateways.get(`${INFRA}/conflicts`)!;
  const c = Object.fromEntries(st.status.listeners.map((l) => [l.name, conds(l.conditions).Conflicted]));
  assert.deepEqual(c, {
    a: 'True/HostnameConflict',
    b: 'True/HostnameConflict',
    c: 'False/NoConflicts',
    d: 'True/ProtocolConflict',
    e: 'True/ProtocolConflict',
    f: 'False/NoConflicts',
    g: 'False/NoConflicts',
  });
  assert.equal(conds(st.status.listeners[0].conditions).Accepted, 'False/HostnameConflict');
  assert.equal(conds(st.status.conditions).Accepted, 'True/ListenersNotValid');
  assert.deepEqual(st.config.ports.map((p) => `${p.port}/${p.kind}`), ['53/tcp', '53/udp', '80/http']);
  const p80 = st.config.ports.find((p) => p.port === 80)!;
  assert.deepEqual(p80.kind === 'http' && p80.hosts.map((h) => h.hostname), ['other.example.com']);
});

test('Programmed: no address -> AddressNotAssigned, no ready proxy -> Pending', () => {
  const gw = gateway('g', [http('http')]);
  const key = `${INFRA}/g`;
  assert.equal(conds(computeGatewayState(world([gw])).gateways.get(key)!.status.conditions).Programmed, 'False/AddressNotAssigned');
  const pending = computeGatewayState(world([gw], { [key]: { addresses: ['172.18.255.7'], readyReplicas: 0 } }));
  assert.equal(conds(pending.gateways.get(key)!.status.conditions).Programmed, 'False/Pending');
});

test('HTTPS with tls.mode Passthrough and TLS with Terminate are not accepted (UnsupportedValue)', () => {
  const gw = gateway('g', [
    { name: 'a', port: 443, protocol: 'HTTPS', tls: { mode: 'Passthrough' } },
    { name: 'b', port: 8443, protocol: 'TLS', tls: { mode: 'Terminate', certificateRefs: [{ name: 'x' }] } },
  ]);
  const st = computeGatewayState(world([gw])).gateways.get(`${INFRA}/g`)!.status;
  assert.deepEqual(st.listeners.map((l) => conds(l.conditions).Accepted), ['False/UnsupportedValue', 'False/UnsupportedValue']);
});
