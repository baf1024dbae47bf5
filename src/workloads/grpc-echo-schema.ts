// The conformance suite's gRPC echo service (gateway_api_conformance.echo_basic.grpcecho, facts
// from conformance/echo-basic/grpcecho.proto: field numbers and names), as a protobufjs schema:
// GrpcEcho has Echo and EchoTwo (answered with what the server saw) and EchoThree (never
// implemented). Shared by the echo-basic gRPC mode and the clients of the tests.
import protobuf from 'protobufjs';

export const GRPC_ECHO_PACKAGE = 'gateway_api_conformance.echo_basic.grpcecho';
export const GRPC_ECHO_SERVICE = `${GRPC_ECHO_PACKAGE}.GrpcEcho`;
/** Methods the server implements; EchoThree exists in the service but answers UNIMPLEMENTED. */
export const GRPC_ECHO_IMPLEMENTED = ['Echo', 'EchoTwo'];
export const GRPC_ECHO_METHODS = [...GRPC_ECHO_IMPLEMENTED, 'EchoThree'];

const s = (id: number) => ({ type: 'string', id });
const root = protobuf.Root.fromJSON({
  nested: {
    gateway_api_conformance: {
      nested: {
        echo_basic: {
          nested: {
            grpcecho: {
              nested: {
                Header: { fields: { key: s(1), value: s(2) } },
                Context: { fields: { namespace: s(1), ingress: s(2), serviceName: s(3), pod: s(4) } },
                TLSAssertions: { fields: { version: s(1), negotiatedProtocol: s(2), serverName: s(3), cipherSuite: s(4), peerCertificates: { rule: 'repeated', type: 'string', id: 5 } } },
                Assertions: {
                  fields: {
                    fullyQualifiedMethod: s(1),
                    headers: { rule: 'repeated', type: 'Header', id: 2 },
                    authority: s(3),
                    context: { type: 'Context', id: 4 },
                    tlsAssertions: { type: 'TLSAssertions', id: 5 },
                  },
                },
                EchoRequest: { fields: {} },
                EchoResponse: { fields: { assertions: { type: 'Assertions', id: 1 }, request: { type: 'EchoRequest', id: 2 } } },
              },
            },
          },
        },
      },
    },
  },
});

export const EchoResponseType = root.lookupType(`${GRPC_ECHO_PACKAGE}.EchoResponse`);
export const EchoRequestType = root.lookupType(`${GRPC_ECHO_PACKAGE}.EchoRequest`);

export interface GrpcEchoAssertions {
  fullyQualifiedMethod: string;
  headers: { key: string; value: string }[];
  authority: string;
  context?: { namespace?: string; ingress?: string; serviceName?: string; pod?: string };
}

/** A gRPC message frame: 1 byte compressed flag (0), 4 bytes big-endian length, the message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(message.length, 1);
  Buffer.from(message.buffer, message.byteOffset, message.length).copy(out, 5);
  return out;
}

/** The messages of a complete gRPC body; throws on a truncated or compressed frame. */
export function grpcMessages(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 5) throw new Error(`truncated gRPC frame header at byte ${at}`);
    if (body[at] !== 0) throw new Error('compressed gRPC messages are not supported (no grpc-encoding)');
    const len = body.readUInt32BE(at + 1);
    if (body.length - at - 5 < len) throw new Error(`truncated gRPC message at byte ${at}: ${len} bytes announced`);
    out.push(body.subarray(at + 5, at + 5 + len));
    at += 5 + len;
  }
  return out;
}
