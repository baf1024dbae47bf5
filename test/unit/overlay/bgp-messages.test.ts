// The BGP codec: round trips, each malformed form answered with the NOTIFICATION RFC 4271 names,
// and a seeded fuzz run where every mutation of valid messages either decodes or is a BgpError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeKeepalive, encodeNotification, encodeOpen, encodeUpdate, isEndOfRib, type UpdateMessage } from '../../../src/overlay/bgp/messages.js';
import { negotiate } from '../../../src/overlay/bgp/negotiate.js';
import { Rib } from '../../../src/overlay/bgp/rib.js';
import { BgpError, ErrorCode, HeaderSubcode, OpenSubcode, UpdateSubcode, decodePrefixes, encodePrefixes, parsePrefix } from '../../../src/overlay/bgp/wire.js';
import { prng } from '../../support/prng.js';

const open = encodeOpen({
  asn: 4200000001,
  holdTimeSec: 90,
  bgpId: '10.0.0.1',
  capabilities: {
    multiprotocol: [{ afi: 1, safi: 1 }],
    routeRefresh: true,
    fourOctetAs: 4200000001,
    gracefulRestart: { restarting: true, restartTimeSec: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] },
    unknown: [],
  },
});
const update = (fourOctet: boolean) =>
  encodeUpdate(
    {
      withdrawn: [parsePrefix('10.244.9.0/24')],
      nlri: [parsePrefix('10.244.1.0/24'), parsePrefix('192.0.2.0/25'), parsePrefix('0.0.0.0/0')],
      attributes: { origin: 0, asPath: [{ kind: 'sequence', asns: [64512, 4200000001] }], nextHop: '172.18.0.2', med: 5, localPref: 200 },
    },
    fourOctet,
  );

function code(fn: () => unknown): [number, number] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BgpError, `a BgpError, not ${(err as Error).stack}`);
    return [err.code, err.subcode];
  }
  assert.fail('no error');
}

test('OPEN, UPDATE, KEEPALIVE and NOTIFICATION round trip', () => {
  const o = decodeMessage(open, false);
  assert.equal(o.type, 'open');
  if (o.type !== 'open') return;
  assert.equal(o.asn, 4200000001, 'the 4-octet AS comes from the capability (AS_TRANS in the fixed field)');
  assert.equal(open.readUInt16BE(19 + 1), 23456);
  assert.deepEqual(o.capabilities.gracefulRestart, { restarting: true, restartTimeSec: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] });
  for (const fourOctet of [true, false]) {
    const u = decodeMessage(update(fourOctet), fourOctet) as UpdateMessage;
    assert.deepEqual(u.withdrawn, [parsePrefix('10.244.9.0/24')]);
    assert.deepEqual(u.nlri.map((p) => `${p.address}/${p.length}`), ['10.244.1.0/24', '192.0.2.0/25', '0.0.0.0/0']);
    assert.deepEqual(u.attributes?.asPath, [{ kind: 'sequence', asns: [64512, fourOctet ? 4200000001 : 23456] }]);
    assert.equal(u.attributes?.nextHop, '172.18.0.2');
    assert.equal(u.attributes?.localPref, 200);
  }
  assert.deepEqual(decodeMessage(encodeKeepalive(), true), { type: 'keepalive' });
  const n = decodeMessage(encodeNotification(6, 2, Buffer.from('bye')), true);
  assert.deepEqual(n, { type: 'notification', code: 6, subcode: 2, data: Buffer.from('bye') });
  assert.equal(isEndOfRib(decodeMessage(encodeUpdate({ withdrawn: [], nlri: [] }, true), true) as UpdateMessage), true);
});

