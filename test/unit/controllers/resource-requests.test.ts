// The request arithmetic the scheduler's resource fit and the agent's admission share
// (resource-requests.ts): exact quantities, upstream's effective pod request, the fit check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocatableOf, amountsOf, insufficientResources, podRequests, scaledQuantity } from '../../../src/controllers/resource-requests.js';

test('quantities are exact and rounded up: millicores for cpu, whole units otherwise', () => {
  const milli = (q: string | number) => scaledQuantity(q, 3);
  const units = (q: string | number) => scaledQuantity(q, 0);
  assert.deepEqual(['100m', '0.1', '.1', '1', '2', '1.5', '1e3', '1k', '1n', '1500u', 0.25, 3].map(milli), [100, 100, 100, 1000, 2000, 1500, 1000000, 1000000, 1, 2, 250, 3000]);
  assert.deepEqual(['1Ki', '1.5Gi', '128Mi', '1G', '2500m', '1e-3', '10Gi', '4194304Ki', '0'].map(units), [1024, 1.5 * 2 ** 30, 128 * 2 ** 20, 1e9, 3, 1, 10 * 2 ** 30, 4 * 2 ** 30, 0]);
  assert.deepEqual(['', 'abc', '1Qi', '1.2.3', '.', 'Mi'].map(units), [undefined, undefined, undefined, undefined, undefined, undefined]);
});

test('the amounts that count: cpu, memory, ephemeral-storage and upstream\'s scalar resources; pods and unknown names are not requests', () => {
  const a = amountsOf({ cpu: '250m', memory: '64Mi', 'ephemeral-storage': '1Gi', pods: '3', 'hugepages-2Mi': '2Mi', 'example.com/gpu': '1', 'attachable-volumes-csi-x': '1', storage: '1Gi' });
  assert.deepEqual(Object.fromEntries(a), { cpu: 250, memory: 64 * 2 ** 20, 'ephemeral-storage': 2 ** 30, 'hugepages-2Mi': 2 * 2 ** 20, 'example.com/gpu': 1, 'attachable-volumes-csi-x': 1 });
});

test('a pod\'s request: containers summed, at least the largest init container, plus overhead; zero requests are left out', () => {
  const c = (requests: Record<string, string>, restartPolicy?: string) => ({ name: 'c', resources: { requests }, ...(restartPolicy ? { restartPolicy } : {}) });
  const req = (spec: Parameters<typeof podRequests>[0]['spec']) => Object.fromEntries(podRequests({ spec }));
  assert.deepEqual(req({ containers: [c({ cpu: '100m', memory: '1Mi' }), c({ cpu: '200m' })] }), { cpu: 300, memory: 2 ** 20 });
  assert.deepEqual(req({ containers: [c({ cpu: '300m' })], initContainers: [c({ cpu: '1', memory: '1Ki' }), c({ cpu: '500m' })] }), { cpu: 1000, memory: 1024 });
  assert.deepEqual(req({ containers: [c({ cpu: '300m' })], overhead: { cpu: '50m', memory: '10Mi' } }), { cpu: 350, memory: 10 * 2 ** 20 });
  assert.deepEqual(req({ containers: [c({ cpu: '0' }), { name: 'none' }] }), {});
  assert.deepEqual(req({}), {});
});

test('sidecars (restartable init containers) add to the pod; an init container needs itself plus the sidecars started before it', () => {
  const c = (cpu: string, restartPolicy?: string) => ({ name: 'c', resources: { requests: { cpu } }, ...(restartPolicy ? { restartPolicy } : {}) });
  // Running: 300m + sidecars 100m + 200m = 600m. Initialising: the plain init container 700m beside the 100m sidecar = 800m.
  assert.deepEqual(Object.fromEntries(podRequests({ spec: { containers: [c('300m')], initContainers: [c('100m', 'Always'), c('700m'), c('200m', 'Always')] } })), { cpu: 800 });
  assert.deepEqual(Object.fromEntries(podRequests({ spec: { containers: [c('300m')], initContainers: [c('100m', 'Always'), c('400m'), c('200m', 'Always')] } })), { cpu: 600 });
});

test('fit: pods first, then cpu, memory, ephemeral-storage and the other resources by name, each with upstream\'s figures', () => {
  const node = allocatableOf({ cpu: '2', memory: '1Gi', 'ephemeral-storage': '10Gi', pods: '2' });
  assert.equal(node.pods, 2);
  const request = amountsOf({ 'example.com/x': '1', memory: '2Gi', cpu: '1500m', 'ephemeral-storage': '1Gi' });
  const lacking = insufficientResources(request, node, { pods: 2, requested: amountsOf({ cpu: '1' }) });
  assert.deepEqual(lacking, [
    { resource: 'pods', reason: 'Too many pods', requested: 1, used: 2, capacity: 2 },
    { resource: 'cpu', reason: 'Insufficient cpu', requested: 1500, used: 1000, capacity: 2000 },
    { resource: 'memory', reason: 'Insufficient memory', requested: 2 * 2 ** 30, used: 0, capacity: 2 ** 30 },
    { resource: 'example.com/x', reason: 'Insufficient example.com/x', requested: 1, used: 0, capacity: 0 },
  ]);
  assert.deepEqual(insufficientResources(amountsOf({ cpu: '1' }), node, { pods: 1, requested: amountsOf({ cpu: '1' }) }), []);
  // Requesting nothing needs only a slot, even on a node whose resources are all taken.
  assert.deepEqual(insufficientResources(new Map(), node, { pods: 1, requested: amountsOf({ cpu: '5' }) }), []);
});
