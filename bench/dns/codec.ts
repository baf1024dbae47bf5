// Codec micro-benchmark: answering an A query for a ClusterIP name, (1) with dns-packet (decode
// the query, encode the response; no name compression), (2) with src/dns/wire.ts (parse, encode
// with compression), (3) the handler's hot path (precomputed answer, ID patched).
//   node --import tsx bench/dns/codec.ts
// Under tsx every closure also pays tsx's naming helper, which inflates the handler rows; for the
// numbers quoted in wire.ts/handler.ts compile it as bench/dns/run.ts compiles the server (tsc,
// ES2022, NodeNext) and run the .js with plain node.
import dnsPacket from 'dns-packet';
import { encodeResponse, parseQuery, RRType } from '../../src/dns/wire.js';
import { DnsHandler } from '../../src/dns/handler.js';
import { DnsMetrics } from '../../src/dns/metrics.js';
import { buildModel } from './cluster-fixture.js';

const name = 'svc7.ns3.svc.cluster.local';
const query = dnsPacket.encode({ type: 'query', id: 1, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A' }] });
const N = 200_000;

function time(label: string, fn: () => void): number {
  for (let i = 0; i < 20_000; i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  const us = Number(process.hrtime.bigint() - t0) / 1000 / N;
  process.stdout.write(`${label.padEnd(52)} ${us.toFixed(2)} us/query\n`);
  return us;
}

let sink = 0;
const a = time('dns-packet decode + encode', () => {
  const q = dnsPacket.decode(query);
  const out = dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.AUTHORITATIVE_ANSWER, questions: q.questions, answers: [{ name: q.questions![0].name, type: 'A', ttl: 30, data: '10.96.4.8' }] });
  sink += out.length;
});
const b = time('wire.ts parseQuery + encodeResponse', () => {
  const p = parseQuery(query);
  if (!p.ok) throw new Error('parse');
  const out = encodeResponse({ id: p.query.id, queryFlags: p.query.flags, rcode: 0, authoritative: true, recursionAvailable: false }, query.subarray(12, p.query.questionEnd), p.query.question.labels, { answers: [{ name: p.query.question.name, type: RRType.A, ttl: 30, data: '10.96.4.8' }], authority: [], additional: [] }, undefined);
  sink += out.bytes.length;
});
const handler = new DnsHandler(buildModel(), { zone: 'cluster.local', ttl: 30, pods: 'insecure', ready: () => true }, new DnsMetrics());
const c = time('handler hot path (precomputed answer, incl. metrics)', () => handler.handle(query, 'udp', (out) => (sink += out.length)));
const nocache = new DnsHandler(buildModel(), { zone: 'cluster.local', ttl: 30, pods: 'insecure', ready: () => true, answerCacheSize: 0 }, new DnsMetrics());
const d = time('handler slow path (parse, resolve, encode, metrics)', () => nocache.handle(query, 'udp', (out) => (sink += out.length)));
process.stdout.write(`response sizes: dns-packet ${dnsPacket.encode({ type: 'response', questions: [{ name, type: 'A' }], answers: [{ name, type: 'A', ttl: 30, data: '10.96.4.8' }] }).length} B, wire.ts ${query.length + 16} B\n`);
process.stdout.write(`ratios: wire.ts ${(a / b).toFixed(1)}x faster than dns-packet; hot path ${(d / c).toFixed(1)}x faster than the slow path (${sink > 0 ? 'ok' : ''})\n`);
