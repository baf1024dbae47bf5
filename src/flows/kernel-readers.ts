// The thin layer that reads the kernel: ctnetlink events (our own netlink socket, see
// ctnetlink-socket.ts; `conntrack -E` as the fallback the bench compares with) and `tcpdump -i
// nflog:N` (the NFLOG group flatnet's log rules write to), each inside the node's network
// namespace, kept running (restarted after an exit). Losses the kernel reports are counted: the
// event socket's exact drop count (conntrack -E: one per ENOBUFS warning, a lower bound), tcpdump's "dropped by kernel" count,
// asked for every 2 s with SIGUSR1 (a lower bound: libpcap counts overflows it notices).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { inNetns } from '../proxy/exec.js';
import type { Logger } from '../util/log.js';
import { parseConntrackLine, type ConntrackEvent } from './conntrack-events.js';
import { CtnetlinkStream } from './ctnetlink-events.js';
import { ctGroupMask, CTNETLINK_READER_SCRIPT, DEFAULT_BATCH_MS, READER_PYTHON } from './ctnetlink-socket.js';
import { FLOW_LOG_GROUP } from './log-prefix.js';
import { NflogPcapReader, type NflogRecord } from './nflog-pcap.js';

export interface KernelReaderOptions {
  netns?: string;
  log: Logger;
  /** Netlink receive buffer for conntrack events, bytes (default 64 MiB). */
  conntrackBufferBytes?: number;
  /**
   * The conntrack event types read (default NEW,DESTROY: two events per connection; UPDATE adds
   * every TCP state change, about four more, for the `replied` verdict as it happens).
   */
  conntrackEvents?: string;
  /**
   * Who reads the conntrack event groups: `socket` (default: our own netlink socket with the
   * buffer on it, ctnetlink-socket.ts) or `conntrack-tool` (`conntrack -E`, whose -b misses the
   * event socket; kept for the bench's comparison).
   */
  conntrackReader?: 'socket' | 'conntrack-tool';
  /** The socket reader's batching delay, ms (default DEFAULT_BATCH_MS; 0 = read each event as it comes). */
  conntrackBatchMs?: number;
  /** NFLOG group (default FLOW_LOG_GROUP). */
  group?: number;
  onConntrack(e: ConntrackEvent): void;
  onNflog(r: NflogRecord): void;
  /** The kernel or a reader lost events it could count (n) or could not (n = undefined: once per report). */
  onLoss(source: 'conntrack' | 'nflog', n: number | undefined): void;
  /** Both readers have started (their first output, or a moment after spawn). */
  onReady?(source: 'conntrack' | 'nflog'): void;
}

const RESTART_MS = 1000;
const STATS_MS = 2000;

export class KernelReaders {
  private conntrack: ChildProcess | undefined;
  private tcpdump: ChildProcess | undefined;
  private stopped = false;
  private timers = new Set<NodeJS.Timeout>();
  private tcpdumpDropped = 0;

  constructor(private readonly opts: KernelReaderOptions) {}

  start(): void {
    this.startConntrack();
    this.startTcpdump();
    const t = setInterval(() => this.tcpdump?.kill('SIGUSR1'), STATS_MS);
    t.unref();
    this.timers.add(t);
  }

