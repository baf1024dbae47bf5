// Prometheus metrics of the API server: requests by verb, resource and code, their latency,
// open watches, requests in flight (max-inflight.ts) and stored objects per resource.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../store/types.js';
import type { MaxInFlight, RequestKind } from './max-inflight.js';

export class ApiServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'apiserver_request_total', help: 'API requests by verb, resource and HTTP code', labelNames: ['verb', 'resource', 'code'], registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'API request latency by verb and resource (watches excluded)',
    labelNames: ['verb', 'resource'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly watches = new Gauge({ name: 'apiserver_registered_watchers', help: 'Open watch streams', registers: [this.registry] });
  /** Other components' metrics served on the same /metrics (the controllers'). */
  private readonly others: Registry[] = [];

  constructor(store: Store) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'apiserver_storage_objects',
      help: 'Stored objects per resource',
      labelNames: ['resource'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const r of store.resources()) this.set({ resource: r }, store.count(r));
      },
    });
    new Gauge({
      name: 'apiserver_storage_revision',
      help: 'The newest store revision (resourceVersion)',
      registers: [this.registry],
      collect() {
        this.set(store.revision);
      },
    });
  }

  /** apiserver_current_inflight_requests{request_kind}, upstream's gauge of the max-in-flight limits. */
  trackInflight(limits: MaxInFlight): void {
    new Gauge({
      name: 'apiserver_current_inflight_requests',
      help: 'Maximal number of currently used inflight request limit of this apiserver per request kind in last second.',
      labelNames: ['request_kind'],
      registers: [this.registry],
      collect() {
        for (const kind of ['readOnly', 'mutating'] as RequestKind[]) this.set({ request_kind: kind }, limits.recentPeak(kind));
      },
    });
  }

  include(registry: Registry): void {
    this.others.push(registry);
  }

  text(): Promise<string> {
    return this.others.length === 0 ? this.registry.metrics() : Registry.merge([this.registry, ...this.others]).metrics();
  }

  observe(verb: string, resource: string, code: number, seconds: number): void {
    this.requests.inc({ verb, resource, code: String(code) });
    if (verb !== 'watch' && verb !== 'proxy') this.latency.observe({ verb, resource }, seconds);
  }
}
