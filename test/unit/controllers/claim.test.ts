import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adopted, planClaims, released } from '../../../src/controllers/claim.js';
import type { KubeObject } from '../../../src/api/types.js';

const owner: KubeObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-1', namespace: 'default', uid: 'rs' } };
const obj = (name: string, labels: Record<string, string>, controller?: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  metadata: { name, namespace: 'default', labels, ownerReferences: controller ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: controller, uid: controller, controller: true }] : undefined, ...extra },
});

test('adopts matching orphans, releases owned objects that stopped matching, leaves the rest', () => {
  const plan = planClaims(owner, { matchLabels: { app: 'web' } }, [
    obj('orphan', { app: 'web' }),
    obj('mine', { app: 'web' }, 'rs'),
    obj('strayed', { app: 'db' }, 'rs'),
    obj('others', { app: 'web' }, 'other'),
    obj('dying', { app: 'web' }, undefined, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
    obj('elsewhere', { app: 'web' }, undefined, { namespace: 'x' }),
  ]);
  assert.deepEqual(plan.adopt.map((o) => o.metadata.name), ['orphan']);
  assert.deepEqual(plan.release.map((o) => o.metadata.name), ['strayed']);
  assert.deepEqual(adopted(plan.adopt[0]!, owner).metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'rs', controller: true, blockOwnerDeletion: true }]);
  assert.equal(released(plan.release[0]!, owner).metadata.ownerReferences, undefined);
});