  private later(fn: () => void): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, RESTART_MS);
    this.timers.add(t);
  }

  private startConntrack(): void {
    if ((this.opts.conntrackReader ?? 'socket') === 'socket') this.startCtnetlinkSocket();
    else this.startConntrackTool();
  }

  private startCtnetlinkSocket(): void {
    const o = this.opts;
    const bytes = String(o.conntrackBufferBytes ?? 64 * 1024 * 1024);
    const batchMs = String(o.conntrackBatchMs ?? DEFAULT_BATCH_MS);
    const [cmd, args] = inNetns(o.netns, READER_PYTHON, ['-c', CTNETLINK_READER_SCRIPT, String(ctGroupMask(o.conntrackEvents ?? 'NEW,DESTROY')), bytes, batchMs]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.conntrack = child;
    const stream = new CtnetlinkStream();
    let ready = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (!ready) {
        ready = true;
        o.onReady?.('conntrack');
      }
      try {
        for (const item of stream.push(chunk)) {
          if (item.kind === 'event') o.onConntrack(item.event);
          else o.onLoss('conntrack', item.lost);
        }
      } catch (err) {
        o.log.warn('cannot read the conntrack event stream; restarting its reader', { err: (err as Error).message });
        child.kill();
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => o.log.warn('the conntrack event reader says', { line }));
    child.on('error', (err) => o.log.warn(`cannot run the conntrack event reader (${READER_PYTHON}, Debian package python3)`, { err: err.message }));
    child.on('exit', (code, signal) => {
      if (this.stopped) return;
      o.log.warn('the conntrack event reader exited; restarting', { code, signal });
      o.onLoss('conntrack', undefined);
      this.later(() => this.startConntrack());
    });
  }

  private startConntrackTool(): void {
    const o = this.opts;
    const bytes = String(o.conntrackBufferBytes ?? 64 * 1024 * 1024);
    const [cmd, args] = inNetns(o.netns, 'conntrack', ['-E', '-e', o.conntrackEvents ?? 'NEW,DESTROY', '-o', 'timestamp,extended,id', '-b', bytes]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.conntrack = child;
    let partial = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        try {
          const e = parseConntrackLine(line);
          if (e) o.onConntrack(e);
        } catch (err) {
          o.log.warn('cannot read a conntrack event', { line, err: (err as Error).message });
        }
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (/ENOBUFS/.test(line)) o.onLoss('conntrack', undefined);
      else if (!/flow events have been shown|^\s*$|socket buffer|conntrack\(8\)/.test(line)) o.log.warn('conntrack says', { line });
    });
    setImmediate(() => o.onReady?.('conntrack'));
    child.on('error', (err) => o.log.warn('cannot run conntrack -E (Debian package conntrack)', { err: err.message }));
    child.on('exit', (code, signal) => {
      if (this.stopped) return;
      o.log.warn('conntrack -E exited; restarting', { code, signal });
      o.onLoss('conntrack', undefined);
      this.later(() => this.startConntrack());
    });
  }

  private startTcpdump(): void {
    const o = this.opts;
    const group = o.group ?? FLOW_LOG_GROUP;
    // -B: the netlink receive buffer in KiB; -U: write each record as it comes; -w -: pcap to stdout.
    const [cmd, args] = inNetns(o.netns, 'tcpdump', ['-i', `nflog:${group}`, '-B', '16384', '-U', '-w', '-', '-s', '256']);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.tcpdump = child;
    this.tcpdumpDropped = 0;
    const reader = new NflogPcapReader();
    child.stdout!.on('data', (chunk: Buffer) => {
      try {
        for (const r of reader.push(chunk)) o.onNflog(r);
      } catch (err) {
        o.log.warn('cannot read the NFLOG stream; restarting tcpdump', { err: (err as Error).message });
        child.kill();
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      const dropped = /(\d+) packets? dropped by kernel/.exec(line);
      if (dropped) {
        const n = Number(dropped[1]);
        if (n > this.tcpdumpDropped) {
          o.onLoss('nflog', n - this.tcpdumpDropped);
          // After its socket overflowed, libpcap's NFLOG reader receives nothing more (measured:
          // tcpdump stops at the first overflow): a fresh reader binds the group again.
          o.log.warn('the NFLOG socket overflowed; restarting tcpdump', { dropped: n - this.tcpdumpDropped });
          child.kill();
        }
        this.tcpdumpDropped = Math.max(n, this.tcpdumpDropped);
      } else if (/listening on/.test(line)) o.onReady?.('nflog');
      else if (!/packets? (captured|received by filter)|^\s*$/.test(line)) o.log.warn('tcpdump says', { line });
    });
    child.on('error', (err) => o.log.warn('cannot run tcpdump (Debian package tcpdump)', { err: err.message }));
    child.on('exit', (code, signal) => {
      if (this.stopped) return;
      o.log.warn('tcpdump on NFLOG exited; restarting', { code, signal });
      this.later(() => this.startTcpdump());
    });
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.conntrack?.kill();
    this.tcpdump?.kill();
  }
}
