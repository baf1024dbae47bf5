// The Gateway API conformance profile GATEWAY-HTTP (v1.6.1), re-created with our own fixtures in a
// real lab: the 37 core tests, then the extended features flatnet claims. One lab for the file;
// manifests applied with the real kubectl; requests sent from flatnet-ext (the outside client) to
// each Gateway's status address, checked the way the upstream suite checks them (3 consecutive
// correct answers within 30 s; path, host, headers, pod name prefix and namespace seen by the echo
// backend; Location for redirects). Each test carries the upstream test's name.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, eventually, tlsSecretYaml, selfSignedCert, type Lab } from '../../support/lab.js';
import {
  APP_NS,
  BASE_GATEWAYS,
  CONTROLLER_NAME,
  REQUEST_HEADER_MODIFIERS,
  GATEWAY_CLASS,
  INFRA_NS,
  WEB_NS,
  baseManifests,
  condition,
  expectAll,
  expectCondition,
  expectEventually,
  gatewayAddress,
  gatewayAndRoutesMustBeAccepted,
  gatewayConditions,
  gatewayMustBeReady,
  listenerMust,
  listenerStatuses,
  ok,
  requestHeaderModifierCases,
  routeMustHaveCondition,
  routeParents,
  send,
  status,
  type KubeObject,
  type Ref,
} from './suite.js';

let lab: Lab;
/** Status addresses of the base Gateways. */
const addr: Record<string, string> = {};

const gw = (name: string): Ref => ({ name, namespace: INFRA_NS });
const route = (name: string, namespace = INFRA_NS): Ref => ({ name, namespace });

before(async () => {
  lab = await startLab({ nodes: 2 });
  const infraCert = await selfSignedCert(['example.org', 'second-example.org', '*.wildcard.org', 'unknown-example.org', 'secure.test.com', 'data.test.com']);
  const webCert = await selfSignedCert(['certificate.example']);
  await lab.apply(baseManifests());
  await lab.apply(`${tlsSecretYaml('tls-validity-checks-certificate', INFRA_NS, infraCert)}\n---\n${tlsSecretYaml('certificate', WEB_NS, webCert)}`);
  for (const [ns, deploys] of [
    [INFRA_NS, ['infra-backend-v1', 'infra-backend-v2', 'infra-backend-v3']],
    [APP_NS, ['app-backend-v1', 'app-backend-v2']],
    [WEB_NS, ['web-backend']],
  ] as const) {
    for (const d of deploys) await lab.ok(['-n', ns, 'rollout', 'status', `deployment/${d}`, '--timeout=300s']);
  }
  await eventually(
    `GatewayClass ${GATEWAY_CLASS} Accepted=True`,
    async () => {
      const gc = await lab.getJson<KubeObject>('gatewayclass', GATEWAY_CLASS);
      return condition(gatewayConditions(gc), 'Accepted')?.status === 'True' || (() => { throw new Error(JSON.stringify(gc?.status)); })();
    },
    60_000,
  );
  for (const name of BASE_GATEWAYS) {
    await gatewayMustBeReady(lab, gw(name));
    addr[name] = await gatewayAddress(lab, gw(name));
  }
}, { timeout: 900_000 });

after(async () => {
  await lab?.down();
}, { timeout: 300_000 });

/** Applies a test's manifests and removes them when the test ends (as the suite's cleanup does). */
async function manifests(t: TestContext, yaml: string): Promise<void> {
  t.after(() => lab.remove(yaml));
  await lab.apply(yaml);
}

const HTTPROUTE = 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute';
const GATEWAY = 'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway';
const GRANT = 'apiVersion: gateway.networking.k8s.io/v1\nkind: ReferenceGrant';
const SKIP_READINESS = 'annotations: {gateway-api/skip-this-for-readiness: "true"}';
const T = { timeout: 240_000 };

function simpleRoute(name: string, parent: string, backend: string, extra = ''): string {
  return `${HTTPROUTE}\nmetadata: {name: ${name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: ${parent}}]${extra}\n  rules: [{backendRefs: [{name: ${backend}, port: 8080}]}]`;
}

async function patch(kind: string, name: string, namespace: string | undefined, body: object, type = 'merge'): Promise<void> {
  await lab.ok(['patch', kind, name, ...(namespace ? ['-n', namespace] : []), '--type', type, '-p', JSON.stringify(body)]);
}

// ======================= GATEWAY-HTTP core: Gateway and ReferenceGrant (12) =======================

test('GatewayClassObservedGenerationBump', T, async (t) => {
  await manifests(t, `apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: gatewayclass-observed-generation-bump}\nspec: {controllerName: ${CONTROLLER_NAME}, description: old}`);
  const accepted = (gen: number) =>
    eventually(`GatewayClass Accepted=True at observedGeneration ${gen}`, async () => {
      const gc = await lab.getJson<KubeObject>('gatewayclass', 'gatewayclass-observed-generation-bump');
      expectCondition(gatewayConditions(gc), 'Accepted', 'True', 'Accepted', gen);
      return gc?.metadata.generation === gen;
    });
  await accepted(1);
  await patch('gatewayclass', 'gatewayclass-observed-generation-bump', undefined, { spec: { description: 'new' } });
  await accepted(2);
});

test('GatewayObservedGenerationBump', T, async (t) => {
  await manifests(t, `${GATEWAY}\nmetadata: {name: gateway-observed-generation-bump, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [{name: http, port: 80, protocol: HTTP, hostname: bar.com, allowedRoutes: {namespaces: {from: All}}}]`);
  const g = gw('gateway-observed-generation-bump');
  const before = await gatewayMustBeReady(lab, g);
  await patch('gateway', g.name, INFRA_NS, [{ op: 'add', path: '/spec/listeners/-', value: { name: 'alternate', port: 80, protocol: 'HTTP', hostname: 'foo.com', allowedRoutes: { namespaces: { from: 'All' } } } }], 'json');
  await eventually('every Gateway and listener condition at the new generation', async () => {
    const obj = await lab.getJson<KubeObject>('gateway', g.name, INFRA_NS);
    const gen = obj!.metadata.generation!;
    assert.ok(gen > before.metadata.generation!, 'generation bumped');
    for (const c of gatewayConditions(obj)) if (c.observedGeneration !== gen) throw new Error(`Gateway ${c.type} at ${c.observedGeneration}, want ${gen}`);
    expectCondition(gatewayConditions(obj), 'Accepted', 'True', undefined, gen);
    expectCondition(gatewayConditions(obj), 'Programmed', 'True', undefined, gen);
    const ls = listenerStatuses(obj);
    if (ls.length !== 2) throw new Error(`listeners in status: ${ls.map((l) => l.name)}`);
    for (const l of ls) for (const c of l.conditions) if (c.observedGeneration !== gen) throw new Error(`listener ${l.name} ${c.type} at ${c.observedGeneration}, want ${gen}`);
    return true;
  });
});

test('GatewayInvalidParametersRef', T, async (t) => {
  await manifests(t, `${GATEWAY}\nmetadata: {name: gateway-invalid-parameters-ref, namespace: ${INFRA_NS}, ${SKIP_READINESS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  infrastructure: {parametersRef: {group: invalid.io, kind: InvalidParameters, name: invalid}}\n  listeners: [{name: http, port: 80, protocol: HTTP}]`);
  await eventually('Gateway Accepted=False/InvalidParameters at its generation', async () => {
    const obj = await lab.getJson<KubeObject>('gateway', 'gateway-invalid-parameters-ref', INFRA_NS);
    expectCondition(gatewayConditions(obj), 'Accepted', 'False', 'InvalidParameters', obj?.metadata.generation);
    return true;
  });
});

test('GatewayListenerUnsupportedProtocol', T, async (t) => {
  await manifests(
    t,
    `${GATEWAY}\nmetadata: {name: gateway-only-unsupported-protocols, namespace: ${INFRA_NS}, ${SKIP_READINESS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [{name: invalid, port: 1111, protocol: INVALID}]\n---\n` +
      `${GATEWAY}\nmetadata: {name: gateway-supported-and-unsupported-protocols, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [{name: http, port: 80, protocol: HTTP}, {name: invalid, port: 1111, protocol: INVALID}]`,
  );
  const badListener = (l: { attachedRoutes: number; supportedKinds: unknown[]; conditions: never[] }) => {
    expectCondition(l.conditions, 'Accepted', 'False', 'UnsupportedProtocol');
    assert.deepEqual(l.supportedKinds, []);
    assert.equal(l.attachedRoutes, 0);
  };
  await eventually('only-invalid Gateway Accepted=False/ListenersNotValid', async () => {
    const obj = await lab.getJson<KubeObject>('gateway', 'gateway-only-unsupported-protocols', INFRA_NS);
    expectCondition(gatewayConditions(obj), 'Accepted', 'False', 'ListenersNotValid');
    return true;
  });
  await listenerMust(lab, gw('gateway-only-unsupported-protocols'), 'invalid', 'Accepted=False/UnsupportedProtocol, no kinds, 0 routes', (l) => badListener(l as never));
  await eventually('mixed Gateway Accepted=True/ListenersNotValid', async () => {
    const obj = await lab.getJson<KubeObject>('gateway', 'gateway-supported-and-unsupported-protocols', INFRA_NS);
    expectCondition(gatewayConditions(obj), 'Accepted', 'True', 'ListenersNotValid');
    return true;
  });
  await listenerMust(lab, gw('gateway-supported-and-unsupported-protocols'), 'invalid', 'Accepted=False/UnsupportedProtocol', (l) => badListener(l as never));
  await listenerMust(lab, gw('gateway-supported-and-unsupported-protocols'), 'http', 'Accepted=True/Accepted', (l) => expectCondition(l.conditions, 'Accepted', 'True', 'Accepted'));
});

test('GatewayInvalidRouteKind', T, async (t) => {
  const g = (name: string, kinds: string) => `${GATEWAY}\nmetadata: {name: ${name}, namespace: ${INFRA_NS}, ${SKIP_READINESS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: ${kinds}, namespaces: {from: All}}}]`;
  await manifests(t, `${g('gateway-only-invalid-route-kind', '[{kind: InvalidRoute}]')}\n---\n${g('gateway-supported-and-invalid-route-kind', '[{kind: InvalidRoute}, {kind: HTTPRoute}]')}`);
  await listenerMust(lab, gw('gateway-only-invalid-route-kind'), 'http', 'ResolvedRefs=False/InvalidRouteKinds, supportedKinds []', (l) => {
    expectCondition(l.conditions, 'ResolvedRefs', 'False', 'InvalidRouteKinds');
    assert.deepEqual(l.supportedKinds, []);
  });
  await listenerMust(lab, gw('gateway-supported-and-invalid-route-kind'), 'http', 'ResolvedRefs=False/InvalidRouteKinds, supportedKinds [HTTPRoute]', (l) => {
    expectCondition(l.conditions, 'ResolvedRefs', 'False', 'InvalidRouteKinds');
    assert.deepEqual(l.supportedKinds.map((k) => `${k.group ?? 'gateway.networking.k8s.io'}/${k.kind}`), ['gateway.networking.k8s.io/HTTPRoute']);
  });
});

