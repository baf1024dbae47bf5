import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { MemoryStore } from '../../../src/store/index.js';
import { ApiStatusError } from '../../../src/apiserver/errors.js';
import { DEFAULT_NAMESPACES, Registry, type WriteContext } from '../../../src/apiserver/registry.js';
import { ServiceAllocator } from '../../../src/apiserver/service-allocation.js';
import { sweepEvents } from '../../../src/apiserver/event-ttl.js';

function ctx(over: Partial<WriteContext> = {}): WriteContext {
  return { dryRun: false, fieldValidation: 'Strict', fieldManager: 'test', warnings: [], ...over };
}

function setup(): Registry {
  const store = new MemoryStore();
  const reg = new Registry(store, new ServiceAllocator({ serviceCIDR: '10.96.0.0/16', nodePortRange: '30000-32767' }));
  for (const name of DEFAULT_NAMESPACES) reg.create(R.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, ctx());
  return reg;
}

function statusOf(fn: () => unknown): { code: number; reason?: string; message?: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiStatusError) return { code: err.code, reason: err.status.reason, message: err.status.message };
    throw err;
  }
  assert.fail('expected an API error');
}

const cm = (name: string, data: Record<string, string> = { a: '1' }): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
const deploy = (name: string, image = 'nginx'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } } },
});
const pod = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra },
});

test('create sets uid, creationTimestamp and namespace (a ConfigMap has no generation); generateName makes a name', () => {
  const reg = setup();
  const { entry, code } = reg.create(R.configmaps, 'default', cm('a'), ctx());
  assert.equal(code, 201);
  assert.match(entry.obj.metadata.uid!, /^[0-9a-f-]{36}$/);
  assert.match(entry.obj.metadata.creationTimestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(entry.obj.metadata.generation, undefined, 'upstream sets generation only where the kind\'s strategy does');
  assert.equal(entry.obj.metadata.namespace, 'default');
  const gen = reg.create(R.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'web-' } }, ctx());
  assert.match(gen.entry.obj.metadata.name!, /^web-[a-z0-9]{5}$/);
  assert.equal(statusOf(() => reg.create(R.configmaps, 'default', cm('a'), ctx())).reason, 'AlreadyExists');
});

test('namespace checks: missing namespace is 404, terminating namespace is 403', () => {
  const reg = setup();
  const missing = statusOf(() => reg.create(R.configmaps, 'nowhere', cm('a'), ctx()));
  assert.equal(missing.code, 404);
  assert.equal(missing.message, 'namespaces "nowhere" not found');
  reg.create(R.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } }, ctx());
  reg.delete(R.namespaces, '', 'doomed', {}, ctx());
  const ns = reg.get(R.namespaces, '', 'doomed').obj;
  assert.equal((ns.status as { phase: string }).phase, 'Terminating');
  assert.ok(ns.metadata.deletionTimestamp);
  assert.deepEqual((ns.spec as { finalizers: string[] }).finalizers, ['kubernetes']);
  const forbidden = statusOf(() => reg.create(R.configmaps, 'doomed', cm('a'), ctx()));
  assert.equal(forbidden.code, 403);
  assert.match(forbidden.message!, /unable to create new content in namespace doomed because it is being terminated/);
  // /finalize with no finalizers left removes it.
  reg.update(R.namespaces, '', 'doomed', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' }, spec: { finalizers: [] } }, ctx(), 'finalize');
  assert.equal(statusOf(() => reg.get(R.namespaces, '', 'doomed')).code, 404);
  assert.equal(statusOf(() => reg.delete(R.namespaces, '', 'default', {}, ctx())).code, 403);
});

