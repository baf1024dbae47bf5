// Faults from a BGP peer over a real TCP session: a peer written here byte by byte sends malformed
// OPENs and UPDATEs to flatnet's speaker. Each one either closes the session with the
// NOTIFICATION RFC 4271 section 6 (and RFC 6608 for FSM errors) names, or is kept as RFC 7606
// says (the UPDATE's routes withdrawn, or the attribute dropped) with the session still up;
// then a seeded fuzz run of mutated OPENs and UPDATEs, after which the speaker still peers.
// The speaker's Prometheus metrics count what happened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import client from 'prom-client';
import { BgpSpeaker } from '../../../src/overlay/bgp/speaker.js';
import { encodeKeepalive, encodeOpen, encodeUpdate } from '../../../src/overlay/bgp/messages.js';
import { parsePrefix } from '../../../src/overlay/bgp/wire.js';
import { prng } from '../../support/prng.js';
import { eventually } from '../../support/eventually.js';

const OUR_ASN = 64512;
const PEER_ASN = 64513;
const PEER_ID = '10.0.0.9';

/** One TCP connection from the speaker, read as BGP messages. */
class PeerConnection {
  private buf = Buffer.alloc(0);
  private readonly queue: Buffer[] = [];
  private waiter: (() => void) | undefined;
  closed = false;

  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 19 && this.buf.length >= this.buf.readUInt16BE(16)) {
        const n = this.buf.readUInt16BE(16);
        this.queue.push(this.buf.subarray(0, n));
        this.buf = this.buf.subarray(n);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next whole message, or null once the connection closed with nothing left. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      const m = this.queue.shift();
      if (m) return m;
      if (this.closed) return null;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  /** The NOTIFICATION (code, subcode) the speaker closes with; null if it closed without one. */
  async notification(): Promise<[number, number] | null> {
    for (;;) {
      const m = await this.next();
      if (!m) return null;
      if (m[18] === 3) return [m[19], m[20]];
    }
  }

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }
}

class FakePeer {
  private readonly waiting: PeerConnection[] = [];
  private waiter: (() => void) | undefined;
  readonly server: Server;

  constructor() {
    this.server = createServer((s) => {
      this.waiting.push(new PeerConnection(s));
      this.waiter?.();
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as { port: number }).port;
  }

  async accept(): Promise<PeerConnection> {
    const deadline = Date.now() + 10_000;
    while (this.waiting.length === 0) {
      if (Date.now() > deadline) throw new Error('the speaker did not reconnect within 10 s');
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 200);
      });
    }
    return this.waiting.shift()!;
  }
}

const peerOpen = (over: { asn?: number; holdTimeSec?: number; bgpId?: string } = {}) =>
  encodeOpen({
    asn: over.asn ?? PEER_ASN,
    holdTimeSec: over.holdTimeSec ?? 30,
    bgpId: over.bgpId ?? PEER_ID,
    capabilities: { multiprotocol: [{ afi: 1, safi: 1 }], routeRefresh: false, fourOctetAs: over.asn ?? PEER_ASN, unknown: [] },
  });

const announce = (prefix: string) => encodeUpdate({ withdrawn: [], nlri: [parsePrefix(prefix)], attributes: { origin: 0, asPath: [{ kind: 'sequence', asns: [PEER_ASN] }], nextHop: PEER_ID } }, true);

/** An UPDATE built from raw path attributes (each `[flags, code, ...value]`) announcing `prefix`. */
function rawUpdate(attributes: number[][], prefix = '10.77.9.0/24', withdrawn: number[] = []): Buffer {
  const attrs = Buffer.from(attributes.flatMap((a) => [a[0], a[1], a.length - 2, ...a.slice(2)]));
  const p = parsePrefix(prefix);
  const nlri = Buffer.from([p.length, ...p.address.split('.').map(Number).slice(0, Math.ceil(p.length / 8))]);
  const body = Buffer.concat([Buffer.from([withdrawn.length >> 8, withdrawn.length & 0xff]), Buffer.from(withdrawn), Buffer.from([attrs.length >> 8, attrs.length & 0xff]), attrs, nlri]);
  return withHeader(2, body);
}

