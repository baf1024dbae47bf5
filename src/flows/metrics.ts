// Prometheus metrics of a node's flow events (prom-client's default registry, served by the
// agent's kubelet endpoint at /metrics and scraped through the API server's nodes/<n>/proxy/metrics).
import client from 'prom-client';
import type { FlowEvent, FlowPeer } from './types.js';

const flows = new client.Counter({
  name: 'flatnet_flows_total',
  help: 'Flow events seen by this node, by verdict and by the namespaces of source and destination ("" outside pods and Services)',
  labelNames: ['verdict', 'source_namespace', 'destination_namespace'],
});
const serviceFlows = new client.Counter({
  name: 'flatnet_flows_service_total',
  help: 'Flow events addressed to a Service, by Service, port and verdict (rejected: the Service had no endpoints)',
  labelNames: ['namespace', 'service', 'port', 'verdict'],
});
const policyDrops = new client.Counter({
  name: 'flatnet_flows_policy_drops_total',
  help: 'Packets dropped by NetworkPolicy on this node, by the isolating policy and direction (policy "" = none known: pod not admitted, IPv6)',
  labelNames: ['namespace', 'policy', 'direction'],
});
export const shedEvents = new client.Counter({
  name: 'flatnet_flows_shed_total',
  help: 'Flow events not kept or not delivered: pushed out of a full buffer (buffer) or dropped for a follower too slow to read them (follower)',
  labelNames: ['ring', 'reason'],
});
export const kernelLosses = new client.Counter({
  name: 'flatnet_flows_kernel_losses_total',
  help: 'Losses reported by the kernel readers: conntrack ENOBUFS warnings (each one or more events) and NFLOG packets tcpdump says the kernel dropped',
  labelNames: ['source'],
});
export const bufferedEvents = new client.Gauge({ name: 'flatnet_flows_buffered', help: 'Flow events in this node\'s buffer', labelNames: ['ring'] });

function ns(p: FlowPeer): string {
  return p.identity.kind === 'pod' || p.identity.kind === 'service' ? p.identity.namespace : '';
}

export function recordFlow(e: FlowEvent): void {
  flows.inc({ verdict: e.verdict, source_namespace: ns(e.source), destination_namespace: ns(e.destination) });
  if (e.service && e.verdict !== 'replied' && e.verdict !== 'closed') serviceFlows.inc({ namespace: e.service.namespace, service: e.service.name, port: e.service.port ?? '', verdict: e.verdict });
  if (e.verdict === 'dropped') {
    const names = e.policy?.policies.length ? e.policy.policies : [''];
    for (const full of names) {
      const [namespace, policy] = full === '' ? [ns(e.policy?.direction === 'egress' ? e.source : e.destination), ''] : full.split('/');
      policyDrops.inc({ namespace, policy, direction: e.policy?.direction ?? '' });
    }
  }
}
