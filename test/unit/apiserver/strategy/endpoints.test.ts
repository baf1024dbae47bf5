import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import { strategyFor } from '../../../../src/apiserver/strategy/index.js';
import { endpointsStrategy } from '../../../../src/apiserver/strategy/endpoints.js';
import { ctx, setup } from './support.js';

const ep = (name: string, subsets: unknown[]): KubeObject => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name }, subsets } as KubeObject);
const subset = { addresses: [{ ip: '10.244.1.5' }], ports: [{ port: 80, protocol: 'TCP' }] };

test('endpoints: no generation, a Status answers a DELETE, a PUT of a missing Endpoints creates it', () => {
  assert.equal(strategyFor(R.endpoints), endpointsStrategy);
  assert.equal(endpointsStrategy.generation, undefined);
  assert.equal(endpointsStrategy.returnsDeletedObject, false);
  const reg = setup();
  const { code, entry } = reg.update(R.endpoints, 'default', 'put', ep('put', []), ctx());
  assert.equal(code, 201);
  assert.equal('subsets' in entry.obj, false);
});

test('subsets: [] is never stored, on create, update, merge patch or apply', () => {
  const reg = setup();
  const created = reg.create(R.endpoints, 'default', ep('web', []), ctx()).entry.obj;
  assert.equal('subsets' in created, false, JSON.stringify(created));
  assert.equal(created.metadata.generation, undefined);
  const filled = reg.update(R.endpoints, 'default', 'web', ep('web', [subset]), ctx()).entry.obj;
  assert.equal((filled as { subsets?: unknown[] }).subsets?.length, 1);
  const emptied = reg.update(R.endpoints, 'default', 'web', ep('web', []), ctx()).entry.obj;
  assert.equal('subsets' in emptied, false);
  reg.update(R.endpoints, 'default', 'web', ep('web', [subset]), ctx());
  const patched = reg.patch(R.endpoints, 'default', 'web', 'merge', { subsets: [] }, ctx()).entry.obj;
  assert.equal('subsets' in patched, false);
  const applied = reg.patch(R.endpoints, 'default', 'applied', 'apply', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'applied' }, subsets: [] }, ctx()).entry.obj;
  assert.equal('subsets' in applied, false);
});
