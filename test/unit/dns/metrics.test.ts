// The per-query metrics are counted outside prom-client and handed over when the registry is
// read: the /metrics text must still show every query, response, cache hit/miss and duration,
// and counts gathered between two reads must add up, not replace each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsHandler } from '../../../src/dns/handler.js';
import { CountingHistogram, DnsMetrics } from '../../../src/dns/metrics.js';
import { askRaw, fixtureModel, queryBytes } from './fixture.js';

const Z = 'cluster.local';

function value(text: string, line: string): number {
  const escaped = line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`no "${line}" in:\n${text}`);
  return Number(m[1]);
}

test('queries, responses by rcode, answer-cache hits and durations reach /metrics, across reads', async () => {
  const metrics = new DnsMetrics();
  const handler = new DnsHandler(fixtureModel(), { zone: Z, ttl: 30, pods: 'insecure', ready: () => true }, metrics);
  for (let i = 0; i < 3; i++) await askRaw(handler, queryBytes(`web.ns1.svc.${Z}`, 'A'), 'udp');
  await askRaw(handler, queryBytes(`nope.ns1.svc.${Z}`, 'A'), 'tcp');
  await askRaw(handler, queryBytes('www.example.com', 'A'), 'udp');

  let text = await metrics.registry.metrics();
  assert.equal(value(text, 'flatnet_dns_requests_total{proto="udp"}'), 4);
  assert.equal(value(text, 'flatnet_dns_requests_total{proto="tcp"}'), 1);
  assert.equal(value(text, 'flatnet_dns_responses_total{rcode="NOERROR"}'), 3);
  assert.equal(value(text, 'flatnet_dns_responses_total{rcode="NXDOMAIN"}'), 1);
  assert.equal(value(text, 'flatnet_dns_responses_total{rcode="REFUSED"}'), 1);
  // web A: miss then two hits; nope and www.example.com: one miss each
  assert.equal(value(text, 'flatnet_dns_answer_cache_hits_total'), 2);
  assert.equal(value(text, 'flatnet_dns_answer_cache_misses_total'), 3);
  assert.equal(value(text, 'flatnet_dns_request_duration_seconds_count'), 5);
  assert.equal(value(text, 'flatnet_dns_request_duration_seconds_bucket{le="+Inf"}'), 5);
  assert.match(text, /# TYPE flatnet_dns_request_duration_seconds histogram/);

  // a second read after more queries adds to the first
  await askRaw(handler, queryBytes(`web.ns1.svc.${Z}`, 'A'), 'udp');
  text = await metrics.registry.metrics();
  assert.equal(value(text, 'flatnet_dns_requests_total{proto="udp"}'), 5);
  assert.equal(value(text, 'flatnet_dns_responses_total{rcode="NOERROR"}'), 4);
  assert.equal(value(text, 'flatnet_dns_answer_cache_hits_total'), 3);
  assert.equal(value(text, 'flatnet_dns_request_duration_seconds_count'), 6);
  // reading the counters one by one (as a test or a collector may) flushes too
  assert.equal((await metrics.answerCacheHits.get()).values[0]?.value, 3);
});

test('the counting histogram: cumulative buckets, +Inf, sum and count, like prom-client prints them', async () => {
  const h = new CountingHistogram('t_seconds', 'test', [0.001, 0.01, 0.1]);
  for (const v of [0.0005, 0.001, 0.005, 0.05, 0.5, 2]) h.observe(v);
  const { values, type } = h.get();
  assert.equal(type, 'histogram');
  const byLe = Object.fromEntries(values.filter((v) => v.metricName === 't_seconds_bucket').map((v) => [String(v.labels.le), v.value]));
  assert.deepEqual(byLe, { '0.001': 2, '0.01': 3, '0.1': 4, '+Inf': 6 });
  assert.equal(values.find((v) => v.metricName === 't_seconds_count')?.value, 6);
  assert.ok(Math.abs((values.find((v) => v.metricName === 't_seconds_sum')?.value ?? 0) - 2.5565) < 1e-9);
  assert.throws(() => new CountingHistogram('bad', 'x', [0.1, 0.01]), /buckets must increase/);
});
