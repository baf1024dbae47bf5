import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredEndpointsObject, endpointsUpdate, OVER_CAPACITY_ANNOTATION } from '../../../src/controllers/endpoints-plan.js';
import { ip, makePod, makeService } from './fixtures.js';

test('ready pods under addresses, not-ready under notReadyAddresses, terminating left out', () => {
  const svc = makeService('web', { ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] });
  const pods = [makePod('b', { ip: '10.0.0.2', ready: false, node: 'n1' }), makePod('a', { ip: '10.0.0.1', node: 'n1' }), makePod('t', { ip: '10.0.0.3', terminating: true })];
  const ep = desiredEndpointsObject(svc, pods);
  assert.deepEqual(ep.subsets, [
    {
      addresses: [{ ip: '10.0.0.1', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }],
      notReadyAddresses: [{ ip: '10.0.0.2', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } }],
      ports: [{ port: 8080, protocol: 'TCP' }],
    },
  ]);
  assert.equal(ep.metadata.labels!['endpointslice.kubernetes.io/skip-mirror'], 'true');
  assert.deepEqual(desiredEndpointsObject(svc, []).subsets, []);
});

test('more than 1000 addresses are cut with the over-capacity annotation', () => {
  const svc = makeService('web');
  const pods = Array.from({ length: 1200 }, (_, i) => makePod(`p${i}`, { ip: ip(i), ready: i % 2 === 0 }));
  const ep = desiredEndpointsObject(svc, pods);
  const s = ep.subsets![0]!;
  assert.equal(s.addresses!.length, 600);
  assert.equal(s.notReadyAddresses!.length, 400);
  assert.equal(ep.metadata.annotations![OVER_CAPACITY_ANNOTATION], 'truncated');
  const small = desiredEndpointsObject(svc, pods.slice(0, 10));
  assert.equal(small.metadata.annotations, undefined);
});

test('endpointsUpdate answers nothing when current, and drops a stale over-capacity annotation', () => {
  const svc = makeService('web');
  const want = desiredEndpointsObject(svc, [makePod('a', { ip: '10.0.0.1' })]);
  const current = { ...structuredClone(want), metadata: { ...structuredClone(want.metadata), resourceVersion: '5' } };
  assert.equal(endpointsUpdate(want, current), undefined);
  current.metadata.annotations = { [OVER_CAPACITY_ANNOTATION]: 'truncated', keep: 'me' };
  const upd = endpointsUpdate(want, current)!;
  assert.deepEqual(upd.metadata.annotations, { keep: 'me' });
  assert.equal(upd.metadata.resourceVersion, '5');
});
