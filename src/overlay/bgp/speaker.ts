// A node's BGP speaker: one session per configured peer, opened by us and retried while the peer
// is away; the prefixes the node originates (its pod CIDR, LoadBalancer addresses) announced on
// every session and followed by End-of-RIB; routes learned from all peers kept in one Rib whose
// best-route changes are reported for the kernel. Graceful restart both ways (RFC 4724): we ask
// peers to keep our routes while we restart, and keep a restarting peer's routes as stale.
// The transport is injected (a TCP connection in the node's network namespace in the agent).
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { isEndOfRib, type PathAttributes, type UpdateMessage } from './messages.js';
import type { LocalSettings } from './negotiate.js';
import { Rib, type BestChange } from './rib.js';
import { BgpSession } from './session.js';
import { BGP_PORT, MAX_MESSAGE_LENGTH, parsePrefix, prefixText, type Prefix } from './wire.js';
import { bgpMalformedUpdates, bgpNotifications, bgpUpdates, trackSpeaker } from './metrics.js';
import { createLogger } from '../../util/log.js';

const log = createLogger('bgp');

export interface PeerConfig {
  address: string;
  asn: number;
  port?: number;
  /** The TCP MD5 signature key (RFC 2385) the peer expects, if any. */
  password?: string;
}

export interface SpeakerOptions {
  asn: number;
  routerId: string;
  /** Default 90 s (BIRD and FRR propose 240 and 180; the lower of the two OPENs wins). */
  holdTimeSec?: number;
  /** Default 120 s; 0 turns graceful restart off. */
  restartTimeSec?: number;
  /** This speaker was running a moment ago (sets the R bit so peers keep our routes). */
  restarting?: boolean;
  /** Time between connection attempts to a peer that is away (default 5 s). */
  connectRetryMs?: number;
  connect: (host: string, port: number, password?: string) => Promise<Duplex>;
}

export interface PeerStatus {
  address: string;
  asn: number;
  state: 'Connect' | 'OpenSent' | 'OpenConfirm' | 'Established';
  establishedSec?: number;
  prefixesReceived: number;
  prefixesSent: number;
  lastError?: string;
}

export interface SpeakerEvents {
  /** Best routes that changed (install or remove them in the kernel). */
  routes: [BestChange[]];
  /** A session came up or went down. */
  session: [{ peer: string; up: boolean; reason?: string }];
  /** A peer finished sending its routes (End-of-RIB). */
  endOfRib: [string];
}

class Peer {
  session: BgpSession | undefined;
  lastError: string | undefined;
  retry: NodeJS.Timeout | undefined;
  staleTimer: NodeJS.Timeout | undefined;
  awaitingEndOfRib = false;
  stopped = false;

  constructor(readonly config: PeerConfig) {}
}

/** Prefixes per UPDATE: 5 octets each at most, well inside the 4,096-octet limit. */
const PREFIXES_PER_UPDATE = Math.floor((MAX_MESSAGE_LENGTH - 100) / 5);

export class BgpSpeaker extends EventEmitter<SpeakerEvents> {
  readonly rib = new Rib();
  private readonly peers = new Map<string, Peer>();
  /** Originated prefixes -> next hop. */
  private readonly originated = new Map<string, string>();
  private readonly local: LocalSettings;
  private readonly untrack: () => void;

  constructor(private readonly opts: SpeakerOptions) {
    super();
    this.local = { asn: opts.asn, routerId: opts.routerId, holdTimeSec: opts.holdTimeSec ?? 90, restartTimeSec: opts.restartTimeSec ?? 120 };
    this.untrack = trackSpeaker(this);
  }

  addPeer(config: PeerConfig): void {
    if (this.peers.has(config.address)) throw new Error(`BGP peer ${config.address} is already configured`);
    const peer = new Peer(config);
    this.peers.set(config.address, peer);
    void this.connect(peer);
  }