test('GatewayInvalidTLSConfiguration', T, async (t) => {
  const g = (name: string, ref: string) => `${GATEWAY}\nmetadata: {name: ${name}, namespace: ${INFRA_NS}, ${SKIP_READINESS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [{name: https, port: 443, protocol: HTTPS, allowedRoutes: {namespaces: {from: All}}, tls: {certificateRefs: [${ref}]}}]`;
  const cases = {
    'gateway-certificate-nonexistent-secret': '{group: "", kind: Secret, name: nonexistent-certificate}',
    'gateway-certificate-unsupported-group': '{group: wrong.group.company.io, kind: Secret, name: tls-validity-checks-certificate}',
    'gateway-certificate-unsupported-kind': '{group: "", kind: WrongKind, name: tls-validity-checks-certificate}',
    'gateway-certificate-malformed-secret': '{group: "", kind: Secret, name: malformed-certificate}',
  };
  await manifests(
    t,
    [...Object.entries(cases).map(([n, r]) => g(n, r)), `apiVersion: v1\nkind: Secret\nmetadata: {name: malformed-certificate, namespace: ${INFRA_NS}}\ntype: kubernetes.io/tls\ndata: {tls.crt: SGVsbG8gd29ybGQK, tls.key: SGVsbG8gd29ybGQK}`].join('\n---\n'),
  );
  await Promise.all(Object.keys(cases).map((n) => listenerMust(lab, gw(n), 'https', 'ResolvedRefs=False/InvalidCertificateRef', (l) => expectCondition(l.conditions, 'ResolvedRefs', 'False', 'InvalidCertificateRef'))));
});

test('GatewayModifyListeners', T, async (t) => {
  const https = `{name: https, port: 443, protocol: HTTPS, hostname: secure.test.com, allowedRoutes: {namespaces: {from: All}}, tls: {certificateRefs: [{group: "", kind: Secret, name: tls-validity-checks-certificate, namespace: ${INFRA_NS}}]}}`;
  await manifests(
    t,
    [
      `${GATEWAY}\nmetadata: {name: gateway-add-listener, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [${https}]`,
      `${HTTPROUTE}\nmetadata: {name: http-route-1, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{kind: Gateway, name: gateway-add-listener, namespace: ${INFRA_NS}}]\n  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080}]}]`,
      `${GATEWAY}\nmetadata: {name: gateway-remove-listener, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [${https}, {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]`,
      `${HTTPROUTE}\nmetadata: {name: http-route-2, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{kind: Gateway, name: gateway-remove-listener, namespace: ${INFRA_NS}}]\n  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080}]}]`,
    ].join('\n---\n'),
  );
  const listenersMust = (name: string, want: string[]) =>
    eventually(`Gateway ${name} listeners ${want} Accepted+ResolvedRefs True with 1 route each, conditions at the latest generation`, async () => {
      const obj = await lab.getJson<KubeObject>('gateway', name, INFRA_NS);
      const ls = listenerStatuses(obj);
      assert.deepEqual(ls.map((l) => l.name).sort(), [...want].sort());
      for (const l of ls) {
        expectCondition(l.conditions, 'Accepted', 'True');
        expectCondition(l.conditions, 'ResolvedRefs', 'True');
        assert.equal(l.attachedRoutes, 1, `listener ${l.name} attachedRoutes`);
      }
      for (const c of gatewayConditions(obj)) assert.equal(c.observedGeneration, obj!.metadata.generation, `${c.type} observedGeneration`);
      return true;
    });
  await gatewayMustBeReady(lab, gw('gateway-add-listener'));
  await patch('gateway', 'gateway-add-listener', INFRA_NS, [{ op: 'add', path: '/spec/listeners/-', value: { name: 'http', port: 80, protocol: 'HTTP', hostname: 'data.test.com', allowedRoutes: { namespaces: { from: 'All' } } } }], 'json');
  await listenersMust('gateway-add-listener', ['https', 'http']);
  await gatewayMustBeReady(lab, gw('gateway-remove-listener'));
  await patch('gateway', 'gateway-remove-listener', INFRA_NS, [{ op: 'remove', path: '/spec/listeners/0' }], 'json');
  await listenersMust('gateway-remove-listener', ['http']);
});

function crossNsHttpsGateway(name: string): string {
  return `${GATEWAY}\nmetadata: {name: ${name}, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [{name: https, port: 443, protocol: HTTPS, allowedRoutes: {namespaces: {from: All}}, tls: {certificateRefs: [{group: "", kind: Secret, name: certificate, namespace: ${WEB_NS}}]}}]`;
}

function secretGrant(name: string, namespace: string, from: string, to: string): string {
  return `${GRANT}\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec: {from: [${from}], to: [${to}]}`;
}

const fromGw = `{group: gateway.networking.k8s.io, kind: Gateway, namespace: ${INFRA_NS}}`;

test('GatewaySecretMissingReferenceGrant', T, async (t) => {
  await manifests(t, crossNsHttpsGateway('gateway-secret-missing-reference-grant'));
  await listenerMust(lab, gw('gateway-secret-missing-reference-grant'), 'https', 'ResolvedRefs=False/RefNotPermitted, 0 routes', (l) => {
    expectCondition(l.conditions, 'ResolvedRefs', 'False', 'RefNotPermitted');
    assert.equal(l.attachedRoutes, 0);
  });
});

test('GatewaySecretInvalidReferenceGrant', T, async (t) => {
  await manifests(
    t,
    [
      crossNsHttpsGateway('gateway-secret-invalid-reference-grant'),
      secretGrant('reference-grant-wrong-namespace', APP_NS, fromGw, '{group: "", kind: Secret, name: certificate}'),
      secretGrant('reference-grant-wrong-from-group', WEB_NS, `{group: not-the-group-youre-looking-for, kind: Gateway, namespace: ${INFRA_NS}}`, '{group: "", kind: Secret, name: certificate}'),
      secretGrant('reference-grant-wrong-from-kind', WEB_NS, `{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: ${INFRA_NS}}`, '{group: "", kind: Secret, name: certificate}'),
      secretGrant('reference-grant-wrong-from-namespace', WEB_NS, '{group: gateway.networking.k8s.io, kind: Gateway, namespace: not-the-namespace-youre-looking-for}', '{group: "", kind: Secret, name: certificate}'),
      secretGrant('reference-grant-wrong-to-group', WEB_NS, fromGw, '{group: not-the-group-youre-looking-for, kind: Secret, name: not-the-certificate-youre-looking-for}'),
      secretGrant('reference-grant-wrong-to-kind', WEB_NS, fromGw, '{group: "", kind: Service, name: certificate}'),
      secretGrant('reference-grant-wrong-to-name', WEB_NS, fromGw, '{group: "", kind: Secret, name: not-the-certificate-youre-looking-for}'),
    ].join('\n---\n'),
  );
  await listenerMust(lab, gw('gateway-secret-invalid-reference-grant'), 'https', 'ResolvedRefs=False/RefNotPermitted, 0 routes', (l) => {
    expectCondition(l.conditions, 'ResolvedRefs', 'False', 'RefNotPermitted');
    assert.equal(l.attachedRoutes, 0);
  });
});

for (const [testName, gwName, to] of [
  ['GatewaySecretReferenceGrantAllInNamespace', 'gateway-secret-reference-grant-all-in-namespace', '{group: "", kind: Secret}'],
  ['GatewaySecretReferenceGrantSpecific', 'gateway-secret-reference-grant-specific', '{group: "", kind: Secret, name: certificate}'],
] as const) {
  test(testName, T, async (t) => {
    await manifests(t, `${crossNsHttpsGateway(gwName)}\n---\n${secretGrant(`grant-${gwName}`.slice(0, 63), WEB_NS, fromGw, to)}`);
    await listenerMust(lab, gw(gwName), 'https', 'Accepted, ResolvedRefs and Programmed True', (l) => {
      expectCondition(l.conditions, 'Accepted', 'True', 'Accepted');
      expectCondition(l.conditions, 'ResolvedRefs', 'True', 'ResolvedRefs');
      expectCondition(l.conditions, 'Programmed', 'True', 'Programmed');
    });
  });
}

test('GatewayWithAttachedRoutes', T, async (t) => {
  const sel = `{kinds: [{kind: HTTPRoute}], namespaces: {from: Selector, selector: {matchLabels: {kubernetes.io/metadata.name: ${INFRA_NS}}}}}`;
  const r = (name: string, parent: string, extra = '', backend = 'infra-backend-v1') => `${HTTPROUTE}\nmetadata: {name: ${name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{kind: Gateway, name: ${parent}, namespace: ${INFRA_NS}${extra}}]\n  rules: [{backendRefs: [{name: ${backend}, port: 8080}]}]`;
  await manifests(
    t,
    [
      `${GATEWAY}\nmetadata: {name: gateway-with-one-attached-route, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: ${sel}}]`,
      r('http-route-1', 'gateway-with-one-attached-route'),
      `${GATEWAY}\nmetadata: {name: gateway-with-two-attached-routes, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [{name: http, port: 80, protocol: HTTP, hostname: foo.example.com, allowedRoutes: ${sel}}]`,
      r('http-route-2', 'gateway-with-two-attached-routes'),
      r('http-route-3', 'gateway-with-two-attached-routes'),
      `${HTTPROUTE}\nmetadata: {name: http-route-not-accepted, namespace: ${INFRA_NS}}\nspec:\n  hostnames: [not-accepted.test.com]\n  parentRefs: [{kind: Gateway, name: gateway-with-two-attached-routes, namespace: ${INFRA_NS}}]\n  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080}]}]`,
      `${GATEWAY}\nmetadata: {name: unresolved-gateway-with-one-attached-unresolved-route, namespace: ${INFRA_NS}, ${SKIP_READINESS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [{name: tls, port: 443, protocol: HTTPS, allowedRoutes: ${sel}, tls: {mode: Terminate, certificateRefs: [{group: "", kind: Secret, name: does-not-exist}]}}]`,
      r('http-route-4', 'unresolved-gateway-with-one-attached-unresolved-route', ', sectionName: tls', 'does-not-exist'),
    ].join('\n---\n'),
  );
  await listenerMust(lab, gw('gateway-with-one-attached-route'), 'http', 'attachedRoutes 1', (l) => assert.equal(l.attachedRoutes, 1));
  await listenerMust(lab, gw('gateway-with-two-attached-routes'), 'http', 'attachedRoutes 2', (l) => assert.equal(l.attachedRoutes, 2));
  await routeMustHaveCondition(lab, route('http-route-not-accepted'), gw('gateway-with-two-attached-routes'), 'Accepted', 'False', 'NoMatchingListenerHostname');
  await listenerMust(lab, gw('unresolved-gateway-with-one-attached-unresolved-route'), 'tls', 'attachedRoutes 1, Programmed=False, ResolvedRefs=False', (l) => {
    assert.equal(l.attachedRoutes, 1);
    expectCondition(l.conditions, 'Programmed', 'False');
    expectCondition(l.conditions, 'ResolvedRefs', 'False', 'InvalidCertificateRef');
  });
  await routeMustHaveCondition(lab, route('http-route-4'), gw('unresolved-gateway-with-one-attached-unresolved-route'), 'ResolvedRefs', 'False', 'BackendNotFound', 'tls');
});

