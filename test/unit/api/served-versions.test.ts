// Resources served at other versions over the same stored objects: the Gateway API kinds Gateway API
// v1.6.1's standard bundle serves at v1beta1 too, and no others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATEWAY_API_GROUP, R, RESOURCES, SERVED_RESOURCES, findByKind, findResource, groupVersions, storageApiVersionOf } from '../../../src/api/resources.js';
import { storeKey } from '../../../src/apiserver/registry.js';
import { servedJson } from '../../../src/apiserver/crd/versions.js';

test('v1beta1 is served for GatewayClass, Gateway, HTTPRoute and ReferenceGrant only, stored at v1', () => {
  const beta = SERVED_RESOURCES.filter((r) => r.version === 'v1beta1');
  assert.deepEqual(beta.map((r) => `${r.group}/${r.plural}`), ['gatewayclasses', 'gateways', 'httproutes', 'referencegrants'].map((p) => `${GATEWAY_API_GROUP}/${p}`));
  for (const r of beta) {
    assert.equal(r.storageVersion, 'v1');
    assert.equal(storageApiVersionOf(r), `${GATEWAY_API_GROUP}/v1`);
    assert.equal(storeKey(r), storeKey(findResource(r.group, 'v1', r.plural)!));
  }
  for (const plural of ['grpcroutes', 'tlsroutes', 'tcproutes', 'udproutes']) assert.equal(findResource(GATEWAY_API_GROUP, 'v1beta1', plural), undefined, plural);
  assert.equal(findResource(GATEWAY_API_GROUP, 'v1', 'httproutes'), R.httproutes);
  assert.equal(findResource(GATEWAY_API_GROUP, 'v1beta1', 'httproutes')?.version, 'v1beta1');
  assert.equal(findByKind(`${GATEWAY_API_GROUP}/v1beta1`, 'ReferenceGrant')?.plural, 'referencegrants');
  assert.equal(storageApiVersionOf(R.httproutes), `${GATEWAY_API_GROUP}/v1`);
  // RESOURCES keeps one entry per kind; the other versions are listed after every storage version.
  assert.equal(RESOURCES.filter((r) => r.plural === 'httproutes').length, 1);
  const gw = groupVersions().filter((g) => g.group === GATEWAY_API_GROUP).map((g) => g.version);
  assert.deepEqual(gw, ['v1', 'v1beta1']);
});

test('a stored v1 object is answered at the version asked for, and as stored at its own', () => {
  const obj = { apiVersion: `${GATEWAY_API_GROUP}/v1`, kind: 'HTTPRoute', metadata: { name: 'a', namespace: 'default' }, spec: { hostnames: ['x.example'] } };
  const entry = { ns: 'default', name: 'a', rev: 3, obj, json: JSON.stringify(obj) };
  const beta = findResource(GATEWAY_API_GROUP, 'v1beta1', 'httproutes')!;
  assert.deepEqual(JSON.parse(servedJson(beta, entry)), { ...obj, apiVersion: `${GATEWAY_API_GROUP}/v1beta1` });
  assert.equal(servedJson(R.httproutes, entry), entry.json);
  assert.equal(obj.apiVersion, `${GATEWAY_API_GROUP}/v1`, 'the stored object is left as it is');
});
