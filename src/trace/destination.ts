// Where a trace's TO points when it is written as an address rather than a DNS name: node:NAME (the
// node's InternalIP), an IPv4 address, or NAMESPACE/POD (the pod's IP). Shared by `flatnet trace`
// and the web view's trace form, which prefix the reason with their own field name.
import type { ClusterView } from './predict.js';

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export type Destination = { kind: 'address'; ip: string } | { kind: 'name' } | { kind: 'invalid'; reason: string };

export function destinationOf(view: Pick<ClusterView, 'nodes' | 'policy'>, to: string): Destination {
  if (to.startsWith('node:')) {
    const name = to.slice(5);
    const node = view.nodes.find((n) => n.name === name);
    if (node?.internalIP) return { kind: 'address', ip: node.internalIP };
    return { kind: 'invalid', reason: `node "${name}" ${node ? 'has no InternalIP' : `does not exist (nodes: ${view.nodes.map((n) => n.name).join(', ')})`}` };
  }
  if (IPV4.test(to)) return { kind: 'address', ip: to };
  if (to.includes('/')) {
    const [ns, name] = to.split('/', 2);
    const pod = view.policy.findPod(ns, name);
    if (pod?.ip) return { kind: 'address', ip: pod.ip };
    return { kind: 'invalid', reason: `pod ${to} ${pod ? 'has no IP address yet' : 'does not exist'}` };
  }
  return { kind: 'name' };
}