// ======================= GATEWAY-HTTP core: HTTPRoute (25) =======================

test('HTTPRouteSimpleSameNamespace', T, async (t) => {
  await manifests(t, simpleRoute('gateway-conformance-infra-test', 'same-namespace', 'infra-backend-v1'));
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [route('gateway-conformance-infra-test')]);
  await routeMustHaveCondition(lab, route('gateway-conformance-infra-test'), gw('same-namespace'), 'ResolvedRefs', 'True', 'ResolvedRefs');
  await expectEventually(a, ok('/', 'infra-backend-v1'));
});

test('HTTPRouteCrossNamespace', T, async (t) => {
  await manifests(t, `${HTTPROUTE}\nmetadata: {name: cross-namespace, namespace: ${WEB_NS}}\nspec:\n  parentRefs: [{name: backend-namespaces, namespace: ${INFRA_NS}}]\n  rules: [{backendRefs: [{name: web-backend, port: 8080}]}]`);
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('backend-namespaces'), [route('cross-namespace', WEB_NS)]);
  await expectEventually(a, ok('/', 'web-backend', WEB_NS));
});

test('HTTPRouteInvalidCrossNamespaceParentRef', T, async (t) => {
  const r = route('invalid-cross-namespace-parent-ref', WEB_NS);
  await manifests(t, `${HTTPROUTE}\nmetadata: {name: ${r.name}, namespace: ${WEB_NS}}\nspec:\n  parentRefs: [{name: same-namespace, namespace: ${INFRA_NS}}]\n  rules: [{backendRefs: [{name: web-backend, port: 8080}]}]`);
  await routeMustHaveCondition(lab, r, gw('same-namespace'), 'Accepted', 'False', 'NotAllowedByListeners');
  const obj = await lab.getJson<KubeObject>('httproute', r.name, r.namespace);
  assert.ok(!routeParents(obj).some((p) => condition(p.conditions, 'Accepted')?.status === 'True'), 'no accepted parents');
  await listenerMust(lab, gw('same-namespace'), 'http', 'attachedRoutes 0', (l) => assert.equal(l.attachedRoutes, 0));
});

test('HTTPRouteInvalidParentRefNotMatchingSectionName', T, async (t) => {
  const r = route('httproute-listener-not-matching-section-name');
  await manifests(t, `${HTTPROUTE}\nmetadata: {name: ${r.name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace, namespace: ${INFRA_NS}, sectionName: http1}]\n  rules: [{backendRefs: [{kind: Service, name: infra-backend-v1, port: 8080}]}]`);
  await routeMustHaveCondition(lab, r, gw('same-namespace'), 'Accepted', 'False', 'NoMatchingParent', 'http1');
  await listenerMust(lab, gw('same-namespace'), 'http', 'attachedRoutes 0', (l) => assert.equal(l.attachedRoutes, 0));
});

test('HTTPRouteExactPathMatching', T, async (t) => {
  await manifests(t, `${HTTPROUTE}\nmetadata: {name: exact-matching, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules:\n  - {matches: [{path: {type: Exact, value: /one}}], backendRefs: [{name: infra-backend-v1, port: 8080}]}\n  - {matches: [{path: {type: Exact, value: /two}}], backendRefs: [{name: infra-backend-v2, port: 8080}]}`);
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [route('exact-matching')]);
  await expectAll(a, [ok('/one', 'infra-backend-v1'), ok('/two', 'infra-backend-v2'), status('/', 404), status('/one/example', 404), status('/two/', 404), status('/Two', 404), status('/one/', 404)]);
});

test('HTTPRouteMatching', T, async (t) => {
  await manifests(t, `${HTTPROUTE}\nmetadata: {name: matching, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules:\n  - {matches: [{path: {type: PathPrefix, value: /}}, {headers: [{name: version, value: one}]}], backendRefs: [{name: infra-backend-v1, port: 8080}]}\n  - {matches: [{path: {type: PathPrefix, value: /v2}}, {headers: [{name: version, value: two}]}], backendRefs: [{name: infra-backend-v2, port: 8080}]}`);
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [route('matching')]);
  await expectAll(a, [
    ok('/', 'infra-backend-v1'),
    ok('/example', 'infra-backend-v1'),
    ok('/', 'infra-backend-v1', INFRA_NS, { headers: { Version: 'one' } }),
    ok('/v2', 'infra-backend-v2'),
    ok('/v2/example', 'infra-backend-v2'),
    ok('/', 'infra-backend-v2', INFRA_NS, { headers: { Version: 'two' } }),
    ok('/v2/', 'infra-backend-v2'),
    ok('/v2example', 'infra-backend-v1'),
    ok('/foo/v2/example', 'infra-backend-v1'),
  ]);
});

test('HTTPRouteMatchingAcrossRoutes', T, async (t) => {
  await manifests(
    t,
    `${HTTPROUTE}\nmetadata: {name: matching-part1, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  hostnames: [example.com, example.net]\n  rules:\n  - {matches: [{path: {type: PathPrefix, value: /}}, {headers: [{name: version, value: one}]}], backendRefs: [{name: infra-backend-v1, port: 8080}]}\n---\n` +
      `${HTTPROUTE}\nmetadata: {name: matching-part2, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  hostnames: [example.com]\n  rules:\n  - {matches: [{path: {type: PathPrefix, value: /v2}}, {headers: [{name: version, value: two}]}], backendRefs: [{name: infra-backend-v2, port: 8080}]}`,
  );
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [route('matching-part1'), route('matching-part2')]);
  const h = (host: string, headers?: Record<string, string>) => ({ host, headers });
  await expectAll(a, [
    ok('/', 'infra-backend-v1', INFRA_NS, h('example.com')),
    ok('/example', 'infra-backend-v1', INFRA_NS, h('example.net')),
    ok('/', 'infra-backend-v1', INFRA_NS, h('example.com', { Version: 'one' })),
    ok('/v2', 'infra-backend-v2', INFRA_NS, h('example.com')),
    ok('/v2/example', 'infra-backend-v2', INFRA_NS, h('example.com')),
    ok('/', 'infra-backend-v2', INFRA_NS, h('example.com', { Version: 'two' })),
    ok('/v2/', 'infra-backend-v1', INFRA_NS, h('example.net')),
    ok('/', 'infra-backend-v1', INFRA_NS, h('example.net', { Version: 'two' })),
  ]);
});

test('HTTPRoutePathMatchOrder', T, async (t) => {
  const rule = (type: string, value: string, backend: string) => `  - {matches: [{path: {type: ${type}, value: ${value}}}], backendRefs: [{name: ${backend}, port: 8080}]}`;
  await manifests(
    t,
    `${HTTPROUTE}\nmetadata: {name: path-matching-order, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules:\n` +
      [rule('Exact', '/match', 'infra-backend-v1'), rule('Exact', '/match/exact', 'infra-backend-v2'), rule('Exact', '/match/exact/one', 'infra-backend-v3'), rule('PathPrefix', '/match/', 'infra-backend-v3'), rule('PathPrefix', '/match/prefix/', 'infra-backend-v1'), rule('PathPrefix', '/match/prefix/one', 'infra-backend-v2')].join('\n'),
  );
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [route('path-matching-order')]);
  await expectAll(a, [ok('/match/exact/one', 'infra-backend-v3'), ok('/match/exact', 'infra-backend-v2'), ok('/match', 'infra-backend-v1'), ok('/match/prefix/one/any', 'infra-backend-v2'), ok('/match/prefix/any', 'infra-backend-v1'), ok('/match/any', 'infra-backend-v3')]);
});

test('HTTPRouteHeaderMatching', T, async (t) => {
  const rule = (matches: string, backend: string) => `  - {matches: ${matches}, backendRefs: [{name: ${backend}, port: 8080}]}`;
  await manifests(
    t,
    `${HTTPROUTE}\nmetadata: {name: header-matching, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules:\n` +
      [
        rule('[{headers: [{name: version, value: one}]}]', 'infra-backend-v1'),
        rule('[{headers: [{name: version, value: two}]}]', 'infra-backend-v2'),
        rule('[{headers: [{name: version, value: two}, {name: color, value: orange}]}]', 'infra-backend-v1'),
        rule('[{headers: [{name: color, value: blue}]}, {headers: [{name: color, value: green}]}]', 'infra-backend-v1'),
        rule('[{headers: [{name: color, value: red}]}, {headers: [{name: color, value: yellow}]}]', 'infra-backend-v2'),
      ].join('\n'),
  );
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [route('header-matching')]);
  const hs = (headers: Record<string, string>) => ({ headers });
  await expectAll(a, [
    ok('/', 'infra-backend-v1', INFRA_NS, hs({ Version: 'one' })),
    ok('/', 'infra-backend-v2', INFRA_NS, hs({ Version: 'two' })),
    ok('/', 'infra-backend-v1', INFRA_NS, hs({ Version: 'two', Color: 'orange' })),
    ok('/', 'infra-backend-v1', INFRA_NS, hs({ Color: 'blue' })),
    ok('/', 'infra-backend-v1', INFRA_NS, hs({ Color: 'green' })),
    ok('/', 'infra-backend-v2', INFRA_NS, hs({ Color: 'red' })),
    ok('/', 'infra-backend-v2', INFRA_NS, hs({ Color: 'yellow' })),
    ok('/', 'infra-backend-v2', INFRA_NS, hs({ Version: 'two', Color: 'blue' })),
    status('/', 404, hs({ Color: 'orange' })),
    status('/', 404, hs({ 'Some-Other-Header': 'one' })),
    status('/', 404, hs({ Color: 'purple' })),
  ]);
});

