// Forwarding names outside the cluster domain to upstream resolvers: UDP first (EDNS 1232), TCP
// when the upstream sets TC, the next upstream on timeout or error, identical questions in flight
// shared, and at most `maxConcurrent` questions in flight (more are refused, as CoreDNS forward).
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import type { DecodedResponse } from './wire.js';
import { RRType, WireError, decodeResponse, splitName } from './wire.js';
import { canonicalIP } from './model.js';

export interface Upstream {
  host: string;
  port: number;
}

/** `1.2.3.4`, `1.2.3.4:53`, `[fd00::1]:53` -> host and port. */
export function parseUpstream(s: string): Upstream {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  const host = m ? m[1] : s;
  const port = m?.[2] ? Number(m[2]) : 53;
  if (!net.isIP(host) || !(port > 0 && port < 65536)) throw new Error(`upstream "${s}" is not IP[:port] (for example 10.0.0.2:53 or [fd00::2]:53)`);
  return { host, port };
}

export class ForwardBusyError extends Error {
  constructor() {
    super('too many upstream queries in flight');
  }
}

export interface ForwarderOptions {
  upstreams: Upstream[];
  timeoutMs?: number;
  maxConcurrent?: number;
  /** Which upstream is asked first: random (CoreDNS's default), round_robin or sequential (as listed). */
  policy?: 'random' | 'round_robin' | 'sequential';
  /** Ask over TCP only (forward's force_tcp). */
  forceTcp?: boolean;
  /** Where the sockets to upstreams come from (a pod's namespace); default: this process's. */
  sockets?: ForwardSockets;
}

/** Opens the sockets a Forwarder talks to upstreams through. */
export interface ForwardSockets {
  /** A fresh UDP socket (bound to a random port), for one exchange. */
  udp(family: 'udp4' | 'udp6'): Promise<dgram.Socket>;
  /** A connected TCP socket. */
  tcp(host: string, port: number, timeoutMs: number): Promise<net.Socket>;
}

export class Forwarder {
  private readonly sockets = new Set<dgram.Socket>();
  private readonly inflight = new Map<string, Promise<DecodedResponse>>();
  private readonly timeoutMs: number;
  private readonly maxConcurrent: number;
  private closed = false;
  private nextStart = 0;

