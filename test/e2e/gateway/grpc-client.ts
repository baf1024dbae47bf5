// A small gRPC client for the conformance GrpcEcho service: unary calls over HTTP/2 (h2c or TLS)
// on a socket the caller makes (from flatnet-ext in the lab), messages framed and decoded with
// the service's schema. HTTP errors map to gRPC codes as the gRPC HTTP/2 protocol says
// (404 -> UNIMPLEMENTED, 503 -> UNAVAILABLE ...), as grpc-go's client does.
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { EchoRequestType, EchoResponseType, GRPC_ECHO_SERVICE, grpcFrame, grpcMessages, type GrpcEchoAssertions } from '../../../src/workloads/grpc-echo-schema.js';

export interface GrpcResult {
  /** gRPC status code (0 = OK). */
  code: number;
  message: string;
  httpStatus: number;
  assertions?: GrpcEchoAssertions;
  /** Response headers (initial metadata). */
  headers: http2.IncomingHttpHeaders;
}

/** The gRPC code of an HTTP status that is not 200 (the gRPC HTTP/2 protocol's mapping). */
export function grpcCodeOfHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return 13;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;
    default:
      return 2;
  }
}

/** One unary GrpcEcho call (`method`: Echo, EchoTwo, EchoThree) with `metadata` as request headers. */
export async function grpcEchoCall(socket: Duplex, opts: { authority: string; method: string; metadata?: Record<string, string>; secure?: boolean; timeoutMs?: number }): Promise<GrpcResult> {
  const session = http2.connect(`${opts.secure ? 'https' : 'http'}://${opts.authority}`, { createConnection: () => socket });
  try {
    return await new Promise<GrpcResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no gRPC answer within ${opts.timeoutMs ?? 10_000} ms`)), opts.timeoutMs ?? 10_000);
      session.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      const headers: http2.OutgoingHttpHeaders = {
        ':method': 'POST',
        ':path': `/${GRPC_ECHO_SERVICE}/${opts.method}`,
        ':authority': opts.authority,
        'content-type': 'application/grpc',
        te: 'trailers',
      };
      for (const [k, v] of Object.entries(opts.metadata ?? {})) headers[k.toLowerCase()] = v;
      const stream = session.request(headers);
      let responseHeaders: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (responseHeaders = h));
      stream.on('trailers', (t) => (trailers = t));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      stream.on('end', () => {
        clearTimeout(timer);
        const httpStatus = Number(responseHeaders[':status'] ?? 0);
        const statusText = trailers['grpc-status'] ?? responseHeaders['grpc-status'];
        const message = decodeURIComponent(String(trailers['grpc-message'] ?? responseHeaders['grpc-message'] ?? ''));
        if (httpStatus !== 200) return resolve({ code: grpcCodeOfHttpStatus(httpStatus), message: `HTTP ${httpStatus}`, httpStatus, headers: responseHeaders });
        if (statusText === undefined) return resolve({ code: 13, message: 'no grpc-status in the answer', httpStatus, headers: responseHeaders });
        const code = Number(statusText);
        let assertions: GrpcEchoAssertions | undefined;
        if (code === 0) {
          try {
            const [msg] = grpcMessages(Buffer.concat(chunks));
            const decoded = EchoResponseType.toObject(EchoResponseType.decode(msg ?? Buffer.alloc(0)), { defaults: true }) as { assertions?: GrpcEchoAssertions };
            assertions = decoded.assertions;
          } catch (err) {
            return resolve({ code: 13, message: `undecodable answer: ${(err as Error).message}`, httpStatus, headers: responseHeaders });
          }
        }
        resolve({ code, message, httpStatus, assertions, headers: responseHeaders });
      });
      stream.end(grpcFrame(EchoRequestType.encode(EchoRequestType.create({})).finish()));
    });
  } finally {
    session.destroy();
  }
}
