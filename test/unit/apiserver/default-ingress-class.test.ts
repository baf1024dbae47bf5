// The DefaultIngressClass admission rule, as kube-apiserver applies it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/api/types.js';
import { admitDefaultIngressClass, defaultIngressClass } from '../../../src/apiserver/default-ingress-class.js';

const cls = (name: string, created: string, isDefault?: string): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name, creationTimestamp: created, ...(isDefault !== undefined ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': isDefault } } : {}) },
  spec: { controller: 'example.com/x' },
});
const ingress = (spec: Record<string, unknown> = {}, annotations?: Record<string, string>): KubeObject => ({ metadata: { name: 'i', ...(annotations ? { annotations } : {}) }, spec });

test('an Ingress without a class gets the default class; none marked default leaves it alone', () => {
  const classes = [cls('a', '2026-01-01T00:00:00Z'), cls('b', '2026-01-01T00:00:00Z', 'true'), cls('c', '2026-01-02T00:00:00Z', 'True')];
  const i = ingress();
  assert.equal(admitDefaultIngressClass(i, classes), 'b');
  assert.equal((i.spec as any).ingressClassName, 'b');
  const j = ingress();
  assert.equal(admitDefaultIngressClass(j, [cls('a', '2026-01-01T00:00:00Z')]), undefined);
  assert.equal((j.spec as any).ingressClassName, undefined);
});

test('several defaults: the newest wins, equal times the first name', () => {
  assert.equal(defaultIngressClass([cls('old', '2026-01-01T00:00:00Z', 'true'), cls('new', '2026-02-01T00:00:00Z', 'true')])?.metadata.name, 'new');
  assert.equal(defaultIngressClass([cls('zeta', '2026-01-01T00:00:00Z', 'true'), cls('alpha', '2026-01-01T00:00:00Z', 'true')])?.metadata.name, 'alpha');
});

test('an explicit class or the legacy annotation is never overridden', () => {
  const classes = [cls('d', '2026-01-01T00:00:00Z', 'true')];
  const named = ingress({ ingressClassName: 'other' });
  assert.equal(admitDefaultIngressClass(named, classes), undefined);
  assert.equal((named.spec as any).ingressClassName, 'other');
  const legacy = ingress({}, { 'kubernetes.io/ingress.class': 'nginx' });
  assert.equal(admitDefaultIngressClass(legacy, classes), undefined);
  assert.equal((legacy.spec as any).ingressClassName, undefined);
});
