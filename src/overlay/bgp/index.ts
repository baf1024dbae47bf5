// startNodeBgp: the agent's BGP mode. Watches BGPPeer objects (the CRD may be installed later:
// the watch waits for it) and this node's Node (labels select peers; annotation
// flatnet.dev/bgp-asn overrides the node's AS number, default 64512), runs the node's speaker,
// announces the LoadBalancer addresses this node serves (Services and EndpointSlices watched,
// lb-announcements.ts),
// publishes its sessions in the Node annotation flatnet.dev/bgp-sessions and records an Event on
// the Node for every session that comes up or goes down, and one per unusable BGPPeer. A peer's
// password is read from the Secret its spec.password.secretKeyRef names (kube-system), with the
// node's own credentials, when the peers change and every SECRET_REFRESH_MS (a rotated password
// re-opens the session); it is never logged or published.
import type { KubeClient } from '../../client/client.js';
import { sharedInformer } from '../../client/shared-informers.js';
import type { InformerView } from '../../client/informer.js';
import { R } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { EventRecorder } from '../../controllers/events.js';
import { CoalescingRunner } from '../../util/coalescing-runner.js';
import { createLogger } from '../../util/log.js';
import { BGP_PEERS } from './crd.js';
import { BGP_GROUP, BGP_VERSION, DEFAULT_NODE_ASN, peersForNode, resolvePasswords } from './peers.js';
import { BGP_PASSWORD_NAMESPACE } from './password.js';
import { BGP_SESSIONS_ANNOTATION, parseSessionsAnnotation, publishedSessions } from './session-annotation.js';
import { NodeSpeaker } from './node-speaker.js';
import { lbAnnouncements } from './lb-announcements.js';

const log = createLogger('bgp');
export const BGP_ASN_ANNOTATION = 'flatnet.dev/bgp-asn';
const PUBLISH_INTERVAL_MS = 5_000;
/** How often the Secrets of BGP passwords are read again. */
export const SECRET_REFRESH_MS = 30_000;

export interface NodeBgpOptions {
  nodeName: string;
  netns?: string;
  /** The node's underlay address. */
  address: string;
  podCIDR: string;
}

export interface NodeBgpHandle {
  speaker: NodeSpeaker;
  /** Stops; without `withdraw` (an agent restart) peers keep this node's routes (graceful restart). */
  stop(opts?: { withdraw?: boolean }): Promise<void>;
}

/** The node's AS number from its annotation, or the default; a bad value is reported and ignored. */
export function nodeAsn(node: KubeObject | undefined): { asn: number; error?: string } {
  const raw = node?.metadata.annotations?.[BGP_ASN_ANNOTATION];
  if (raw === undefined) return { asn: DEFAULT_NODE_ASN };
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 4294967295) return { asn: DEFAULT_NODE_ASN, error: `metadata.annotations[${BGP_ASN_ANNOTATION}]: Invalid value: "${raw}": must be an AS number from 1 to 4294967295` };
  return { asn: n };
}