  removePeer(address: string): void {
    const peer = this.peers.get(address);
    if (!peer) return;
    this.peers.delete(address);
    this.stopPeer(peer);
    this.report(this.rib.peerDown(address, false));
  }

  /** Originates `prefixes` with `nextHop` (this node's address) on every session. */
  announce(prefixes: readonly string[], nextHop: string): void {
    const fresh = prefixes.filter((p) => this.originated.get(prefixText(parsePrefix(p))) !== nextHop).map(parsePrefix);
    for (const p of fresh) this.originated.set(prefixText(p), nextHop);
    if (fresh.length) for (const peer of this.established()) this.sendAnnouncements(peer, fresh, nextHop);
  }

  withdraw(prefixes: readonly string[]): void {
    const gone = prefixes.map(parsePrefix).filter((p) => this.originated.delete(prefixText(p)));
    if (gone.length === 0) return;
    for (const peer of this.established()) {
      for (let i = 0; i < gone.length; i += PREFIXES_PER_UPDATE) this.send(peer, { withdrawn: gone.slice(i, i + PREFIXES_PER_UPDATE), nlri: [] });
    }
  }

  status(): PeerStatus[] {
    return [...this.peers.values()].map((peer) => {
      const s = peer.session;
      const state = !s || s.state === 'Closed' ? 'Connect' : s.state;
      return {
        address: peer.config.address,
        asn: peer.config.asn,
        state,
        establishedSec: state === 'Established' && s?.establishedAt ? Math.round((Date.now() - s.establishedAt) / 1000) : undefined,
        prefixesReceived: this.rib.fromPeer(peer.config.address).filter((r) => !r.stale).length,
        prefixesSent: state === 'Established' ? this.originated.size : 0,
        lastError: peer.lastError,
      };
    });
  }

  /**
   * Closes every session with a Cease NOTIFICATION; learned routes are reported gone. `graceful`:
   * closes the connections without a NOTIFICATION and reports nothing, so that peers keep our
   * routes and we keep theirs while this speaker restarts (RFC 4724).
   */
  stop(opts: { graceful?: boolean } = {}): void {
    for (const [address, peer] of this.peers) {
      this.stopPeer(peer, opts.graceful ?? false);
      if (!opts.graceful) this.report(this.rib.peerDown(address, false));
    }
    this.peers.clear();
    this.untrack();
  }

  private stopPeer(peer: Peer, graceful = false): void {
    peer.stopped = true;
    clearTimeout(peer.retry);
    clearTimeout(peer.staleTimer);
    if (graceful) peer.session?.drop();
    else peer.session?.cease();
  }

  private established(): Peer[] {
    return [...this.peers.values()].filter((p) => p.session?.state === 'Established');
  }

  private async connect(peer: Peer): Promise<void> {
    if (peer.stopped) return;
    let socket: Duplex;
    try {
      socket = await this.opts.connect(peer.config.address, peer.config.port ?? BGP_PORT, peer.config.password);
    } catch (err) {
      peer.lastError = `connect: ${(err as Error).message}`;
      this.scheduleRetry(peer);
      return;
    }
    if (peer.stopped) {
      socket.destroy();
      return;
    }
    const session = new BgpSession(socket, { local: this.local, peerAsn: peer.config.asn, restarting: this.opts.restarting ?? false });
    peer.session = session;
    session.on('established', (n) => {
      peer.lastError = undefined;
      // A peer that comes back without graceful restart sends no End-of-RIB to wait for.
      peer.awaitingEndOfRib = n.peerRestart !== undefined;
      if (!peer.awaitingEndOfRib) this.clearStale(peer);
      this.emit('session', { peer: peer.config.address, up: true });
      const byNextHop = new Map<string, Prefix[]>();
      for (const [p, nh] of this.originated) byNextHop.set(nh, [...(byNextHop.get(nh) ?? []), parsePrefix(p)]);
      for (const [nh, prefixes] of byNextHop) this.sendAnnouncements(peer, prefixes, nh);
      this.send(peer, { withdrawn: [], nlri: [] }); // End-of-RIB
    });
    session.on('update', (m) => this.onUpdate(peer, m));
    session.on('closed', ({ reason, notification, notice }) => {
      peer.lastError = reason;
      if (notice) bgpNotifications.inc({ peer: peer.config.address, direction: notice.direction, code: notice.code, subcode: notice.subcode });
      const wasUp = session.establishedAt !== undefined;
      const restart = session.negotiated?.peerRestart;
      if (wasUp) {
        const keepStale = restart !== undefined && !notification && !peer.stopped;
        this.report(this.rib.peerDown(peer.config.address, keepStale));
        if (keepStale) {
          clearTimeout(peer.staleTimer);
          peer.staleTimer = setTimeout(() => this.clearStale(peer), restart.restartTimeSec * 1000);
          peer.staleTimer.unref();
        }
        this.emit('session', { peer: peer.config.address, up: false, reason });
      }
      this.scheduleRetry(peer);
    });
    session.start();
  }

