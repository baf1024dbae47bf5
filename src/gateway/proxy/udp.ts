// UDP ports: per client (address:port) a session socket connected to one endpoint; replies go
// back to that client; sessions idle for 60 s are closed.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { pickWeighted, type RoundRobin } from './balance.js';
import type { ProxyMetrics } from './metrics.js';
import type { StreamTable } from './table.js';

export const UDP_IDLE_MS = 60_000;

interface Session {
  socket: dgram.Socket;
  ready: boolean;
  queue: Buffer[];
  timer: NodeJS.Timeout;
}

export class UdpPortListener {
  readonly kind = 'udp';
  private socket?: dgram.Socket;
  private sessions = new Map<string, Session>();

  constructor(
    public table: StreamTable,
    private readonly bindAddress: string,
    private readonly rr: RoundRobin,
    private readonly metrics: ProxyMetrics,
    private readonly log: (l: object) => void,
    private readonly idleMs = UDP_IDLE_MS,
  ) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket({ type: isIPv6(this.bindAddress) ? 'udp6' : 'udp4' });
      s.once('error', reject);
      s.bind(this.table.port, this.bindAddress, () => {
        s.removeListener('error', reject);
        s.on('error', (e) => this.log({ level: 'warn', msg: 'udp socket error', port: this.table.port, error: e.message }));
        s.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
        this.socket = s;
        resolve();
      });
    });
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = this.newSession(key, rinfo);
      if (!session) return;
    }
    session.timer.refresh();
    if (session.ready) session.socket.send(msg);
    else session.queue.push(msg);
  }

  private newSession(key: string, client: dgram.RemoteInfo): Session | undefined {
    const backend = pickWeighted(this.table.backends);
    const endpoint = backend && !backend.invalid ? this.rr.pick(backend) : undefined;
    if (!backend || !endpoint) return undefined;
    const socket = dgram.createSocket({ type: isIPv6(endpoint.address) ? 'udp6' : 'udp4' });
    const session: Session = { socket, ready: false, queue: [], timer: setTimeout(() => this.endSession(key), this.idleMs) };
    this.sessions.set(key, session);
    this.metrics.activeConnections.inc({ port: `udp/${this.table.port}` });
    socket.on('error', (e) => {
      this.metrics.upstreamErrors.inc({ backend: backend.name, reason: 'udp' });
      this.log({ level: 'warn', msg: 'udp session error', port: this.table.port, error: e.message });
      this.endSession(key);
    });
    socket.on('message', (reply) => {
      session.timer.refresh();
      this.socket?.send(reply, client.port, client.address);
    });
    socket.connect(endpoint.port, endpoint.address, () => {
      session.ready = true;
      for (const m of session.queue) socket.send(m);
      session.queue = [];
    });
    return session;
  }

  private endSession(key: string): void {
    const s = this.sessions.get(key);
    if (!s) return;
    this.sessions.delete(key);
    clearTimeout(s.timer);
    this.metrics.activeConnections.dec({ port: `udp/${this.table.port}` });
    try {
      s.socket.close();
    } catch {
      // already closed
    }
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  close(): void {
    for (const key of [...this.sessions.keys()]) this.endSession(key);
    try {
      this.socket?.close();
    } catch {
      // already closed
    }
    this.socket = undefined;
  }
}
