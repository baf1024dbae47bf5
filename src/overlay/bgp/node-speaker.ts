// One node's BGP speaker tied to its network namespace: sessions to the peers the BGPPeer objects
// give this node, its pod CIDR (and the LoadBalancer addresses it serves) originated with its
// underlay address as next hop, and the best
// learned routes kept in the kernel (kernel-routes.ts). Routes are synced one at a time,
// coalescing bursts; after a restart (BGP routes already in the kernel) it asks peers for
// graceful restart and removes nothing until every peer has sent End-of-RIB or the restart time
// has passed, so traffic keeps flowing while the agent is away.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { connectInNetns } from '../../linux/netns-socket.js';
import { CoalescingRunner } from '../../util/coalescing-runner.js';
import { createLogger } from '../../util/log.js';
import { connectWithMd5 } from './md5-connect.js';
import { applyRouteDiff, desiredRoutes, diffRoutes, readBgpRoutes } from './kernel-routes.js';
import { samePeer } from './peers.js';
import { BgpSpeaker, type PeerConfig, type PeerStatus } from './speaker.js';

const log = createLogger('bgp');
const DEFAULT_RESTART_TIME_SEC = 120;

export interface NodeSpeakerOptions {
  nodeName: string;
  /** The node's namespace (undefined: this process already runs in it). */
  netns?: string;
  asn: number;
  /** The node's underlay address: router id, next hop of what it originates, source of sessions. */
  address: string;
  podCIDR: string;
  holdTimeSec?: number;
  restartTimeSec?: number;
  connectRetryMs?: number;
}

export class NodeSpeaker {
  private speaker: BgpSpeaker | undefined;
  private peers: PeerConfig[] = [];
  private announced: string[] = [];
  private readonly endOfRibFrom = new Set<string>();
  private converged = false;
  private convergeTimer: NodeJS.Timeout | undefined;
  private readonly syncRuns = new CoalescingRunner(() => this.syncOnce());
  /** Called after each session change (for status publication and events). */
  onSessionChange: (change: { peer: string; up: boolean; reason?: string }) => void = () => undefined;
  syncs = 0;

  constructor(readonly opts: NodeSpeakerOptions) {}

  async start(): Promise<void> {
    const o = this.opts;
    const inKernel = await readBgpRoutes(o.netns);
    const restarting = inKernel.length > 0;
    const restartTimeSec = o.restartTimeSec ?? DEFAULT_RESTART_TIME_SEC;
    this.speaker = new BgpSpeaker({
      asn: o.asn,
      routerId: o.address,
      holdTimeSec: o.holdTimeSec,
      restartTimeSec,
      restarting,
      connectRetryMs: o.connectRetryMs,
      connect: (host, port, password) => this.connect(host, port, password),
    });
    this.speaker.on('routes', () => void this.requestSync());
    this.speaker.on('endOfRib', (peer) => {
      this.endOfRibFrom.add(peer);
      this.checkConverged();
    });
    this.speaker.on('session', (change) => {
      log.info(change.up ? 'BGP session established' : 'BGP session down', { node: o.nodeName, ...change });
      this.onSessionChange(change);
    });
    this.speaker.announce([o.podCIDR], o.address);
    if (restarting) {
      log.info('BGP routes from before a restart kept until peers resend theirs', { node: o.nodeName, routes: inKernel.length, restartTimeSec });
      this.convergeTimer = setTimeout(() => this.markConverged(), restartTimeSec * 1000);
      this.convergeTimer.unref();
    } else {
      this.converged = true;
    }
  }

  /** Opens, keeps or closes sessions so that exactly `peers` are configured. */
  setPeers(peers: readonly PeerConfig[]): void {
    const speaker = this.speaker;
    if (!speaker) throw new Error('the BGP speaker is not started');
    for (const old of this.peers) {
      if (!peers.some((p) => samePeer(p, old))) {
        speaker.removePeer(old.address);
        this.endOfRibFrom.delete(old.address);
      }
    }
    for (const p of peers) if (!this.peers.some((old) => samePeer(old, p))) speaker.addPeer(p);
    this.peers = [...peers];
    this.checkConverged();
    void this.requestSync();
  }

  /** Announces exactly `prefixes` besides the pod CIDR (LoadBalancer addresses), withdrawing the rest. */
  setAnnounced(prefixes: readonly string[]): void {
    const speaker = this.speaker;
    if (!speaker) throw new Error('the BGP speaker is not started');
    const gone = this.announced.filter((p) => !prefixes.includes(p));
    const fresh = prefixes.filter((p) => !this.announced.includes(p));
    if (gone.length) speaker.withdraw(gone);
    if (fresh.length) speaker.announce(fresh, this.opts.address);
    if (gone.length || fresh.length) log.info('LoadBalancer announcements changed', { node: this.opts.nodeName, announced: fresh, withdrawn: gone });
    this.announced = [...prefixes];
    if (fresh.length) void this.requestSync(); // a learned route for an address we now announce goes
  }

  status(): PeerStatus[] {
    return this.speaker?.status() ?? [];
  }

  /**
   * Stops the speaker. Without `withdraw` (an agent restart) the sessions are dropped without a
   * NOTIFICATION and the kernel routes stay: graceful-restart peers keep this node's routes.
   */
  async stop(opts: { withdraw?: boolean } = {}): Promise<void> {
    clearTimeout(this.convergeTimer);
    const done = this.syncRuns.stop(); // first: the routes the closing sessions report gone stay
    this.speaker?.stop({ graceful: !opts.withdraw });
    await done;
  }

  private connect(host: string, port: number, password: string | undefined): Promise<Duplex> {
    if (password !== undefined) return connectWithMd5({ netns: this.opts.netns, host, port, password, ...(this.opts.netns ? {} : { localAddress: this.opts.address }) });
    if (this.opts.netns) return connectInNetns(this.opts.netns, host, port);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, localAddress: this.opts.address });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  private checkConverged(): void {
    if (!this.converged && this.peers.every((p) => this.endOfRibFrom.has(p.address))) this.markConverged();
  }

  private markConverged(): void {
    if (this.converged) return;
    clearTimeout(this.convergeTimer);
    this.converged = true;
    void this.requestSync();
  }

  private requestSync(): Promise<void> {
    return this.syncRuns.request();
  }

  private async syncOnce(): Promise<void> {
    const o = this.opts;
    const desired = desiredRoutes(this.speaker?.rib.bestRoutes() ?? [], { prefixes: [o.podCIDR, ...this.announced], addresses: [o.address] });
    try {
      const diff = diffRoutes(await readBgpRoutes(o.netns), desired);
      if (!this.converged) diff.del = []; // graceful restart: keep what we had until peers have resent
      if (diff.add.length || diff.del.length) {
        await applyRouteDiff(o.netns, diff);
        log.info('BGP routes converged', { node: o.nodeName, routes: desired.length, added: diff.add.length, removed: diff.del.length });
      }
      this.syncs++;
    } catch (err) {
      log.warn('BGP route sync failed; retrying', { node: o.nodeName, err: (err as Error).message });
      setTimeout(() => void this.requestSync(), 1000).unref();
    }
  }
}