  private onUpdate(peer: Peer, m: UpdateMessage): void {
    const address = peer.config.address;
    bgpUpdates.inc({ peer: address, direction: 'received' });
    if (m.treatAsWithdraw !== undefined) {
      bgpMalformedUpdates.inc({ peer: address, verdict: 'treat-as-withdraw' });
      log.warn('malformed UPDATE: its routes are treated as withdrawn (RFC 7606)', { peer: address, err: m.treatAsWithdraw, prefixes: m.withdrawn.length });
    }
    for (const reason of m.discarded ?? []) {
      bgpMalformedUpdates.inc({ peer: address, verdict: 'discard' });
      log.warn('malformed path attribute dropped (RFC 7606)', { peer: address, err: reason });
    }
    if (isEndOfRib(m)) {
      if (peer.awaitingEndOfRib) this.clearStale(peer);
      peer.awaitingEndOfRib = false;
      this.emit('endOfRib', peer.config.address);
      return;
    }
    // RFC 4271 9.1.2: a route whose AS_PATH holds our own AS is a loop (FRR sends our own
    // prefixes back to us): it replaces the peer's earlier route for the prefix but is not used.
    const looped = m.attributes?.asPath.some((s) => s.asns.includes(this.local.asn)) ?? false;
    if (looped) this.report(this.rib.update(peer.config.address, [...m.withdrawn, ...m.nlri], [], undefined));
    else this.report(this.rib.update(peer.config.address, m.withdrawn, m.nlri, m.attributes));
  }

  private clearStale(peer: Peer): void {
    clearTimeout(peer.staleTimer);
    peer.staleTimer = undefined;
    this.report(this.rib.dropStale(peer.config.address));
  }

  private sendAnnouncements(peer: Peer, prefixes: readonly Prefix[], nextHop: string): void {
    const n = peer.session!.negotiated!;
    const attributes: PathAttributes = {
      origin: 0,
      asPath: n.ibgp ? [] : [{ kind: 'sequence', asns: [this.local.asn] }],
      nextHop,
      localPref: n.ibgp ? 100 : undefined,
    };
    for (let i = 0; i < prefixes.length; i += PREFIXES_PER_UPDATE) this.send(peer, { withdrawn: [], nlri: prefixes.slice(i, i + PREFIXES_PER_UPDATE), attributes });
  }

  private send(peer: Peer, update: Omit<UpdateMessage, 'type'>): void {
    peer.session!.sendUpdate(update);
    bgpUpdates.inc({ peer: peer.config.address, direction: 'sent' });
  }

  private scheduleRetry(peer: Peer): void {
    if (peer.stopped) return;
    clearTimeout(peer.retry);
    peer.retry = setTimeout(() => void this.connect(peer), this.opts.connectRetryMs ?? 5000);
    peer.retry.unref();
  }

  private report(changes: BestChange[]): void {
    if (changes.length) this.emit('routes', changes);
  }
}
