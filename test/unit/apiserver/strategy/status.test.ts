import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../../src/api/types.js';
import { strategyFor } from '../../../../src/apiserver/strategy/index.js';
import { statusOnlyUpdate } from '../../../../src/apiserver/strategy/status.js';

const stored = (extra: Partial<KubeObject> = {}): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'X',
    metadata: {
      name: 'a',
      uid: 'u-1',
      creationTimestamp: '2026-01-01T00:00:00Z',
      generation: 3,
      labels: { app: 'old' },
      annotations: { note: 'old' },
      finalizers: ['f/old'],
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'o-1' }],
      managedFields: [{ manager: 'm' }],
    },
    spec: { replicas: 1 },
    status: { phase: 'Old' },
    ...extra,
  }) as unknown as KubeObject;

/** A status write that tries to change everything. */
const request = (): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'X',
    metadata: { name: 'a', uid: 'u-2', creationTimestamp: '2030-01-01T00:00:00Z', deletionTimestamp: '2030-01-01T00:00:00Z', generation: 9, labels: { app: 'new' }, annotations: { note: 'new' }, finalizers: ['f/new'], ownerReferences: [] },
    spec: { replicas: 5 },
    status: { phase: 'New' },
  }) as unknown as KubeObject;

const write = (group: string, plural: string) => strategyFor({ group, plural }).prepareForStatusUpdate(request(), stored());

test('pods/status: spec and ownerReferences stay; labels, annotations, finalizers and status are the request\'s; no deletionTimestamp', () => {
  const next = write('', 'pods');
  assert.deepEqual(next.spec, { replicas: 1 });
  assert.equal(next.metadata.ownerReferences?.[0].uid, 'o-1');
  assert.deepEqual([next.metadata.labels, next.metadata.annotations, next.metadata.finalizers], [{ app: 'new' }, { note: 'new' }, ['f/new']]);
  assert.deepEqual(next.status, { phase: 'New' });
  assert.equal(next.metadata.deletionTimestamp, undefined);
  assert.deepEqual([next.metadata.uid, next.metadata.creationTimestamp, next.metadata.generation], ['u-1', '2026-01-01T00:00:00Z', 3]);
  assert.deepEqual(next.metadata.managedFields, [{ manager: 'm' }], 'a body without managedFields keeps the stored ones');
  // The QoS class is backfilled when the write drops it.
  const qos = strategyFor({ group: '', plural: 'pods' }).prepareForStatusUpdate(request(), stored({ status: { qosClass: 'BestEffort' } } as Partial<KubeObject>));
  assert.equal((qos.status as { qosClass?: string }).qosClass, 'BestEffort');
});

test('deployments/status keeps labels too; services, jobs, nodes only the spec', () => {
  const d = write('apps', 'deployments');
  assert.deepEqual([d.spec, d.metadata.labels, d.metadata.annotations], [{ replicas: 1 }, { app: 'old' }, { note: 'new' }]);
  for (const [group, plural] of [['', 'services'], ['batch', 'jobs'], ['', 'nodes'], ['apps', 'statefulsets'], ['networking.k8s.io', 'ingresses']]) {
    const n = write(group, plural);
    assert.deepEqual([n.spec, n.metadata.labels, n.metadata.ownerReferences], [{ replicas: 1 }, { app: 'new' }, []], plural);
  }
});

test('CRD status: spec, labels, annotations, ownerReferences and generation stay; finalizers are the request\'s', () => {
  const n = write('apiextensions.k8s.io', 'customresourcedefinitions');
  assert.deepEqual([n.spec, n.metadata.labels, n.metadata.annotations, n.metadata.generation], [{ replicas: 1 }, { app: 'old' }, { note: 'old' }, 3]);
  assert.equal(n.metadata.ownerReferences?.[0].uid, 'o-1');
  assert.deepEqual(n.metadata.finalizers, ['f/new']);
});

test('custom resources and Gateway API kinds: only status (and managedFields) come from the request', () => {
  const body = request();
  body.metadata.managedFields = [{ manager: 'status-writer' }] as never;
  const n = statusOnlyUpdate(body, stored());
  assert.deepEqual(n.metadata, { ...stored().metadata, managedFields: [{ manager: 'status-writer' }] });
  assert.deepEqual([n.spec, n.status], [{ replicas: 1 }, { phase: 'New' }]);
  const g = strategyFor({ group: 'gateway.networking.k8s.io', plural: 'gateways' }).prepareForStatusUpdate(request(), stored());
  assert.deepEqual(g.metadata.labels, { app: 'old' });
  const none = request();
  delete none.status;
  assert.equal(statusOnlyUpdate(none, stored()).status, undefined);
});
