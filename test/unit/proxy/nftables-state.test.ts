import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyFragment, type NftFragment, NftOps, NftTableState, renderTransactions } from '../../../src/proxy/nftables/state.js';

const frag = (elements: [string, string, string?][], chains: [string, string[]][] = [], sets: [string, string][] = []): NftFragment => ({
  elements: elements.map(([set, key, value]) => ({ set, key, value })),
  chains: chains.map(([name, rules]) => ({ name, rules })),
  sets: sets.map(([name, spec]) => ({ name, spec })),
});

function change(state: NftTableState, before: NftFragment, after: NftFragment): string {
  const ops = new NftOps();
  state.replace(before, after, ops);
  return ops.empty ? '' : renderTransactions('ip t', ops)[0];
}

test('adding a Service emits only its elements', () => {
  const s = new NftTableState();
  const a = frag([
    ['service-ips', '10.96.0.1 . tcp . 80', 'goto pick-1'],
    ['endpoints', '10.96.0.1 . tcp . 80 . 0', '10.244.1.2 . 8080'],
  ]);
  assert.equal(
    change(s, emptyFragment, a),
    'add table ip t\nadd element ip t service-ips { 10.96.0.1 . tcp . 80 : goto pick-1 }\nadd element ip t endpoints { 10.96.0.1 . tcp . 80 . 0 : 10.244.1.2 . 8080 }\n',
  );
  assert.equal(change(s, a, a), '', 'no change, no transaction');
});

test('a changed endpoint replaces exactly that element', () => {
  const s = new NftTableState();
  const a = frag([
    ['endpoints', 'k . 0', '10.244.1.2 . 80'],
    ['endpoints', 'k . 1', '10.244.1.3 . 80'],
  ]);
  change(s, emptyFragment, a);
  const b = frag([
    ['endpoints', 'k . 0', '10.244.1.2 . 80'],
    ['endpoints', 'k . 1', '10.244.1.4 . 80'],
  ]);
  assert.equal(change(s, a, b), 'add table ip t\ndelete element ip t endpoints { k . 1 }\nadd element ip t endpoints { k . 1 : 10.244.1.4 . 80 }\n');
});

test('shared elements and chains are reference counted', () => {
  const s = new NftTableState();
  const one = frag([['hairpin', '10.0.0.1 . 10.0.0.1']], [['pick-x', ['r']]]);
  const other = frag([['hairpin', '10.0.0.1 . 10.0.0.1']], [['pick-x', ['r']]]);
  assert.match(change(s, emptyFragment, one), /add chain ip t pick-x\nadd rule ip t pick-x r\nadd element ip t hairpin/);
  assert.equal(change(s, emptyFragment, other), '', 'second user adds nothing');
  assert.equal(change(s, one, emptyFragment), '', 'first user leaving removes nothing');
  assert.equal(change(s, other, emptyFragment), 'add table ip t\ndelete element ip t hairpin { 10.0.0.1 . 10.0.0.1 }\nflush chain ip t pick-x\ndelete chain ip t pick-x\n');
});

test('ordering: elements out, chains flushed and deleted, sets deleted, then additions', () => {
  const s = new NftTableState();
  const a = frag([['service-ips', 'k', 'goto aff-1']], [['aff-1', ['ip saddr @aff-1-a goto ep-a']], ['ep-a', ['dnat']]], [['aff-1-a', 'type ipv4_addr;']]);
  change(s, emptyFragment, a);
  const b = frag([['service-ips', 'k', 'goto aff-1']], [['aff-1', ['ip saddr @aff-1-b goto ep-b']], ['ep-b', ['dnat b']]], [['aff-1-b', 'type ipv4_addr;']]);
  assert.equal(
    change(s, a, b),
    [
      'add table ip t',
      'flush chain ip t ep-a',
      'flush chain ip t aff-1',
      'delete chain ip t ep-a',
      'delete set ip t aff-1-a',
      'add set ip t aff-1-b { type ipv4_addr; }',
      'add chain ip t ep-b',
      'add rule ip t aff-1 ip saddr @aff-1-b goto ep-b',
      'add rule ip t ep-b dnat b',
      '',
    ].join('\n'),
  );
});

test('big syncs are split between element commands, order kept', () => {
  const s = new NftTableState();
  const els: [string, string, string][] = Array.from({ length: 25 }, (_, i) => ['endpoints', `k . ${i}`, `v${i}`]);
  const ops = new NftOps();
  s.replace(emptyFragment, frag(els), ops);
  const scripts = renderTransactions('ip t', ops, [], { elementsPerCommand: 4, elementsPerTransaction: 10 });
  assert.equal(scripts.length, 3);
  const all = scripts.join('');
  assert.equal((all.match(/k \. \d+ :/g) ?? []).length, 25);
  assert.ok(scripts.every((sc) => (sc.match(/k \. \d+ :/g) ?? []).length <= 10));
});
