// What the agent does when its Node object is gone (`kubectl delete node`) while it runs, as the
// kubelet does when its status update finds the Node missing (404): it registers the Node again
// with its own credentials. Deleting a Node also revokes its node client certificates, so the
// agent first gets 401s; its NodeCredentialGuard (tls-bootstrap.ts) then gets a new certificate
// with the bootstrap token, and the next status update meets the 404 and re-creates the Node.
// The node's Lease is owned by the Node (ownerReferences), so the garbage collector deletes it
// with the old Node; the one renewed afterwards must name the new Node's uid.
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { isAlreadyExists, type KubeClient } from '../client/client.js';
import { WatchUntilTimeout, watchUntil } from '../client/watch-until.js';
import type { Logger } from '../util/log.js';
import { nodeMetadata, type NodeFacts } from './node-status.js';

/** Creates the Node again (or takes the one someone else created meanwhile) and says so. */
export async function registerNodeAgain(client: KubeClient, facts: NodeFacts, log: Logger): Promise<KubeObject> {
  log.warn('the Node object is gone (deleted); registering the node again', { node: facts.nodeName });
  let node: KubeObject | undefined;
  try {
    node = await client.create(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: nodeMetadata(facts), spec: {} });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    node = await client.get(R.nodes, undefined, facts.nodeName);
    if (!node) throw err;
  }
  log.info('registered node', { node: facts.nodeName, uid: node.metadata.uid, again: true });
  return node;
}

interface OwnerReference {
  kind?: string;
  uid?: string;
}

/** The ownerReferences a Lease must get so it names the Node `nodeUid` (undefined: it already does, or the uid is unknown). Pure. */
export function leaseOwnerFix(lease: KubeObject, owner: KubeObject | undefined): KubeObject['metadata'] | undefined {
  const uid = owner?.metadata.uid;
  if (!uid) return undefined;
  const refs = ((lease.metadata as { ownerReferences?: OwnerReference[] }).ownerReferences ?? []);
  if (refs.some((r) => r.kind === 'Node' && r.uid === uid)) return undefined;
  return { ownerReferences: [...refs.filter((r) => r.kind !== 'Node'), { apiVersion: 'v1', kind: 'Node', name: owner.metadata.name, uid }] } as KubeObject['metadata'];
}

/** spec.podCIDR of a Node, or undefined while it has none. Pure. */
export function podCIDROf(node: KubeObject | undefined): string | undefined {
  return (node?.spec as { podCIDR?: string } | undefined)?.podCIDR || undefined;
}

/**
 * The pod CIDR of Node `nodeName` the moment the node IPAM controller writes it (a watch of that
 * one Node, started again after each minute without one). Rejects when `signal` aborts.
 */
export async function watchPodCIDR(client: KubeClient, nodeName: string, signal: AbortSignal): Promise<string> {
  for (;;) {
    try {
      return await watchUntil<KubeObject, string>(client, R.nodes, { fieldSelector: `metadata.name=${nodeName}`, timeoutMs: 60_000, what: `spec.podCIDR of Node ${nodeName}`, signal }, (nodes) => podCIDROf(nodes.get(`/${nodeName}`)));
    } catch (err) {
      if (!(err instanceof WatchUntilTimeout)) throw err;
    }
  }
}

/**
 * After a re-registration the node IPAM controller gives the new Node a pod CIDR (the lowest free
 * one, normally the one it had). Pods and routes of this agent use `running`: a different range is
 * logged as an error, since only an agent restart moves the node's network to it.
 */
export async function checkPodCIDRAfterRegistration(client: KubeClient, nodeName: string, running: string | undefined, log: Logger, signal: AbortSignal): Promise<void> {
  if (!running) return;
  let cidr: string;
  try {
    cidr = await watchPodCIDR(client, nodeName, signal);
  } catch {
    return; // stopped
  }
  if (cidr !== running) log.error(`the re-registered Node got pod CIDR ${cidr}, but this agent's pods and routes use ${running}; restart the agent to move the node to its new range`, { node: nodeName });
}