export async function startNodeBgp(client: KubeClient, nodes: InformerView<KubeObject>, opts: NodeBgpOptions): Promise<NodeBgpHandle> {
  const self = () => nodes.get(undefined, opts.nodeName);
  const { asn, error } = nodeAsn(self());
  if (error) log.warn('ignoring the node AS number annotation', { node: opts.nodeName, err: error });
  const speaker = new NodeSpeaker({ nodeName: opts.nodeName, netns: opts.netns, asn, address: opts.address, podCIDR: opts.podCIDR });
  await speaker.start();
  log.info('BGP speaker started', { node: opts.nodeName, asn, address: opts.address, announces: opts.podCIDR });

  const events = new EventRecorder(client, 'flatnet-bgp', log, { host: opts.nodeName, instance: opts.nodeName });
  /** An event about this Node, or about `peer` (a BGPPeer). */
  const nodeEvent = (type: 'Normal' | 'Warning', reason: string, message: string, peer?: KubeObject) => {
    const about = peer ? { ...peer, apiVersion: `${BGP_GROUP}/${BGP_VERSION}`, kind: BGP_PEERS.kind } : { apiVersion: 'v1', kind: 'Node', metadata: { name: opts.nodeName, uid: self()?.metadata.uid } };
    events.record(about, type, reason, message);
  };

  const reported = new Set<string>();
  const peers = sharedInformer<KubeObject>(client, BGP_PEERS);
  /** The password Secrets last read, by name (undefined: not found); kept when a read fails. */
  const secrets = new Map<string, KubeObject | undefined>();
  const readSecrets = async (names: readonly string[]) => {
    for (const name of secrets.keys()) if (!names.includes(name)) secrets.delete(name);
    for (const name of new Set(names)) {
      try {
        secrets.set(name, await client.get(R.secrets, BGP_PASSWORD_NAMESPACE, name));
      } catch (err) {
        log.warn('cannot read the Secret of a BGP password; keeping what was read before', { node: opts.nodeName, secret: `${BGP_PASSWORD_NAMESPACE}/${name}`, err: (err as Error).message });
      }
    }
  };
  const applyRuns = new CoalescingRunner(async () => {
    const wanted = peersForNode(peers.list(), self()?.metadata.labels);
    await readSecrets(wanted.peers.flatMap((p) => (p.passwordRef ? [p.passwordRef.name] : [])));
    const resolved = resolvePasswords(wanted.peers, (name) => secrets.get(name));
    for (const bad of [...wanted.invalid, ...resolved.invalid]) {
      const key = `${bad.name}\0${bad.message}`;
      if (reported.has(key)) continue;
      reported.add(key);
      log.warn('BGPPeer not used', { node: opts.nodeName, peer: bad.name, err: bad.message });
      nodeEvent('Warning', 'InvalidBGPPeer', `BGPPeer ${bad.name} is not used by node ${opts.nodeName}: ${bad.message}`, peers.get(undefined, bad.name));
    }
    speaker.setPeers(resolved.peers);
  });
  const applyPeers = () => void applyRuns.request();
  const refresh = setInterval(applyPeers, SECRET_REFRESH_MS);
  refresh.unref();
  peers.addHandlers({ add: applyPeers, update: applyPeers, delete: applyPeers });
  nodes.addHandlers({ update: (n, old) => n.metadata.name === opts.nodeName && JSON.stringify(n.metadata.labels) !== JSON.stringify(old.metadata.labels) && applyPeers() });
  void peers.start();

  const services = sharedInformer<KubeObject>(client, R.services);
  const slices = sharedInformer<KubeObject>(client, R.endpointslices);
  let announceTimer: NodeJS.Timeout | undefined;
  const announce = () => {
    // Coalesces bursts (a rollout touches many slices) into one recompute.
    announceTimer ??= setTimeout(() => {
      announceTimer = undefined;
      speaker.setAnnounced(lbAnnouncements(services.list(), slices.list(), opts.nodeName));
    }, 50);
  };
  for (const informer of [services, slices]) informer.addHandlers({ add: announce, update: announce, delete: announce });
  await Promise.all([services.start(), slices.start()]);

  let publishing = false;
  const publish = () => {
    if (publishing) return;
    const previous = parseSessionsAnnotation(self()?.metadata.annotations?.[BGP_SESSIONS_ANNOTATION]).sessions;
    const value = JSON.stringify(publishedSessions(speaker.status(), Date.now(), previous));
    if (value === self()?.metadata.annotations?.[BGP_SESSIONS_ANNOTATION]) return;
    publishing = true;
    client
      .patch(R.nodes, undefined, opts.nodeName, { metadata: { annotations: { [BGP_SESSIONS_ANNOTATION]: value } } }, 'merge')
      .catch((err) => log.debug('cannot publish BGP sessions', { err: (err as Error).message }))
      .finally(() => {
        publishing = false;
      });
  };
  speaker.onSessionChange = (change) => {
    if (change.up) nodeEvent('Normal', 'BGPSessionEstablished', `BGP session with ${change.peer} established`);
    else nodeEvent('Warning', 'BGPSessionDown', `BGP session with ${change.peer} down: ${change.reason ?? 'closed'}`);
    publish();
  };
  const timer = setInterval(publish, PUBLISH_INTERVAL_MS);
  timer.unref();

  return {
    speaker,
    async stop(opts = {}) {
      clearInterval(timer);
      clearInterval(refresh);
      clearTimeout(announceTimer);
      await applyRuns.stop();
      for (const informer of [peers, services, slices]) informer.stop();
      await speaker.stop(opts);
    },
  };
}
