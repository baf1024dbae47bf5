// Prometheus metrics of the controllers, named as upstream's workqueue metrics. They live in
// their own registry; the server exposes them by merging it into its /metrics registry
// (Registry.merge([apiserverRegistry, controllerMetrics])).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const controllerMetrics = new Registry();

export const workqueueAdds = new Counter({ name: 'workqueue_adds_total', help: 'Keys added to a controller work queue', labelNames: ['name'], registers: [controllerMetrics] });
export const workqueueRetries = new Counter({ name: 'workqueue_retries_total', help: 'Keys requeued after a failed sync', labelNames: ['name'], registers: [controllerMetrics] });
export const workqueueDepth = new Gauge({ name: 'workqueue_depth', help: 'Keys waiting in a controller work queue', labelNames: ['name'], registers: [controllerMetrics] });
export const workqueueDuration = new Histogram({
  name: 'workqueue_work_duration_seconds',
  help: 'Time a controller spent syncing one key',
  labelNames: ['name'],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [controllerMetrics],
});
