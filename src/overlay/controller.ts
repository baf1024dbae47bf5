// Converges one node namespace to the overlay the Nodes call for. Node changes are coalesced
// into one sync at a time; a sync applies the difference from what was applied last, and a
// failed sync (or the slow timer) re-reads the kernel and applies a full difference.
import { CoalescingRunner } from '../util/coalescing-runner.js';
import { createLogger } from '../util/log.js';
import { desiredOverlay, diffOverlay, isEmptyDiff, type OverlayMode, type OverlayNode, type OverlayState } from './model.js';
import {
  applyOverlayDiff,
  ensureVxlanDevice,
  programNodeBasics,
  readOverlayState,
  removeVxlanDevice,
  underlayInfo,
  vtepMacForNode,
  vxlanMtu,
} from './kernel.js';

const log = createLogger('overlay');

export interface OverlayControllerOptions {
  nodeName: string;
  netns?: string;
  mode: OverlayMode;
  underlayDevice: string;
  podCIDR: string;
  clusterCIDR: string;
}

export class OverlayController {
  private applied: OverlayState | undefined;
  private nodes: OverlayNode[] = [];
  private readonly syncRuns = new CoalescingRunner(() => this.syncOnce());
  /** The pod MTU this overlay allows (VXLAN: underlay - 50; host-gw: the underlay's). */
  mtu = 0;
  /** This node's underlay address (known after setup). */
  underlayAddress = '';
  /** This node's VTEP MAC (VXLAN mode), to be published in its Node annotation. */
  readonly vtepMac: string;
  syncs = 0;

  constructor(readonly opts: OverlayControllerOptions) {
    this.vtepMac = vtepMacForNode(opts.nodeName);
  }

  /** Sets up the namespace: forwarding, masquerade, the VXLAN device (or its removal). */
  async setup(): Promise<void> {
    const { netns, underlayDevice, podCIDR, clusterCIDR, mode } = this.opts;
    const [underlay] = await Promise.all([underlayInfo(netns, underlayDevice), programNodeBasics(netns, clusterCIDR)]);
    this.underlayAddress = underlay.address;
    if (mode === 'vxlan') {
      this.mtu = vxlanMtu(underlay.mtu);
      await ensureVxlanDevice(netns, { underlayDevice, localIP: underlay.address, mtu: this.mtu, mac: this.vtepMac, podCIDR });
    } else {
      this.mtu = underlay.mtu;
      await removeVxlanDevice(netns);
    }
    log.info('overlay ready', { node: this.opts.nodeName, netns, mode, mtu: this.mtu, underlay: underlay.address });
  }

  /** Replaces the known nodes and converges (coalescing bursts of changes). */
  setNodes(nodes: OverlayNode[]): Promise<void> {
    this.nodes = nodes;
    return this.requestSync();
  }

  /** Forgets what was applied, so the next sync re-reads the kernel. */
  requestResync(): Promise<void> {
    this.applied = undefined;
    return this.requestSync();
  }

  private requestSync(): Promise<void> {
    return this.syncRuns.request();
  }

  private async syncOnce(): Promise<void> {
    const { netns, mode } = this.opts;
    const desired = desiredOverlay(this.nodes, { self: this.opts.nodeName, mode, underlayDevice: this.opts.underlayDevice, podCIDR: this.opts.podCIDR });
    try {
      const current = this.applied ?? (await readOverlayState(netns, mode));
      const diff = diffOverlay(current, desired);
      if (!isEmptyDiff(diff)) {
        await applyOverlayDiff(netns, diff);
        log.info('overlay peers converged', { node: this.opts.nodeName, peers: desired.routes.length, added: diff.addRoutes.length, removed: diff.delRoutes.length });
      }
      this.applied = desired;
      this.syncs++;
    } catch (err) {
      this.applied = undefined;
      log.warn('overlay sync failed; will re-read the kernel', { node: this.opts.nodeName, err: (err as Error).message });
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.syncRuns.stop();
  }
}
