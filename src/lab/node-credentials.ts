// The lab's agents join as any node would: `up` creates one bootstrap token (as `flatnet token
// create` does) and records it with the CA pin in <data>/node-join.json (0600, in the admin's
// 0700 data directory, never in a node's). Each agent is started with `flatnet join
// --join-env-file <that file>` while the server starts: it loads its code, waits for the file, reads
// the token and the pin from it (as an operator would type them on another machine), checks the
// server's CA against the pin, makes its own key and gets its node certificates. No agent gets the
// admin token; the agent reads nothing else of the admin's, and the server none of the agent's.
import type { KubeClient } from '../client/client.js';
import { caCertHash, createBootstrapToken } from '../apiserver/node-identity/join.js';
import { writePrivateFile } from '../agent/tls-bootstrap.js';
import type { LabPlan } from './plan.js';

export async function writeNodeJoinEnvironment(client: KubeClient, plan: LabPlan): Promise<void> {
  const caPem = client.connection.ca?.toString('utf8');
  if (!caPem) throw new Error(`${plan.kubeconfig} has no certificate-authority-data`);
  const token = await createBootstrapToken(client, { ttlSeconds: 24 * 3600, description: 'flatnet up: bootstrap token of the lab nodes' });
  writePrivateFile(plan.paths.join, JSON.stringify({ FLATNET_TOKEN: token, FLATNET_CA_CERT_HASH: caCertHash(caPem) }));
}