test('malformed messages get the NOTIFICATION RFC 4271 names', () => {
  const bad = Buffer.from(open);
  bad[3] = 0;
  assert.deepEqual(code(() => decodeMessage(bad, true)), [ErrorCode.HEADER, HeaderSubcode.NOT_SYNCHRONIZED]);
  const short = encodeKeepalive();
  short.writeUInt16BE(18, 16);
  assert.deepEqual(code(() => decodeMessage(short, true)), [ErrorCode.HEADER, HeaderSubcode.BAD_LENGTH]);
  const type9 = encodeKeepalive();
  type9[18] = 9;
  assert.deepEqual(code(() => decodeMessage(type9, true)), [ErrorCode.HEADER, HeaderSubcode.BAD_TYPE]);
  const v3 = Buffer.from(open);
  v3[19] = 3;
  assert.deepEqual(code(() => decodeMessage(v3, true)), [ErrorCode.OPEN, OpenSubcode.UNSUPPORTED_VERSION]);
  const hold2 = Buffer.from(open);
  hold2.writeUInt16BE(2, 19 + 3);
  assert.deepEqual(code(() => decodeMessage(hold2, true)), [ErrorCode.OPEN, OpenSubcode.UNACCEPTABLE_HOLD_TIME]);
  const id0 = Buffer.from(open);
  id0.writeUInt32BE(0, 19 + 5);
  assert.deepEqual(code(() => decodeMessage(id0, true)), [ErrorCode.OPEN, OpenSubcode.BAD_BGP_ID]);
  const o = decodeMessage(open, false);
  if (o.type !== 'open') assert.fail('open');
  assert.deepEqual(code(() => negotiate({ asn: 64512, routerId: '10.0.0.2', holdTimeSec: 90, restartTimeSec: 120 }, 64513, o)), [ErrorCode.OPEN, OpenSubcode.BAD_PEER_AS]);
  const n = negotiate({ asn: 4200000001, routerId: '10.0.0.2', holdTimeSec: 30, restartTimeSec: 120 }, 4200000001, o);
  assert.deepEqual([n.holdTimeSec, n.keepaliveSec, n.ibgp, n.fourOctetAs, n.peerRestart?.restartTimeSec], [30, 10, true, true, 120]);

  // UPDATE: an unknown well-known attribute still resets the session (RFC 4271); a malformed
  // known attribute makes the UPDATE's routes withdrawn instead (RFC 7606 treat-as-withdraw).
  const u = update(true);
  const announced = ['10.244.9.0/24', '10.244.1.0/24', '192.0.2.0/25', '0.0.0.0/0'];
  const withdrawnAll = (buf: Buffer, why: RegExp) => {
    const m = decodeMessage(buf, true) as UpdateMessage;
    assert.match(m.treatAsWithdraw ?? '', why);
    assert.deepEqual(m.withdrawn.map((p) => `${p.address}/${p.length}`), announced, 'the withdrawn field and the announced prefixes');
    assert.deepEqual([m.nlri, m.attributes, isEndOfRib(m)], [[], undefined, false]);
  };
  const originAt = u.indexOf(Buffer.from([0x40, 1, 1, 0]));
  const origin3 = Buffer.from(u);
  origin3[originAt + 3] = 3;
  withdrawnAll(origin3, /ORIGIN 3/);
  const flags = Buffer.from(u);
  flags[originAt] = 0xc0;
  withdrawnAll(flags, /attribute 1 flagged c0/);
  const nh = u.indexOf(Buffer.from([0x40, 3, 4]));
  const noNextHop = Buffer.from(u);
  noNextHop[nh + 1] = 99; // well-known flags on an unknown type
  assert.deepEqual(code(() => decodeMessage(noNextHop, true)), [ErrorCode.UPDATE, UpdateSubcode.UNRECOGNIZED_WELL_KNOWN]);
  const optionalUnknown = Buffer.from(u);
  optionalUnknown[nh] = 0x80;
  optionalUnknown[nh + 1] = 99; // now optional: ignored, so NEXT_HOP is missing
  withdrawnAll(optionalUnknown, /missing well-known attribute 3/);
  const zeroNextHop = Buffer.from(u);
  zeroNextHop.writeUInt32BE(0, nh + 3);
  withdrawnAll(zeroNextHop, /NEXT_HOP 0\.0\.0\.0/);
  const asPathAt = u.indexOf(Buffer.from([0x40, 2]));
  const badSegment = Buffer.from(u);
  badSegment[asPathAt + 3] = 7; // segment type 7
  withdrawnAll(badSegment, /AS_PATH segment type 7/);
  const medAt = u.indexOf(Buffer.from([0x80, 4, 4]));
  const longMed = Buffer.from(u);
  longMed[medAt + 2] = 5; // MED of 5 octets: its last octet is taken from LOCAL_PREF's header
  const longMedUpdate = decodeMessage(longMed, true) as UpdateMessage;
  assert.match(longMedUpdate.treatAsWithdraw ?? '', /attribute 4: length 5, expected 4|runs past/);
  assert.deepEqual(longMedUpdate.nlri, []);
  // A repeated attribute: only the first counts; a repeated MP_REACH_NLRI resets the session.
  const attrsLengthAt = 19 + 2 + u.readUInt16BE(19) ;
  const origin = Buffer.from([0x40, 1, 1, 2]);
  const twice = Buffer.concat([u.subarray(0, attrsLengthAt + 2), origin, u.subarray(attrsLengthAt + 2)]);
  twice.writeUInt16BE(twice.length, 16);
  twice.writeUInt16BE(u.readUInt16BE(attrsLengthAt) + 4, attrsLengthAt);
  const kept = decodeMessage(twice, true) as UpdateMessage;
  assert.equal(kept.attributes?.origin, 2, 'the first ORIGIN counts');
  assert.deepEqual(kept.discarded, ['path attribute 1 repeated']);
  const mpReach = Buffer.from([0x80, 14, 9, 0, 1, 1, 4, 172, 18, 0, 3, 0]);
  const mpTwice = Buffer.concat([u.subarray(0, attrsLengthAt + 2), mpReach, mpReach, u.subarray(attrsLengthAt + 2)]);
  mpTwice.writeUInt16BE(mpTwice.length, 16);
  mpTwice.writeUInt16BE(u.readUInt16BE(attrsLengthAt) + 2 * mpReach.length, attrsLengthAt);
  assert.deepEqual(code(() => decodeMessage(mpTwice, true)), [ErrorCode.UPDATE, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST]);
  // ATOMIC_AGGREGATE with a value: the attribute is dropped, the routes kept.
  const atomic = Buffer.concat([u.subarray(0, attrsLengthAt + 2), Buffer.from([0x40, 6, 1, 0]), u.subarray(attrsLengthAt + 2)]);
  atomic.writeUInt16BE(atomic.length, 16);
  atomic.writeUInt16BE(u.readUInt16BE(attrsLengthAt) + 4, attrsLengthAt);
  const atomicUpdate = decodeMessage(atomic, true) as UpdateMessage;
  assert.deepEqual([atomicUpdate.nlri.length, atomicUpdate.discarded], [3, ['ATOMIC_AGGREGATE of 1 octets']]);
  assert.deepEqual(code(() => decodePrefixes(Buffer.from([33, 10, 0, 0, 0, 0]), 'NLRI')), [ErrorCode.UPDATE, UpdateSubcode.INVALID_NETWORK_FIELD]);
  assert.deepEqual(code(() => decodePrefixes(Buffer.from([24, 10, 0]), 'NLRI')), [ErrorCode.UPDATE, UpdateSubcode.INVALID_NETWORK_FIELD]);
  assert.deepEqual(code(() => decodePrefixes(Buffer.from([8, 10, 1]), 'NLRI').concat(decodePrefixes(Buffer.from([7, 11]), 'NLRI'))), [ErrorCode.UPDATE, UpdateSubcode.INVALID_NETWORK_FIELD]);
  assert.deepEqual(decodePrefixes(encodePrefixes([parsePrefix('10.1.128.0/17')]), 'NLRI'), [parsePrefix('10.1.128.0/17')]);
  assert.throws(() => parsePrefix('10.1.1.1/24'), /host bits/);
});

