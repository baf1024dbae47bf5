import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planEndpointSlices, type EndpointSlice, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, HEADLESS_LABEL } from '../../../src/controllers/endpointslice-plan.js';
import { ip, makePod, makeService } from './fixtures.js';

let n = 0;
const namer = () => `web-${String(n++).padStart(5, 'x')}`;

/** Applies a plan to a set of slices as the API server would (bumping a version per write). */
function apply(slices: EndpointSlice[], plan: ReturnType<typeof planEndpointSlices>): EndpointSlice[] {
  const byName = new Map(slices.map((s) => [s.metadata.name!, s]));
  for (const s of plan.delete) byName.delete(s.metadata.name!);
  for (const s of [...plan.update, ...plan.create]) {
    byName.set(s.metadata.name!, { ...structuredClone(s), metadata: { ...structuredClone(s.metadata), resourceVersion: String(n++) } });
  }
  return [...byName.values()];
}

test('a Service gets slices of at most 100 endpoints with upstream labels and owner', () => {
  const svc = makeService('web');
  const pods = Array.from({ length: 250 }, (_, i) => makePod(`web-${i}`, { ip: ip(i), node: 'n1' }));
  const plan = planEndpointSlices(svc, pods, [], namer);
  assert.equal(plan.create.length, 3);
  assert.deepEqual(plan.create.map((s) => s.endpoints!.length).sort(), [100, 100, 50]);
  const s = plan.create[0]!;
  assert.equal(s.addressType, 'IPv4');
  assert.equal(s.metadata.labels![SERVICE_NAME_LABEL], 'web');
  assert.equal(s.metadata.labels![MANAGED_BY_LABEL], 'endpointslice-controller.k8s.io');
  assert.deepEqual(s.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'uid-svc-web', controller: true, blockOwnerDeletion: true }]);
  assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(s.endpoints![0], {
    addresses: [ip(0)],
    conditions: { ready: true, serving: true, terminating: false },
    nodeName: 'n1',
    targetRef: { kind: 'Pod', namespace: 'default', name: 'web-0', uid: 'uid-web-0' },
  });
});

test('one pod change rewrites only the slice that holds it; an unchanged world rewrites nothing', () => {
  const svc = makeService('web');
  const pods = Array.from({ length: 250 }, (_, i) => makePod(`web-${i}`, { ip: ip(i) }));
  let slices = apply([], planEndpointSlices(svc, pods, [], namer));
  const again = planEndpointSlices(svc, pods, slices, namer);
  assert.deepEqual([again.create.length, again.update.length, again.delete.length], [0, 0, 0]);
  pods[137] = makePod('web-137', { ip: ip(137), ready: false });
  const plan = planEndpointSlices(svc, pods, slices, namer);
  assert.equal(plan.create.length + plan.delete.length, 0);
  assert.equal(plan.update.length, 1);
  assert.ok(plan.update[0]!.endpoints!.some((e) => e.targetRef?.name === 'web-137' && !e.conditions.ready));
  slices = apply(slices, plan);
  // A new pod fills the partial slice instead of making a new one.
  pods.push(makePod('web-new', { ip: '10.244.9.9' }));
  const grow = planEndpointSlices(svc, pods, slices, namer);
  assert.equal(grow.create.length, 0);
  assert.equal(grow.update.length, 1);
  assert.equal(grow.update[0]!.endpoints!.length, 51);
  // A pod gone: only its slice is rewritten.
  slices = apply(slices, grow);
  const holder = slices.find((s) => s.endpoints!.some((e) => e.targetRef?.name === 'web-3'))!;
  const shrink = planEndpointSlices(svc, pods.filter((p) => p.metadata.name !== 'web-3'), slices, namer);
  assert.deepEqual(shrink.update.map((s) => s.metadata.name), [holder.metadata.name]);
});

test('terminating, not-ready and publishNotReadyAddresses conditions; pods without IP are skipped', () => {
  const svc = makeService('web');
  const pods = [makePod('a', { ip: '10.0.0.1', terminating: true }), makePod('b', { ip: '10.0.0.2', ready: false }), makePod('c', {}), makePod('d', { ip: '10.0.0.4', labels: { app: 'other' } })];
  const [slice] = planEndpointSlices(svc, pods, [], namer).create;
  assert.deepEqual(
    slice!.endpoints!.map((e) => [e.targetRef?.name, e.conditions]),
    [
      ['a', { ready: false, serving: true, terminating: true }],
      ['b', { ready: false, serving: false, terminating: false }],
    ],
  );
  const publish = makeService('web', { publishNotReadyAddresses: true });
  const [p] = planEndpointSlices(publish, pods, [], namer).create;
  assert.deepEqual(p!.endpoints!.map((e) => e.conditions.ready), [true, true]);
});

test('named target ports resolve per pod; different numbers go to different slices', () => {
  const svc = makeService('web', { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'web' }] });
  const pods = [
    makePod('a', { ip: '10.0.0.1', ports: [{ name: 'web', containerPort: 8080 }] }),
    makePod('b', { ip: '10.0.0.2', ports: [{ name: 'web', containerPort: 9090 }] }),
    makePod('c', { ip: '10.0.0.3', ports: [{ name: 'web', containerPort: 8080 }] }),
  ];
  const plan = planEndpointSlices(svc, pods, [], namer);
  const byPort = new Map(plan.create.map((s) => [s.ports![0]!.port, s.endpoints!.map((e) => e.targetRef?.name)]));
  assert.deepEqual(Object.fromEntries(byPort), { 8080: ['a', 'c'], 9090: ['b'] });
});

test('headless hostname and label; no endpoints keeps one placeholder slice', () => {
  const svc = makeService('db', { clusterIP: 'None', selector: { app: 'db' } });
  const pod = makePod('db-0', { ip: '10.0.0.1', labels: { app: 'db' } });
  pod.spec.hostname = 'db-0';
  pod.spec.subdomain = 'db';
  const [slice] = planEndpointSlices(svc, [pod], [], namer).create;
  assert.equal(slice!.endpoints![0]!.hostname, 'db-0');
  assert.equal(slice!.metadata.labels![HEADLESS_LABEL], '');
  const slices = apply([], { create: [slice!], update: [], delete: [] });
  const empty = planEndpointSlices(svc, [], slices, namer);
  assert.equal(empty.delete.length, 1);
  assert.equal(empty.create.length, 1);
  assert.deepEqual([empty.create[0]!.endpoints, empty.create[0]!.ports], [[], []]);
  const settled = apply(slices, empty);
  const noop = planEndpointSlices(svc, [], settled, namer);
  assert.deepEqual([noop.create.length, noop.update.length, noop.delete.length], [0, 0, 0]);
});