  constructor(private readonly opts: ForwarderOptions) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.maxConcurrent = opts.maxConcurrent ?? 1000;
  }

  get upstreams(): Upstream[] {
    return this.opts.upstreams;
  }

  /** Resolves a question upstream (name in presentation form, lower case). */
  query(name: string, type: number, klass: number): Promise<DecodedResponse> {
    const key = `${name}|${type}|${klass}`;
    const shared = this.inflight.get(key);
    if (shared) return shared;
    if (this.inflight.size >= this.maxConcurrent) return Promise.reject(new ForwardBusyError());
    const p = this.tryUpstreams(name, type, klass).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /** The upstreams in the order this question tries them, per the policy. */
  order(): Upstream[] {
    const ups = this.opts.upstreams;
    if (ups.length < 2) return ups;
    const policy = this.opts.policy ?? 'sequential';
    if (policy === 'sequential') return ups;
    if (policy === 'round_robin') {
      const start = this.nextStart++ % ups.length;
      return [...ups.slice(start), ...ups.slice(0, start)];
    }
    // random: a shuffled copy (Fisher-Yates)
    const out = [...ups];
    for (let i = out.length - 1; i > 0; i--) {
      const j = randomInt(0, i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  private async tryUpstreams(name: string, type: number, klass: number): Promise<DecodedResponse> {
    let lastErr: Error = new Error('no upstream resolvers configured');
    for (const up of this.order()) {
      try {
        if (this.opts.forceTcp) return await this.exchangeTcp(up, name, type, klass);
        let res = await this.exchangeUdp(up, name, type, klass);
        if (res.flags & 0x0200) res = await this.exchangeTcp(up, name, type, klass);
        return res;
      } catch (err) {
        lastErr = err as Error;
      }
    }
    throw lastErr;
  }

  private newId(): number {
    return randomInt(0, 65536);
  }

  /**
   * One UDP exchange on a socket of its own: the OS picks a random source port per question, so
   * an off-path attacker must guess port and ID (RFC 5452); only a reply from the upstream's
   * address and port, with our ID and our question, is accepted.
   */
  private async exchangeUdp(up: Upstream, name: string, type: number, klass: number): Promise<DecodedResponse> {
    if (this.closed) throw new Error('forwarder closed');
    const id = this.newId();
    const query = encodeQuery(id, name, type, klass);
    const family = net.isIPv6(up.host) ? 'udp6' : 'udp4';
    const socket = this.opts.sockets ? await this.opts.sockets.udp(family) : dgram.createSocket(family);
    const upstreamAddress = canonicalIP(up.host);
    this.sockets.add(socket);
    return new Promise<DecodedResponse>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, res?: DecodedResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.sockets.delete(socket);
        socket.close();
        if (err) reject(err);
        else resolve(res as DecodedResponse);
      };
      const timer = setTimeout(() => finish(new Error(`upstream ${up.host}:${up.port} did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      socket.on('error', (err) => finish(err));
      socket.on('message', (msg, rinfo) => {
        if (canonicalIP(rinfo.address) !== upstreamAddress || rinfo.port !== up.port || msg.length < 12 || msg.readUInt16BE(0) !== id) return;
        try {
          finish(undefined, checkAnswer(msg, name, type));
        } catch (err) {
          finish(err as Error);
        }
      });
      socket.send(query, up.port, up.host, (err) => {
        if (err) finish(err);
      });
    });
  }

  private async exchangeTcp(up: Upstream, name: string, type: number, klass: number): Promise<DecodedResponse> {
    const query = encodeQuery(this.newId(), name, type, klass);
    const framed = Buffer.alloc(2 + query.length);
    framed.writeUInt16BE(query.length);
    query.copy(framed, 2);
    const sock = this.opts.sockets ? await this.opts.sockets.tcp(up.host, up.port, this.timeoutMs) : net.connect(up.port, up.host);
    return new Promise((resolve, reject) => {
      let buf = Buffer.alloc(0);
      const done = (err: Error | undefined, res?: DecodedResponse) => {
        sock.destroy();
        if (err) reject(err);
        else resolve(res as DecodedResponse);
      };
      sock.setTimeout(this.timeoutMs, () => done(new Error(`upstream ${up.host}:${up.port} (TCP) timed out`)));
      sock.on('error', (err) => done(err));
      if (this.opts.sockets) sock.write(framed);
      else sock.on('connect', () => sock.write(framed));
      sock.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2) return;
        const n = buf.readUInt16BE(0);
        if (buf.length < 2 + n) return;
        try {
          done(undefined, checkAnswer(buf.subarray(2, 2 + n), name, type));
        } catch (err) {
          done(err as Error);
        }
      });
      sock.resume();
    });
  }

  close(): void {
    this.closed = true;
    for (const s of this.sockets) s.emit('error', new Error('forwarder closed'));
    this.sockets.clear();
  }
}

function checkAnswer(raw: Buffer, name: string, type: number): DecodedResponse {
  const res = decodeResponse(raw);
  if (!(res.flags & 0x8000)) throw new WireError('upstream sent a query, not a response');
  if (res.question && (res.question.name !== name || res.question.type !== type)) throw new WireError('upstream answered a different question');
  return res;
}

/** A recursive query (RD) with EDNS0 advertising 1232 bytes. */
export function encodeQuery(id: number, name: string, type: number, klass: number): Buffer {
  const labels = splitName(name);
  const nameLen = labels.reduce((n, l) => n + 1 + l.length, 1);
  const buf = Buffer.alloc(12 + nameLen + 4 + 11);
  buf.writeUInt16BE(id, 0);
  buf.writeUInt16BE(0x0100, 2);
  buf.writeUInt16BE(1, 4);
  buf.writeUInt16BE(1, 10);
  let p = 12;
  for (const l of labels) {
    if (l.length === 0 || l.length > 63) throw new WireError(`name "${name}" has an empty or over-long label`);
    buf[p] = l.length;
    buf.write(l, p + 1, 'latin1');
    p += 1 + l.length;
  }
  buf[p++] = 0;
  buf.writeUInt16BE(type, p);
  buf.writeUInt16BE(klass, p + 2);
  p += 4;
  buf[p] = 0;
  buf.writeUInt16BE(RRType.OPT, p + 1);
  buf.writeUInt16BE(1232, p + 3);
  return buf;
}