test('fuzz: every mutation of valid messages decodes or is a BgpError (seeded)', () => {
  const seeds = [open, update(true), update(false), encodeKeepalive(), encodeNotification(6, 4), encodeUpdate({ withdrawn: [], nlri: [] }, true)];
  const rnd = prng(4271);
  const outcomes = new Map<string, number>();
  for (let i = 0; i < 50_000; i++) {
    const base = seeds[i % seeds.length];
    const m = Buffer.from(base);
    const edits = 1 + Math.floor(rnd() * 4);
    for (let e = 0; e < edits; e++) m[Math.floor(rnd() * m.length)] = Math.floor(rnd() * 256);
    // Truncations and extensions keep the header's length field honest half of the time.
    const cut = rnd() < 0.2 ? m.subarray(0, 19 + Math.floor(rnd() * (m.length - 19))) : m;
    if (rnd() < 0.5 && cut.length >= 19) cut.writeUInt16BE(cut.length, 16);
    try {
      decodeMessage(cut, rnd() < 0.5);
      outcomes.set('decoded', (outcomes.get('decoded') ?? 0) + 1);
    } catch (err) {
      if (!(err instanceof BgpError)) assert.fail(`mutation ${i} of ${base.toString('hex')} -> ${cut.toString('hex')}: ${(err as Error).stack}`);
      outcomes.set(`${err.code}/${err.subcode}`, (outcomes.get(`${err.code}/${err.subcode}`) ?? 0) + 1);
    }
  }
  assert.ok((outcomes.get('decoded') ?? 0) > 1000 && outcomes.size > 10, `outcomes: ${JSON.stringify([...outcomes])}`);
});

test('the Rib keeps the best path, and stale routes of a restarting peer until End-of-RIB', () => {
  const rib = new Rib();
  const attrs = (nextHop: string, path: number[]) => ({ origin: 0 as const, asPath: path.length ? [{ kind: 'sequence' as const, asns: path }] : [], nextHop });
  const p = [parsePrefix('10.244.2.0/24')];
  assert.deepEqual(rib.update('a', [], p, attrs('172.18.0.3', [65001, 65002])).map((c) => c.route?.attributes.nextHop), ['172.18.0.3']);
  assert.deepEqual(rib.update('b', [], p, attrs('172.18.0.4', [65001])).map((c) => c.route?.attributes.nextHop), ['172.18.0.4'], 'shorter AS path wins');
  assert.deepEqual(rib.peerDown('b', true).map((c) => [c.route?.peer, c.route?.stale]), [['a', false]], 'a fresh path beats a stale one');
  assert.deepEqual(rib.peerDown('a', false).map((c) => [c.route?.peer, c.route?.stale]), [['b', true]], 'the stale route is kept when it is all there is');
  assert.deepEqual(rib.dropStale('b').map((c) => c.route), [undefined]);
  assert.equal(rib.bestRoutes().length, 0);
});
