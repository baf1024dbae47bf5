// Synthetic Services and EndpointSlices shared by the proxy unit tests.
import type { KubeObject } from '../../../src/api/types.js';
import { readFileSync, writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';

export function svc(name: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name }, spec: { type: 'ClusterIP', ...spec }, status };
}

export function eps(
  service: string,
  ports: { name?: string; port: number; protocol?: string }[],
  endpoints: { ip: string; node?: string; ready?: boolean; serving?: boolean; terminating?: boolean }[],
  name = `${service}-1`,
): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'default', name, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      nodeName: e.node ?? 'node-a',
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
    })),
  };
}

/** Compares with a golden file; FLATNET_UPDATE_GOLDEN=1 rewrites it. */
export function assertGolden(name: string, actual: string): void {
  const path = new URL(`./golden/${name}`, import.meta.url);
  if (process.env.FLATNET_UPDATE_GOLDEN === '1') writeFileSync(path, actual);
  assert.equal(actual, readFileSync(path, 'utf8'), `golden file test/unit/proxy/golden/${name} (FLATNET_UPDATE_GOLDEN=1 to rewrite after checking the difference)`);
}

/** A cluster with one of each kind of Service the proxy handles. */
export function sampleCluster(): { services: KubeObject[]; slices: KubeObject[] } {
  const services = [
    svc('web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }),
    svc('dns', { clusterIP: '10.96.0.53', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }),
    svc('sticky', { clusterIP: '10.96.0.11', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, ports: [{ name: 'http', port: 80 }] }),
    svc('front', { type: 'NodePort', clusterIP: '10.96.0.12', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }),
    svc(
      'lb',
      { type: 'LoadBalancer', clusterIP: '10.96.0.13', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, loadBalancerSourceRanges: ['10.0.0.0/8'], ports: [{ name: 'http', port: 80, nodePort: 30081 }] },
      { loadBalancer: { ingress: [{ ip: '172.18.255.1', ipMode: 'VIP' }] } },
    ),
    svc('empty', { clusterIP: '10.96.0.14', ports: [{ name: 'http', port: 80 }] }),
    svc('headless', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }),
    svc('ext', { type: 'ExternalName', externalName: 'example.com' }),
  ];
  const slices = [
    eps('web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.2' }, { ip: '10.244.2.2', node: 'node-b' }]),
    eps('dns', [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'dns-tcp', port: 5353 }], [{ ip: '10.244.1.3' }]),
    eps('sticky', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.4' }, { ip: '10.244.2.4', node: 'node-b' }]),
    eps('front', [{ name: 'http', port: 3000 }], [{ ip: '10.244.1.5' }, { ip: '10.244.1.6', ready: false }]),
    eps('lb', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.7' }, { ip: '10.244.2.7', node: 'node-b' }]),
    eps('headless', [{ name: 'http', port: 80 }], [{ ip: '10.244.1.8' }]),
  ];
  return { services, slices };
}
