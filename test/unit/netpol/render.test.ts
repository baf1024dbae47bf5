// The nftables state and transactions rendered from compiled pods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NftTransaction } from '../../../src/linux/nft.js';
import { compileNode } from '../../../src/netpol/compile.js';
import { renderDiff, renderSets, renderTable, stateSize } from '../../../src/netpol/render.js';
import type { KubeObject } from '../../../src/api/types.js';
import { modelOf } from './fixtures/build.js';
import { GATEWAY, NAMESPACES, namespaceObject, NODE_NAME, POD_CIDR, podIp, podObject, policy } from './fixtures/topology.js';

const pods = ['x/a', 'x/b', 'x/c', 'y/a'];
function stateFor(policies: KubeObject[], admitted = pods) {
  const model = modelOf({ pods: pods.map((r) => podObject(r)), namespaces: NAMESPACES.map((n) => namespaceObject(n)), policies });
  return renderSets(compileNode(model, NODE_NAME), admitted.map(podIp));
}

const allowFromY = policy('x', 'from-y', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }], ports: [{ port: 80 }] }] });

test('pods whose policies allow the same thing share one class', () => {
  const s = stateFor([allowFromY]);
  assert.equal(s.ingressPods.size, 3);
  assert.equal(new Set(s.ingressPods.values()).size, 1);
  const [c] = s.classes.values();
  assert.match(c.name, /^in-[0-9a-f]{16}$/);
  assert.deepEqual(c.ports, [`${podIp('y/a')} . tcp . 80`]);
  assert.deepEqual(c.any, []);
  assert.equal(s.egressPods.size, 0);
  assert.deepEqual(stateSize(s), { classes: 1, elements: 1, isolatedIngress: 3, isolatedEgress: 0, admitted: 4 });
});

test('a change adds the new class, repoints the pod and drops the unused class, in that order', () => {
  const before = stateFor([allowFromY]);
  const after = stateFor([allowFromY, policy('x', 'a-81', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ ports: [{ port: 81 }] }] })], ['x/a', 'x/b', 'x/c']);
  const tx = new NftTransaction();
  renderDiff(tx, before, after);
  const text = tx.toString();
  const newClass = after.ingressPods.get(podIp('x/a'))!;
  assert.notEqual(newClass, before.ingressPods.get(podIp('x/a')));
  const addChain = text.indexOf(`add chain inet flatnet-policy ${newClass}`);
  const repoint = text.indexOf(`add element inet flatnet-policy ingress-pods { ${podIp('x/a')} : jump ${newClass} }`);
  assert.ok(addChain >= 0 && repoint > addChain, text);
  assert.match(text, new RegExp(`delete element inet flatnet-policy ingress-pods \\{ ${podIp('x/a').replace(/\./g, '\\.')} \\}`));
  assert.match(text, new RegExp(`delete element inet flatnet-policy admitted-pods \\{ ${podIp('y/a').replace(/\./g, '\\.')} \\}`));
  assert.doesNotMatch(text, /delete chain/, 'the old class still serves x/b and x/c');
  // Dropping the last policy drops every class.
  const none = stateFor([], ['x/a', 'x/b', 'x/c']);
  const tx2 = new NftTransaction();
  renderDiff(tx2, after, none);
  assert.equal((tx2.toString().match(/delete chain/g) ?? []).length, 2);
  const tx3 = new NftTransaction();
  assert.equal(renderDiff(tx3, none, none).changes, 0);
  assert.equal(tx3.empty, true);
});

test('the table guards the pod CIDR and sends isolated pods to their class', () => {
  const text = renderTable(new NftTransaction(), { podCIDR: POD_CIDR, gateway: GATEWAY }, stateFor([allowFromY])).toString();
  assert.match(text, /add chain inet flatnet-policy forward \{ type filter hook forward priority filter; policy accept; \}/);
  assert.match(text, /add rule inet flatnet-policy forward ct state established,related accept/);
  assert.match(text, /ip daddr 10\.244\.1\.0\/24 ip daddr != 10\.244\.1\.1 ip daddr != @admitted-pods counter log group 13 prefix "flatnet:pol:not-admitted" drop/);
  assert.match(text, /ip saddr vmap @egress-pods/);
  assert.match(text, /ip daddr vmap @ingress-pods/);
  assert.match(text, /add rule inet flatnet-policy input ip saddr vmap @egress-pods/);
  // Sets and chains exist before the map elements that jump to them.
  const [c] = stateFor([allowFromY]).classes.values();
  assert.ok(text.indexOf(`add chain inet flatnet-policy ${c.name}`) < text.indexOf(`jump ${c.name}`));
});

test('peers allowed on every protocol go to a concatenated interval set (address . protocol 0-255)', () => {
  const s = stateFor([policy('x', 'from-y-any', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }] })]);
  const [c] = s.classes.values();
  assert.deepEqual(c.any, [`${podIp('y/a')} . 0-255`]);
  assert.deepEqual(c.ports, []);
  const text = renderTable(new NftTransaction(), { podCIDR: POD_CIDR, gateway: GATEWAY }, s).toString();
  assert.match(text, new RegExp(`add set inet flatnet-policy ${c.name}-any \\{ type ipv4_addr \\. inet_proto; flags interval; \\}`));
  assert.match(text, new RegExp(`add rule inet flatnet-policy ${c.name} ip saddr \\. meta l4proto @${c.name}-any return`));
  // No plain interval set anywhere: nft would list its elements before every element change.
  for (const m of text.matchAll(/add set inet flatnet-policy (\S+) \{ type ([^;]+);([^}]*)\}/g)) {
    if (m[3].includes('interval')) assert.match(m[2], / \. /, `${m[1]} is a plain interval set`);
  }
});
