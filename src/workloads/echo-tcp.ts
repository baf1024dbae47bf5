// echo-basic's TCP mode (TCP_ECHO_SERVER set): on TCP_PORT (3000) plain and, with TLS_SERVER_CERT
// and TLS_SERVER_PRIV_KEY, on TLS_PORT (8443) terminating TLS. Each connection is greeted with
// "Gateway API Test TCP Server\n" and answers lines: PING -> PONG, IS_TLS -> true/false, TEST ->
// one JSON line with the pod's context and, over TLS, what the handshake negotiated (the SNI the
// client sent, so a test can tell a passthrough from a terminated connection).
import type net from 'node:net';
import tls from 'node:tls';
import { serveTcpInNetns, type OpenServer } from './sockets.js';

export const TCP_WELCOME = 'Gateway API Test TCP Server\n';

export interface TcpEchoContext {
  namespace: string;
  ingress: string;
  service: string;
  pod: string;
  tcpPort: string;
  /** Set when the TLS port is served. */
  tlsPort?: string;
}

export interface TcpTlsFacts {
  version: string;
  serverName: string;
  negotiatedProtocol?: string;
  curves?: string;
  cipherSuite: string;
}

/** Go's tls.VersionName for Node's protocol names ("TLSv1.3" -> "TLS 1.3"). */
export function goTlsVersionName(protocol: string | null): string {
  const m = /^TLSv(\d)(?:\.(\d))?$/.exec(protocol ?? '');
  return m ? `TLS ${m[1]}.${m[2] ?? '0'}` : (protocol ?? '');
}

/** The TEST answer, fields in the upstream order (the context inline, then isTLS and tls). */
export function tcpTestPayload(ctx: TcpEchoContext, tlsFacts: TcpTlsFacts | undefined): string {
  const body: Record<string, unknown> = { namespace: ctx.namespace, ingress: ctx.ingress, service: ctx.service, pod: ctx.pod, tcpport: ctx.tcpPort };
  if (ctx.tlsPort) body.tlsport = ctx.tlsPort;
  body.isTLS = tlsFacts !== undefined;
  if (tlsFacts) body.tls = tlsFacts;
  return JSON.stringify(body);
}

/** The answer to one line, or undefined for lines the server ignores. */
export function tcpLineAnswer(line: string, ctx: TcpEchoContext, tlsFacts: TcpTlsFacts | undefined): string | undefined {
  switch (line) {
    case 'TEST':
      return `${tcpTestPayload(ctx, tlsFacts)}\n`;
    case 'IS_TLS':
      return `${tlsFacts !== undefined}\n`;
    case 'PING':
      return 'PONG\n';
    default:
      return undefined;
  }
}

function converse(sock: net.Socket | tls.TLSSocket, ctx: TcpEchoContext, tlsFacts: TcpTlsFacts | undefined): void {
  sock.write(TCP_WELCOME);
  let buffered = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).replace(/\r$/, '');
      buffered = buffered.slice(nl + 1);
      const reply = tcpLineAnswer(line, ctx, tlsFacts);
      if (reply !== undefined) sock.write(reply);
    }
    if (buffered.length > 65536) sock.destroy();
  });
  sock.on('end', () => sock.end());
}

function factsOf(s: tls.TLSSocket): TcpTlsFacts {
  const cipher = s.getCipher();
  const curve = s.getEphemeralKeyInfo();
  const facts: TcpTlsFacts = { version: goTlsVersionName(s.getProtocol()), serverName: typeof s.servername === 'string' ? s.servername : '', cipherSuite: cipher.standardName ?? cipher.name };
  if (s.alpnProtocol) facts.negotiatedProtocol = s.alpnProtocol;
  if (curve && 'name' in curve && curve.name) facts.curves = curve.name;
  return facts;
}

/** Serves the TCP echo in `netns`: plain on ctx.tcpPort, TLS on ctx.tlsPort when a certificate is given. */
export async function serveTcpEcho(netns: string, ctx: TcpEchoContext, certificate: { cert: Buffer; key: Buffer } | undefined, log: (line: string) => void): Promise<OpenServer[]> {
  const servers: OpenServer[] = [await serveTcpInNetns(netns, Number(ctx.tcpPort), (sock) => converse(sock, ctx, undefined))];
  log(`Starting server (tcp) protocol=tcp port=${ctx.tcpPort}\n`);
  if (certificate && ctx.tlsPort) {
    try {
      const secureContext = tls.createSecureContext({ cert: certificate.cert, key: certificate.key, minVersion: 'TLSv1.2' });
      servers.push(
        await serveTcpInNetns(netns, Number(ctx.tlsPort), (raw) => {
          const s = new tls.TLSSocket(raw, { isServer: true, secureContext });
          s.on('error', () => s.destroy());
          s.once('secure', () => converse(s, ctx, factsOf(s)));
        }),
      );
    } catch (err) {
      for (const s of servers) s.close();
      throw new Error(`TLS_SERVER_CERT/TLS_SERVER_PRIV_KEY on TLS_PORT ${ctx.tlsPort}: ${(err as Error).message}`, { cause: err });
    }
    log(`Starting server (tcp) protocol=tls port=${ctx.tlsPort}\n`);
  }
  return servers;
}
