// One BGP session over one TCP connection (RFC 4271 section 8, from OpenSent on: the speaker owns
// connecting and retrying). Frames the byte stream, answers protocol errors with the right
// NOTIFICATION and closes, runs the hold and keepalive timers, and reports what happened.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { AFI_IPV4, SAFI_UNICAST, checkHeader, decodeMessage, encodeKeepalive, encodeNotification, encodeOpen, encodeUpdate, type BgpMessage, type UpdateMessage } from './messages.js';
import { negotiate, type LocalSettings, type Negotiated } from './negotiate.js';
import { BgpError, CeaseSubcode, ErrorCode, HEADER_LENGTH } from './wire.js';

export type SessionState = 'OpenSent' | 'OpenConfirm' | 'Established' | 'Closed';

/** The hold time used until OPENs are exchanged (RFC 4271 suggests 4 minutes). */
const OPEN_HOLD_SEC = 240;

export interface SessionClose {
  reason: string;
  /** A NOTIFICATION went either way (graceful restart does not apply, RFC 4724). */
  notification: boolean;
  /** That NOTIFICATION: who sent it and its code and subcode. */
  notice?: { direction: 'sent' | 'received'; code: number; subcode: number };
}

export interface SessionOptions {
  local: LocalSettings;
  peerAsn: number;
  /** Set on our OPEN's graceful restart capability: this speaker has just restarted. */
  restarting: boolean;
}

export interface BgpSessionEvents {
  established: [Negotiated];
  update: [UpdateMessage];
  closed: [SessionClose];
}

export class BgpSession extends EventEmitter<BgpSessionEvents> {
  state: SessionState = 'OpenSent';
  negotiated: Negotiated | undefined;
  establishedAt: number | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private holdTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Duplex,
    private readonly opts: SessionOptions,
  ) {
    super();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.finish(`connection error: ${err.message}`, false));
    socket.on('close', () => this.finish('connection closed by the peer', false));
  }

  start(): void {
    const { local } = this.opts;
    this.write(
      encodeOpen({
        asn: local.asn,
        holdTimeSec: local.holdTimeSec,
        bgpId: local.routerId,
        capabilities: {
          multiprotocol: [{ afi: AFI_IPV4, safi: SAFI_UNICAST }],
          routeRefresh: false,
          fourOctetAs: local.asn,
          gracefulRestart:
            local.restartTimeSec > 0
              ? { restarting: this.opts.restarting, restartTimeSec: local.restartTimeSec, families: [{ afi: AFI_IPV4, safi: SAFI_UNICAST, forwardingPreserved: true }] }
              : undefined,
          unknown: [],
        },
      }),
    );
    this.armHold(OPEN_HOLD_SEC);
  }

  isOpen(): boolean {
    return this.state !== 'Closed';
  }

  sendUpdate(update: Omit<UpdateMessage, 'type'>): void {
    if (this.state !== 'Established' || !this.negotiated) throw new Error(`BGP session is ${this.state}, not Established`);
    this.write(encodeUpdate(update, this.negotiated.fourOctetAs));
  }

  /** Closes with a Cease NOTIFICATION (administrative shutdown by default). */
  cease(subcode: number = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, reason = 'administrative shutdown'): void {
    this.fail(new BgpError(ErrorCode.CEASE, subcode, reason));
  }

  /** Closes the connection without a NOTIFICATION: a graceful-restart peer keeps our routes (RFC 4724). */
  drop(reason = 'restarting'): void {
    this.finish(reason, false);
  }

  private receive(chunk: Buffer): void {
    if (this.state === 'Closed') return;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    try {
      while (this.pending.length >= HEADER_LENGTH && this.isOpen()) {
        const { length } = checkHeader(this.pending);
        if (this.pending.length < length) break;
        const message = decodeMessage(this.pending.subarray(0, length), this.negotiated?.fourOctetAs ?? false);
        this.pending = this.pending.subarray(length);
        this.handle(message);
      }
    } catch (err) {
      if (err instanceof BgpError) this.fail(err);
      else this.finish(`internal error: ${(err as Error).message}`, false);
    }
  }

  private handle(m: BgpMessage): void {
    if (m.type === 'notification') {
      this.finish(`NOTIFICATION from the peer: code ${m.code} subcode ${m.subcode}${m.data.length ? ` data ${m.data.toString('hex')}` : ''}`, true, { direction: 'received', code: m.code, subcode: m.subcode });
      return;
    }
    const unexpected = (subcode: number) => new BgpError(ErrorCode.FSM, subcode, `${m.type.toUpperCase()} received in state ${this.state}`);
    switch (this.state) {
      case 'OpenSent':
        if (m.type !== 'open') throw unexpected(1);
        this.negotiated = negotiate(this.opts.local, this.opts.peerAsn, m);
        this.write(encodeKeepalive());
        this.state = 'OpenConfirm';
        this.armHold(this.negotiated.holdTimeSec);
        this.armKeepalive();
        return;
      case 'OpenConfirm':
        if (m.type !== 'keepalive') throw unexpected(2);
        this.state = 'Established';
        this.establishedAt = Date.now();
        this.armHold(this.negotiated!.holdTimeSec);
        this.armWakeUp();
        this.emit('established', this.negotiated!);
        return;
      case 'Established':
        if (m.type === 'open') throw unexpected(3);
        this.armHold(this.negotiated!.holdTimeSec);
        if (m.type === 'update') this.emit('update', m);
        return;
      default:
        return;
    }
  }

  private armHold(seconds: number): void {
    clearTimeout(this.holdTimer);
    if (seconds === 0) return;
    this.holdTimer = setTimeout(() => this.fail(new BgpError(ErrorCode.HOLD_TIMER_EXPIRED, 0, `hold timer expired (${seconds} s without a message)`)), seconds * 1000);
    this.holdTimer.unref();
  }

  private armKeepalive(): void {
    clearInterval(this.keepaliveTimer);
    const every = this.negotiated?.keepaliveSec ?? 0;
    if (every === 0) return;
    this.keepaliveTimer = setInterval(() => this.write(encodeKeepalive()), every * 1000);
    this.keepaliveTimer.unref();
  }

  /**
   * One extra KEEPALIVE a second after Established (the shortest spacing RFC 4271 allows). BIRD 2
   * holds back the last partial batch of its initial export until something arrives on one of
   * its sockets or its 3 s poll timeout passes (measured in bench/bgp: the last routes of 10,000
   * came ~3 s late); this wakes it, so a full table arrives in about a second.
   */
  private armWakeUp(): void {
    if ((this.negotiated?.keepaliveSec ?? 0) <= 1) return;
    this.wakeTimer = setTimeout(() => this.write(encodeKeepalive()), 1000);
    this.wakeTimer.unref();
  }

  private fail(err: BgpError): void {
    if (this.state === 'Closed') return;
    this.write(encodeNotification(err.code, err.subcode, err.data));
    this.socket.end();
    this.finish(`NOTIFICATION sent: code ${err.code} subcode ${err.subcode}: ${err.message}`, true, { direction: 'sent', code: err.code, subcode: err.subcode });
  }

  private write(buf: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(buf);
  }

  private finish(reason: string, notification: boolean, notice?: SessionClose['notice']): void {
    if (this.state === 'Closed') return;
    this.state = 'Closed';
    clearTimeout(this.holdTimer);
    clearInterval(this.keepaliveTimer);
    clearTimeout(this.wakeTimer);
    if (!notification) this.socket.destroy();
    else setTimeout(() => this.socket.destroy(), 1000).unref();
    this.emit('closed', { reason, notification, ...(notice ? { notice } : {}) });
  }
}
