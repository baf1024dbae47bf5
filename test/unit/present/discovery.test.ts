import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregatedDiscovery, legacyDiscovery, setAdvertisedServerAddress } from '../../../src/apiserver/present/index.js';
import { RESOURCES, SERVED_RESOURCES } from '../../../src/api/resources.js';

type Any = any;

test('aggregated /api holds the core group only', () => {
  const doc = aggregatedDiscovery('api') as Any;
  assert.equal(doc.kind, 'APIGroupDiscoveryList');
  assert.equal(doc.apiVersion, 'apidiscovery.k8s.io/v2');
  assert.equal(doc.items.length, 1);
  assert.equal(doc.items[0].metadata.name, '');
  const v1 = doc.items[0].versions[0];
  assert.equal(v1.version, 'v1');
  assert.equal(v1.freshness, 'Current');
  const pods = v1.resources.find((r: Any) => r.resource === 'pods');
  assert.deepEqual(pods.responseKind, { group: '', version: 'v1', kind: 'Pod' });
  assert.equal(pods.scope, 'Namespaced');
  assert.equal(pods.singularResource, 'pod');
  assert.deepEqual(pods.shortNames, ['po']);
  assert.deepEqual(pods.categories, ['all']);
  assert.ok(pods.verbs.includes('watch'));
  const log = pods.subresources.find((s: Any) => s.subresource === 'log');
  assert.deepEqual(log, { subresource: 'log', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get'] });
  const exec = pods.subresources.find((s: Any) => s.subresource === 'exec');
  assert.equal(exec.responseKind.kind, 'PodExecOptions');
  const ns = v1.resources.find((r: Any) => r.resource === 'namespaces');
  assert.equal(ns.scope, 'Cluster');
  const secrets = v1.resources.find((r: Any) => r.resource === 'secrets');
  assert.equal('shortNames' in secrets, false);
});

test('aggregated /apis lists every named group with scale as autoscaling/v1 Scale', () => {
  const doc = aggregatedDiscovery('apis') as Any;
  const names = doc.items.map((i: Any) => i.metadata.name);
  // Every group served is listed once, from RESOURCES (other groups join as kinds are added).
  assert.deepEqual([...names].sort(), [...new Set(RESOURCES.filter((r) => r.group !== '').map((r) => r.group))].sort());
  for (const g of [
    'apps',
    'batch',
    'discovery.k8s.io',
    'networking.k8s.io',
    'coordination.k8s.io',
    'rbac.authorization.k8s.io',
    'authentication.k8s.io',
    'authorization.k8s.io',
    'gateway.networking.k8s.io',
  ]) assert.ok(names.includes(g), g);
  const apps = doc.items[0].versions[0];
  const deploy = apps.resources.find((r: Any) => r.resource === 'deployments');
  const scale = deploy.subresources.find((s: Any) => s.subresource === 'scale');
  assert.deepEqual(scale.responseKind, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  const gw = doc.items.find((i: Any) => i.metadata.name === 'gateway.networking.k8s.io');
  const gateways = gw.versions[0].resources.find((r: Any) => r.resource === 'gateways');
  assert.deepEqual(gateways.shortNames, ['gtw']);
  assert.deepEqual(gateways.categories, ['gateway-api']);
  // Gateway API: v1 (preferred, first) and the v1beta1 its standard bundle also serves.
  assert.deepEqual(gw.versions.map((v: Any) => v.version), ['v1', 'v1beta1']);
  // Every served resource appears exactly once per version it is served at.
  const all = [aggregatedDiscovery('api') as Any, doc].flatMap((d: Any) =>
    d.items.flatMap((i: Any) => i.versions.flatMap((v: Any) => v.resources.map((r: Any) => `${i.metadata.name}/${v.version}/${r.resource}`))),
  );
  assert.equal(all.length, SERVED_RESOURCES.length);
  assert.equal(new Set(all).size, SERVED_RESOURCES.length);
});

test('legacy /api, /apis, /apis/<group>', () => {
  setAdvertisedServerAddress('127.0.0.1:16443');
  assert.deepEqual(legacyDiscovery('/api'), {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:16443' }],
  });
  const apis = legacyDiscovery('/apis') as Any;
  assert.equal(apis.kind, 'APIGroupList');
  const apps = apis.groups.find((g: Any) => g.name === 'apps');
  assert.deepEqual(apps, { name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } });
  assert.equal((legacyDiscovery('/apis/networking.k8s.io') as Any).kind, 'APIGroup');
  assert.equal(legacyDiscovery('/apis/nope.example.com/v1'), undefined);
  assert.equal(legacyDiscovery('/api/v2'), undefined);
});

test('legacy resource lists carry subresource entries', () => {
  const core = legacyDiscovery('/api/v1') as Any;
  assert.equal(core.kind, 'APIResourceList');
  assert.equal(core.groupVersion, 'v1');
  const names = core.resources.map((r: Any) => r.name);
  for (const n of ['pods', 'pods/log', 'pods/exec', 'pods/portforward', 'pods/status', 'services', 'services/proxy', 'namespaces/finalize']) {
    assert.ok(names.includes(n), n);
  }
  const pods = core.resources.find((r: Any) => r.name === 'pods');
  assert.deepEqual(
    { ...pods, verbs: undefined },
    { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: undefined, shortNames: ['po'], categories: ['all'] },
  );
  const apps = legacyDiscovery('/apis/apps/v1/') as Any;
  assert.equal(apps.groupVersion, 'apps/v1');
  const scale = apps.resources.find((r: Any) => r.name === 'deployments/scale');
  assert.deepEqual(scale, { name: 'deployments/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
  const status = apps.resources.find((r: Any) => r.name === 'deployments/status');
  assert.equal(status.kind, 'Deployment');
  assert.equal('group' in status, false);
  const gw = legacyDiscovery('/apis/gateway.networking.k8s.io/v1') as Any;
  assert.ok(gw.resources.some((r: Any) => r.name === 'tcproutes'));
});