test('HTTPRouteHostnameIntersection', T, async (t) => {
  const listener = (name: string, host?: string) => `{name: ${name}, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}${host ? `, hostname: "${host}"` : ''}}`;
  const r = (name: string, parent: string, hostnames: string[], path: string | undefined, backend: string) =>
    `${HTTPROUTE}\nmetadata: {name: ${name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: ${parent}, namespace: ${INFRA_NS}}]\n  hostnames: [${hostnames.map((h) => `"${h}"`).join(', ')}]\n  rules: [{${path ? `matches: [{path: {type: PathPrefix, value: ${path}}}], ` : ''}backendRefs: [{name: ${backend}, port: 8080}]}]`;
  const G1 = 'httproute-hostname-intersection';
  const G2 = 'httproute-hostname-intersection-all';
  await manifests(
    t,
    [
      `${GATEWAY}\nmetadata: {name: ${G1}, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [${listener('listener-1', 'very.specific.com')}, ${listener('listener-2', '*.wildcard.io')}, ${listener('listener-3', '*.anotherwildcard.io')}]`,
      `${GATEWAY}\nmetadata: {name: ${G2}, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [${listener('listener-1')}]`,
      r('specific-host-matches-listener-specific-host', G1, ['non.matching.com', '*.nonmatchingwildcard.io', 'very.specific.com'], '/s1', 'infra-backend-v1'),
      r('specific-host-matches-listener-wildcard-host', G1, ['non.matching.com', 'wildcard.io', 'foo.wildcard.io', 'bar.wildcard.io', 'foo.bar.wildcard.io'], '/s2', 'infra-backend-v2'),
      r('wildcard-host-matches-listener-specific-host', G1, ['non.matching.com', '*.specific.com'], '/s3', 'infra-backend-v3'),
      r('wildcard-host-matches-listener-wildcard-host', G1, ['*.anotherwildcard.io'], '/s4', 'infra-backend-v1'),
      r('no-intersecting-hosts', G1, ['specific.but.wrong.com', 'wildcard.io'], '/s5', 'infra-backend-v2'),
      r('httproute-hostname-intersection-all', G2, ['first.com', 'sub.first.com', 'second.com', 'sub.second.com'], undefined, 'infra-backend-v2'),
    ].join('\n---\n'),
  );
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw(G1), ['specific-host-matches-listener-specific-host', 'specific-host-matches-listener-wildcard-host', 'wildcard-host-matches-listener-specific-host', 'wildcard-host-matches-listener-wildcard-host'].map((n) => route(n)));
  await routeMustHaveCondition(lab, route('no-intersecting-hosts'), gw(G1), 'Accepted', 'False', 'NoMatchingListenerHostname');
  await listenerMust(lab, gw(G1), 'listener-1', 'attachedRoutes 2', (l) => assert.equal(l.attachedRoutes, 2));
  await listenerMust(lab, gw(G1), 'listener-2', 'attachedRoutes 1', (l) => assert.equal(l.attachedRoutes, 1));
  await listenerMust(lab, gw(G1), 'listener-3', 'attachedRoutes 1', (l) => assert.equal(l.attachedRoutes, 1));
  const host = (h: string) => ({ host: h });
  await expectAll(a, [
    ok('/s1', 'infra-backend-v1', INFRA_NS, host('very.specific.com')),
    status('/s1', 404, host('non.matching.com')),
    status('/s1', 404, host('foo.nonmatchingwildcard.io')),
    status('/s1', 404, host('foo.wildcard.io')),
    status('/s2', 404, host('very.specific.com')),
    ok('/s2', 'infra-backend-v2', INFRA_NS, host('foo.wildcard.io')),
    ok('/s2', 'infra-backend-v2', INFRA_NS, host('bar.wildcard.io')),
    ok('/s2', 'infra-backend-v2', INFRA_NS, host('foo.bar.wildcard.io')),
    status('/s2', 404, host('non.matching.com')),
    status('/s2', 404, host('wildcard.io')),
    ok('/s3', 'infra-backend-v3', INFRA_NS, host('very.specific.com:1234')),
    ok('/s3', 'infra-backend-v3', INFRA_NS, host('very.specific.com')),
    status('/s3', 404, host('non.matching.com')),
    status('/s3', 404, host('foo.specific.com')),
    ok('/s4', 'infra-backend-v1', INFRA_NS, host('hello.anotherwildcard.io')),
    status('/s5', 404, host('specific.but.wrong.com')),
    status('/s5', 404, host('wildcard.io')),
  ]);
  const b = await gatewayAndRoutesMustBeAccepted(lab, gw(G2), [route('httproute-hostname-intersection-all')]);
  await expectAll(b, [ok('/', 'infra-backend-v2', INFRA_NS, host('first.com')), ok('/', 'infra-backend-v2', INFRA_NS, host('sub.second.com')), status('/', 404, host('third.com'))]);
});

test('HTTPRouteListenerHostnameMatching', T, async (t) => {
  const G = 'httproute-listener-hostname-matching';
  const listener = (name: string, host: string) => `{name: ${name}, port: 80, protocol: HTTP, hostname: "${host}", allowedRoutes: {namespaces: {from: Same}}}`;
  const r = (name: string, sections: string[], backend: string) => `${HTTPROUTE}\nmetadata: {name: ${name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [${sections.map((s) => `{name: ${G}, namespace: ${INFRA_NS}, sectionName: ${s}}`).join(', ')}]\n  rules: [{backendRefs: [{name: ${backend}, port: 8080}]}]`;
  await manifests(
    t,
    [
      `${GATEWAY}\nmetadata: {name: ${G}, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [${listener('listener-1', 'bar.com')}, ${listener('listener-2', 'foo.bar.com')}, ${listener('listener-3', '*.bar.com')}, ${listener('listener-4', '*.foo.com')}]`,
      r('backend-v1', ['listener-1'], 'infra-backend-v1'),
      r('backend-v2', ['listener-2'], 'infra-backend-v2'),
      r('backend-v3', ['listener-3', 'listener-4'], 'infra-backend-v3'),
    ].join('\n---\n'),
  );
  const a = await gatewayAddress(lab, gw(G));
  await routeMustHaveCondition(lab, route('backend-v1'), gw(G), 'Accepted', 'True', 'Accepted', 'listener-1');
  await routeMustHaveCondition(lab, route('backend-v2'), gw(G), 'Accepted', 'True', 'Accepted', 'listener-2');
  await routeMustHaveCondition(lab, route('backend-v3'), gw(G), 'Accepted', 'True', 'Accepted', 'listener-3');
  await routeMustHaveCondition(lab, route('backend-v3'), gw(G), 'Accepted', 'True', 'Accepted', 'listener-4');
  const host = (h: string) => ({ host: h });
  await expectAll(a, [
    ok('/', 'infra-backend-v1', INFRA_NS, host('bar.com')),
    ok('/', 'infra-backend-v2', INFRA_NS, host('foo.bar.com')),
    ok('/', 'infra-backend-v3', INFRA_NS, host('baz.bar.com')),
    ok('/', 'infra-backend-v3', INFRA_NS, host('boo.bar.com')),
    ok('/', 'infra-backend-v3', INFRA_NS, host('multiple.prefixes.bar.com')),
    ok('/', 'infra-backend-v3', INFRA_NS, host('multiple.prefixes.foo.com')),
    status('/', 404, host('foo.com')),
    status('/', 404, host('no.matching.host')),
  ]);
});

test('HTTPRouteHTTPSListener', T, async (t) => {
  const G = 'same-namespace-with-https-listener';
  await manifests(
    t,
    `${HTTPROUTE}\nmetadata: {name: httproute-https-test, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: ${G}}]\n  hostnames: [example.org]\n  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080}]}]\n---\n` +
      `${HTTPROUTE}\nmetadata: {name: httproute-https-test-no-hostname, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: ${G}, sectionName: https-with-hostname}]\n  rules: [{backendRefs: [{name: infra-backend-v2, port: 8080}]}]`,
  );
  const a = await gatewayAddress(lab, gw(G));
  await routeMustHaveCondition(lab, route('httproute-https-test'), gw(G), 'Accepted', 'True', 'Accepted');
  await routeMustHaveCondition(lab, route('httproute-https-test-no-hostname'), gw(G), 'Accepted', 'True', 'Accepted', 'https-with-hostname');
  const tls = (host: string) => ({ host, scheme: 'https' as const, port: 443 });
  await expectAll(a, [ok('/', 'infra-backend-v1', INFRA_NS, tls('example.org')), ok('/', 'infra-backend-v2', INFRA_NS, tls('second-example.org')), status('/', 404, tls('unknown-example.org'))]);
});

test('HTTPRouteMultipleGateways', T, async (t) => {
  const r = (name: string, parents: string[], path: string, backend: string) => `${HTTPROUTE}\nmetadata: {name: ${name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [${parents.map((p) => `{name: ${p}}`).join(', ')}]\n  rules: [{matches: [{path: {type: PathPrefix, value: ${path}}}], backendRefs: [{name: ${backend}, port: 8080}]}]`;
  await manifests(
    t,
    [r('multiple-gateways-shared-route', ['same-namespace', 'all-namespaces'], '/shared', 'infra-backend-v1'), r('same-namespace-dedicated-route', ['same-namespace'], '/', 'infra-backend-v2'), r('all-namespaces-dedicated-route', ['all-namespaces'], '/', 'infra-backend-v3')].join('\n---\n'),
  );
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [route('multiple-gateways-shared-route'), route('same-namespace-dedicated-route')]);
  const b = await gatewayAndRoutesMustBeAccepted(lab, gw('all-namespaces'), [route('multiple-gateways-shared-route'), route('all-namespaces-dedicated-route')]);
  await Promise.all([expectAll(a, [ok('/shared', 'infra-backend-v1'), ok('/', 'infra-backend-v2')]), expectAll(b, [ok('/shared', 'infra-backend-v1'), ok('/', 'infra-backend-v3')])]);
});

test('HTTPRouteWeight', T, async (t) => {
  await manifests(t, `${HTTPROUTE}\nmetadata: {name: weighted-backends, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080, weight: 70}, {name: infra-backend-v2, port: 8080, weight: 30}, {name: infra-backend-v3, port: 8080, weight: 0}]}]`);
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [route('weighted-backends')]);
  await expectEventually(a, { request: { path: '/' }, namespace: INFRA_NS });
  const expected: Record<string, number> = { 'infra-backend-v1': 0.7, 'infra-backend-v2': 0.3, 'infra-backend-v3': 0 };
  let last = '';
  for (let attempt = 0; attempt < 10; attempt++) {
    const seen: Record<string, number> = { 'infra-backend-v1': 0, 'infra-backend-v2': 0, 'infra-backend-v3': 0 };
    let next = 0;
    const total = 500;
    const worker = async () => {
      while (next < total) {
        next++;
        const ans = await send(a, { request: { path: '/', headers: { 'X-Jitter': String(Math.random()) } } });
        const pod = (JSON.parse(ans.body) as { pod: string }).pod;
        const backend = Object.keys(seen).find((b) => pod.startsWith(b));
        if (!backend) throw new Error(`answered by unexpected pod ${pod}`);
        seen[backend]++;
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
    const off = Object.entries(expected).filter(([b, share]) => Math.abs(seen[b] / total - share) > 0.05);
    if (off.length === 0) return;
    last = JSON.stringify(seen);
  }
  assert.fail(`weights 70/30/0 not within +-0.05 in 10 tries of 500 requests; last distribution ${last}`);
});

test('HTTPRouteRequestHeaderModifier', T, async (t) => {
  const rule = (path: string, mod: string) => `  - {matches: [{path: {type: PathPrefix, value: ${path}}}], filters: [{type: RequestHeaderModifier, requestHeaderModifier: ${mod}}], backendRefs: [{name: infra-backend-v1, port: 8080}]}`;
  await manifests(
    t,
    `${HTTPROUTE}\nmetadata: {name: request-header-modifier, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules:\n` +
      REQUEST_HEADER_MODIFIERS.map(([path, mod]) => rule(path, mod)).join('\n'),
  );
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [route('request-header-modifier')]);
  await expectAll(a, requestHeaderModifierCases());
});

