// echo-basic's UDP mode (UDP_ECHO_SERVER set): on UDP_PORT (8080) every datagram is answered
// with {"request": <the datagram>, namespace, ingress, service, pod} as JSON.
import { serveUdpInNetns, type OpenServer } from './sockets.js';

export interface UdpEchoContext {
  namespace: string;
  ingress: string;
  service: string;
  pod: string;
}

export function udpEchoPayload(request: string, ctx: UdpEchoContext): string {
  return JSON.stringify({ request, namespace: ctx.namespace, ingress: ctx.ingress, service: ctx.service, pod: ctx.pod });
}

export async function serveUdpEcho(netns: string, port: number, ctx: UdpEchoContext, log: (line: string) => void): Promise<OpenServer> {
  const server = await serveUdpInNetns(netns, port, (msg, from) => {
    const text = msg.toString('utf8');
    log(`Received UDP ${text} from ${from.address}:${from.port}\n`);
    return udpEchoPayload(text, ctx);
  });
  log(`UDP server listening on :${port}\n`);
  return server;
}
