// Prometheus metrics of the DNS server, in a registry of its own (several servers can live in one
// process, as in tests). Label children are bound once so the hot path does no label hashing.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RCODE_NAMES } from './wire.js';

export class DnsMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'proto'>;
  private readonly responses: Counter<'rcode'>;
  readonly requestDuration: Histogram<string>;
  readonly answerCacheHits: Counter<string>;
  readonly answerCacheMisses: Counter<string>;
  readonly forwardCacheHits: Counter<string>;
  readonly forwardCacheMisses: Counter<string>;
  readonly upstreamFailures: Counter<string>;
  readonly malformed: Counter<'action'>;
  readonly services: Gauge<string>;
  private readonly requestsBy: Record<'udp' | 'tcp', ReturnType<Counter<'proto'>['labels']>>;
  private readonly responsesBy = new Map<number, ReturnType<Counter<'rcode'>['labels']>>();

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'flatnet_dns_requests_total', help: 'DNS queries received, by transport', labelNames: ['proto'], registers });
    this.responses = new Counter({ name: 'flatnet_dns_responses_total', help: 'DNS responses sent, by rcode', labelNames: ['rcode'], registers });
    this.requestDuration = new Histogram({
      name: 'flatnet_dns_request_duration_seconds',
      help: 'Time from receiving a query to handing its answer to the socket',
      buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.05, 0.25, 1, 2.5],
      registers,
    });
    this.answerCacheHits = new Counter({ name: 'flatnet_dns_answer_cache_hits_total', help: 'Cluster answers served from precomputed wire bytes', registers });
    this.answerCacheMisses = new Counter({ name: 'flatnet_dns_answer_cache_misses_total', help: 'Cluster answers built from the model', registers });
    this.forwardCacheHits = new Counter({ name: 'flatnet_dns_forward_cache_hits_total', help: 'Upstream answers served from the cache', registers });
    this.forwardCacheMisses = new Counter({ name: 'flatnet_dns_forward_cache_misses_total', help: 'Questions sent upstream', registers });
    this.upstreamFailures = new Counter({ name: 'flatnet_dns_upstream_failures_total', help: 'Upstream questions that failed on every upstream', registers });
    this.malformed = new Counter({ name: 'flatnet_dns_malformed_queries_total', help: 'Malformed queries, by what was done (dropped or answered with an error rcode)', labelNames: ['action'], registers });
    this.services = new Gauge({ name: 'flatnet_dns_services', help: 'Services known to the DNS model', registers });
    this.requestsBy = { udp: this.requests.labels('udp'), tcp: this.requests.labels('tcp') };
  }

  request(proto: 'udp' | 'tcp'): void {
    this.requestsBy[proto].inc();
  }

  response(rcode: number): void {
    let c = this.responsesBy.get(rcode);
    if (!c) this.responsesBy.set(rcode, (c = this.responses.labels(RCODE_NAMES[rcode] ?? String(rcode))));
    c.inc();
  }
}
