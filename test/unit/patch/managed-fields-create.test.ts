// A create's managedFields entry is built in one walk (fieldsV1Of); it must say exactly what the
// general path (the field set of the object, filtered to what managers own, written as fieldsV1)
// says, in the same key order, for the shapes the schema walk distinguishes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R, type ResourceInfo } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { recordUpdate } from '../../../src/api/patch/index.js';
import { ownedFieldSet } from '../../../src/api/patch/managed-fields.js';
import { applyDefaults } from '../../../src/api/validation/index.js';

function generalFieldsV1(r: ResourceInfo, obj: KubeObject): unknown {
  return ownedFieldSet(r, obj, { includeStatus: true }).toFieldsV1();
}

function createEntry(r: ResourceInfo, obj: KubeObject, withoutStatus = false): Record<string, unknown> {
  const out = recordUpdate(r, undefined, obj, 'kubectl-create', undefined, withoutStatus);
  const entries = out.metadata.managedFields as Record<string, unknown>[];
  assert.equal(entries.length, 1);
  return entries[0];
}

const pod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', uid: 'u', resourceVersion: '5', creationTimestamp: '2026-01-01T00:00:00Z', labels: { app: 'x', tier: 'a' }, annotations: { z: '1' }, finalizers: ['b', 'a'] },
  spec: {
    // duplicate list-map keys merge into one item; an empty list-map sets nothing
    containers: [
      { name: 'c', image: 'busybox', ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }], env: [] },
      { name: 'c', args: ['x'] },
      { name: 'a', image: 'nginx', securityContext: {} },
    ],
    volumes: [{ name: 'v', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }],
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [{ key: 'k', operator: 'Exists' }],
    hostAliases: null,
  },
  status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] },
};

const service: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 's', namespace: 'default' },
  spec: { selector: { app: 'x' }, ports: [{ port: 80, targetPort: 8080 }, { port: 53, protocol: 'UDP' }], ipFamilies: ['IPv4'], clusterIPs: ['10.96.0.9'] },
};

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd', namespace: 'default', labels: { app: 'd' } },
  spec: { replicas: 2, selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'n', image: 'nginx' }] } } },
};
applyDefaults(R.deployments, deployment);

const configMap: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { b: '2', a: '1' }, binaryData: {} };

for (const [r, obj] of [
  [R.pods, pod],
  [R.services, service],
  [R.deployments, deployment],
  [R.configmaps, configMap],
] as const) {
  test(`a ${r.kind} create records the same fieldsV1, in the same order, as the general field set`, () => {
    const e = createEntry(r, structuredClone(obj));
    assert.equal(JSON.stringify(e.fieldsV1), JSON.stringify(generalFieldsV1(r, obj)));
    assert.equal(e.manager, 'kubectl-create');
    assert.equal(e.operation, 'Update');
    assert.equal(e.fieldsType, 'FieldsV1');
    assert.equal(e.apiVersion, r.group ? `${r.group}/${r.version}` : r.version);
  });
}

test('identity and bookkeeping metadata are nobody’s; labels, annotations and finalizers are the creator’s', () => {
  const f = createEntry(R.pods, structuredClone(pod)).fieldsV1 as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(f['f:metadata']), ['f:annotations', 'f:finalizers', 'f:labels']);
  assert.equal(f['f:apiVersion'], undefined);
  assert.equal(f['f:kind'], undefined);
});

test('withoutStatus leaves status out of the entry (the main resource of a kind with a status subresource)', () => {
  const f = createEntry(R.pods, structuredClone(pod), true).fieldsV1 as Record<string, unknown>;
  assert.equal(f['f:status'], undefined);
  assert.ok(f['f:spec']);
});

test('an object that sets nothing ownable gets no managedFields', () => {
  const out = recordUpdate(R.configmaps, undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } }, 'm');
  assert.equal(out.metadata.managedFields, undefined);
});

test('null fields, bookkeeping-only metadata and stripped metadata keys match the general field set', () => {
  const shapes: KubeObject[] = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', generateName: 'c-', uid: 'u', generation: 3, managedFields: [] }, data: { a: '1' }, binaryData: null } as unknown as KubeObject,
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: null, annotations: {} }, data: { a: '1' } } as unknown as KubeObject,
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'u1' }] }, type: 'Opaque', stringData: { k: 'v' } },
  ];
  for (const obj of shapes) {
    const r = obj.kind === 'Secret' ? R.secrets : R.configmaps;
    const e = createEntry(r, structuredClone(obj));
    assert.equal(JSON.stringify(e.fieldsV1), JSON.stringify(generalFieldsV1(r, obj)), JSON.stringify(obj));
  }
});
