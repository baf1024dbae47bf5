// The bounded buffer (sheds and counts, drops kept apart from connections) and the filters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UnsequencedFlow } from '../../../src/flows/assemble.js';
import { filterFromQuery, filterToQuery, flowMatches, FlowFilterError, parseSince } from '../../../src/flows/filter.js';
import { flowLine } from '../../../src/flows/format.js';
import { FlowRing } from '../../../src/flows/ring.js';
import type { FlowEvent, Verdict } from '../../../src/flows/types.js';

function flow(verdict: Verdict, i = 0, extra: Partial<UnsequencedFlow> = {}): UnsequencedFlow {
  return {
    time: new Date(Date.UTC(2026, 11, 6, 19, 0, i)).toISOString().replace('Z', '123Z'),
    node: 'n1',
    verdict,
    protocol: 'tcp',
    source: { ip: '10.244.1.5', port: 40000 + i, identity: { kind: 'pod', namespace: 'shop', name: 'client' } },
    destination: { ip: '10.96.0.50', port: 8080, identity: { kind: 'service', namespace: 'shop', name: 'web' } },
    service: { namespace: 'shop', name: 'web', port: 'http' },
    summary: verdict,
    origin: 'conntrack:1',
    ...extra,
  };
}

test('a full ring sheds its oldest and counts; drops are never pushed out by connections', () => {
  const ring = new FlowRing({ verdicts: 3, connections: 5 });
  ring.push(flow('dropped', 0));
  for (let i = 1; i <= 12; i++) ring.push(flow('forwarded', i));
  const s = ring.stats();
  assert.deepEqual(s.shed, { verdicts: 0, connections: 7 });
  assert.deepEqual(s.stored, { verdicts: 1, connections: 5 });
  assert.equal(s.nextSeq, 13);
  const listed = ring.list();
  assert.deepEqual(listed.map((e) => e.seq), [0, 8, 9, 10, 11, 12]);
  assert.equal(listed[0].verdict, 'dropped');
  assert.deepEqual(ring.list(10).map((e) => e.seq), [10, 11, 12]);
  for (let i = 0; i < 5; i++) ring.push(flow('rejected', i));
  assert.equal(ring.stats().shed.verdicts, 3);
  assert.throws(() => new FlowRing({ verdicts: 0, connections: 1 }), /positive integer/);
});

test('subscribers see every event as it is pushed', () => {
  const ring = new FlowRing({ verdicts: 1, connections: 1 });
  const seen: number[] = [];
  const off = ring.subscribe((e) => seen.push(e.seq));
  for (let i = 0; i < 4; i++) ring.push(flow('forwarded', i));
  off();
  ring.push(flow('forwarded', 9));
  assert.deepEqual(seen, [0, 1, 2, 3]);
});

test('filters: namespace, pod, service, verdict, since, node', () => {
  const e = { seq: 1, ...flow('translated', 5) } as FlowEvent;
  const m = (q: string) => flowMatches(e, filterFromQuery(new URLSearchParams(q), Date.UTC(2026, 11, 6, 19, 1, 0)));
  assert.equal(m(''), true);
  assert.equal(m('namespace=shop'), true);
  assert.equal(m('namespace=other'), false);
  assert.equal(m('pod=client'), true);
  assert.equal(m('pod=shop/client'), true);
  assert.equal(m('pod=other/client'), false);
  assert.equal(m('pod=client&namespace=other'), false);
  assert.equal(m('service=web'), true);
  assert.equal(m('service=shop/web'), true);
  assert.equal(m('service=api'), false);
  assert.equal(m('verdict=forwarded'), true, 'forwarded covers translated');
  assert.equal(m('verdict=translated'), true);
  assert.equal(m('verdict=dropped'), false);
  assert.equal(m('since=60s'), true);
  assert.equal(m('since=10s'), false);
  assert.equal(m('since=2026-12-06T19:00:06Z'), false);
  assert.equal(m('node=n1'), true);
  assert.equal(m('node=n2'), false);
});

test('bad filter values are refused naming the field', () => {
  const bad: [string, RegExp][] = [
    ['verdict=lost', /^verdict: "lost" is not one of/],
    ['since=yesterday', /^since: /],
    ['pod=Bad_Name', /^pod: /],
    ['namespace=a/b', /^namespace: /],
    ['colour=red', /^colour: unknown parameter/],
  ];
  for (const [q, re] of bad) assert.throws(() => filterFromQuery(new URLSearchParams(q)), (err: Error) => err instanceof FlowFilterError && re.test(err.message), q);
  assert.equal(parseSince('5m', 1_000_000), 700_000);
  const round = filterFromQuery(filterToQuery({ namespace: 'shop', pod: 'client', verdict: 'dropped', sinceMs: 1_000 }));
  assert.deepEqual(round, { namespace: 'shop', pod: 'client', verdict: 'dropped', sinceMs: 1_000 });
});

test('a flow as a text line', () => {
  const e = { seq: 1, ...flow('translated', 5, { endpoint: { ip: '10.244.2.7', port: 80, identity: { kind: 'pod', namespace: 'shop', name: 'web-1' } } }) } as FlowEvent;
  assert.equal(flowLine(e), 'Dec  6 19:00:05.000123 [n1] shop/client:40005 -> shop/web:8080 (Service) => shop/web-1:80 TRANSLATED TCP translated');
});
