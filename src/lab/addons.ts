// Cluster add-ons the lab installs once its nodes are Ready: cluster DNS (Deployment `coredns`
// behind Service `kube-dns` 10.96.0.10, image flatnet/dns), and the check that it answers from
// inside a node namespace through the Service address; the GatewayClasses and IngressClasses
// flatnet serves.
import { execFile } from 'node:child_process';
import { KubeClient, isAlreadyExists } from '../client/client.js';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { clusterDnsObjects } from '../dns/manifest.js';
import { GATEWAY_CONTROLLER_NAME } from '../gateway/model/types.js';
import { INGRESS_CONTROLLER_NAME, NGINX_INGRESS_CONTROLLER_NAME } from '../gateway/ingress/types.js';

export const CLUSTER_DNS_IP = '10.96.0.10';
export const DNS_PROBE_NAME = 'kubernetes.default.svc.cluster.local';

const resourceFor = (kind: string) => {
  switch (kind) {
    case 'ServiceAccount':
      return R.serviceaccounts;
    case 'Deployment':
      return R.deployments;
    case 'Service':
      return R.services;
    default:
      throw new Error(`the lab does not know how to install a ${kind}`);
  }
};

/** Creates the DNS add-on objects that do not exist yet. */
export async function installClusterDns(client: KubeClient, replicas = 2): Promise<void> {
  for (const obj of clusterDnsObjects({ clusterIP: CLUSTER_DNS_IP, replicas, image: 'flatnet/dns' })) {
    try {
      await client.create<KubeObject>(resourceFor(obj.kind ?? ''), obj);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}

/**
 * The classes flatnet serves, installed by `flatnet up`: GatewayClasses `flatnet` and `nginx` (so
 * manifests written for NGINX Gateway Fabric work unchanged), IngressClass `flatnet` (the default
 * class) and IngressClass `nginx` (ingress-nginx's controller name, which flatnet serves too).
 */
export function servedClasses(): KubeObject[] {
  const gatewayClass = (name: string, description: string): KubeObject => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name },
    spec: { controllerName: GATEWAY_CONTROLLER_NAME, description },
  });
  return [
    gatewayClass('flatnet', 'flatnet gateway proxy'),
    gatewayClass('nginx', 'flatnet serves manifests written for NGINX Gateway Fabric'),
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'flatnet', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
      spec: { controller: INGRESS_CONTROLLER_NAME },
    },
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: NGINX_INGRESS_CONTROLLER_NAME } },
  ];
}

/** Creates the served GatewayClasses and IngressClasses that do not exist yet (existing ones are left as they are). */
export async function installServedClasses(client: KubeClient): Promise<void> {
  for (const obj of servedClasses()) {
    try {
      await client.create<KubeObject>(obj.kind === 'GatewayClass' ? R.gatewayclasses : R.ingressclasses, obj);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}

/** Asks the cluster DNS, from inside `netns`, for the kubernetes Service; answers the address or undefined. */
export function probeClusterDns(netns: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', netns, 'dig', '+short', '+time=1', '+tries=1', `@${CLUSTER_DNS_IP}`, DNS_PROBE_NAME, 'A'], { timeout: 4000 }, (err, stdout) => {
      const addr = stdout?.trim().split('\n').find((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l));
      resolve(err ? undefined : addr);
    });
  });
}