test('generation is bumped by spec changes only; no-op updates keep the resourceVersion', () => {
  const reg = setup();
  const created = reg.create(R.deployments, 'default', deploy('web'), ctx()).entry;
  const labelled = structuredClone(created.obj);
  labelled.metadata.labels = { x: 'y' };
  const afterLabel = reg.update(R.deployments, 'default', 'web', labelled, ctx()).entry;
  assert.equal(afterLabel.obj.metadata.generation, 1);
  assert.notEqual(afterLabel.rev, created.rev);
  const same = reg.update(R.deployments, 'default', 'web', structuredClone(afterLabel.obj), ctx()).entry;
  assert.equal(same.rev, afterLabel.rev, 'an update that changes nothing writes nothing');
  const newImage = structuredClone(afterLabel.obj);
  (newImage.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0].image = 'nginx:2';
  assert.equal(reg.update(R.deployments, 'default', 'web', newImage, ctx()).entry.obj.metadata.generation, 2);
  // Status updates go through /status only and do not bump generation.
  const withStatus = structuredClone(reg.get(R.deployments, 'default', 'web').obj);
  withStatus.status = { replicas: 1 };
  assert.deepEqual(reg.update(R.deployments, 'default', 'web', structuredClone(withStatus), ctx()).entry.obj.status, {}, 'the main endpoint ignores status');
  const st = reg.update(R.deployments, 'default', 'web', withStatus, ctx(), 'status').entry.obj;
  assert.deepEqual(st.status, { replicas: 1 });
  assert.equal(st.metadata.generation, 2);
});

test('a stale resourceVersion is 409 Conflict with the upstream message', () => {
  const reg = setup();
  const e = reg.create(R.configmaps, 'default', cm('c'), ctx()).entry;
  reg.update(R.configmaps, 'default', 'c', { ...structuredClone(e.obj), data: { a: '2' } }, ctx());
  const conflict = statusOf(() => reg.update(R.configmaps, 'default', 'c', { ...structuredClone(e.obj), data: { a: '3' } }, ctx()));
  assert.equal(conflict.code, 409);
  assert.equal(conflict.message, 'Operation cannot be fulfilled on configmaps "c": the object has been modified; please apply your changes to the latest version and try again');
});

test('finalizers keep a deleted object until the last one is removed', () => {
  const reg = setup();
  reg.create(R.configmaps, 'default', { ...cm('f'), metadata: { name: 'f', finalizers: ['example.com/hold'] } }, ctx());
  const marked = reg.delete(R.configmaps, 'default', 'f', {}, ctx()).entry.obj;
  assert.ok(marked.metadata.deletionTimestamp);
  const live = structuredClone(reg.get(R.configmaps, 'default', 'f').obj);
  live.metadata.finalizers = [];
  reg.update(R.configmaps, 'default', 'f', live, ctx());
  assert.equal(statusOf(() => reg.get(R.configmaps, 'default', 'f')).code, 404);
});

test('pods: graceful deletion when bound, immediate when unbound or with grace 0; binding once', () => {
  const reg = setup();
  reg.create(R.pods, 'default', pod('unbound'), ctx());
  reg.delete(R.pods, 'default', 'unbound', {}, ctx());
  assert.equal(statusOf(() => reg.get(R.pods, 'default', 'unbound')).code, 404);

  reg.create(R.pods, 'default', pod('bound', { terminationGracePeriodSeconds: 20 }), ctx());
  reg.bind('default', 'bound', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { kind: 'Node', name: 'n1' } } as KubeObject, ctx());
  assert.equal((reg.get(R.pods, 'default', 'bound').obj.spec as { nodeName: string }).nodeName, 'n1');
  const again = statusOf(() => reg.bind('default', 'bound', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { kind: 'Node', name: 'n2' } } as KubeObject, ctx()));
  assert.equal(again.code, 409);
  assert.match(again.message!, /already assigned to node "n1"/);

  const marked = reg.delete(R.pods, 'default', 'bound', {}, ctx()).entry.obj;
  assert.equal(marked.metadata.deletionGracePeriodSeconds, 20);
  assert.ok(marked.metadata.deletionTimestamp);
  assert.ok(reg.get(R.pods, 'default', 'bound'), 'still there while the agent stops it');
  reg.delete(R.pods, 'default', 'bound', { gracePeriodSeconds: 0 }, ctx());
  assert.equal(statusOf(() => reg.get(R.pods, 'default', 'bound')).code, 404);
});

