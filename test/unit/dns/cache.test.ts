// The upstream answer cache: TTLs count down, entries expire, negative answers live for
// min(SOA TTL, SOA minimum), failures are never kept, and the size stays bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedMap, ForwardCache, type UpstreamAnswer } from '../../../src/dns/cache.js';
import { RCode, RRType } from '../../../src/dns/wire.js';

const a = (ttl: number): UpstreamAnswer => ({ rcode: RCode.NOERROR, answers: [{ name: 'www.example.com', type: RRType.A, ttl, data: '192.0.2.1' }], authority: [], additional: [] });
const soa = (ttl: number, minimum: number) => ({ name: 'example.com', type: RRType.SOA, ttl, data: { mname: 'ns.example.com', rname: 'h.example.com', serial: 1, refresh: 1, retry: 1, expire: 1, minimum } }) as const;

test('positive answers: TTL counts down and the entry expires', () => {
  const c = new ForwardCache();
  c.set('k', a(60), 0);
  assert.equal(c.get('k', 10_500)?.answers[0].ttl, 50);
  assert.equal(c.get('k', 59_999)?.answers[0].ttl, 1);
  assert.equal(c.get('k', 60_000), undefined);
  assert.equal(c.size, 0);
});

test('positive TTL is the smallest record TTL, capped by maxTtl', () => {
  const c = new ForwardCache({ maxTtl: 100 });
  assert.equal(c.cacheTtl({ ...a(60), answers: [...a(60).answers, { name: 'x', type: RRType.A, ttl: 20, data: '192.0.2.2' }] }), 20);
  assert.equal(c.cacheTtl(a(5000)), 100);
});

test('negative answers use min(SOA TTL, SOA minimum); without SOA they are not cached', () => {
  const c = new ForwardCache();
  assert.equal(c.cacheTtl({ rcode: RCode.NXDOMAIN, answers: [], authority: [soa(3600, 10)], additional: [] }), 10);
  assert.equal(c.cacheTtl({ rcode: RCode.NOERROR, answers: [], authority: [soa(5, 10)], additional: [] }), 5);
  assert.equal(c.cacheTtl({ rcode: RCode.NXDOMAIN, answers: [], authority: [], additional: [] }), 0);
  assert.equal(c.cacheTtl({ rcode: RCode.SERVFAIL, answers: [], authority: [soa(60, 60)], additional: [] }), 0);
  c.set('fail', { rcode: RCode.SERVFAIL, answers: [], authority: [], additional: [] }, 0);
  assert.equal(c.get('fail', 0), undefined);
  c.set('zero', a(0), 0);
  assert.equal(c.get('zero', 0), undefined);
});

test('bounded: the oldest (least recently used) entry goes first', () => {
  const c = new ForwardCache({ maxEntries: 2 });
  c.set('a', a(60), 0);
  c.set('b', a(60), 0);
  assert.ok(c.get('a', 0)); // a is now the most recent
  c.set('c', a(60), 0);
  assert.ok(c.get('a', 0));
  assert.equal(c.get('b', 0), undefined);
  assert.equal(c.size, 2);
  const m = new BoundedMap<number>(3);
  for (let i = 0; i < 10; i++) m.set(String(i), i);
  assert.equal(m.size, 3);
  assert.equal(m.get('9'), 9);
  assert.equal(m.get('6'), undefined);
});
