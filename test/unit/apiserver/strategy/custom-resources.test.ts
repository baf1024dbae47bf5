import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { mustFindResource } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import { CRD_CLEANUP_FINALIZER, type CustomResourceDefinition } from '../../../../src/api/crd/types.js';
import { customResourceInfo } from '../../../../src/apiserver/crd/resource.js';
import { strategyFor } from '../../../../src/apiserver/strategy/index.js';
import { customResourceDefinitionStrategy } from '../../../../src/apiserver/strategy/custom-resources.js';
import { WIDGET_CRD } from '../../crd/fixtures.js';
import { ctx, setup, statusOf } from './support.js';

function widgets() {
  const crd = parse(WIDGET_CRD) as CustomResourceDefinition;
  return customResourceInfo(crd, crd.spec.versions[0], crd.spec.names);
}

const CRDS = mustFindResource('apiextensions.k8s.io', 'customresourcedefinitions');
const widget = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'demo.flatnet.dev/v1', kind: 'Widget', metadata: { name }, spec });

test('a custom resource gets a strategy built from its CRD: generation, 415 for strategic merge, selectable fields, a Status for DELETE', () => {
  const r = widgets();
  const s = strategyFor(r);
  assert.equal(strategyFor(r), s, 'one strategy per CRD version');
  assert.deepEqual(s.generation, { ignores: ['metadata', 'status', 'apiVersion', 'kind'] });
  assert.equal(s.strategicMerge, 'unsupported');
  assert.deepEqual(Object.keys(s.selectableFields ?? {}), ['spec.size']);
  assert.equal(s.returnsDeletedObject, false);
  assert.ok(s.decode, 'custom resources are checked against their schema');
});

test('custom resources through the registry: pruned, defaulted, validated; status dropped on create; generation counts spec only', () => {
  const reg = setup();
  const r = widgets();
  const warnings: string[] = [];
  const body = widget('w', { size: 'small', bogus: 1 });
  body.status = { replicas: 5 };
  const created = reg.create(r, 'default', body, ctx({ fieldValidation: 'Warn', warnings })).entry.obj;
  assert.deepEqual(warnings, ['unknown field "spec.bogus"']);
  assert.equal((created.spec as { replicas: number }).replicas, 1, 'schema default');
  assert.equal('bogus' in (created.spec as object), false);
  assert.equal(created.status, undefined, 'status is a subresource: a create does not set it');
  assert.equal(created.metadata.generation, 1);
  const bad = statusOf(() => reg.create(r, 'default', widget('x', { size: 'huge' }), ctx()));
  assert.equal(bad.code, 422);
  const resized = reg.patch(r, 'default', 'w', 'merge', { spec: { size: 'large' } }, ctx()).entry.obj;
  assert.equal(resized.metadata.generation, 2);
  const relabelled = reg.patch(r, 'default', 'w', 'merge', { metadata: { labels: { a: 'b' } } }, ctx()).entry.obj;
  assert.equal(relabelled.metadata.generation, 2);
  const withStatus = reg.patch(r, 'default', 'w', 'merge', { status: { replicas: 2 } }, ctx(), { subresource: 'status' }).entry.obj;
  assert.equal(withStatus.metadata.generation, 2);
  assert.equal(statusOf(() => reg.patch(r, 'default', 'w', 'strategic', { spec: { size: 'small' } }, ctx())).code, 415);
});

test('a CustomResourceDefinition counts spec changes and waits for its custom resources on delete', () => {
  assert.equal(strategyFor(CRDS), customResourceDefinitionStrategy);
  assert.deepEqual(customResourceDefinitionStrategy.deletionFinalizers, [CRD_CLEANUP_FINALIZER]);
  const reg = setup();
  const crd = parse(WIDGET_CRD) as KubeObject;
  const created = reg.create(CRDS, '', crd, ctx()).entry.obj;
  assert.equal(created.metadata.generation, 1);
  const marked = reg.delete(CRDS, '', 'widgets.demo.flatnet.dev', {}, ctx());
  assert.equal(marked.removed, undefined);
  assert.deepEqual(marked.entry.obj.metadata.finalizers, [CRD_CLEANUP_FINALIZER]);
});
