// The gateway controller's status decisions: conditions keep their transition time while status
// and reason hold, route parents of other controllers survive, unchanged statuses are not written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeConditions } from '../../../../src/gateway/controller/conditions.js';
import { gatewayClassStatus, gatewayStatus, ingressStatus, routeStatus } from '../../../../src/gateway/controller/status-plan.js';
import { GATEWAY_CONTROLLER_NAME, type Condition, type RouteParentStatus } from '../../../../src/gateway/model/types.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:05:00Z';
const cond = (type: string, status: Condition['status'], reason: string, gen = 1, message = ''): Condition => ({ type, status, reason, message, observedGeneration: gen });

test('a condition keeps lastTransitionTime while status and reason hold, and gets now when either changes', () => {
  const first = mergeConditions(undefined, [cond('Accepted', 'True', 'Accepted'), cond('Programmed', 'False', 'Pending')], T0);
  assert.deepEqual(first.map((c) => c.lastTransitionTime), [T0, T0]);
  const second = mergeConditions(first, [cond('Accepted', 'True', 'Accepted', 2, 'new message'), cond('Programmed', 'True', 'Programmed', 2)], T1);
  assert.deepEqual(second.map((c) => [c.type, c.lastTransitionTime, c.observedGeneration, c.message]), [
    ['Accepted', T0, 2, 'new message'],
    ['Programmed', T1, 2, ''],
  ]);
  const reasonOnly = mergeConditions(second, [cond('Accepted', 'True', 'SomethingElse', 2)], T1);
  assert.equal(reasonOnly[0]!.lastTransitionTime, T1);
});

test('GatewayClass: written when the conditions change, not when they are the same', () => {
  const wanted = [cond('Accepted', 'True', 'Accepted')];
  const s = gatewayClassStatus(undefined, wanted, T0);
  assert.deepEqual(s, { conditions: [{ ...wanted[0], lastTransitionTime: T0 }] });
  assert.equal(gatewayClassStatus(s, wanted, T1), undefined);
  assert.ok(gatewayClassStatus(s, [cond('Accepted', 'False', 'InvalidParameters')], T1));
});

test('Gateway: addresses, conditions and listeners; listener conditions matched by name', () => {
  const wanted = {
    addresses: [{ type: 'IPAddress' as const, value: '172.18.255.1' }],
    conditions: [cond('Accepted', 'True', 'Accepted'), cond('Programmed', 'False', 'Pending')],
    listeners: [{ name: 'http', supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }], attachedRoutes: 1, conditions: [cond('Accepted', 'True', 'Accepted')] }],
  };
  const s = gatewayStatus({ somethingElse: 1 }, wanted, T0)!;
  assert.equal(s.somethingElse, 1, 'fields the model does not own are kept');
  assert.deepEqual(s.addresses, wanted.addresses);
  assert.equal(gatewayStatus(s, wanted, T1), undefined);
  const more = gatewayStatus(s, { ...wanted, listeners: [{ ...wanted.listeners[0]!, attachedRoutes: 2 }] }, T1)!;
  const l = (more.listeners as { attachedRoutes: number; conditions: { lastTransitionTime: string }[] }[])[0]!;
  assert.equal(l.attachedRoutes, 2);
  assert.equal(l.conditions[0]!.lastTransitionTime, T0);
});

test("route parents: other controllers' entries are kept untouched, ours replaced or removed", () => {
  const foreign = { parentRef: { name: 'theirs', namespace: 'x' }, controllerName: 'example.com/other', conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'mine', lastTransitionTime: '2020-01-01T00:00:00Z', observedGeneration: 7 }] };
  const ours: RouteParentStatus = { parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'web' }, controllerName: GATEWAY_CONTROLLER_NAME, conditions: [cond('Accepted', 'True', 'Accepted')] };
  const s = routeStatus({ parents: [foreign] }, GATEWAY_CONTROLLER_NAME, [ours], T0)!;
  assert.deepEqual(s.parents, [foreign, { ...ours, conditions: [{ ...ours.conditions[0], lastTransitionTime: T0 }] }]);
  assert.equal(routeStatus(s, GATEWAY_CONTROLLER_NAME, [ours], T1), undefined);
  // The same parent written without the defaulted group/kind keeps its transition time.
  const spelled = routeStatus(s, GATEWAY_CONTROLLER_NAME, [{ ...ours, parentRef: { name: 'web' }, conditions: [cond('Accepted', 'True', 'Accepted', 2)] }], T1)!;
  assert.equal((spelled.parents as { conditions: { lastTransitionTime: string }[] }[])[1]!.conditions[0]!.lastTransitionTime, T0);
  // No entries wanted any more: ours go, theirs stay.
  assert.deepEqual(routeStatus(s, GATEWAY_CONTROLLER_NAME, [], T1), { parents: [foreign] });
  // A route that never had our entries and gets none is not written.
  assert.equal(routeStatus({ parents: [foreign] }, GATEWAY_CONTROLLER_NAME, [], T1), undefined);
  assert.equal(routeStatus(undefined, GATEWAY_CONTROLLER_NAME, [], T1), undefined);
});

test('Ingress: status.loadBalancer.ingress from the model, unchanged is not written', () => {
  assert.deepEqual(ingressStatus({ loadBalancer: {} }, [{ ip: '172.18.255.9' }]), { loadBalancer: { ingress: [{ ip: '172.18.255.9' }] } });
  assert.equal(ingressStatus({ loadBalancer: { ingress: [{ ip: '172.18.255.9' }] } }, [{ ip: '172.18.255.9' }]), undefined);
  assert.equal(ingressStatus({ loadBalancer: {} }, []), undefined);
  assert.deepEqual(ingressStatus({ loadBalancer: { ingress: [{ ip: '172.18.255.9' }] } }, []), { loadBalancer: {} });
});
