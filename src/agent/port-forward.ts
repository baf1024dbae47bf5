// Port-forwarding into a pod, in both protocols clients speak:
//  - SPDY/3.1 streams (kubectl: raw SPDY frames tunnelled in binary WebSocket messages with the
//    subprotocol `SPDY/3.1+portforward.k8s.io`, or plain SPDY after an HTTP upgrade): per
//    forwarded connection an `error` and a `data` stream with headers port and requestID;
//  - the WebSocket channel protocol (@kubernetes/client-node, `?ports=`): channel 2i carries the
//    data of the i-th port and 2i+1 its errors, each opened by the port number (2 bytes, LE).
import type net from 'node:net';
import { encodeDataFrame, encodePing, encodeRstStream, encodeWindowUpdate, FLAG_FIN, FrameDecoder, FrameEncoder, FrameSplitter, RstStatus, type SpdyFrame } from './spdy.js';

export type PortDialer = (port: number) => Promise<net.Socket>;

export interface ByteTransport {
  write(data: Buffer): void;
  close(): void;
}

interface ForwardStreams {
  requestId: string;
  port: number;
  dataStream?: number;
  errorStream?: number;
  socket?: net.Socket;
  pending: Buffer[];
  clientEnded: boolean;
}

/** One SPDY port-forward connection; feed it the client's bytes with push(). */
export class SpdyPortForwardSession {
  private readonly splitter = new FrameSplitter();
  private readonly decoder = new FrameDecoder();
  private readonly encoder = new FrameEncoder();
  private readonly requests = new Map<string, ForwardStreams>();
  private readonly byStream = new Map<number, ForwardStreams>();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly transport: ByteTransport,
    private readonly dial: PortDialer,
    private readonly describeTarget: string,
  ) {}

  push(chunk: Buffer): void {
    for (const raw of this.splitter.push(chunk)) {
      this.chain = this.chain.then(async () => {
        if (this.closed) return;
        try {
          await this.onFrame(await this.decoder.decode(raw));
        } catch {
          this.close();
        }
      });
    }
  }

  private send(frame: Buffer): void {
    if (!this.closed) this.transport.write(frame);
  }

  private async onFrame(f: SpdyFrame): Promise<void> {
    switch (f.type) {
      case 'syn_stream': {
        this.send(await this.encoder.synReply(f.streamId, {}));
        const requestId = f.headers.requestid ?? String(f.streamId);
        const port = Number(f.headers.port);
        let fwd = this.requests.get(requestId);
        if (!fwd) {
          fwd = { requestId, port, pending: [], clientEnded: false };
          this.requests.set(requestId, fwd);
        }
        this.byStream.set(f.streamId, fwd);
        if (f.headers.streamtype === 'error') fwd.errorStream = f.streamId;
        else if (f.headers.streamtype === 'data') fwd.dataStream = f.streamId;
        else {
          this.send(encodeRstStream(f.streamId, RstStatus.PROTOCOL_ERROR));
          return;
        }
        if (fwd.dataStream !== undefined && fwd.errorStream !== undefined) this.connect(fwd);
        return;
      }
      case 'data': {
        const fwd = this.byStream.get(f.streamId);
        if (!fwd || f.streamId !== fwd.dataStream) return;
        if (f.data.length > 0) {
          this.send(encodeWindowUpdate(f.streamId, f.data.length));
          if (fwd.socket) fwd.socket.write(f.data);
          else fwd.pending.push(f.data);
        }
        if (f.flags & FLAG_FIN) {
          fwd.clientEnded = true;
          fwd.socket?.end();
        }
        return;
      }
      case 'rst_stream': {
        const fwd = this.byStream.get(f.streamId);
        fwd?.socket?.destroy();
        return;
      }
      case 'ping':
        this.send(encodePing(f.id));
        return;
      case 'goaway':
        this.close();
        return;
      default:
        return;
    }
  }

  private connect(fwd: ForwardStreams): void {
    const dataStream = fwd.dataStream!;
    const errorStream = fwd.errorStream!;
    if (!Number.isInteger(fwd.port) || fwd.port <= 0 || fwd.port > 65535) {
      this.send(encodeDataFrame(errorStream, Buffer.from(`invalid port header "${fwd.port}"`), FLAG_FIN));
      this.send(encodeDataFrame(dataStream, Buffer.alloc(0), FLAG_FIN));
      return;
    }
    this.dial(fwd.port).then(
      (socket) => {
        fwd.socket = socket;
        for (const b of fwd.pending) socket.write(b);
        fwd.pending = [];
        if (fwd.clientEnded) socket.end();
        socket.on('data', (c: Buffer) => this.send(encodeDataFrame(dataStream, c)));
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.send(encodeDataFrame(dataStream, Buffer.alloc(0), FLAG_FIN));
          this.send(encodeDataFrame(errorStream, Buffer.alloc(0), FLAG_FIN));
          this.forget(fwd);
        });
        socket.resume();
      },
      (err: Error) => {
        const message = `error forwarding port ${fwd.port} to ${this.describeTarget}: ${err.message}`;
        this.send(encodeDataFrame(errorStream, Buffer.from(message), FLAG_FIN));
        this.send(encodeDataFrame(dataStream, Buffer.alloc(0), FLAG_FIN));
        this.forget(fwd);
      },
    );
  }

  private forget(fwd: ForwardStreams): void {
    this.requests.delete(fwd.requestId);
    if (fwd.dataStream !== undefined) this.byStream.delete(fwd.dataStream);
    if (fwd.errorStream !== undefined) this.byStream.delete(fwd.errorStream);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fwd of this.requests.values()) fwd.socket?.destroy();
    this.requests.clear();
    this.decoder.close();
    this.encoder.close();
    this.transport.close();
  }
}

/** Channel-protocol port-forward: one WebSocket carries the ports of `?ports=`. */
export class ChannelPortForwardSession {
  private readonly sockets: (net.Socket | undefined)[] = [];
  private readonly pending: Buffer[][] = [];
  private closed = false;

  constructor(
    private readonly send: (data: Buffer) => void,
    private readonly closeTransport: () => void,
    private readonly ports: number[],
    private readonly dial: PortDialer,
  ) {
    ports.forEach((port, i) => {
      const portBytes = Buffer.alloc(2);
      portBytes.writeUInt16LE(port);
      this.send(Buffer.concat([Buffer.from([2 * i]), portBytes]));
      this.send(Buffer.concat([Buffer.from([2 * i + 1]), portBytes]));
      this.pending[i] = [];
      this.dial(port).then(
        (socket) => {
          if (this.closed) return socket.destroy();
          this.sockets[i] = socket;
          for (const b of this.pending[i]) socket.write(b);
          socket.on('data', (c: Buffer) => this.send(Buffer.concat([Buffer.from([2 * i]), c])));
          socket.on('error', () => undefined);
          socket.on('close', () => this.close());
          socket.resume();
        },
        (err: Error) => {
          this.send(Buffer.concat([Buffer.from([2 * i + 1]), Buffer.from(`error forwarding port ${port}: ${err.message}`)]));
          this.close();
        },
      );
    });
  }

  /** A message from the client: channel byte then data. */
  onMessage(msg: Buffer): void {
    if (msg.length === 0) return;
    const channel = msg[0];
    if (channel === 255) return; // v5 close of a stream: the socket is closed with the connection
    if (channel % 2 !== 0) return;
    const i = channel / 2;
    if (i >= this.ports.length) return;
    const data = msg.subarray(1);
    const socket = this.sockets[i];
    if (socket) socket.write(data);
    else this.pending[i].push(data);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s?.destroy();
    this.closeTransport();
  }
}