test('HTTPRouteRedirectHostAndStatus', T, async (t) => {
  await manifests(
    t,
    `${HTTPROUTE}\nmetadata: {name: redirect-host-and-status, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules:\n  - {matches: [{path: {type: PathPrefix, value: /hostname-redirect}}], filters: [{type: RequestRedirect, requestRedirect: {hostname: example.org}}]}\n  - {matches: [{path: {type: PathPrefix, value: /host-and-status}}], filters: [{type: RequestRedirect, requestRedirect: {hostname: example.org, statusCode: 301}}]}`,
  );
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [route('redirect-host-and-status')]);
  await expectAll(a, [
    { request: { path: '/hostname-redirect' }, response: { statusCode: 302 }, redirect: { host: 'example.org', path: '/hostname-redirect' } },
    { request: { path: '/host-and-status' }, response: { statusCode: 301 }, redirect: { host: 'example.org', path: '/host-and-status' } },
  ]);
});

test('HTTPRouteNoBackendRefs', T, async (t) => {
  await manifests(
    t,
    `${HTTPROUTE}\nmetadata: {name: omitted-backendrefs, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules:\n  - {matches: [{path: {type: Exact, value: /omitted-no-forward}}]}\n  - {matches: [{path: {type: Exact, value: /empty-no-forward}}], backendRefs: []}\n  - {matches: [{path: {type: PathPrefix, value: /}}], backendRefs: [{name: infra-backend-v1, port: 8080}]}`,
  );
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [route('omitted-backendrefs')]);
  await expectAll(a, [ok('/forward', 'infra-backend-v1'), status('/omitted-no-forward', 500), status('/empty-no-forward', 500)]);
});

test('HTTPRouteInvalidNonExistentBackendRef', T, async (t) => {
  const r = route('invalid-nonexistent-backend-ref');
  await manifests(t, `${HTTPROUTE}\nmetadata: {name: ${r.name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules: [{backendRefs: [{name: nonexistent, namespace: ${INFRA_NS}, port: 8080}]}]`);
  await routeMustHaveCondition(lab, r, gw('same-namespace'), 'ResolvedRefs', 'False', 'BackendNotFound');
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [r]);
  await expectEventually(a, status('/', 500));
});

test('HTTPRouteInvalidBackendRefUnknownKind', T, async (t) => {
  const r = route('invalid-backend-ref-unknown-kind');
  await manifests(t, `${HTTPROUTE}\nmetadata: {name: ${r.name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules: [{backendRefs: [{group: unknownkind.example.com, kind: NonExistent, name: infra-backend-v1, port: 8080}]}]`);
  await routeMustHaveCondition(lab, r, gw('same-namespace'), 'ResolvedRefs', 'False', 'InvalidKind');
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [r]);
  await expectEventually(a, status('/v2', 500));
});

test('HTTPRouteInvalidCrossNamespaceBackendRef', T, async (t) => {
  const r = route('invalid-cross-namespace-backend-ref');
  await manifests(t, `${HTTPROUTE}\nmetadata: {name: ${r.name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules: [{backendRefs: [{name: web-backend, namespace: ${WEB_NS}, port: 8080}]}]`);
  await routeMustHaveCondition(lab, r, gw('same-namespace'), 'ResolvedRefs', 'False', 'RefNotPermitted');
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [r]);
  await expectEventually(a, status('/', 500));
});

const fromRoute = `{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: ${INFRA_NS}}`;

test('HTTPRouteInvalidReferenceGrant', T, async (t) => {
  const r = route('reference-grant');
  await manifests(
    t,
    [
      secretGrant('reference-grant-wrong-namespace', INFRA_NS, fromRoute, '{group: "", kind: Service, name: web-backend}'),
      secretGrant('reference-grant-wrong-from-group', WEB_NS, `{group: not-the-group-youre-looking-for, kind: HTTPRoute, namespace: ${INFRA_NS}}`, '{group: "", kind: Service, name: web-backend}'),
      secretGrant('reference-grant-wrong-from-kind', WEB_NS, `{group: gateway.networking.k8s.io, kind: Gateway, namespace: ${INFRA_NS}}`, '{group: "", kind: Service, name: web-backend}'),
      secretGrant('reference-grant-wrong-from-namespace', WEB_NS, '{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: not-the-namespace-youre-looking-for}', '{group: "", kind: Service, name: web-backend}'),
      secretGrant('reference-grant-wrong-to-group', WEB_NS, fromRoute, '{group: not-the-group-youre-looking-for, kind: Service, name: web-backend}'),
      secretGrant('reference-grant-wrong-to-kind', WEB_NS, fromRoute, '{group: "", kind: Secret, name: web-backend}'),
      secretGrant('reference-grant-wrong-to-name', WEB_NS, fromRoute, '{group: "", kind: Service, name: not-the-service-youre-looking-for}'),
      `${HTTPROUTE}\nmetadata: {name: ${r.name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules: [{backendRefs: [{name: web-backend, namespace: ${WEB_NS}, port: 8080}]}]`,
    ].join('\n---\n'),
  );
  await routeMustHaveCondition(lab, r, gw('same-namespace'), 'ResolvedRefs', 'False', 'RefNotPermitted');
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [r]);
  await expectEventually(a, status('/', 500));
});

test('HTTPRoutePartiallyInvalidViaInvalidReferenceGrant', T, async (t) => {
  const r = route('invalid-reference-grant');
  await manifests(
    t,
    `${secretGrant('invalid-reference-grant', APP_NS, fromRoute, '{group: "", kind: Service, name: app-backend-v1}')}\n---\n${HTTPROUTE}\nmetadata: {name: ${r.name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules:\n  - {matches: [{path: {type: PathPrefix, value: /v2}}], backendRefs: [{name: app-backend-v2, namespace: ${APP_NS}, port: 8080}]}\n  - {backendRefs: [{name: app-backend-v1, namespace: ${APP_NS}, port: 8080}]}`,
  );
  await routeMustHaveCondition(lab, r, gw('same-namespace'), 'ResolvedRefs', 'False', 'RefNotPermitted');
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [r]);
  await expectAll(a, [status('/v2', 500), ok('/', 'app-backend-v1', APP_NS)]);
});

test('HTTPRouteReferenceGrant', T, async (t) => {
  const r = route('reference-grant');
  const grant = secretGrant('reference-grant', WEB_NS, fromRoute, '{group: "", kind: Service, name: web-backend}');
  await manifests(t, `${grant}\n---\n${HTTPROUTE}\nmetadata: {name: ${r.name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules: [{backendRefs: [{name: web-backend, namespace: ${WEB_NS}, port: 8080}]}]`);
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [r]);
  await routeMustHaveCondition(lab, r, gw('same-namespace'), 'ResolvedRefs', 'True', 'ResolvedRefs');
  await expectEventually(a, ok('/', 'web-backend', WEB_NS));
  await lab.ok(['-n', WEB_NS, 'delete', 'referencegrant', 'reference-grant']);
  await expectEventually(a, status('/', 500));
});

test('HTTPRouteObservedGenerationBump', T, async (t) => {
  const r = route('observed-generation-bump');
  await manifests(t, simpleRoute(r.name, 'same-namespace', 'infra-backend-v1'));
  const first = await routeMustHaveCondition(lab, r, gw('same-namespace'), 'Accepted', 'True', 'Accepted');
  await routeMustHaveCondition(lab, r, gw('same-namespace'), 'ResolvedRefs', 'True', 'ResolvedRefs');
  await patch('httproute', r.name, INFRA_NS, [{ op: 'replace', path: '/spec/rules/0/backendRefs/0/name', value: 'infra-backend-v2' }], 'json');
  const second = await routeMustHaveCondition(lab, r, gw('same-namespace'), 'Accepted', 'True', 'Accepted');
  assert.ok(second.metadata.generation! > first.metadata.generation!, 'the generation was bumped');
  await routeMustHaveCondition(lab, r, gw('same-namespace'), 'ResolvedRefs', 'True', 'ResolvedRefs');
});

