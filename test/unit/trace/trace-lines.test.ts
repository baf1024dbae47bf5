// The `nft -a monitor` parser on real output captured on this machine (nftables 1.0.6): two
// namespaces, a Service-like DNAT in `ip flatnet-proxy` and a drop in `inet flatnet-policy`,
// probes from source port 45678 traced by a temporary `inet flatnet-trace` table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dropOf, groupByPacket, parseMonitorLine, parseMonitorOutput, traceEvents } from '../../../src/trace/trace-lines.js';

const fixture = readFileSync(new URL('./fixtures/nft-monitor-trace.txt', import.meta.url), 'utf8');

test('ruleset events of the trace table are markers', () => {
  const lines = parseMonitorOutput(fixture);
  assert.deepEqual(lines[0], { kind: 'table-added', family: 'inet', table: 'flatnet-trace' });
  assert.ok(lines.some((l) => l.kind === 'table-deleted' && l.table === 'flatnet-trace'));
  assert.equal(lines.filter((l) => l.kind === 'other' && l.text.startsWith('add rule')).length, 4);
});

test('a packet line carries the addresses, ports, DSCP and flags the hook saw', () => {
  const l = parseMonitorLine(
    'trace id f8f1c781 inet flatnet-policy input packet: iif "trb-vb" ether saddr 76:72:67:f3:b9:51 ether daddr f2:55:42:7b:b0:e1 ip saddr 10.99.0.1 ip daddr 10.99.0.2 ip dscp cs0 ip ecn not-ect ip ttl 64 ip id 49574 ip protocol tcp ip length 60 tcp sport 45678 tcp dport 80 tcp flags == syn tcp window 64240 ',
  );
  assert.equal(l.kind, 'packet');
  if (l.kind !== 'packet') return;
  assert.equal(l.table, 'flatnet-policy');
  assert.equal(l.chain, 'input');
  assert.deepEqual(l.packet, { iif: 'trb-vb', saddr: '10.99.0.1', daddr: '10.99.0.2', dscp: 'cs0', protocol: 'tcp', sport: 45678, dport: 80, tcpFlags: 'syn' });
});

test('rule lines: text, handle, verdict and jump target; rules unknown to the monitor keep their handle', () => {
  assert.deepEqual(parseMonitorLine('trace id f8f1c781 ip flatnet-proxy services rule ip daddr . meta l4proto . th dport vmap @svc # handle 7 (verdict goto pick)'), {
    kind: 'rule',
    id: 'f8f1c781',
    family: 'ip',
    table: 'flatnet-proxy',
    chain: 'services',
    rule: 'ip daddr . meta l4proto . th dport vmap @svc',
    handle: 7,
    verdict: 'goto',
    target: 'pick',
  });
  const unknown = parseMonitorLine('trace id 68ca7e11 inet flatnet-trace pre unknown rule handle 3 (verdict continue)');
  assert.equal(unknown.kind, 'rule');
  if (unknown.kind === 'rule') {
    assert.equal(unknown.handle, 3);
    assert.equal(unknown.rule, '');
    assert.equal(unknown.verdict, 'continue');
  }
  assert.deepEqual(parseMonitorLine('trace id 0f6787bb ip flatnet-proxy nat-prerouting policy accept '), { kind: 'policy', id: '0f6787bb', family: 'ip', table: 'flatnet-proxy', chain: 'nat-prerouting', verdict: 'accept' });
});

test('packets grouped by trace id: the DNAT shows in the next hook, the drop is found', () => {
  const walks = groupByPacket(traceEvents(parseMonitorOutput(fixture)));
  const first = walks[0];
  assert.equal(first.id, 'f8f1c781');
  // The prerouting hook saw port 81; after the proxy's DNAT the input hook sees port 80.
  assert.deepEqual(
    first.packets.map((p) => `${p.table}/${p.chain}:${p.packet.dport}`),
    ['flatnet-trace/pre:81', 'flatnet-proxy/nat-prerouting:81', 'flatnet-policy/input:80'],
  );
  assert.equal(dropOf(first), undefined);
  const dropped = walks.filter((w) => dropOf(w));
  assert.equal(dropped.length, 2, 'the SYN to port 82 and its retransmission');
  const d = dropOf(dropped[0]);
  assert.ok(d && d.kind === 'rule');
  if (d && d.kind === 'rule') {
    assert.equal(d.table, 'flatnet-policy');
    assert.equal(d.handle, 3);
    assert.match(d.rule, /comment "ingress not allowed by any NetworkPolicy"$/);
  }
  // Replies (SYN-ACK, RST) come from port 80/81/82 towards 45678.
  assert.ok(walks.some((w) => w.packets[0].packet.dport === 45678 && w.packets[0].packet.tcpFlags === '0x12'));
});
