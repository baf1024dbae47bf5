// echo-basic's gRPC mode (GRPC_ECHO_SERVER set): the conformance GrpcEcho service over HTTP/2
// cleartext (prior knowledge) on HTTP_PORT. Echo and EchoTwo answer with the method, the request
// metadata (as grpc-go hands it to a handler: every header but pseudo-headers and the reserved
// ones, plus :authority and user-agent) and the pod's context; EchoThree and any other method
// answer UNIMPLEMENTED (12), a request that is not gRPC gets HTTP 415.
import http2 from 'node:http2';
import type net from 'node:net';
import { EchoResponseType, GRPC_ECHO_IMPLEMENTED, GRPC_ECHO_SERVICE, grpcFrame, grpcMessages } from './grpc-echo-schema.js';
import { listenAllInNetns, type OpenServer } from './sockets.js';

export interface GrpcEchoContext {
  namespace: string;
  ingress: string;
  service: string;
  pod: string;
}

/** grpc-go's reserved headers, left out of the metadata a handler sees. */
const RESERVED = new Set(['content-type', 'grpc-message-type', 'grpc-encoding', 'grpc-message', 'grpc-status', 'grpc-timeout', 'grpc-status-details-bin', 'te']);

/** The request metadata as the echo reports it: [key, value] per value, in arrival order. */
export function grpcMetadata(headers: http2.IncomingHttpHeaders): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    if (name.startsWith(':') ? name !== ':authority' : RESERVED.has(name)) continue;
    for (const value of Array.isArray(raw) ? raw : [String(raw)]) out.push({ key: name, value });
  }
  return out;
}

export type GrpcEchoAnswer = { kind: 'http'; status: number } | { kind: 'grpc-error'; code: number; message: string } | { kind: 'echo'; message: Uint8Array };

/** What the server answers to one request head (the body is read but carries nothing: EchoRequest is empty). */
export function grpcEchoAnswer(headers: http2.IncomingHttpHeaders, ctx: GrpcEchoContext): GrpcEchoAnswer {
  const contentType = String(headers['content-type'] ?? '');
  if (headers[':method'] !== 'POST' || !/^application\/grpc(\+proto)?(;|$)/.test(contentType)) return { kind: 'http', status: 415 };
  const path = String(headers[':path'] ?? '');
  const slash = path.lastIndexOf('/');
  const service = path.slice(1, slash);
  const method = path.slice(slash + 1);
  if (service !== GRPC_ECHO_SERVICE) return { kind: 'grpc-error', code: 12, message: `unknown service ${service}` };
  if (!GRPC_ECHO_IMPLEMENTED.includes(method)) return { kind: 'grpc-error', code: 12, message: `method ${method} not implemented` };
  const response = EchoResponseType.create({
    assertions: {
      fullyQualifiedMethod: `/${GRPC_ECHO_SERVICE}/${method}`,
      headers: grpcMetadata(headers),
      authority: String(headers[':authority'] ?? ''),
      context: { namespace: ctx.namespace, ingress: ctx.ingress, serviceName: ctx.service, pod: ctx.pod },
    },
  });
  return { kind: 'echo', message: EchoResponseType.encode(response).finish() };
}

function answer(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ctx: GrpcEchoContext, log: (line: string) => void): void {
  const a = grpcEchoAnswer(headers, ctx);
  if (a.kind === 'http') {
    stream.respond({ ':status': a.status, 'content-type': 'text/plain' });
    stream.end('this port speaks gRPC (POST, content-type application/grpc)\n');
    return;
  }
  if (a.kind === 'grpc-error') {
    // Trailers-only answer.
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(a.code), 'grpc-message': encodeURIComponent(a.message) }, { endStream: true });
    return;
  }
  log(`Received over plaintext: ${String(headers[':path'])}\n`);
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(grpcFrame(a.message));
}

/** Serves GrpcEcho on `port` of every address in `netns`. */
export async function serveGrpcEcho(netns: string, port: number, ctx: GrpcEchoContext, log: (line: string) => void): Promise<OpenServer> {
  const listener = await listenAllInNetns(netns, port);
  const server = http2.createServer({});
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => s.destroy());
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => stream.destroy());
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      try {
        grpcMessages(Buffer.concat(chunks));
      } catch (err) {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '13', 'grpc-message': encodeURIComponent((err as Error).message) }, { endStream: true });
        return;
      }
      answer(stream, headers, ctx, log);
    });
  });
  listener.on('connection', (sock: net.Socket) => server.emit('connection', sock));
  log(`plaintext server listening at [::]:${port}\n`);
  return {
    close() {
      listener.close();
      for (const s of sessions) s.destroy();
    },
  };
}
