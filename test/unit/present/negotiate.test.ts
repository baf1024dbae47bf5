import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wantsAggregatedDiscovery, wantsTable } from '../../../src/apiserver/present/index.js';

// Accept headers observed from kubectl 1.32 (reference kubectl-compat §2 and §5).
const getAccept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const discoveryAccept =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

test('Table negotiation', () => {
  assert.equal(wantsTable(getAccept), true);
  assert.equal(wantsTable('application/json'), false);
  assert.equal(wantsTable('application/json;as=Table;v=v1beta1;g=meta.k8s.io'), false);
  assert.equal(wantsTable(undefined), false);
  assert.equal(wantsTable(discoveryAccept), false);
});

test('aggregated discovery negotiation', () => {
  assert.equal(wantsAggregatedDiscovery(discoveryAccept), true);
  assert.equal(wantsAggregatedDiscovery('application/json, */*'), false);
  assert.equal(wantsAggregatedDiscovery(getAccept), false);
  assert.equal(wantsAggregatedDiscovery('application/json; g=apidiscovery.k8s.io; v=v2; as=APIGroupDiscoveryList'), true);
});
