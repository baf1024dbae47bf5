// Prometheus metrics of the gateway controller, in the controllers' registry (served by the API
// server's /metrics beside the work queue metrics).
import { Counter, Gauge } from 'prom-client';
import { controllerMetrics } from '../../controllers/metrics.js';

export const statusWrites = new Counter({
  name: 'flatnet_gateway_status_writes_total',
  help: 'Status subresource writes of the gateway controller, by kind of object',
  labelNames: ['kind'],
  registers: [controllerMetrics],
});

export const provisionedProxies = new Gauge({
  name: 'flatnet_gateway_proxies',
  help: 'Proxies the gateway controller keeps provisioned (kind="gateway": one per Gateway of our classes; kind="ingress": the Ingress proxy)',
  labelNames: ['kind'],
  registers: [controllerMetrics],
});

export const modelEvents = new Counter({
  name: 'flatnet_gateway_warning_events_total',
  help: 'Warning events recorded from the route models (each distinct warning once)',
  labelNames: ['model'],
  registers: [controllerMetrics],
});
