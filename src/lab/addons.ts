// Cluster add-ons the lab installs once its nodes are Ready: cluster DNS (Deployment `coredns`
// behind Service `kube-dns` 10.96.0.10, image flatnet/dns), and the check that it answers from
// inside a node namespace through the Service address.
import { execFile } from 'node:child_process';
import { KubeClient, isAlreadyExists } from '../client/client.js';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { clusterDnsObjects } from '../dns/manifest.js';

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

/** Asks the cluster DNS, from inside `netns`, for the kubernetes Service; answers the address or undefined. */
export function probeClusterDns(netns: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', netns, 'dig', '+short', '+time=1', '+tries=1', `@${CLUSTER_DNS_IP}`, DNS_PROBE_NAME, 'A'], { timeout: 4000 }, (err, stdout) => {
      const addr = stdout?.trim().split('\n').find((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l));
      resolve(err ? undefined : addr);
    });
  });
}
