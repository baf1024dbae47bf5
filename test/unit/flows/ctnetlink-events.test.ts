// The ctnetlink event parser on real kernel bytes: test/unit/flows/fixtures/ctnetlink-events.bin was
// written by the reader (ctnetlink-socket.ts) subscribed to NEW, UPDATE and DESTROY while one TCP
// connection went through a DNAT (10.96.9.9:80 -> 127.0.0.1:8080) and one UDP datagram was sent,
// then the table was flushed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CtnetlinkFormatError, CtnetlinkStream, NLMSG_OVERRUN } from '../../../src/flows/ctnetlink-events.js';
import { isDnat } from '../../../src/flows/conntrack-events.js';
import { ctGroupMask } from '../../../src/flows/ctnetlink-socket.js';

const bytes = readFileSync(new URL('./fixtures/ctnetlink-events.bin', import.meta.url));

test('real ctnetlink messages become conntrack events: types, tuples, DNAT, TCP states, flags, ids', () => {
  const items = new CtnetlinkStream().push(bytes, 1000);
  const events = items.map((i) => (i.kind === 'event' ? i.event : assert.fail('no overrun expected')));
  assert.deepEqual(
    events.map((e) => `${e.type} ${e.protocol} ${e.state ?? '-'}`),
    ['NEW tcp SYN_SENT', 'UPDATE tcp SYN_RECV', 'UPDATE tcp ESTABLISHED', 'UPDATE tcp FIN_WAIT', 'UPDATE tcp LAST_ACK', 'UPDATE tcp TIME_WAIT', 'NEW udp -', 'DESTROY tcp TIME_WAIT', 'DESTROY udp -'],
  );
  const first = events[0];
  assert.deepEqual(first.original, { src: '10.96.9.9', dst: '10.96.9.9', sport: first.original.sport, dport: 80 });
  assert.deepEqual(first.reply, { src: '127.0.0.1', dst: '10.96.9.9', sport: 8080, dport: first.original.sport });
  assert.equal(isDnat(first), true);
  assert.equal(first.unreplied, true);
  assert.equal(first.assured, false);
  assert.equal(first.timeMs, 1000);
  assert.match(first.id ?? '', /^\d+$/);
  assert.equal(events[2].unreplied, false);
  assert.equal(events[2].assured, true);
  assert.equal(events[7].id, first.id);
  const udp = events[6];
  assert.equal(isDnat(udp), false);
  assert.equal(udp.original.dport, 9999);
  assert.equal(udp.reply.sport, 9999);
});

test('a stream cut at every byte gives the same events', () => {
  const whole = new CtnetlinkStream().push(bytes, 0);
  for (const step of [1, 3, 7, 64, 333]) {
    const s = new CtnetlinkStream();
    const got = [];
    for (let at = 0; at < bytes.length; at += step) got.push(...s.push(bytes.subarray(at, at + step), 0));
    assert.deepEqual(got, whole, `chunks of ${step} bytes`);
  }
});

test("the reader's overrun message carries the kernel's drop count", () => {
  const m = Buffer.alloc(20);
  m.writeUInt32LE(20, 0);
  m.writeUInt16LE(NLMSG_OVERRUN, 4);
  m.writeUInt32LE(1234, 16);
  assert.deepEqual(new CtnetlinkStream().push(Buffer.concat([m, bytes.subarray(0, 0)])), [{ kind: 'overrun', lost: 1234 }]);
});

test('a corrupt length is an error naming it, not a hang', () => {
  const m = Buffer.alloc(16);
  m.writeUInt32LE(8, 0);
  assert.throws(() => new CtnetlinkStream().push(m), CtnetlinkFormatError);
  const first = bytes.readUInt32LE(0); // the reader's 16-byte "bound" message comes first
  const bad = Buffer.from(bytes.subarray(first, first + bytes.readUInt32LE(first)));
  bad.writeUInt16LE(0xfff0, 20); // the first attribute claims more bytes than its message holds
  assert.throws(() => new CtnetlinkStream().push(bad), /overruns its message/);
});

test('event type names map to the conntrack multicast groups', () => {
  assert.equal(ctGroupMask('NEW,DESTROY'), 5);
  assert.equal(ctGroupMask('new, update ,destroy'), 7);
  assert.throws(() => ctGroupMask('NEW,CLOSE'), /"CLOSE" is not NEW, UPDATE or DESTROY/);
});
