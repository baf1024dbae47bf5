// The lab's agents join as any node would: `up` creates one bootstrap token (as `flatnet token
// create` does) and writes each node's bootstrap kubeconfig (0600 in the node's 0700 directory);
// each agent then makes its own key and gets its node certificates. No agent gets the admin token.
import type { KubeClient } from '../client/client.js';
import { createBootstrapToken } from '../apiserver/node-identity/join.js';
import { privateDir, renderBootstrapKubeconfig, writePrivateFile } from '../agent/tls-bootstrap.js';
import { API_LISTEN, type LabPlan } from './plan.js';

export async function writeNodeBootstrapKubeconfigs(client: KubeClient, plan: LabPlan): Promise<void> {
  const caPem = client.connection.ca?.toString('utf8');
  if (!caPem) throw new Error(`${plan.kubeconfig} has no certificate-authority-data`);
  const token = await createBootstrapToken(client, { ttlSeconds: 24 * 3600, description: 'flatnet up: bootstrap token of the lab nodes' });
  for (const n of plan.nodes) {
    privateDir(n.dataDir);
    writePrivateFile(n.bootstrapKubeconfig, renderBootstrapKubeconfig({ server: `https://${API_LISTEN}`, caPem, token }));
  }
}
