// disjointBoxes: the union of allowed boxes as disjoint kernel set elements, each port range
// stretched over every neighbouring address that allows it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxContains, disjointBoxes, type Box } from '../../../src/netpol/boxes.js';
import { PROTOCOLS, type Protocol } from '../../../src/netpol/model.js';

const text = (boxes: Box[]) => boxes.map((b) => `${b.protocol} ${b.addresses.lo}-${b.addresses.hi} ${b.ports.lo}-${b.ports.hi}`);
const box = (lo: number, hi: number, plo: number, phi: number, protocol: Protocol = 'TCP'): Box => ({ addresses: { lo, hi }, protocol, ports: { lo: plo, hi: phi } });

test('a port allowed from everywhere stays one box however other rules cut the address axis', () => {
  // Port 7000 from every address; 8080 from three single pod addresses (as a rule with `from`
  // pods and one without `from` give): one 7000 box and three 8080 boxes, not 7 slices x ports.
  const boxes = disjointBoxes([box(0, 1000, 7000, 7000), box(10, 10, 8080, 8080), box(20, 20, 8080, 8080), box(30, 30, 8080, 8080)]);
  assert.deepEqual(text(boxes), ['TCP 0-1000 7000-7000', 'TCP 10-10 8080-8080', 'TCP 20-20 8080-8080', 'TCP 30-30 8080-8080']);
});

test('ranges that overlap in part are split where the merged port ranges differ', () => {
  const boxes = disjointBoxes([box(0, 100, 80, 90), box(50, 150, 85, 100), box(50, 60, 53, 53, 'UDP')]);
  assert.deepEqual(text(boxes), ['TCP 0-49 80-90', 'TCP 50-100 80-100', 'TCP 101-150 85-100', 'UDP 50-60 53-53']);
});

test('a gap in the addresses ends a run', () => {
  const boxes = disjointBoxes([box(0, 10, 80, 80), box(12, 20, 80, 80), box(11, 11, 443, 443)]);
  assert.deepEqual(text(boxes), ['TCP 0-10 80-80', 'TCP 11-11 443-443', 'TCP 12-20 80-80']);
});

/** A seeded generator (mulberry32): the same cases on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('random unions: the output is disjoint, covers exactly the union and depends only on the union', () => {
  const rnd = random(12);
  const int = (n: number) => Math.floor(rnd() * n);
  for (let round = 0; round < 300; round++) {
    const input: Box[] = [];
    for (let i = 0, n = 1 + int(8); i < n; i++) {
      const lo = int(40);
      const plo = int(20);
      input.push(box(lo, lo + int(15), plo, plo + int(6), PROTOCOLS[int(2)]));
    }
    const out = disjointBoxes(input);
    for (const protocol of PROTOCOLS.slice(0, 2)) {
      for (let a = 0; a < 60; a++) {
        for (let p = 0; p < 30; p++) {
          const inUnion = input.some((b) => boxContains(b, a, protocol, p));
          const covering = out.filter((b) => boxContains(b, a, protocol, p)).length;
          assert.equal(covering, inUnion ? 1 : 0, `round ${round}: ${protocol} ${a}/${p} covered ${covering} times (union: ${inUnion}) by ${text(out).join(', ')}`);
        }
      }
    }
    // The same union cut differently (each input box split in two along its addresses) gives the same boxes.
    const cut = input.flatMap((b) => {
      if (b.addresses.lo === b.addresses.hi) return [b];
      const mid = b.addresses.lo + int(b.addresses.hi - b.addresses.lo);
      return [{ ...b, addresses: { lo: b.addresses.lo, hi: mid } }, { ...b, addresses: { lo: mid + 1, hi: b.addresses.hi } }];
    });
    assert.deepEqual(text(disjointBoxes(cut.reverse())), text(out), `round ${round}`);
  }
});
