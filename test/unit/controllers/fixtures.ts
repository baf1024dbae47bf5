// Small builders of API objects for the controllers' pure tests.
import type { Pod, Service } from '../../../src/controllers/types.js';

export function makeService(name: string, spec: Partial<Service['spec']> = {}, namespace = 'default'): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, uid: `uid-svc-${name}`, labels: { app: name } },
    spec: { selector: { app: name }, clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], ...spec },
  };
}

export function makePod(
  name: string,
  opts: { labels?: Record<string, string>; ip?: string; ready?: boolean; node?: string; terminating?: boolean; ports?: { name: string; containerPort: number }[]; namespace?: string } = {},
): Pod {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: opts.namespace ?? 'default', uid: `uid-${name}`, labels: opts.labels ?? { app: 'web' } },
    spec: { containers: [{ name: 'c', image: 'nginx', ports: opts.ports }], restartPolicy: 'Always' },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  };
  if (opts.ip !== null) pod.status!.podIP = opts.ip;
  if (opts.node) pod.spec.nodeName = opts.node;
  if (opts.terminating) pod.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  return pod;
}

export function ip(i: number): string {
  return `10.244.${Math.floor(i / 250)}.${(i % 250) + 2}`;
}
