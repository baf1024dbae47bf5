import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R, RESOURCES } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import { generationChanged, strategyFor } from '../../../../src/apiserver/strategy/index.js';
import { SPEC_GENERATION, defaultStrategy } from '../../../../src/apiserver/strategy/default.js';
import { ctx, setup } from './support.js';

/** The kinds whose upstream 1.32 strategy sets metadata.generation (the Gateway API kinds being CRDs upstream). */
const WITH_GENERATION = new Set([
  'apps/deployments',
  'apps/replicasets',
  'apps/statefulsets',
  'apps/daemonsets',
  'batch/jobs',
  'batch/cronjobs',
  'discovery.k8s.io/endpointslices',
  'networking.k8s.io/networkpolicies',
  'networking.k8s.io/ingresses',
  'networking.k8s.io/ingressclasses',
  'policy/poddisruptionbudgets',
  'apiextensions.k8s.io/customresourcedefinitions',
  'admissionregistration.k8s.io/validatingadmissionpolicies',
  'admissionregistration.k8s.io/validatingadmissionpolicybindings',
  'gateway.networking.k8s.io/gatewayclasses',
  'gateway.networking.k8s.io/gateways',
  'gateway.networking.k8s.io/httproutes',
  'gateway.networking.k8s.io/grpcroutes',
  'gateway.networking.k8s.io/referencegrants',
  'gateway.networking.k8s.io/tcproutes',
  'gateway.networking.k8s.io/udproutes',
  'gateway.networking.k8s.io/tlsroutes',
]);

test('metadata.generation exists exactly on the kinds whose upstream strategy sets it', () => {
  for (const r of RESOURCES) {
    const key = `${r.group}/${r.plural}`;
    assert.equal(strategyFor(r).generation !== undefined, WITH_GENERATION.has(key), key);
  }
});

test('only the kinds upstream lists answer a removing DELETE with the object; only Endpoints, Events and Leases are created by PUT', () => {
  const returning = RESOURCES.filter((r) => strategyFor(r).returnsDeletedObject).map((r) => `${r.group}/${r.plural}`);
  assert.deepEqual(returning.sort(), ['/namespaces', '/pods', '/serviceaccounts', '/services']);
  const createOnUpdate = RESOURCES.filter((r) => strategyFor(r).allowCreateOnUpdate).map((r) => `${r.group}/${r.plural}`);
  assert.deepEqual(createOnUpdate.sort(), ['/endpoints', '/events', 'coordination.k8s.io/leases']);
});

test('name formats: namespaces labels, services DNS-1035, RBAC path segments, everything else subdomains', () => {
  assert.equal(strategyFor(R.configmaps).nameFormat, 'subdomain');
  assert.equal(strategyFor(R.clusterroles).nameFormat, 'path');
  assert.equal(strategyFor(R.rolebindings).nameFormat, 'path');
  assert.equal(strategyFor(R.deployments).nameFormat, 'subdomain');
});

test('generationChanged: top-level fields but the ignored ones, plus the named metadata fields', () => {
  const base: KubeObject = { apiVersion: 'v1', kind: 'X', metadata: { name: 'a', labels: { a: '1' } }, spec: { n: 1 }, status: { s: 1 } };
  const changed = (f: (o: KubeObject) => void, rule = SPEC_GENERATION) => {
    const next = structuredClone(base);
    f(next);
    return generationChanged(rule, next, base);
  };
  assert.equal(changed(() => {}), false);
  assert.equal(changed((o) => ((o.spec as { n: number }).n = 2)), true);
  assert.equal(changed((o) => (o.status = { s: 2 })), false);
  assert.equal(changed((o) => (o.metadata.labels = { a: '2' })), false);
  assert.equal(changed((o) => ((o as { data?: unknown }).data = {})), true, 'a new top-level field counts');
  assert.equal(changed((o) => (o.metadata.labels = { a: '2' }), { ...SPEC_GENERATION, metadata: ['labels'] }), true);
  assert.equal(changed((o) => (o.metadata.annotations = {}), { ...SPEC_GENERATION, metadata: ['annotations'] }), false, 'absent and empty are the same');
});

