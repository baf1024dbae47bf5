// The wire layer: malformed queries (FORMERR / NOTIMP / BADVERS / dropped, as README documents),
// EDNS0 sizes, truncation with TC, name compression, and the address helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { askRaw, ask, decode, fixtureModel, makeHandler, queryBytes, section, service, slice } from './fixture.js';
import { slimEndpointSlice, slimService } from '../../../src/dns/objects.js';
import { formatIPv6, parseIPv6, splitName, labelsToName, parseQuery } from '../../../src/dns/wire.js';
import { podLabelAddress, reverseAddress, reverseName } from '../../../src/dns/query.js';
import { dashedAddress } from '../../../src/dns/model.js';

const Z = 'cluster.local';

function bigHeadlessModel(n: number) {
  const m = fixtureModel();
  m.setService(slimService(service('ns1', 'big', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }))!);
  const eps = Array.from({ length: n }, (_, i) => ({ ip: `10.2.${Math.floor(i / 200)}.${(i % 200) + 1}`, ready: true }));
  m.setEndpointSlice(slimEndpointSlice(slice('ns1', 'big-1', 'big', eps, [{ name: 'http', protocol: 'TCP', port: 80 }]))!);
  return m;
}

test('a large headless answer over UDP without EDNS is cut to 512 bytes with TC; whole records only', async () => {
  const handler = makeHandler(bigHeadlessModel(100));
  for (let round = 0; round < 2; round++) {
    // second round: served from the precomputed answer
    const raw = (await askRaw(handler, queryBytes(`big.ns1.svc.${Z}`, 'A')))!;
    assert.ok(raw.length <= 512, `reply is ${raw.length} bytes`);
    const res = decode(raw);
    assert.equal(res.flag_tc, true);
    assert.ok(res.answers.length > 20, `compression lets more than 20 A records fit, got ${res.answers.length}`);
    assert.ok(res.answers.length < 100);
  }
});

test('the same answer fits with the EDNS buffer the client advertises, and over TCP', async () => {
  const handler = makeHandler(bigHeadlessModel(100));
  const edns = await ask(handler, `big.ns1.svc.${Z}`, 'A', { edns: 4096 });
  assert.equal(edns.flag_tc, false);
  assert.equal(edns.answers.length, 100);
  const tcp = await ask(handler, `big.ns1.svc.${Z}`, 'A', { transport: 'tcp' });
  assert.equal(tcp.flag_tc, false);
  assert.equal(tcp.answers.length, 100);
  // an EDNS client with 1232 bytes gets more than 512 but not all of 300 records
  const handler3 = makeHandler(bigHeadlessModel(300));
  const mid = (await askRaw(handler3, queryBytes(`big.ns1.svc.${Z}`, 'A', { edns: 1232 })))!;
  assert.ok(mid.length <= 1232 && mid.length > 512);
  const decoded = decode(mid);
  assert.equal(decoded.flag_tc, true);
  assert.ok(decoded.additionals.some((a) => a.type === 'OPT'), 'OPT kept in a truncated reply');
});

test('SRV glue that does not fit is dropped without TC (additional section only)', async () => {
  // SRV targets are never compressed (RFC 2782): 8 SRV records fit in 512 bytes, their 8 glue records do not.
  const handler = makeHandler(bigHeadlessModel(8));
  const res = await ask(handler, `_http._tcp.big.ns1.svc.${Z}`, 'SRV');
  assert.equal(res.answers.length, 8);
  assert.ok(res.additionals.length < 8, `glue records: ${res.additionals.length}`);
  assert.equal(res.flag_tc, false);
});

function header(fields: { id?: number; flags?: number; qd?: number; an?: number; ns?: number; ar?: number }): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(fields.id ?? 7, 0);
  b.writeUInt16BE(fields.flags ?? 0x0100, 2);
  b.writeUInt16BE(fields.qd ?? 1, 4);
  b.writeUInt16BE(fields.an ?? 0, 6);
  b.writeUInt16BE(fields.ns ?? 0, 8);
  b.writeUInt16BE(fields.ar ?? 0, 10);
  return b;
}
const question = queryBytes(`web.ns1.svc.${Z}`, 'A').subarray(12);