function withHeader(type: number, body: Buffer): Buffer {
  const m = Buffer.alloc(19 + body.length, 0xff);
  m.writeUInt16BE(m.length, 16);
  m[18] = type;
  body.copy(m, 19);
  return m;
}

const ORIGIN_IGP = [0x40, 1, 0];
const AS_PATH = [0x40, 2, 2, 1, 0, 0, PEER_ASN >> 8, PEER_ASN & 0xff];
const NEXT_HOP = [0x40, 3, 10, 0, 0, 9];

test('malformed OPENs and UPDATEs over TCP: the right NOTIFICATION or RFC 7606 handling, never a crash', { timeout: 180_000 }, async (t) => {
  const peer = new FakePeer();
  const port = await peer.listen();
  const best = new Map<string, string>();
  const speaker = new BgpSpeaker({
    asn: OUR_ASN,
    routerId: '10.0.0.1',
    connectRetryMs: 50,
    connect: (host, p) =>
      new Promise((resolve, reject) => {
        const s = connect(p, host);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      }),
  });
  speaker.on('routes', (changes) => {
    for (const c of changes) {
      if (c.route) best.set(c.prefix, c.route.attributes.nextHop);
      else best.delete(c.prefix);
    }
  });
  speaker.announce(['10.244.1.0/24'], '10.0.0.1');
  speaker.addPeer({ address: '127.0.0.1', port, asn: PEER_ASN });
  t.after(() => {
    speaker.stop();
    peer.server.close();
  });

  /** Takes the speaker's next connection and answers its OPEN with `reply` (default: a good OPEN and KEEPALIVE). */
  const handshake = async (reply: Buffer[] = [peerOpen(), encodeKeepalive()]) => {
    const c = await peer.accept();
    const first = await c.next();
    assert.equal(first?.[18], 1, 'the speaker opens with an OPEN');
    c.send(...reply);
    return c;
  };
  const establish = async () => {
    const c = await handshake();
    await eventually('session Established', () => speaker.status()[0].state === 'Established' || undefined, 10_000, 20);
    return c;
  };
  let probes = 0;
  /** Sends `bad`, then a good UPDATE: the NOTIFICATION the speaker closed with, or 'up' if the probe's route arrived. */
  const outcome = async (c: PeerConnection, bad: Buffer): Promise<[number, number] | null | 'up'> => {
    const probe = `10.250.${Math.floor(probes / 250)}.${probes++ % 250}/32`;
    c.send(bad, announce(probe));
    const closed = c.notification();
    for (;;) {
      if (best.get(probe) === PEER_ID) return 'up';
      const settled = await Promise.race([closed, new Promise<'wait'>((r) => setTimeout(() => r('wait'), 20))]);
      if (settled !== 'wait') return best.get(probe) === PEER_ID ? 'up' : settled;
    }
  };

  await t.test('errors in the OPEN: the NOTIFICATION of RFC 4271 section 6.2, and the speaker comes back', async () => {
    const good = peerOpen();
    const mutate = (f: (m: Buffer) => void) => {
      const m = Buffer.from(good);
      f(m);
      return m;
    };
    const cases: [string, Buffer, [number, number]][] = [
      ['version 3', mutate((m) => (m[19] = 3)), [2, 1]],
      ['a peer AS other than configured', peerOpen({ asn: 64999 }), [2, 2]],
      ['BGP identifier 0.0.0.0', mutate((m) => m.writeUInt32BE(0, 24)), [2, 3]],
      ['optional parameter type 1', mutate((m) => (m[29] = 1)), [2, 4]],
      ['hold time 2 s', mutate((m) => m.writeUInt16BE(2, 22)), [2, 6]],
      ['a broken marker', mutate((m) => (m[5] = 0)), [1, 1]],
      ['header length 18', mutate((m) => m.writeUInt16BE(18, 16)), [1, 2]],
      ['message type 9', mutate((m) => (m[18] = 9)), [1, 3]],
      ['a KEEPALIVE instead of the OPEN', encodeKeepalive(), [5, 1]],
    ];
    for (const [what, open, expected] of cases) {
      const c = await handshake([open]);
      assert.deepEqual(await c.notification(), expected, what);
    }
  });

  await t.test('errors in an UPDATE that reset the session (RFC 4271 section 6.3, RFC 7606 where it keeps a reset)', async () => {
    const cases: [string, Buffer, [number, number]][] = [
      ['path attributes length past the message', (() => {
        const m = rawUpdate([ORIGIN_IGP, AS_PATH, NEXT_HOP]);
        m.writeUInt16BE(200, 21);
        return m;
      })(), [3, 1]],
      ['an unrecognized well-known attribute', rawUpdate([ORIGIN_IGP, AS_PATH, NEXT_HOP, [0x40, 99, 1]]), [3, 2]],
      ['an NLRI prefix of 33 bits', withHeader(2, Buffer.from([0, 0, 0, 0, 33, 10, 0, 0, 0, 0])), [3, 10]],
      ['a withdrawn prefix cut short', withHeader(2, Buffer.from([0, 2, 24, 10, 0, 0])), [3, 10]],
      ['MP_REACH_NLRI twice', rawUpdate([[0x80, 14, 0, 1, 1, 4, 10, 0, 0, 9, 0], [0x80, 14, 0, 1, 1, 4, 10, 0, 0, 9, 0], ORIGIN_IGP, AS_PATH]), [3, 1]],
      ['MP_REACH_NLRI with a 16-octet IPv4 next hop', rawUpdate([[0x80, 14, 0, 1, 1, 16, ...new Array(16).fill(1), 0], ORIGIN_IGP, AS_PATH]), [3, 9]],
      ['an OPEN once Established', peerOpen(), [5, 3]],
    ];
    for (const [what, bad, expected] of cases) {
      const c = await establish();
      assert.deepEqual(await outcome(c, bad), expected, what);
    }
  });

  await t.test('malformed attributes that RFC 7606 handles without a reset: routes withdrawn or attribute dropped', async () => {
    const c = await establish();
    const cases: [string, number[][]][] = [
      ['ORIGIN 5', [[0x40, 1, 5], AS_PATH, NEXT_HOP]],
      ['ORIGIN of 2 octets', [[0x40, 1, 0, 0], AS_PATH, NEXT_HOP]],
      ['ORIGIN flagged optional', [[0xc0, 1, 0], AS_PATH, NEXT_HOP]],
      ['AS_PATH segment type 9', [ORIGIN_IGP, [0x40, 2, 9, 1, 0xfb, 0xf1], NEXT_HOP]],
      ['AS_PATH segment cut short', [ORIGIN_IGP, [0x40, 2, 2, 3, 0, 0, 0xfb, 0xf1], NEXT_HOP]],
      ['NEXT_HOP of 3 octets', [ORIGIN_IGP, AS_PATH, [0x40, 3, 10, 0, 0]]],
      ['NEXT_HOP 0.0.0.0', [ORIGIN_IGP, AS_PATH, [0x40, 3, 0, 0, 0, 0]]],
      ['NEXT_HOP multicast', [ORIGIN_IGP, AS_PATH, [0x40, 3, 224, 0, 0, 5]]],
      ['MED of 2 octets', [ORIGIN_IGP, AS_PATH, NEXT_HOP, [0x80, 4, 0, 1]]],
      ['LOCAL_PREF of 5 octets', [ORIGIN_IGP, AS_PATH, NEXT_HOP, [0x40, 5, 0, 0, 0, 0, 1]]],
      ['COMMUNITIES of 6 octets', [ORIGIN_IGP, AS_PATH, NEXT_HOP, [0xc0, 8, 0, 0, 0, 1, 0, 2]]],
      ['no NEXT_HOP', [ORIGIN_IGP, AS_PATH]],
      ['no ORIGIN', [AS_PATH, NEXT_HOP]],
    ];
    let n = 0;
    for (const [what, attrs] of cases) {
      const prefix = `10.77.${n++}.0/24`;
      c.send(announce(prefix));
      await eventually(`${prefix} learned`, () => best.get(prefix) === PEER_ID || undefined, 10_000, 20);
      assert.equal(await outcome(c, rawUpdate(attrs, prefix)), 'up', `${what}: the session stays up`);
      assert.equal(best.has(prefix), false, `${what}: ${prefix} is withdrawn (treat-as-withdraw)`);
    }
    // An attribute list that overruns: the routes are withdrawn, the NLRI found by the total length.
    c.send(announce('10.77.100.0/24'));
    await eventually('10.77.100.0/24 learned', () => best.has('10.77.100.0/24') || undefined, 10_000, 20);
    const overrun = rawUpdate([ORIGIN_IGP, AS_PATH, NEXT_HOP, [0x40, 5, 0, 0, 0, 100]], '10.77.100.0/24');
    overrun[19 + 4 + 4 + 9 + 7 + 2] = 0xff; // LOCAL_PREF's length, after the header, both lengths, ORIGIN, AS_PATH, NEXT_HOP
    assert.equal(await outcome(c, overrun), 'up', 'an overrunning attribute');
    assert.equal(best.has('10.77.100.0/24'), false, 'routes of an overrunning attribute list are withdrawn');
    // Attribute discard: ATOMIC_AGGREGATE with a value, AGGREGATOR of the wrong size, a repeated ORIGIN.
    for (const [what, attrs, prefix] of [
      ['ATOMIC_AGGREGATE of 1 octet', [ORIGIN_IGP, AS_PATH, NEXT_HOP, [0x40, 6, 1]], '10.78.1.0/24'],
      ['AGGREGATOR of 3 octets', [ORIGIN_IGP, AS_PATH, NEXT_HOP, [0xc0, 7, 1, 2, 3]], '10.78.2.0/24'],
      ['ORIGIN twice', [ORIGIN_IGP, AS_PATH, NEXT_HOP, [0x40, 1, 2]], '10.78.3.0/24'],
    ] as const) {
      assert.equal(await outcome(c, rawUpdate(attrs as unknown as number[][], prefix)), 'up', what);
      assert.equal(best.get(prefix), PEER_ID, `${what}: the route is kept`);
    }
    assert.equal(speaker.status()[0].state, 'Established');
    c.socket.destroy();
  });

  await t.test('seeded fuzz: mutated OPENs and UPDATEs end in a NOTIFICATION of the message’s kind or keep the session; the speaker survives', async () => {
    const rnd = prng(7606);
    const allowed: Record<number, number[]> = { 1: [1, 2, 3], 2: [1, 2, 3, 4, 6, 7], 3: [1, 2, 3, 4, 5, 6, 8, 9, 10, 11], 5: [1, 2, 3] };
    const seenOutcomes = new Map<string, number>();
    const mutateBody = (base: Buffer) => {
      const m = Buffer.from(base);
      const edits = 1 + Math.floor(rnd() * 3);
      for (let e = 0; e < edits; e++) m[19 + Math.floor(rnd() * (m.length - 19))] = Math.floor(rnd() * 256);
      return m;
    };
    const updateSeeds = [announce('10.79.0.0/16'), rawUpdate([ORIGIN_IGP, AS_PATH, NEXT_HOP, [0x80, 4, 0, 0, 0, 5], [0x40, 5, 0, 0, 0, 100]], '10.79.1.0/24', [16, 10, 80]), rawUpdate([[0x80, 14, 0, 1, 1, 4, 10, 0, 0, 9, 0, 24, 10, 79, 2], ORIGIN_IGP, AS_PATH])];
    let c: PeerConnection | undefined;
    for (let i = 0; i < 300; i++) {
      const fuzzOpen = i % 10 === 0;
      let result: [number, number] | null | 'up';
      let kind: number;
      if (fuzzOpen) {
        c?.socket.destroy();
        c = undefined;
        const open = mutateBody(peerOpen());
        const conn = await handshake([open, encodeKeepalive()]);
        // An OPEN that decodes fine brings the session up; the probe shows it.
        const settled = await Promise.race([conn.notification(), eventually('established', () => speaker.status()[0].state === 'Established' || undefined, 10_000, 20).then(() => 'up' as const)]);
        result = settled;
        kind = 2;
        // Not reused: a mutated hold time of a few seconds would expire while UPDATEs are fuzzed.
        conn.socket.destroy();
      } else {
        c ??= await establish();
        result = await outcome(c, mutateBody(updateSeeds[i % updateSeeds.length]));
        kind = 3;
        if (result !== 'up') c = undefined;
      }
      const label = result === 'up' ? 'up' : result === null ? 'closed without NOTIFICATION' : `${result[0]}/${result[1]}`;
      seenOutcomes.set(`${kind === 2 ? 'OPEN' : 'UPDATE'} ${label}`, (seenOutcomes.get(`${kind === 2 ? 'OPEN' : 'UPDATE'} ${label}`) ?? 0) + 1);
      assert.notEqual(result, null, `mutation ${i}: the speaker closed without a NOTIFICATION`);
      if (result !== 'up' && result !== null) {
        const [code, subcode] = result;
        assert.ok(code === kind || code === 1 || code === 5, `mutation ${i}: NOTIFICATION code ${code} for a mutated ${kind === 2 ? 'OPEN' : 'UPDATE'}`);
        assert.ok(allowed[code]?.includes(subcode), `mutation ${i}: subcode ${subcode} is not one RFC 4271 defines for code ${code}`);
      }
    }
    t.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries(seenOutcomes))}`);
    assert.ok([...seenOutcomes.keys()].some((k) => k.startsWith('UPDATE 3/')) && seenOutcomes.has('UPDATE up'), `both resets and survivals: ${JSON.stringify([...seenOutcomes])}`);
    c?.socket.destroy();
    await establish();
    assert.equal(speaker.status()[0].state, 'Established', 'the speaker peers again after the fuzz run');
  });

  await t.test('metrics: NOTIFICATIONs by code, UPDATEs both ways, RFC 7606 verdicts, sessions and prefixes', async () => {
    const text = await client.register.metrics();
    const value = (line: RegExp) => Number(text.split('\n').find((l) => line.test(l))?.split(' ').pop() ?? NaN);
    assert.ok(value(/^flatnet_bgp_notifications_total\{peer="127\.0\.0\.1",direction="sent",code="2",subcode="1"\}/) >= 1, text);
    assert.ok(value(/^flatnet_bgp_notifications_total\{peer="127\.0\.0\.1",direction="sent",code="3",subcode="10"\}/) >= 2);
    assert.ok(value(/^flatnet_bgp_malformed_updates_total\{peer="127\.0\.0\.1",verdict="treat-as-withdraw"\}/) >= 14);
    assert.ok(value(/^flatnet_bgp_malformed_updates_total\{peer="127\.0\.0\.1",verdict="discard"\}/) >= 3);
    assert.ok(value(/^flatnet_bgp_updates_total\{peer="127\.0\.0\.1",direction="received"\}/) > 30);
    assert.ok(value(/^flatnet_bgp_updates_total\{peer="127\.0\.0\.1",direction="sent"\}/) > 10);
    assert.equal(value(/^flatnet_bgp_sessions\{state="Established"\}/), 1);
    assert.equal(value(/^flatnet_bgp_prefixes_advertised\{peer="127\.0\.0\.1"\}/), 1);
    assert.equal(value(/^flatnet_bgp_prefixes_received\{peer="127\.0\.0\.1"\}/), speaker.status()[0].prefixesReceived);
  });
});