test('HTTPRouteServiceTypes', T, async (t) => {
  const podIPs = (await lab.ok(['-n', INFRA_NS, 'get', 'pods', '-l', 'app=infra-backend-v1', '-o', 'jsonpath={.items[*].status.podIP}'])).trim().split(/\s+/).filter(Boolean);
  assert.ok(podIPs.length > 0, 'infra-backend-v1 has pod IPs');
  const slice = (name: string, svc: string) =>
    `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: ${name}, namespace: ${INFRA_NS}, labels: {kubernetes.io/service-name: ${svc}}}\naddressType: IPv4\nports: [{name: first-port, port: 3000, protocol: TCP}]\nendpoints: [${podIPs.map((ip) => `{addresses: ["${ip}"], conditions: {ready: true}}`).join(', ')}]`;
  const svc = (name: string, headless: boolean, selector: boolean) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: ${INFRA_NS}}\nspec:\n  ${headless ? 'clusterIP: None\n  ' : ''}${selector ? 'selector: {app: infra-backend-v1}\n  ' : ''}ports: [{name: first-port, port: 8080, protocol: TCP, targetPort: 3000}]`;
  await manifests(
    t,
    [
      `${HTTPROUTE}\nmetadata: {name: service-types, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: same-namespace}]\n  rules:\n  - {matches: [{path: {type: Exact, value: /manual-endpointslices}}], backendRefs: [{name: manual-endpointslices, port: 8080}]}\n  - {matches: [{path: {type: Exact, value: /headless}}], backendRefs: [{name: headless, port: 8080}]}\n  - {matches: [{path: {type: Exact, value: /headless-manual-endpointslices}}], backendRefs: [{name: headless-manual-endpointslices, port: 8080}]}`,
      svc('manual-endpointslices', false, false),
      slice('manual-endpointslices-ip4', 'manual-endpointslices'),
      svc('headless', true, true),
      svc('headless-manual-endpointslices', true, false),
      slice('headless-manual-endpointslices-ip4', 'headless-manual-endpointslices'),
    ].join('\n---\n'),
  );
  const a = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [route('service-types')]);
  await expectAll(a, [ok('/manual-endpointslices', 'infra-backend-v1'), ok('/headless', 'infra-backend-v1'), ok('/headless-manual-endpointslices', 'infra-backend-v1')]);
});


// ======================= GATEWAY-HTTP extended features =======================

const rule = (path: string, body: string, type = 'PathPrefix') => `  - {matches: [{path: {type: ${type}, value: ${path}}}], ${body}}`;
const routeOf = (name: string, rules: string[], parent = 'same-namespace', extra = '') => `${HTTPROUTE}\nmetadata: {name: ${name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: ${parent}}]${extra}\n  rules:\n${rules.join('\n')}`;
const toV = (n: number, port = 8080) => `backendRefs: [{name: infra-backend-v${n}, port: ${port}}]`;
const redirect = (spec: string) => `filters: [{type: RequestRedirect, requestRedirect: ${spec}}]`;
const MODIFY_HEADERS = '{type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: X-Header-Add, value: header-val-1}, {name: X-Header-Add-Append, value: header-val-2}], remove: [X-Header-Remove], set: [{name: X-Header-Set, value: set-overwrites-values}]}}';
const MODIFIED_REQUEST = {
  headers: { 'X-Header-Add': 'header-val-1', 'X-Header-Add-Append': 'append-val-1,header-val-2', 'X-Header-Set': 'set-overwrites-values' },
  absentHeaders: ['X-Header-Remove'],
};
const MODIFY_INPUT = { 'X-Header-Add-Append': 'append-val-1', 'X-Header-Set': 'set-val', 'X-Header-Remove': 'remove-val' };

async function acceptedOnSameNamespace(name: string): Promise<string> {
  return gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace'), [route(name)]);
}

test('HTTPRouteQueryParamMatching', T, async (t) => {
  const q = (params: string, n: number, extra = '') => `  - {matches: [{${extra}queryParams: ${params}}], ${toV(n)}}`;
  await manifests(
    t,
    routeOf('query-param-matching', [
      q('[{name: animal, value: whale}]', 1),
      q('[{name: animal, value: dolphin}]', 2),
      `  - {matches: [{queryParams: [{name: animal, value: dolphin}, {name: color, value: blue}]}, {queryParams: [{name: ANIMAL, value: Whale}]}], ${toV(3)}}`,
      q('[{name: animal, value: whale}]', 1, 'path: {type: PathPrefix, value: /path1}, '),
      q('[{name: animal, value: whale}]', 2, 'headers: [{name: version, value: one}], '),
      q('[{name: animal, value: whale}]', 3, 'headers: [{name: version, value: two}], path: {type: PathPrefix, value: /path2}, '),
      `  - {matches: [{path: {type: PathPrefix, value: /path3}, queryParams: [{name: animal, value: shark}]}, {headers: [{name: version, value: three}], path: {type: PathPrefix, value: /path4}, queryParams: [{name: animal, value: kraken}]}], ${toV(1)}}`,
      `  - {matches: [{path: {type: PathPrefix, value: /path5}}], ${toV(1)}}`,
      q('[{name: animal, value: hydra}]', 2),
      `  - {matches: [{headers: [{name: version, value: four}]}], ${toV(3)}}`,
    ]),
  );
  const a = await acceptedOnSameNamespace('query-param-matching');
  const v = (n: number) => `infra-backend-v${n}`;
  await expectAll(a, [
    ok('/?animal=whale', v(1)),
    ok('/?animal=dolphin', v(2)),
    ok('/?animal=dolphin&color=blue', v(3)),
    ok('/?ANIMAL=Whale', v(3)),
    ok('/path1?animal=whale', v(1)),
    ok('/?animal=whale', v(2), INFRA_NS, { headers: { version: 'one' } }),
    ok('/path2?animal=whale', v(3), INFRA_NS, { headers: { version: 'two' } }),
    ok('/path3?animal=shark', v(1)),
    ok('/path4?animal=kraken', v(1), INFRA_NS, { headers: { version: 'three' } }),
    ok('/path5?animal=hydra', v(1)),
    ok('/?animal=hydra', v(3), INFRA_NS, { headers: { version: 'four' } }),
    ok('/?animal=whale&otherparam=irrelevant', v(1)),
    ok('/?animal=dolphin&color=yellow', v(2)),
    status('/?color=blue', 404),
    status('/?animal=dog', 404),
    status('/?animal=whaledolphin', 404),
    status('/', 404),
  ]);
});

test('HTTPRouteMethodMatching', T, async (t) => {
  const m = (match: string, n: number) => `  - {matches: [${match}], ${toV(n)}}`;
  await manifests(
    t,
    routeOf('method-matching', [
      m('{method: POST}', 1),
      m('{method: GET}', 2),
      m('{method: GET, path: {type: PathPrefix, value: /path1}}', 1),
      m('{method: PUT, headers: [{name: version, value: one}]}', 2),
      m('{method: POST, headers: [{name: version, value: two}], path: {type: PathPrefix, value: /path2}}', 3),
      m('{method: PATCH, path: {type: PathPrefix, value: /path3}}, {method: DELETE, headers: [{name: version, value: three}], path: {type: PathPrefix, value: /path4}}', 1),
      m('{path: {type: PathPrefix, value: /path5}}', 1),
      m('{method: PATCH}', 2),
      m('{headers: [{name: version, value: four}]}', 3),
    ]),
  );
  const a = await acceptedOnSameNamespace('method-matching');
  const v = (n: number) => `infra-backend-v${n}`;
  const req = (method: string, headers?: Record<string, string>) => ({ method, headers });
  await expectAll(a, [
    ok('/', v(1), INFRA_NS, req('POST')),
    ok('/', v(2), INFRA_NS, req('GET')),
    ok('/path1', v(1), INFRA_NS, req('GET')),
    ok('/', v(2), INFRA_NS, req('PUT', { version: 'one' })),
    ok('/path2', v(3), INFRA_NS, req('POST', { version: 'two' })),
    ok('/path3', v(1), INFRA_NS, req('PATCH')),
    ok('/path4', v(1), INFRA_NS, req('DELETE', { version: 'three' })),
    ok('/path5', v(1), INFRA_NS, req('POST')),
    ok('/path5', v(1), INFRA_NS, req('PATCH')),
    ok('/', v(2), INFRA_NS, req('PATCH')),
    ok('/', v(3), INFRA_NS, req('DELETE', { version: 'four' })),
    status('/', 404, req('PUT')),
    status('/', 404, req('DELETE')),
  ]);
});

test('HTTPRouteResponseHeaderModifier', T, async (t) => {
  const r = (path: string, mod: string) => rule(path, `filters: [{type: ResponseHeaderModifier, responseHeaderModifier: ${mod}}], ${toV(1)}`);
  await manifests(
    t,
    routeOf('response-header-modifier', [
      r('/set', '{set: [{name: X-Header-Set, value: set-overwrites-values}]}'),
      r('/add', '{add: [{name: X-Header-Add, value: add-appends-values}]}'),
      r('/remove', '{remove: [X-Header-Remove]}'),
      r('/multiple', '{add: [{name: X-Header-Add-1, value: header-add-1}, {name: X-Header-Add-2, value: header-add-2}, {name: X-Header-Add-3, value: header-add-3}], remove: [X-Header-Remove-1, X-Header-Remove-2], set: [{name: X-Header-Set-1, value: header-set-1}, {name: X-Header-Set-2, value: header-set-2}]}'),
      r('/case-insensitivity', '{add: [{name: X-Header-Add, value: header-add}, {name: x-lowercase-add, value: lowercase-add}, {name: x-Mixedcase-ADD-1, value: mixedcase-add-1}, {name: X-mixeDcase-add-2, value: mixedcase-add-2}, {name: X-UPPERCASE-ADD, value: uppercase-add}], remove: [X-Header-Remove], set: [{name: X-Header-Set, value: header-set}]}'),
    ]),
  );
  const a = await acceptedOnSameNamespace('response-header-modifier');
  const c = (path: string, backendSets: string, headers: Record<string, string>, absentHeaders: string[] = []) => ({ request: { path, headers: { 'X-Echo-Set-Header': backendSets } }, response: { headers, absentHeaders }, backend: 'infra-backend-v1', namespace: INFRA_NS });
  await expectAll(a, [
    c('/set', 'Some-Other-Header:val', { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' }),
    c('/set', 'X-Header-Set:some-other-value', { 'X-Header-Set': 'set-overwrites-values' }),
    c('/add', 'Some-Other-Header:val', { 'Some-Other-Header': 'val', 'X-Header-Add': 'add-appends-values' }),
    c('/add', 'X-Header-Add:some-other-value', { 'X-Header-Add': 'some-other-value,add-appends-values' }),
    c('/remove', 'X-Header-Remove:val', {}, ['X-Header-Remove']),
    c(
      '/multiple',
      'X-Header-Set-2:set-val-2,X-Header-Add-2:add-val-2,X-Header-Remove-2:remove-val-2,Another-Header:another-header-val',
      { 'X-Header-Set-1': 'header-set-1', 'X-Header-Set-2': 'header-set-2', 'X-Header-Add-1': 'header-add-1', 'X-Header-Add-2': 'add-val-2,header-add-2', 'X-Header-Add-3': 'header-add-3', 'Another-Header': 'another-header-val' },
      ['X-Header-Remove-1', 'X-Header-Remove-2'],
    ),
    c(
      '/case-insensitivity',
      'x-header-set:original-val-set,x-header-add:original-val-add,x-header-remove:original-val-remove,Another-Header:another-header-val',
      { 'X-Header-Set': 'header-set', 'X-Header-Add': 'original-val-add,header-add', 'X-Lowercase-Add': 'lowercase-add', 'X-Mixedcase-Add-1': 'mixedcase-add-1', 'X-Mixedcase-Add-2': 'mixedcase-add-2', 'X-Uppercase-Add': 'uppercase-add', 'Another-Header': 'another-header-val' },
      ['X-Header-Remove'],
    ),
  ]);
});

test('HTTPRouteRequestHeaderModifierBackendWeights', T, async (t) => {
  const be = (n: number) => `{name: infra-backend-v${n}, port: 8080, weight: 10, filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: Backend, value: infra-backend-v${n}}]}}]}`;
  await manifests(t, routeOf('request-header-modifier-backend-weights', [`  - {backendRefs: [${be(1)}, ${be(2)}]}`]));
  const a = await acceptedOnSameNamespace('request-header-modifier-backend-weights');
  await expectEventually(a, { request: { path: '/' }, namespace: INFRA_NS });
  const seen = new Set<string>();
  for (let i = 0; i < 40 && seen.size < 2; i++) {
    const ans = await send(a, { request: { path: '/' } });
    const echo = JSON.parse(ans.body) as { pod: string; headers: Record<string, string[]> };
    const backend = echo.pod.startsWith('infra-backend-v1') ? 'infra-backend-v1' : echo.pod.startsWith('infra-backend-v2') ? 'infra-backend-v2' : echo.pod;
    assert.deepEqual(echo.headers.Backend, [backend], `the Backend header set by ${backend}'s own filter (pod ${echo.pod})`);
    seen.add(backend);
  }
  assert.equal(seen.size, 2, 'both weighted backends answered');
});

test('HTTPRouteRedirectPath', T, async (t) => {
  await manifests(
    t,
    routeOf('redirect-path', [
      rule('/original-prefix', redirect('{path: {type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix}}')),
      rule('/full', redirect('{path: {type: ReplaceFullPath, replaceFullPath: /full-path-replacement}}')),
      rule('/path-and-host', redirect('{hostname: example.org, path: {type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix}}')),
      rule('/path-and-status', redirect('{path: {type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix}, statusCode: 301}')),
      rule('/full-path-and-host', redirect('{hostname: example.org, path: {type: ReplaceFullPath, replaceFullPath: /replacement-full}}')),
      rule('/full-path-and-status', redirect('{path: {type: ReplaceFullPath, replaceFullPath: /replacement-full}, statusCode: 301}')),
    ]),
  );
  const a = await acceptedOnSameNamespace('redirect-path');
  const rd = (path: string, code: number, loc: { host?: string; path: string }) => ({ request: { path }, response: { statusCode: code }, redirect: loc });
  await expectAll(a, [
    rd('/original-prefix/lemon', 302, { path: '/replacement-prefix/lemon' }),
    rd('/full/path/original', 302, { path: '/full-path-replacement' }),
    rd('/path-and-host', 302, { host: 'example.org', path: '/replacement-prefix' }),
    rd('/path-and-status', 301, { path: '/replacement-prefix' }),
    rd('/full-path-and-host', 302, { host: 'example.org', path: '/replacement-full' }),
    rd('/full-path-and-status', 301, { path: '/replacement-full' }),
  ]);
});