const malformed: { what: string; msg: Buffer; rcode?: string; extRcode?: number }[] = [
  { what: 'empty datagram', msg: Buffer.alloc(0) },
  { what: '11 bytes', msg: Buffer.alloc(11) },
  { what: 'a response (QR=1)', msg: Buffer.concat([header({ flags: 0x8100 }), question]) },
  { what: 'QDCOUNT 0', msg: header({ qd: 0 }), rcode: 'FORMERR' },
  { what: 'QDCOUNT 2', msg: Buffer.concat([header({ qd: 2 }), question, question]), rcode: 'FORMERR' },
  { what: 'opcode STATUS', msg: Buffer.concat([header({ flags: 0x1100 }), question]), rcode: 'NOTIMP' },
  { what: 'opcode UPDATE', msg: Buffer.concat([header({ flags: 0x2900 }), question]), rcode: 'NOTIMP' },
  { what: 'question cut in the name', msg: Buffer.concat([header({}), question.subarray(0, 7)]), rcode: 'FORMERR' },
  { what: 'question without QCLASS', msg: Buffer.concat([header({}), question.subarray(0, question.length - 2)]), rcode: 'FORMERR' },
  { what: 'compression loop', msg: Buffer.concat([header({}), Buffer.from([0xc0, 12, 0, 1, 0, 1])]), rcode: 'FORMERR' },
  // Found by the fuzz test (seed 711286): echoing this question made an undecodable reply.
  { what: 'a question name with a compression pointer into the header', msg: Buffer.concat([header({}), Buffer.from([2, 0x92, 0xb3, 0xc0, 2, 0xf3, 0xf3, 0x1d, 0x97])]), rcode: 'FORMERR' },
  { what: 'label type 0x40', msg: Buffer.concat([header({}), Buffer.from([0x41, 0, 0, 1, 0, 1])]), rcode: 'FORMERR' },
  { what: 'ARCOUNT 1 without a record', msg: Buffer.concat([header({ ar: 1 }), question]), rcode: 'FORMERR' },
  { what: 'two OPT records', msg: Buffer.concat([header({ ar: 2 }), question, Buffer.from([0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0])]), rcode: 'FORMERR' },
  { what: 'OPT with a non-root owner', msg: Buffer.concat([header({ ar: 1 }), question, Buffer.from([1, 0x61, 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0])]), rcode: 'FORMERR' },
  { what: 'OPT rdata past the end', msg: Buffer.concat([header({ ar: 1 }), question, Buffer.from([0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 9])]), rcode: 'FORMERR' },
  { what: 'EDNS version 1', msg: Buffer.concat([header({ ar: 1 }), question, Buffer.from([0, 0, 41, 4, 0, 0, 1, 0, 0, 0, 0])]), rcode: 'NOERROR', extRcode: 1 },
  { what: 'QTYPE OPT', msg: Buffer.concat([header({}), question.subarray(0, question.length - 4), Buffer.from([0, 41, 0, 1])]), rcode: 'FORMERR' },
];

for (const m of malformed) {
  test(`malformed query: ${m.what} -> ${m.rcode ?? 'dropped'}`, async () => {
    const handler = makeHandler(fixtureModel());
    const raw = await askRaw(handler, m.msg, 'udp', 200);
    if (!m.rcode) {
      assert.equal(raw, undefined);
      return;
    }
    assert.ok(raw);
    const res = decode(raw);
    assert.equal(res.type, 'response');
    assert.equal(res.id, 7);
    assert.equal(res.rcode, m.rcode);
    assert.equal(res.answers.length, 0);
    if (m.extRcode !== undefined) {
      const opt = raw.subarray(raw.length - 11);
      assert.equal(opt[5], m.extRcode, 'extended rcode BADVERS (16 = 1 << 4)');
    }
    // still answering correctly afterwards
    const ok = await ask(handler, `web.ns1.svc.${Z}`, 'A');
    assert.deepEqual(section(ok.answers), [`web.ns1.svc.${Z}. 30 A 10.96.0.20`]);
  });
}

test('queries with a cookie option and the DO bit are answered (options ignored, DO echoed)', async () => {
  const handler = makeHandler(fixtureModel());
  const q = dnsPacket.encode({
    type: 'query',
    id: 9,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name: `web.ns1.svc.${Z}`, type: 'A' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: dnsPacket.DNSSEC_OK, options: [{ code: 10, data: Buffer.from('0123456789abcdef', 'hex') }] } as unknown as dnsPacket.Answer],
  });
  for (let i = 0; i < 2; i++) {
    const raw = (await askRaw(handler, q))!;
    const res = decode(raw);
    assert.deepEqual(section(res.answers), [`web.ns1.svc.${Z}. 30 A 10.96.0.20`]);
    const opt = res.additionals.find((a) => a.type === 'OPT') as unknown as { flags: number };
    assert.equal(opt.flags & dnsPacket.DNSSEC_OK, dnsPacket.DNSSEC_OK);
  }
});

test('owner names are compressed against the question (a reply for A is question + 16 bytes)', async () => {
  const handler = makeHandler(fixtureModel());
  const q = queryBytes(`web.ns1.svc.${Z}`, 'A');
  const raw = (await askRaw(handler, q))!;
  assert.equal(raw.length, q.length + 16);
});

test('address helpers', () => {
  assert.equal(formatIPv6(parseIPv6('fd00:0:0::21')!), 'fd00::21');
  assert.equal(formatIPv6(parseIPv6('2001:db8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
  assert.equal(formatIPv6(parseIPv6('::ffff:10.0.0.1')!), '::ffff:a00:1');
  assert.equal(parseIPv6('1::2::3'), undefined);
  assert.equal(parseIPv6('1:2:3:4:5:6:7:8:9'), undefined);
  assert.equal(reverseName('10.96.0.20'), '20.0.96.10.in-addr.arpa');
  assert.equal(reverseAddress(reverseName('2001:db8::1').split('.')), '2001:db8::1');
  assert.equal(reverseAddress(['1', '2', '3', '256', 'in-addr', 'arpa']), undefined);
  assert.equal(podLabelAddress('10-244-1-5'), '10.244.1.5');
  assert.equal(podLabelAddress('fd00--5'), 'fd00::5');
  assert.equal(podLabelAddress('web-0'), undefined);
  assert.equal(dashedAddress('fd00::5'), 'fd00--5');
  assert.equal(dashedAddress('::1'), '0--1');
  assert.equal(dashedAddress('fd00::'), 'fd00--0');
  assert.deepEqual(splitName(labelsToName(['a.b', 'c\\d', 'e'])), ['a.b', 'c\\d', 'e']);
  const parsed = parseQuery(queryBytes('MiXeD.Example', 'A'));
  assert.ok(parsed.ok && parsed.query.question.name === 'mixed.example');
});
