// Prometheus metrics of one proxy, in its own registry (never the process-global one).
//
// Requests and their durations are counted per route in plain numbers (one Map lookup, one
// array increment per request) and handed to the registry at scrape time. prom-client's
// `counter.inc(labels)` and `histogram.observe(labels, v)` validate and hash the label object on
// every call, and its `labels()` children do the same again inside (prom-client 15.1), so they
// cost a few microseconds per request on the proxy's hot path; a scrape is rare.
import { Counter, Gauge, Registry, type Metric } from 'prom-client';

const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What one route answered: count per status code, and a duration histogram. */
class RouteStats {
  readonly codes = new Map<number, number>();
  /** Per bucket (not cumulative); the last slot is above the largest bound. */
  readonly buckets = new Float64Array(DURATION_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  record(code: number, seconds: number): void {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    let b = 0;
    while (b < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[b]) b++;
    this.buckets[b]++;
    this.sum += seconds;
    this.count++;
  }
}

interface ExportedValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A histogram in the registry whose values come from the per-route stats. */
class RouteDurationHistogram {
  readonly name = 'gateway_request_duration_seconds';
  readonly help = 'Time from the request head to the end of the response, by route.';
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(private readonly stats: Map<string, RouteStats>) {}

  get(): Promise<{ name: string; help: string; type: string; values: ExportedValue[]; aggregator: string }> {
    const values: ExportedValue[] = [];
    for (const [route, s] of this.stats) {
      let acc = 0;
      DURATION_BUCKETS.forEach((le, i) => {
        acc += s.buckets[i];
        values.push({ labels: { le, route }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', route }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { route }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { route }, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  reset(): void {
    this.stats.clear();
  }
}

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly routes = new Map<string, RouteStats>();
  readonly requests: Counter<'route' | 'code'>;
  readonly upstreamErrors = new Counter({ name: 'gateway_upstream_errors_total', help: 'Failed upstream attempts, by backend and reason.', labelNames: ['backend', 'reason'], registers: [this.registry] });
  readonly activeConnections = new Gauge({ name: 'gateway_active_connections', help: 'Open client connections (TCP) or sessions (UDP), by port.', labelNames: ['port'], registers: [this.registry] });
  readonly configSwaps = new Counter({ name: 'gateway_config_swaps_total', help: 'Routing tables swapped in by update().', registers: [this.registry] });

  constructor() {
    const routes = this.routes;
    this.requests = new Counter({
      name: 'gateway_requests_total',
      help: 'HTTP requests answered, by route and status code.',
      labelNames: ['route', 'code'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [route, s] of routes) for (const [code, n] of s.codes) this.inc({ route, code: String(code) }, n);
      },
    });
    this.registry.registerMetric(new RouteDurationHistogram(routes) as unknown as Metric);
  }

  observe(route: string, code: number, seconds: number): void {
    let s = this.routes.get(route);
    if (s === undefined) {
      s = new RouteStats();
      this.routes.set(route, s);
    }
    s.record(code, seconds);
  }
}
