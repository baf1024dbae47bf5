// The kernel readers' parsers on real captured output: `conntrack -E -o timestamp,extended,id`
// lines and a `tcpdump -i nflog:7 -w` capture of packets logged by nft rules with flatnet prefixes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isDnat, parseConntrackLine, ConntrackParseError } from '../../../src/flows/conntrack-events.js';
import { NflogPcapReader, PcapFormatError } from '../../../src/flows/nflog-pcap.js';
import { parsePrefix, logStatement, prefixOf } from '../../../src/flows/log-prefix.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const lines = readFileSync(fixture('conntrack-events.txt'), 'utf8').split('\n').filter((l) => l !== '');

test('conntrack NEW: both tuples, state, flags, id and the kernel timestamp', () => {
  const e = parseConntrackLine(lines[0])!;
  assert.equal(e.type, 'NEW');
  assert.equal(e.protocol, 'tcp');
  assert.equal(e.state, 'SYN_SENT');
  assert.deepEqual(e.original, { src: '10.77.0.1', dst: '10.77.0.2', sport: 42918, dport: 80 });
  assert.deepEqual(e.reply, { src: '10.77.0.2', dst: '10.77.0.1', sport: 80, dport: 42918 });
  assert.equal(e.unreplied, true);
  assert.equal(e.assured, false);
  assert.equal(e.id, '462879808');
  assert.equal(Math.round(e.timeMs), Math.round(1796582891881.885));
  assert.equal(isDnat(e), false);
});

test('conntrack: a DNAT (port 8080 -> 80) shows in the reply tuple', () => {
  const e = parseConntrackLine(lines[4])!;
  assert.equal(e.original.dport, 8080);
  assert.equal(e.reply.sport, 80);
  assert.equal(isDnat(e), true);
});

test('conntrack UPDATE ESTABLISHED is replied and assured', () => {
  const e = parseConntrackLine(lines[2])!;
  assert.equal(e.type, 'UPDATE');
  assert.equal(e.state, 'ESTABLISHED');
  assert.equal(e.unreplied, false);
  assert.equal(e.assured, true);
});

test('conntrack ICMP: the connection id is the last id=, not the echo id', () => {
  const icmp = lines.filter((l) => l.includes(' icmp '));
  assert.ok(icmp.length >= 2, 'fixture has ICMP events');
  const e = parseConntrackLine(icmp[0])!;
  assert.equal(e.protocol, 'icmp');
  assert.equal(e.id, '1539730613');
  assert.equal(e.original.sport, undefined);
  assert.equal(isDnat(e), false);
});

test('conntrack DESTROY of an unreplied UDP flow', () => {
  const e = parseConntrackLine(lines.find((l) => l.includes('[DESTROY]') && l.includes('udp'))!)!;
  assert.equal(e.type, 'DESTROY');
  assert.equal(e.protocol, 'udp');
  assert.equal(e.state, undefined);
  assert.equal(e.unreplied, true);
  assert.equal(e.original.dport, 5353);
});

test('conntrack: every fixture line parses; the summary line is not an event; garbage is an error', () => {
  for (const l of lines) assert.ok(parseConntrackLine(l), l);
  assert.equal(parseConntrackLine('conntrack v1.4.7 (conntrack-tools): 10 flow events have been shown.'), undefined);
  assert.throws(() => parseConntrackLine('[NEW] ipv4 2 tcp 6 120 SYN_SENT'), ConntrackParseError);
});

test('NFLOG pcap: prefixes and packets of real records, split at any byte', () => {
  const bytes = readFileSync(fixture('nflog-group7.pcap'));
  for (const split of [1, 7, 24, 25, 100, bytes.length]) {
    const r = new NflogPcapReader();
    const records = [];
    for (let i = 0; i < bytes.length; i += split) records.push(...r.push(bytes.subarray(i, i + split)));
    assert.equal(records.length, 2, `split ${split}`);
    assert.equal(records[0].group, 7);
    assert.equal(records[0].prefix, 'fnp:in-0123456789abcdef');
    assert.deepEqual(records[0].packet, { family: 'ipv4', protocol: 'tcp', src: '10.77.0.1', dst: '10.77.0.2', sport: 51928, dport: 81 });
    assert.equal(records[1].prefix, 'fnx:reject');
    assert.equal(records[1].packet?.dport, 82);
    assert.ok(records[0].timeMs > 1.7e12 && records[1].timeMs >= records[0].timeMs);
  }
});

test('NFLOG pcap: a stream that is not pcap, or not NFLOG, is refused', () => {
  assert.throws(() => new NflogPcapReader().push(Buffer.alloc(24, 1)), PcapFormatError);
  const header = Buffer.from(readFileSync(fixture('nflog-group7.pcap')).subarray(0, 24));
  header.writeUInt32LE(1, 20); // Ethernet
  assert.throws(() => new NflogPcapReader().push(header), /not NFLOG/);
});

test('log prefixes round-trip and fit nft\'s 64 bytes', () => {
  for (const p of [
    { kind: 'policy', direction: 'ingress', allowClass: 'in-0123456789abcdef' },
    { kind: 'policy', direction: 'egress', allowClass: 'out-0123456789abcdef' },
    { kind: 'not-admitted' },
    { kind: 'ipv6' },
    { kind: 'no-endpoints' },
  ] as const) {
    assert.deepEqual(parsePrefix(prefixOf(p)), p);
    assert.ok(Buffer.byteLength(prefixOf(p)) < 64);
    assert.match(logStatement(p), /^log group 13 prefix "flatnet:/);
  }
  assert.equal(parsePrefix('somebody else'), undefined);
  assert.throws(() => logStatement({ kind: 'policy', direction: 'ingress', allowClass: `in-${'a'.repeat(60)}` }), /64-byte/);
});