test('HTTPRouteRedirectPort', T, async (t) => {
  await manifests(
    t,
    routeOf('redirect-port', [
      rule('/port', redirect('{port: 8083}')),
      rule('/port-and-host', redirect('{hostname: example.org, port: 8083}')),
      rule('/port-and-status', redirect('{port: 8083, statusCode: 301}')),
      rule('/port-and-host-and-status', redirect('{hostname: example.org, port: 8083, statusCode: 302}')),
    ]),
  );
  const a = await acceptedOnSameNamespace('redirect-port');
  const rd = (path: string, code: number, loc: { host?: string; port: string }) => ({ request: { path }, response: { statusCode: code }, redirect: { ...loc, path } });
  await expectAll(a, [rd('/port', 302, { port: '8083' }), rd('/port-and-host', 302, { host: 'example.org', port: '8083' }), rd('/port-and-status', 301, { port: '8083' }), rd('/port-and-host-and-status', 302, { host: 'example.org', port: '8083' })]);
});

test('HTTPRouteRedirectScheme', T, async (t) => {
  await manifests(
    t,
    routeOf('redirect-scheme', [
      rule('/scheme', redirect('{scheme: https}')),
      rule('/scheme-and-host', redirect('{hostname: example.org, scheme: https}')),
      rule('/scheme-and-status', redirect('{scheme: https, statusCode: 301}')),
      rule('/scheme-and-host-and-status', redirect('{hostname: example.org, scheme: https, statusCode: 302}')),
    ]),
  );
  const a = await acceptedOnSameNamespace('redirect-scheme');
  const rd = (path: string, code: number, host?: string) => ({ request: { path }, response: { statusCode: code }, redirect: { scheme: 'https', host, path } });
  await expectAll(a, [rd('/scheme', 302), rd('/scheme-and-host', 302, 'example.org'), rd('/scheme-and-status', 301), rd('/scheme-and-host-and-status', 302, 'example.org')]);
});

test('HTTPRouteRedirectPortAndScheme', T, async (t) => {
  const G8080 = 'same-namespace-with-http-listener-on-8080';
  const r = (path: string, spec: string) => rule(path, redirect(`{hostname: example.org${spec}}`));
  await manifests(
    t,
    [
      `${GATEWAY}\nmetadata: {name: ${G8080}, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [{name: http, port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}]`,
      routeOf('http-route-for-listener-on-port-80', [r('/scheme-nil-and-port-nil', ''), r('/scheme-nil-and-port-80', ', port: 80'), r('/scheme-nil-and-port-8080', ', port: 8080'), r('/scheme-https-and-port-nil', ', scheme: https'), r('/scheme-https-and-port-443', ', scheme: https, port: 443'), r('/scheme-https-and-port-8443', ', scheme: https, port: 8443')]),
      routeOf('http-route-for-listener-on-port-8080', [r('/scheme-nil-and-port-nil', ''), r('/scheme-nil-and-port-80', ', port: 80'), r('/scheme-https-and-port-nil', ', scheme: https')], G8080),
      routeOf('http-route-for-listener-on-port-443', [r('/scheme-nil-and-port-nil', ''), r('/scheme-nil-and-port-443', ', port: 443'), r('/scheme-nil-and-port-8443', ', port: 8443'), r('/scheme-http-and-port-nil', ', scheme: http'), r('/scheme-http-and-port-80', ', scheme: http, port: 80'), r('/scheme-http-and-port-8080', ', scheme: http, port: 8080')], 'same-namespace-with-https-listener'),
    ].join('\n---\n'),
  );
  const a80 = await acceptedOnSameNamespace('http-route-for-listener-on-port-80');
  const a8080 = await gatewayAndRoutesMustBeAccepted(lab, gw(G8080), [route('http-route-for-listener-on-port-8080')]);
  const a443 = await gatewayAndRoutesMustBeAccepted(lab, gw('same-namespace-with-https-listener'), [route('http-route-for-listener-on-port-443')]);
  const rd = (path: string, scheme: string, port: string | undefined, req: Partial<{ port: number; scheme: 'http' | 'https'; host: string }> = {}) => ({ request: { path, ...req }, response: { statusCode: 302 }, redirect: { scheme, host: 'example.org', port, path } });
  const on8080 = { port: 8080 };
  const on443 = { port: 443, scheme: 'https' as const, host: 'example.org' };
  await Promise.all([
    expectAll(a80, [rd('/scheme-nil-and-port-nil', 'http', undefined), rd('/scheme-nil-and-port-80', 'http', undefined), rd('/scheme-nil-and-port-8080', 'http', '8080'), rd('/scheme-https-and-port-nil', 'https', undefined), rd('/scheme-https-and-port-443', 'https', undefined), rd('/scheme-https-and-port-8443', 'https', '8443')]),
    expectAll(a8080, [rd('/scheme-nil-and-port-nil', 'http', '8080', on8080), rd('/scheme-nil-and-port-80', 'http', undefined, on8080), rd('/scheme-https-and-port-nil', 'https', undefined, on8080)]),
    expectAll(a443, [rd('/scheme-nil-and-port-nil', 'https', undefined, on443), rd('/scheme-nil-and-port-443', 'https', undefined, on443), rd('/scheme-nil-and-port-8443', 'https', '8443', on443), rd('/scheme-http-and-port-nil', 'http', undefined, on443), rd('/scheme-http-and-port-80', 'http', undefined, on443), rd('/scheme-http-and-port-8080', 'http', '8080', on443)]),
  ]);
});

for (const [name, path, code] of [
  ['HTTPRoute303Redirect', '/see-other', 303],
  ['HTTPRoute307Redirect', '/temporary', 307],
  ['HTTPRoute308Redirect', '/permanent', 308],
] as const) {
  test(name, T, async (t) => {
    const routeName = `${code}-redirect`;
    await manifests(t, routeOf(routeName, [rule(path, redirect(`{statusCode: ${code}}`))]));
    const a = await acceptedOnSameNamespace(routeName);
    await expectEventually(a, { request: { path, method: 'POST' }, response: { statusCode: code }, redirect: { path } });
  });
}

test('HTTPRouteRewriteHost', T, async (t) => {
  await manifests(
    t,
    routeOf(
      'rewrite-host',
      [
        rule('/one', `filters: [{type: URLRewrite, urlRewrite: {hostname: one.example.org}}], ${toV(1)}`),
        `  - {filters: [{type: URLRewrite, urlRewrite: {hostname: example.org}}], ${toV(2)}}`,
        rule('/rewrite-host-and-modify-headers', `filters: [{type: URLRewrite, urlRewrite: {hostname: test.example.org}}, ${MODIFY_HEADERS}], ${toV(2)}`),
      ],
      'same-namespace',
      '\n  hostnames: [rewrite.example]',
    ),
  );
  const a = await acceptedOnSameNamespace('rewrite-host');
  await expectAll(a, [
    { request: { path: '/one', host: 'rewrite.example' }, expectedRequest: { host: 'one.example.org' }, backend: 'infra-backend-v1', namespace: INFRA_NS },
    { request: { path: '/', host: 'rewrite.example' }, expectedRequest: { host: 'example.org' }, backend: 'infra-backend-v2', namespace: INFRA_NS },
    { request: { path: '/rewrite-host-and-modify-headers', host: 'rewrite.example', headers: MODIFY_INPUT }, expectedRequest: { host: 'test.example.org', ...MODIFIED_REQUEST }, backend: 'infra-backend-v2', namespace: INFRA_NS },
  ]);
});

test('HTTPRouteRewritePath', T, async (t) => {
  const rw = (path: string, spec: string, extraFilter = '') => rule(path, `filters: [{type: URLRewrite, urlRewrite: {path: ${spec}}}${extraFilter}], ${toV(1)}`);
  await manifests(
    t,
    routeOf('rewrite-path', [
      rw('/prefix/one', '{type: ReplacePrefixMatch, replacePrefixMatch: /one}'),
      rw('/strip-prefix', '{type: ReplacePrefixMatch, replacePrefixMatch: /}'),
      rw('/full/one', '{type: ReplaceFullPath, replaceFullPath: /one}'),
      rw('/full/rewrite-path-and-modify-headers', '{type: ReplaceFullPath, replaceFullPath: /test}', `, ${MODIFY_HEADERS}`),
      rw('/prefix/rewrite-path-and-modify-headers', '{type: ReplacePrefixMatch, replacePrefixMatch: /prefix}', `, ${MODIFY_HEADERS}`),
    ]),
  );
  const a = await acceptedOnSameNamespace('rewrite-path');
  const c = (path: string, want: string, extra: object = {}, headers?: Record<string, string>) => ({ request: { path, headers }, expectedRequest: { path: want, ...extra }, backend: 'infra-backend-v1', namespace: INFRA_NS });
  await expectAll(a, [
    c('/prefix/one/two', '/one/two'),
    c('/strip-prefix/three', '/three'),
    c('/strip-prefix', '/'),
    c('/full/one/two', '/one'),
    c('/full/rewrite-path-and-modify-headers/test', '/test', MODIFIED_REQUEST, MODIFY_INPUT),
    c('/prefix/rewrite-path-and-modify-headers/one', '/prefix/one', MODIFIED_REQUEST, MODIFY_INPUT),
  ]);
});

/** Lines of the echo pods of `backend` that say they served `path`. */
async function echoLogCount(backend: string, path: string): Promise<number> {
  const logs = await lab.ok(['-n', INFRA_NS, 'logs', '-l', `app=${backend}`, '--tail=-1', '--max-log-requests=10']);
  return logs.split('\n').filter((l) => l.startsWith(`Echoing back request made to ${path} to client`)).length;
}

test('HTTPRouteRequestMirror', T, async (t) => {
  const mirror = (n: number) => `{type: RequestMirror, requestMirror: {backendRef: {name: infra-backend-v${n}, namespace: ${INFRA_NS}, port: 8080}}}`;
  await manifests(t, routeOf('request-mirror', [rule('/mirror', `filters: [${mirror(2)}], ${toV(1)}`), rule('/mirror-and-modify-headers', `filters: [${MODIFY_HEADERS}, ${mirror(2)}], ${toV(1)}`)]));
  const a = await acceptedOnSameNamespace('request-mirror');
  const id = `${Date.now()}`;
  await expectAll(a, [ok(`/mirror/${id}`, 'infra-backend-v1'), { request: { path: `/mirror-and-modify-headers/${id}`, headers: MODIFY_INPUT }, expectedRequest: MODIFIED_REQUEST, backend: 'infra-backend-v1', namespace: INFRA_NS }]);
  await eventually('the mirrored requests in infra-backend-v2 logs', async () => (await echoLogCount('infra-backend-v2', `/mirror/${id}`)) > 0 && (await echoLogCount('infra-backend-v2', `/mirror-and-modify-headers/${id}`)) > 0, 30_000, 500);
});

