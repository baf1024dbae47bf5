// gRPC to etcd over node:http2, for the etcd store: unary calls (Txn, Range) and one watch stream,
// with the messages of etcd-wire.ts. Leaner than a general gRPC stack (no interceptors, resolvers
// or per-call filter chains): a request is one HTTP/2 stream carrying one framed message, and the
// answer's grpc-status decides. One connection to one member at a time; when that member fails (the
// connection drops, or etcd answers Unavailable) calls move to the next member of the list.
import { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, connect, constants } from 'node:http2';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface EtcdTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** gRPC status codes the store looks at (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const UNAVAILABLE = 14;

export class GrpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** True when the call may be retried on another member (it was refused or never reached etcd). */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'GrpcError';
  }
}

/** Splits a gRPC body into its messages; keeps an incomplete tail for the next chunk. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onMessage: (msg: Buffer) => void): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 5) {
      if (this.buf[0] !== 0) throw new Error('etcd sent a compressed gRPC message, which this client does not ask for');
      const len = this.buf.readUInt32BE(1);
      if (this.buf.length < 5 + len) break;
      const msg = this.buf.subarray(5, 5 + len);
      this.buf = this.buf.subarray(5 + len);
      onMessage(msg);
    }
  }
}

function statusOf(headers: IncomingHttpHeaders): { code: number; message: string } | undefined {
  const code = headers['grpc-status'];
  if (code === undefined) return undefined;
  const raw = headers['grpc-message'];
  const message = typeof raw === 'string' ? decodeURIComponent(raw) : '';
  return { code: Number(code), message };
}

export class EtcdGrpc {
  private session: ClientHttp2Session | undefined;
  private current = 0;
  private closed = false;

  constructor(
    private readonly endpoints: string[],
    private readonly tls?: EtcdTls,
  ) {}

  /** The member calls go to now. */
  get endpoint(): string {
    return this.endpoints[this.current];
  }

  private connection(): ClientHttp2Session {
    if (this.closed) throw new GrpcError(UNAVAILABLE, 'the etcd client is closed', false);
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const url = this.endpoint;
    const tls = this.tls;
    // TLS by hand: SNI only for host names (an IP address in SNI is not allowed, RFC 6066); the
    // certificate is still checked against the address.
    const session = tls
      ? connect(url, {
          createConnection: (u: URL) =>
            tlsConnect({ host: u.hostname, port: Number(u.port), ca: tls.caPem, cert: tls.certPem, key: tls.keyPem, ALPNProtocols: ['h2'], servername: isIP(u.hostname) ? undefined : u.hostname }),
        })
      : connect(url);
    const drop = () => {
      if (this.session === session) this.session = undefined;
    };
    session.on('error', drop);
    session.on('close', drop);
    session.on('goaway', drop);
    this.session = session;
    return session;
  }

  /** Moves to the next member after `failed` (when nobody moved on meanwhile). */
  private failOver(failed: ClientHttp2Session | undefined): void {
    if (failed && this.session !== failed) return;
    this.session?.destroy();
    this.session = undefined;
    this.current = (this.current + 1) % this.endpoints.length;
  }

  private open(path: string, extra: Record<string, string> = {}): { session: ClientHttp2Session; stream: ClientHttp2Stream } {
    const session = this.connection();
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...extra,
    });
    return { session, stream };
  }

  /** One unary call on one member: the answer's message, or a GrpcError. */
  private once(path: string, request: Buffer): Promise<{ session: ClientHttp2Session; msg: Buffer }> {
    return new Promise((resolve, reject) => {
      let session: ClientHttp2Session;
      let stream: ClientHttp2Stream;
      try {
        ({ session, stream } = this.open(path));
      } catch (err) {
        reject(err instanceof GrpcError ? err : new GrpcError(UNAVAILABLE, (err as Error).message, true));
        return;
      }
      let msg: Buffer | undefined;
      let status: { code: number; message: string } | undefined;
      let answered = false;
      const frames = new FrameReader();
      stream.on('response', (headers) => {
        answered = true;
        status ??= statusOf(headers);
      });
      stream.on('trailers', (headers) => {
        status ??= statusOf(headers);
      });
      stream.on('data', (chunk: Buffer) => {
        try {
          frames.push(chunk, (m) => (msg = m));
        } catch (err) {
          stream.destroy(err as Error);
        }
      });
      stream.on('error', (err) => reject(new GrpcError(UNAVAILABLE, `${this.endpoint}: ${err.message}`, !answered)));
      stream.on('close', () => {
        if (status === undefined) {
          reject(new GrpcError(UNAVAILABLE, `${this.endpoint}: the stream ended without a gRPC status`, !answered));
        } else if (status.code !== 0) {
          reject(new GrpcError(status.code, status.message, status.code === UNAVAILABLE));
        } else if (!msg) {
          reject(new GrpcError(UNAVAILABLE, `${this.endpoint}: no message in the answer`, false));
        } else resolve({ session, msg });
      });
      stream.end(request);
    });
  }

  /**
   * A unary call (`path` such as /etcdserverpb.KV/Txn, `request` framed by etcd-wire.ts). A call
   * refused by a member (connection failed, or Unavailable) is tried on the others in turn.
   */
  async unary(path: string, request: Buffer): Promise<Buffer> {
    for (let attempt = 1; ; attempt++) {
      const session = this.session;
      try {
        return (await this.once(path, request)).msg;
      } catch (err) {
        if (!(err instanceof GrpcError) || !err.retryable || attempt >= this.endpoints.length * 2 || this.closed) throw err;
        this.failOver(session ?? this.session);
      }
    }
  }

  /**
   * A watch stream: sends `create` and passes each WatchResponse message to `onMessage`; `onEnd`
   * once the stream ends for any reason (the caller re-watches, on another member if needed).
   * Asks etcd to end it when the member loses its leader, as etcd's own clients do.
   */
  watch(create: Buffer, onMessage: (msg: Buffer) => void, onEnd: (err: Error) => void): { close(): void } {
    let ended = false;
    const end = (err: Error) => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    let session: ClientHttp2Session;
    let stream: ClientHttp2Stream;
    try {
      ({ session, stream } = this.open('/etcdserverpb.Watch/Watch', { hasleader: 'true' }));
    } catch (err) {
      this.failOver(this.session);
      queueMicrotask(() => end(err as Error));
      return { close: () => undefined };
    }
    const member = this.endpoint;
    const frames = new FrameReader();
    stream.on('data', (chunk: Buffer) => {
      try {
        frames.push(chunk, onMessage);
      } catch (err) {
        stream.destroy(err as Error);
      }
    });
    const fail = (why: string) => {
      this.failOver(session);
      end(new Error(`the watch on ${member} ended: ${why}`));
    };
    stream.on('trailers', (headers) => {
      const s = statusOf(headers);
      if (s && s.code !== 0) fail(s.message);
    });
    stream.on('response', (headers) => {
      const s = statusOf(headers);
      if (s && s.code !== 0) fail(s.message);
    });
    stream.on('error', (err) => fail(err.message));
    stream.on('close', () => fail('the stream closed'));
    stream.write(create);
    return {
      close: () => {
        ended = true;
        stream.close();
      },
    };
  }

  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }
}
