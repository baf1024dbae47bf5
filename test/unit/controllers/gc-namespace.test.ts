import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dependentAction, orphaned } from '../../../src/controllers/garbage-collector.js';
import { finalizedNamespace, namespacedResources } from '../../../src/controllers/namespace.js';
import type { OwnerReference } from '../../../src/api/types.js';

const ref = (uid: string): OwnerReference => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: uid, uid, controller: uid === 'a' });

test('a dependent is deleted only when all its owners are gone', () => {
  assert.deepEqual(dependentAction([ref('a')], new Set(['a'])), { kind: 'delete' });
  assert.deepEqual(dependentAction([ref('a'), ref('b')], new Set(['a'])), { kind: 'keep-owners', owners: [ref('b')] });
  assert.deepEqual(dependentAction([ref('a')], new Set()), { kind: 'none' });
  assert.deepEqual(dependentAction([], new Set(['a'])), { kind: 'none' });
});

test('orphaning drops only the deleted owner', () => {
  assert.deepEqual(orphaned({ metadata: { ownerReferences: [ref('a'), ref('b')] } }, 'a'), [ref('b')]);
});

test('namespace finalization removes only the kubernetes finalizer; every namespaced resource is emptied', () => {
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' }, spec: { finalizers: ['kubernetes', 'other'] } };
  assert.deepEqual(finalizedNamespace(ns).spec, { finalizers: ['other'] });
  const plurals = namespacedResources().map((r) => r.plural);
  for (const p of ['pods', 'services', 'endpoints', 'endpointslices', 'configmaps', 'deployments', 'replicasets', 'leases', 'httproutes']) assert.ok(plurals.includes(p), p);
  assert.ok(!plurals.includes('nodes') && !plurals.includes('namespaces'));
});
