// The scale fixture: 1,000 pods and 1,000 NetworkPolicies on one node.
import type { KubeObject } from '../../src/api/types.js';
import { NODE_NAME } from '../../test/unit/netpol/fixtures/topology.js';

/** 20 namespaces x 50 pods; 1,000 policies (50 per namespace), each pod selected by 5. */
export function scaleObjects(): { pods: KubeObject[]; namespaces: KubeObject[]; policies: KubeObject[] } {
  const pods: KubeObject[] = [];
  const namespaces: KubeObject[] = [];
  const policies: KubeObject[] = [];
  for (let n = 0; n < 20; n++) {
    const ns = `team-${n}`;
    namespaces.push({ metadata: { name: ns, labels: { team: String(n), tier: n % 2 ? 'backend' : 'frontend' } } });
    for (let i = 0; i < 50; i++) {
      const ip = `10.244.${n}.${i + 2}`;
      pods.push({
        metadata: { namespace: ns, name: `pod-${i}`, uid: `${ns}-${i}`, labels: { app: `app-${i % 10}`, role: `role-${i % 5}` } },
        spec: { nodeName: NODE_NAME, containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }] }] },
        status: { phase: 'Running', podIP: ip },
      });
    }
    for (let p = 0; p < 50; p++) {
      policies.push({
        metadata: { namespace: ns, name: `policy-${p}` },
        spec: {
          podSelector: { matchLabels: { app: `app-${p % 10}` } },
          policyTypes: p % 3 === 0 ? ['Ingress', 'Egress'] : ['Ingress'],
          ingress: [
            { from: [{ podSelector: { matchLabels: { role: `role-${p % 5}` } } }], ports: [{ port: 8080 }] },
            { from: [{ namespaceSelector: { matchLabels: { tier: 'frontend' } }, podSelector: { matchLabels: { role: 'role-0' } } }], ports: [{ port: 'http' }] },
            { from: [{ ipBlock: { cidr: '172.16.0.0/12', except: [`172.16.${p}.0/24`] } }], ports: [{ port: 9000 + p, endPort: 9010 + p }] },
          ],
          egress: p % 3 === 0 ? [{ to: [{ namespaceSelector: { matchLabels: { team: String((n + 1) % 20) } } }], ports: [{ port: 'metrics' }] }, { ports: [{ port: 53, protocol: 'UDP' }] }] : undefined,
        },
      });
    }
  }
  return { pods, namespaces, policies };
}

