import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import { strategyFor } from '../../../../src/apiserver/strategy/index.js';
import { ingressStrategy } from '../../../../src/apiserver/strategy/ingresses.js';
import { IS_DEFAULT_CLASS_ANNOTATION } from '../../../../src/apiserver/default-ingress-class.js';
import { ctx, setup } from './support.js';

const ingress = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name },
  spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } }, ...spec },
});

test('ingresses: generation counts spec changes; status is cleared on create and kept on updates', () => {
  assert.equal(strategyFor(R.ingresses), ingressStrategy);
  const reg = setup();
  const body = ingress('i');
  body.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } };
  const created = reg.create(R.ingresses, 'default', body, ctx()).entry.obj;
  assert.deepEqual(created.status, {});
  assert.equal(created.metadata.generation, 1);
  const edited = structuredClone(created);
  (edited.spec as { defaultBackend: { service: { name: string } } }).defaultBackend.service.name = 'other';
  edited.status = { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } };
  const updated = reg.update(R.ingresses, 'default', 'i', edited, ctx()).entry.obj;
  assert.equal(updated.metadata.generation, 2);
  assert.deepEqual(updated.status, {});
});

test('a new Ingress naming no class gets the default IngressClass; one naming a class keeps it; updates never change it', () => {
  const reg = setup();
  const cls = (name: string, isDefault: boolean): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name, ...(isDefault ? { annotations: { [IS_DEFAULT_CLASS_ANNOTATION]: 'true' } } : {}) },
    spec: { controller: 'flatnet.dev/gateway' },
  });
  assert.equal(reg.create(R.ingressclasses, '', cls('plain', false), ctx()).entry.obj.metadata.generation, 1);
  const before = reg.create(R.ingresses, 'default', ingress('early'), ctx()).entry.obj;
  assert.equal((before.spec as { ingressClassName?: string }).ingressClassName, undefined, 'no default class yet');
  reg.create(R.ingressclasses, '', cls('flatnet', true), ctx());
  const defaulted = reg.create(R.ingresses, 'default', ingress('late'), ctx()).entry.obj;
  assert.equal((defaulted.spec as { ingressClassName?: string }).ingressClassName, 'flatnet');
  const named = reg.create(R.ingresses, 'default', ingress('named', { ingressClassName: 'plain' }), ctx()).entry.obj;
  assert.equal((named.spec as { ingressClassName?: string }).ingressClassName, 'plain');
  const touched = reg.patch(R.ingresses, 'default', 'early', 'merge', { metadata: { labels: { a: 'b' } } }, ctx()).entry.obj;
  assert.equal((touched.spec as { ingressClassName?: string }).ingressClassName, undefined);
});
