import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelTrace, overlayOf, parseTraceForm, TraceFormError } from '../../../src/ui/trace-form.js';
import { modelOf } from '../netpol/fixtures/build.js';
import { NAMESPACES, namespaceObject, podObject, policy } from '../netpol/fixtures/topology.js';
import type { KubeObject } from '../../../src/api/types.js';

test('the form reads from, to and PORT[/PROTOCOL], naming a bad field', () => {
  assert.deepEqual(parseTraceForm({ from: ' x/a ', to: '10.0.0.1', port: '53/UDP' }), { from: 'x/a', to: '10.0.0.1', port: 53, protocol: 'UDP' });
  assert.deepEqual(parseTraceForm({ from: 'x/a', to: 'x/b', port: '' }), { from: 'x/a', to: 'x/b', protocol: 'TCP' });
  assert.deepEqual(parseTraceForm({ from: 'x/a', to: 'x/b', port: 80 }), { from: 'x/a', to: 'x/b', port: 80, protocol: 'TCP' });
  assert.throws(() => parseTraceForm({ to: 'x/b' }), (e: Error) => e instanceof TraceFormError && /^from: required/.test(e.message));
  assert.throws(() => parseTraceForm({ from: 'x/a' }), /to: required/);
  assert.throws(() => parseTraceForm({ from: 'x/a', to: 'x/b', port: '70000' }), /port: "70000" is not PORT/);
  assert.throws(() => parseTraceForm([]), /JSON object/);
});

const node = (name: string, podCIDR: string, ip: string, vtep?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, annotations: vtep ? { 'flatnet.dev/vtep-mac': vtep } : {} },
  spec: { podCIDR, podCIDRs: [podCIDR] },
  status: { addresses: [{ type: 'InternalIP', address: ip }] },
});

test('overlay mode from the nodes: VTEP MACs mean vxlan', () => {
  assert.equal(overlayOf([node('a', '10.244.1.0/24', '172.18.0.11', '02:00:00:00:00:01')]), 'vxlan');
  assert.equal(overlayOf([node('a', '10.244.1.0/24', '172.18.0.11')]), 'host-gw');
});

test('a denied pod-to-pod flow: the prediction names the policy; unknown pods are named', async () => {
  const policyModel = modelOf({ pods: ['x/a', 'x/b'].map((r) => podObject(r)), namespaces: NAMESPACES.map((n) => namespaceObject(n)), policies: [policy('x', 'deny-b', { podSelector: { matchLabels: { pod: 'b' } }, ingress: [] })] });
  const objects = { policy: policyModel, services: [], slices: [], nodes: [node('node-1', '10.244.1.0/24', '172.18.0.11', '02:00:00:00:00:01')] };
  const { text, report } = await modelTrace(objects, { from: 'x/a', to: 'x/b', port: '80' });
  assert.match(text, /x\/deny-b/);
  assert.match(text, /models only: no probe was asked for/);
  assert.equal(report.kernel, undefined);
  await assert.rejects(modelTrace(objects, { from: 'x/zzz', to: 'x/b', port: '80' }), /from: pod x\/zzz does not exist/);
  await assert.rejects(modelTrace(objects, { from: 'x/a', to: 'backend', port: '80' }), /to: "backend" is not NAMESPACE\/POD/);
  await assert.rejects(modelTrace(objects, { from: 'x/a', to: 'node:nope', port: '80' }), /to: node "nope" does not exist \(nodes: node-1\)/);
});
