import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import { strategyFor } from '../../../../src/apiserver/strategy/index.js';
import { NAMESPACE_NAME_LABEL, namespaceStrategy } from '../../../../src/apiserver/strategy/namespaces.js';
import { ctx, setup, statusOf } from './support.js';

const ns = (name: string, extra: Partial<KubeObject> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, ...extra });

test('namespaces: label names, no generation, a DELETE answers with the namespace', () => {
  assert.equal(strategyFor(R.namespaces), namespaceStrategy);
  assert.equal(namespaceStrategy.nameFormat, 'label');
  assert.equal(namespaceStrategy.returnsDeletedObject, true);
  assert.equal(namespaceStrategy.generation, undefined);
  assert.equal(statusOf(() => setup().create(R.namespaces, '', ns('a.b'), ctx())).code, 422, 'a subdomain is not a label');
});

test('create: the name label, the kubernetes finalizer and phase Active are set whatever the client sent', () => {
  const reg = setup();
  const created = reg.create(R.namespaces, '', ns('team', { status: { phase: 'Terminating' }, metadata: { name: 'team', labels: { [NAMESPACE_NAME_LABEL]: 'other', x: 'y' } } }), ctx()).entry.obj;
  assert.deepEqual(created.metadata.labels, { [NAMESPACE_NAME_LABEL]: 'team', x: 'y' });
  assert.deepEqual(created.spec, { finalizers: ['kubernetes'] });
  assert.deepEqual(created.status, { phase: 'Active' });
  assert.equal(created.metadata.generation, undefined);
});

test('update: the label comes back, spec.finalizers change only through /finalize, status is kept', () => {
  const reg = setup();
  const created = reg.create(R.namespaces, '', ns('team'), ctx()).entry.obj;
  const edited = structuredClone(created);
  edited.metadata.labels = { x: 'y' };
  edited.spec = { finalizers: [] };
  edited.status = { phase: 'Terminating' };
  const updated = reg.update(R.namespaces, '', 'team', edited, ctx()).entry.obj;
  assert.deepEqual(updated.metadata.labels, { x: 'y', [NAMESPACE_NAME_LABEL]: 'team' });
  assert.deepEqual(updated.spec, { finalizers: ['kubernetes'] });
  assert.deepEqual(updated.status, { phase: 'Active' });
});

test('delete: Terminating until /finalize empties spec.finalizers; no propagation finalizers; the default namespaces stay', () => {
  const reg = setup();
  reg.create(R.namespaces, '', ns('doomed'), ctx());
  const marked = reg.delete(R.namespaces, '', 'doomed', { propagationPolicy: 'Foreground' }, ctx());
  assert.equal(marked.removed, undefined);
  assert.equal((marked.entry.obj.status as { phase: string }).phase, 'Terminating');
  assert.equal(marked.entry.obj.metadata.finalizers, undefined, 'the namespace controller, not foregroundDeletion, empties it');
  assert.ok(marked.entry.obj.metadata.deletionTimestamp);
  reg.update(R.namespaces, '', 'doomed', ns('doomed', { spec: { finalizers: [] } }), ctx(), 'finalize');
  assert.equal(statusOf(() => reg.get(R.namespaces, '', 'doomed')).code, 404);
  for (const name of ['default', 'kube-system', 'kube-public']) {
    const refused = statusOf(() => reg.delete(R.namespaces, '', name, {}, ctx()));
    assert.equal(refused.code, 403, name);
  }
  assert.equal(reg.delete(R.namespaces, '', 'kube-node-lease', {}, ctx()).removed, undefined, 'kube-node-lease may be deleted');
});