test('HTTPRouteRequestMultipleMirrors', T, async (t) => {
  const mirror = (n: number) => `{type: RequestMirror, requestMirror: {backendRef: {name: infra-backend-v${n}, namespace: ${INFRA_NS}, port: 8080}}}`;
  await manifests(t, routeOf('request-multiple-mirrors', [rule('/multi-mirror', `filters: [${mirror(2)}, ${mirror(3)}], ${toV(1)}`)]));
  const a = await acceptedOnSameNamespace('request-multiple-mirrors');
  const path = `/multi-mirror/${Date.now()}`;
  await expectEventually(a, ok(path, 'infra-backend-v1'));
  await eventually('the mirrored request in infra-backend-v2 and -v3 logs', async () => (await echoLogCount('infra-backend-v2', path)) > 0 && (await echoLogCount('infra-backend-v3', path)) > 0, 30_000, 500);
});

test('HTTPRouteRequestPercentageMirror', T, async (t) => {
  await manifests(t, routeOf('request-percentage-mirror', [rule('/percent-mirror', `filters: [{type: RequestMirror, requestMirror: {backendRef: {name: infra-backend-v2, namespace: ${INFRA_NS}, port: 8080}, percent: 20}}], ${toV(1)}`)]));
  const a = await acceptedOnSameNamespace('request-percentage-mirror');
  const path = `/percent-mirror/${Date.now()}`;
  await expectEventually(a, ok(path, 'infra-backend-v1'));
  const total = 500;
  const before = await echoLogCount('infra-backend-v2', path);
  let next = 0;
  await Promise.all(Array.from({ length: 10 }, async () => {
    while (next++ < total) assert.equal((await send(a, { request: { path } })).status, 200);
  }));
  // 3 binomial standard deviations around 20 % of 500 (the suite's acceptance band).
  const band = 3 * Math.sqrt(total * 0.2 * 0.8);
  await eventually(`about 20 % of ${total} requests mirrored (within ${band.toFixed(0)})`, async () => {
    const mirrored = (await echoLogCount('infra-backend-v2', path)) - before;
    if (Math.abs(mirrored - total * 0.2) > band) throw new Error(`${mirrored} mirrored`);
    return true;
  }, 20_000, 1000);
});

for (const [name, field, routeName, prefix] of [
  ['HTTPRouteTimeoutRequest', 'request', 'request-timeout', 'request-timeout'],
  ['HTTPRouteTimeoutBackendRequest', 'backendRequest', 'backend-request-timeout', 'backend-timeout'],
] as const) {
  test(name, T, async (t) => {
    await manifests(t, routeOf(routeName, [rule(`/${prefix}`, `timeouts: {${field}: 500ms}, ${toV(1)}`), rule(`/disable-${prefix}`, `timeouts: {${field}: 0s}, ${toV(1)}`)]));
    const a = await acceptedOnSameNamespace(routeName);
    await expectAll(a, [status(`/${prefix}?delay=1s`, 504), ok(`/disable-${prefix}?delay=1s`, 'infra-backend-v1')]);
  });
}

test('HTTPRouteRetry', T, async (t) => {
  await manifests(
    t,
    routeOf('retries', [rule('/retry/code-500-attempts-3', `retry: {codes: [500], attempts: 3}, backendRefs: [{name: infra-backend-v3, port: 8080}]`), rule('/retry/code-all-attempts-2', `retry: {codes: [500, 502, 503, 504], attempts: 2}, backendRefs: [{name: infra-backend-v3, port: 8080}]`)]),
  );
  const a = await acceptedOnSameNamespace('retries');
  let n = 0;
  const c = (path: string, code: number, succeedAfter: number, want: number) => ({
    request: { path, makePath: () => `${path}?responseCode=${code}&succeedAfter=${succeedAfter}&uuid=${process.pid}-${Date.now()}-${n++}` },
    response: { statusCode: want },
    ...(want === 200 ? { backend: 'infra-backend-v3', namespace: INFRA_NS } : {}),
  });
  await expectAll(a, [
    c('/retry/code-500-attempts-3', 500, 2, 200),
    c('/retry/code-500-attempts-3', 500, 4, 500),
    c('/retry/code-500-attempts-3', 503, 2, 503),
    c('/retry/code-all-attempts-2', 500, 1, 200),
    c('/retry/code-all-attempts-2', 500, 3, 500),
    c('/retry/code-all-attempts-2', 502, 1, 200),
    c('/retry/code-all-attempts-2', 502, 3, 502),
    c('/retry/code-all-attempts-2', 503, 1, 200),
    c('/retry/code-all-attempts-2', 504, 1, 200),
  ]);
});

test('HTTPRouteListenerPortMatching', T, async (t) => {
  const G = 'httproute-listener-port-matching';
  const l = (name: string, port: number, host: string) => `{name: ${name}, port: ${port}, protocol: HTTP, hostname: ${host}, allowedRoutes: {namespaces: {from: Same}}}`;
  const r = (name: string, ref: string, n: number) => `${HTTPROUTE}\nmetadata: {name: ${name}, namespace: ${INFRA_NS}}\nspec:\n  parentRefs: [{name: ${G}, namespace: ${INFRA_NS}, ${ref}}]\n  rules: [{${toV(n)}}]`;
  await manifests(
    t,
    [
      `${GATEWAY}\nmetadata: {name: ${G}, namespace: ${INFRA_NS}}\nspec:\n  gatewayClassName: ${GATEWAY_CLASS}\n  listeners: [${l('listener-1', 80, 'foo.com')}, ${l('listener-2', 8080, 'foo.com')}, ${l('listener-3', 8080, 'bar.com')}, ${l('listener-4', 8090, 'foo.com')}, ${l('listener-5', 8090, 'bar.com')}]`,
      r('backend-v1', 'port: 80', 1),
      r('backend-v2', 'port: 8080', 2),
      r('backend-v3', 'port: 8090, sectionName: listener-4', 3),
    ].join('\n---\n'),
  );
  const a = await gatewayAddress(lab, gw(G));
  for (const n of ['backend-v1', 'backend-v2', 'backend-v3']) {
    await eventually(`${n} Accepted by ${G}`, async () => routeParents(await lab.getJson<KubeObject>('httproute', n, INFRA_NS)).some((p) => p.controllerName === CONTROLLER_NAME && condition(p.conditions, 'Accepted')?.status === 'True'));
  }
  await expectAll(a, [
    ok('/', 'infra-backend-v1', INFRA_NS, { host: 'foo.com', port: 80 }),
    ok('/', 'infra-backend-v2', INFRA_NS, { host: 'foo.com', port: 8080 }),
    ok('/', 'infra-backend-v2', INFRA_NS, { host: 'bar.com', port: 8080 }),
    ok('/', 'infra-backend-v3', INFRA_NS, { host: 'foo.com', port: 8090 }),
    status('/', 404, { host: 'bar.com', port: 8090 }),
    status('/', 404, { host: 'bar.com', port: 80 }),
  ]);
});

test('HTTPRouteBackendProtocolH2C', T, async (t) => {
  await manifests(t, routeOf('backend-protocol-h2c', [`  - {${toV(1, 8081)}}`]));
  const a = await acceptedOnSameNamespace('backend-protocol-h2c');
  // echo-basic's h2c port answers only HTTP/2 requests: a 200 echo means the gateway spoke h2c.
  await expectEventually(a, ok('/', 'infra-backend-v1'));
  const echo = JSON.parse((await send(a, { request: { path: '/' } })).body) as { proto: string };
  assert.equal(echo.proto, 'HTTP/2.0');
});

test('HTTPRouteBackendProtocolWebSocket', T, async (t) => {
  await manifests(t, routeOf('backend-protocol-ws', [`  - {${toV(1, 8082)}}`]));
  const a = await acceptedOnSameNamespace('backend-protocol-ws');
  const { default: WebSocket } = await import('ws');
  const { connectFromExt } = await import('../../support/lab.js');
  await eventually('a WebSocket echo through the Gateway', async () => {
    const sock = await connectFromExt(a, 80);
    const ws = new WebSocket(`ws://${a}/ws`, { createConnection: () => sock } as never);
    try {
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
      });
      const echoed = await new Promise<string>((resolve, reject) => {
        ws.once('message', (d) => resolve(String(d)));
        ws.once('error', reject);
        ws.send('ping through the gateway');
      });
      assert.equal(echoed, 'ping through the gateway');
      return true;
    } finally {
      ws.terminate();
    }
  }, 30_000, 500);
});

test('HTTPRouteCORS', T, async (t) => {
  const cors = (path: string, spec: string) => rule(path, `filters: [{type: CORS, cors: ${spec}}], ${toV(1)}`);
  await manifests(
    t,
    routeOf('cors', [
      cors('/cors-1', "{allowOrigins: ['https://www.foo.com', 'https://*.bar.com'], allowMethods: [GET, OPTIONS], allowHeaders: [x-header-1, x-header-2], exposeHeaders: [x-header-3, x-header-4], allowCredentials: true, maxAge: 3600}"),
      cors('/cors-wildcard-origin', "{allowOrigins: ['*'], allowMethods: [PUT], allowCredentials: false}"),
    ]),
  );
  const a = await acceptedOnSameNamespace('cors');
  const preflight = (origin: string) => ({ path: '/cors-1', method: 'OPTIONS', headers: { Origin: origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-header-1, x-header-2' } });
  const allowed = (origin: string) => ({
    request: preflight(origin),
    response: {
      statusCode: [200, 204],
      validHeaderValues: {
        'access-control-allow-origin': [origin],
        'access-control-allow-methods': ['GET, OPTIONS', 'OPTIONS, GET'],
        'access-control-allow-headers': ['x-header-1, x-header-2', 'x-header-2, x-header-1'],
        'access-control-expose-headers': ['x-header-3, x-header-4', 'x-header-4, x-header-3'],
        'access-control-max-age': ['3600'],
        'access-control-allow-credentials': ['true'],
      },
    },
  });
  await expectAll(a, [
    allowed('https://www.foo.com'),
    allowed('https://www.bar.com'),
    allowed('https://xpto.www.bar.com'),
    { request: preflight('https://foobar.com'), response: { statusCode: [200, 204], absentHeaders: ['access-control-allow-origin'] } },
    { request: { path: '/cors-1', headers: { Origin: 'https://www.foo.com' } }, response: { validHeaderValues: { 'access-control-allow-origin': ['https://www.foo.com'], 'access-control-allow-credentials': ['true'], 'access-control-expose-headers': ['x-header-3, x-header-4', 'x-header-4, x-header-3'] } }, backend: 'infra-backend-v1', namespace: INFRA_NS },
    { request: { path: '/cors-wildcard-origin', method: 'OPTIONS', headers: { Origin: 'https://anything.example', 'access-control-request-method': 'PUT' } }, response: { statusCode: [200, 204], validHeaderValues: { 'access-control-allow-origin': ['*', 'https://anything.example'] } } },
  ]);
});