test('default strategy: status cleared on create and kept on updates only for kinds with a status subresource', () => {
  const withStatus: KubeObject = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, status: { active: 3 } };
  defaultStrategy.prepareForCreate(R.jobs, withStatus);
  assert.deepEqual(withStatus.status, {});
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, status: 'kept' } as unknown as KubeObject;
  defaultStrategy.prepareForCreate(R.configmaps, cm);
  assert.equal((cm as { status?: unknown }).status, 'kept');
  const next: KubeObject = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, status: { active: 9 } };
  defaultStrategy.prepareForUpdate(R.jobs, next, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, status: { active: 1 } });
  assert.deepEqual(next.status, { active: 1 });
  defaultStrategy.prepareForUpdate(R.jobs, next, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' } });
  assert.equal(next.status, undefined);
});

const deploy = (name: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
});

test('Deployment generation: 1 on create, bumped by spec and annotation changes, not by labels or status', () => {
  const reg = setup();
  const created = reg.create(R.deployments, 'default', deploy('web'), ctx()).entry.obj;
  assert.equal(created.metadata.generation, 1);
  const labelled = structuredClone(created);
  labelled.metadata.labels = { tier: 'web' };
  assert.equal(reg.update(R.deployments, 'default', 'web', labelled, ctx()).entry.obj.metadata.generation, 1);
  const annotated = structuredClone(reg.get(R.deployments, 'default', 'web').obj);
  annotated.metadata.annotations = { note: 'x' };
  assert.equal(reg.update(R.deployments, 'default', 'web', annotated, ctx()).entry.obj.metadata.generation, 2);
  const scaled = structuredClone(reg.get(R.deployments, 'default', 'web').obj);
  (scaled.spec as { replicas: number }).replicas = 3;
  assert.equal(reg.update(R.deployments, 'default', 'web', scaled, ctx()).entry.obj.metadata.generation, 3);
  const status = structuredClone(reg.get(R.deployments, 'default', 'web').obj);
  status.status = { replicas: 3, observedGeneration: 3 };
  assert.equal(reg.update(R.deployments, 'default', 'web', status, ctx(), 'status').entry.obj.metadata.generation, 3);
  const forged = structuredClone(reg.get(R.deployments, 'default', 'web').obj);
  forged.metadata.generation = 40;
  assert.equal(reg.update(R.deployments, 'default', 'web', forged, ctx()).entry.obj.metadata.generation, 3, 'a client cannot set generation');
});

test('EndpointSlice generation counts endpoint and label changes; ConfigMap, Secret and Lease have none', () => {
  const reg = setup();
  const slice = (labels: Record<string, string>, ip: string): KubeObject =>
    ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 's', labels }, addressType: 'IPv4', endpoints: [{ addresses: [ip] }], ports: [] }) as KubeObject;
  assert.equal(reg.create(R.endpointslices, 'default', slice({ a: '1' }, '10.244.0.5'), ctx()).entry.obj.metadata.generation, 1);
  assert.equal(reg.update(R.endpointslices, 'default', 's', slice({ a: '2' }, '10.244.0.5'), ctx()).entry.obj.metadata.generation, 2);
  assert.equal(reg.update(R.endpointslices, 'default', 's', slice({ a: '2' }, '10.244.0.6'), ctx()).entry.obj.metadata.generation, 3);
  const cm = reg.create(R.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } } as KubeObject, ctx()).entry.obj;
  assert.equal(cm.metadata.generation, undefined);
  const changed = reg.update(R.configmaps, 'default', 'c', { ...structuredClone(cm), data: { a: '2' } } as KubeObject, ctx()).entry.obj;
  assert.equal(changed.metadata.generation, undefined);
  const secret = reg.create(R.secrets, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { a: 'eA==' } } as KubeObject, ctx()).entry.obj;
  assert.equal(secret.metadata.generation, undefined);
  const lease = reg.create(R.leases, 'default', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { holderIdentity: 'a' } }, ctx()).entry.obj;
  assert.equal(lease.metadata.generation, undefined);
});
