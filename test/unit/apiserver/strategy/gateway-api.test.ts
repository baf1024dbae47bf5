import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import { strategyFor } from '../../../../src/apiserver/strategy/index.js';
import { gatewayApiStrategy } from '../../../../src/apiserver/strategy/gateway-api.js';
import { ctx, setup } from './support.js';

const route = (name: string, hostnames: string[]): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name },
  spec: { parentRefs: [{ name: 'gw' }], hostnames },
});

test('the Gateway API kinds behave as the CRDs that define them upstream, but take strategic merge patches as merge patches', () => {
  for (const r of [R.gatewayclasses, R.gateways, R.httproutes, R.grpcroutes, R.referencegrants, R.tcproutes, R.udproutes, R.tlsroutes]) {
    assert.equal(strategyFor(r), gatewayApiStrategy, r.plural);
  }
  assert.equal(gatewayApiStrategy.strategicMerge, 'merge');
  assert.equal(gatewayApiStrategy.returnsDeletedObject, false);
});

test('HTTPRoute: generation 1, bumped by spec changes, not by labels or status; a strategic merge patch merges maps and replaces lists', () => {
  const reg = setup();
  assert.equal(reg.create(R.httproutes, 'default', route('r', ['a.example']), ctx()).entry.obj.metadata.generation, 1);
  const patched = reg.patch(R.httproutes, 'default', 'r', 'strategic', { spec: { hostnames: ['b.example'] } }, ctx()).entry.obj;
  assert.equal(patched.metadata.generation, 2);
  assert.deepEqual((patched.spec as { hostnames: string[]; parentRefs: unknown[] }).hostnames, ['b.example']);
  assert.equal((patched.spec as { parentRefs: unknown[] }).parentRefs.length, 1);
  assert.equal(reg.patch(R.httproutes, 'default', 'r', 'merge', { metadata: { labels: { a: 'b' } } }, ctx()).entry.obj.metadata.generation, 2);
  const status = reg.patch(R.httproutes, 'default', 'r', 'merge', { status: { parents: [] } }, ctx(), { subresource: 'status' }).entry.obj;
  assert.equal(status.metadata.generation, 2);
});
