// startOverlay: watches Nodes and keeps this node's namespace joined to every other node's pod
// range, by VXLAN (flannel-style: device flatnet.1, VNI 1, UDP 8472) or by direct routes
// (host-gw), or by routes learned over BGP (bgp: the node's speaker in bgp/). Publishes this
// node's VTEP MAC in its Node annotation.
import type { KubeClient } from '../client/client.js';
import { sharedInformer } from '../client/shared-informers.js';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { createLogger } from '../util/log.js';
import { OverlayController, type OverlayControllerOptions } from './controller.js';
import { overlayNodeFromObject, VTEP_MAC_ANNOTATION } from './model.js';
import type { NodeBgpHandle } from './bgp/index.js';

export { OverlayController } from './controller.js';
export type { OverlayMode } from './model.js';

const log = createLogger('overlay');
const RESYNC_INTERVAL_MS = 60_000;
const RETRY_MS = 1_000;

export interface OverlayHandle {
  stop(): Promise<void>;
  /** The MTU pods on this node must use. */
  mtu: number;
}

export async function startOverlay(client: KubeClient, opts: OverlayControllerOptions): Promise<OverlayHandle> {
  const controller = new OverlayController(opts);
  const informer = sharedInformer<KubeObject>(client, R.nodes);
  let retryTimer: NodeJS.Timeout | undefined;
  let publishing = false;
  // The namespace is set up while the Nodes are listed; peers are programmed and the VTEP MAC
  // published once both are done.
  let setUp = false;

  const converge = () => {
    if (!setUp) return;
    controller.setNodes(informer.list().map(overlayNodeFromObject)).catch(() => {
      if (!retryTimer) {
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          converge();
        }, RETRY_MS);
      }
    });
  };

  const publishVtepMac = (node: KubeObject | undefined) => {
    if (!setUp || !node || opts.mode !== 'vxlan' || node.metadata.name !== opts.nodeName) return;
    if (node.metadata.annotations?.[VTEP_MAC_ANNOTATION] === controller.vtepMac || publishing) return;
    publishing = true;
    client
      .patch(R.nodes, undefined, opts.nodeName, { metadata: { annotations: { [VTEP_MAC_ANNOTATION]: controller.vtepMac } } }, 'merge')
      .then(() => log.info('published VTEP MAC', { node: opts.nodeName, mac: controller.vtepMac }))
      .catch((err) => log.warn('cannot publish VTEP MAC; will retry on the next Node event', { node: opts.nodeName, err: (err as Error).message }))
      .finally(() => {
        publishing = false;
      });
  };

  informer.addHandlers({
    add: (n) => {
      publishVtepMac(n);
      converge();
    },
    update: (n) => {
      publishVtepMac(n);
      converge();
    },
    delete: () => converge(),
  });
  const listed = informer.start();
  listed.catch(() => undefined); // awaited below, after the setup
  try {
    await controller.setup();
  } catch (err) {
    informer.stop();
    throw err;
  }
  await listed;
  setUp = true;
  publishVtepMac(informer.get(undefined, opts.nodeName));
  converge();
  let bgp: NodeBgpHandle | undefined;
  // The BGP speaker is loaded only on a node that runs it.
  if (opts.mode === 'bgp') bgp = await (await import('./bgp/index.js')).startNodeBgp(client, informer, { nodeName: opts.nodeName, netns: opts.netns, address: controller.underlayAddress, podCIDR: opts.podCIDR });
  const resync = setInterval(() => {
    controller.requestResync().catch(() => undefined);
  }, RESYNC_INTERVAL_MS);
  resync.unref();

  return {
    mtu: controller.mtu,
    async stop() {
      clearInterval(resync);
      if (retryTimer) clearTimeout(retryTimer);
      informer.stop();
      await bgp?.stop();
      await controller.stop();
    },
  };
}