test('dry runs store nothing and keep no Service allocations', () => {
  const reg = setup();
  const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'np' }, spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80, nodePort: 30080 }] } };
  const dry = reg.create(R.services, 'default', structuredClone(svc), ctx({ dryRun: true })).entry.obj;
  assert.match((dry.spec as { clusterIP: string }).clusterIP, /^10\.96\./);
  assert.equal(statusOf(() => reg.get(R.services, 'default', 'np')).code, 404);
  // The node port was not kept: a real create can take it, and a second Service cannot.
  reg.create(R.services, 'default', structuredClone(svc), ctx());
  const taken = statusOf(() => reg.create(R.services, 'default', { ...structuredClone(svc), metadata: { name: 'np2' } }, ctx()));
  assert.equal(taken.code, 422);
  assert.match(taken.message!, /spec.ports\[0\].nodePort: Invalid value: 30080: provided port is already allocated/);
  // Deleting releases the port.
  reg.delete(R.services, 'default', 'np', {}, ctx());
  reg.create(R.services, 'default', { ...structuredClone(svc), metadata: { name: 'np2' } }, ctx());
});

test('invalid objects are 422 with causes; several causes use the list form', () => {
  const reg = setup();
  const one = statusOf(() => reg.create(R.configmaps, 'default', cm('Bad_Name'), ctx()));
  assert.equal(one.code, 422);
  assert.match(one.message!, /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  try {
    reg.create(R.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 0 }, { port: 70000 }] } }, ctx());
    assert.fail('expected 422');
  } catch (err) {
    assert.ok(err instanceof ApiStatusError);
    assert.equal(err.code, 422);
    assert.match(err.status.message!, /^Service "s" is invalid: \[.*spec.ports\[0\].port: Invalid value: 0: must be between 1 and 65535, inclusive/);
    assert.ok((err.status.details?.causes?.length ?? 0) >= 2);
  }
});

test('body apiVersion, kind and namespace must agree with the URL', () => {
  const reg = setup();
  assert.equal(statusOf(() => reg.create(R.configmaps, 'default', { ...cm('x'), kind: 'Secret' }, ctx())).code, 400);
  assert.equal(statusOf(() => reg.create(R.configmaps, 'default', { ...cm('x'), apiVersion: 'apps/v1' }, ctx())).code, 400);
  assert.equal(statusOf(() => reg.create(R.configmaps, 'default', { ...cm('x'), metadata: { name: 'x', namespace: 'other' } }, ctx())).code, 400);
});

test('namespaces always carry the kubernetes.io/metadata.name label', () => {
  const reg = setup();
  const ns = reg.create(R.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', labels: { a: 'b' } } }, ctx()).entry.obj;
  assert.deepEqual(ns.metadata.labels, { a: 'b', 'kubernetes.io/metadata.name': 'team' });
  const next = structuredClone(ns);
  next.metadata.labels = { a: 'c' };
  assert.equal(reg.update(R.namespaces, '', 'team', next, ctx()).entry.obj.metadata.labels?.['kubernetes.io/metadata.name'], 'team');
});

test('PUT creates a missing Endpoints or Lease (as upstream) but not a ConfigMap', () => {
  const reg = setup();
  const ep = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'e' }, subsets: [] } as KubeObject;
  assert.equal(reg.update(R.endpoints, 'default', 'e', ep, ctx()).code, 201);
  assert.equal(statusOf(() => reg.update(R.configmaps, 'default', 'missing', cm('missing'), ctx())).code, 404);
});

test('events older than the TTL are swept, recent ones stay', () => {
  const reg = setup();
  const ev = (name: string, last: string): KubeObject =>
    ({ apiVersion: 'v1', kind: 'Event', metadata: { name }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Test', message: 'm', type: 'Normal', lastTimestamp: last }) as KubeObject;
  reg.create(R.events, 'default', ev('old.1', '2020-01-01T00:00:00Z'), ctx());
  const in90m = new Date(Date.now() + 90 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  reg.create(R.events, 'default', ev('new.1', in90m), ctx());
  assert.equal(sweepEvents(reg, 3600_000), 0, 'both were written just now');
  // Two hours later: the one last active at creation has expired, the one active at +90m has not.
  assert.equal(sweepEvents(reg, 3600_000, Date.now() + 120 * 60_000), 1);
  assert.deepEqual(reg.store.list('/events').entries.map((e) => e.name), ['new.1']);
});
