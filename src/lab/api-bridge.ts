// Makes the API server, which listens on 127.0.0.1:6443 in the root namespace, reachable inside
// the lab at its advertised address (172.18.0.1:6443 in flatnet-lab): the `kubernetes` Service's
// endpoint. A listening socket is opened inside the lab namespace and each connection is piped
// to the server (TLS passes through untouched). No address or route is added to the root
// namespace.
import net from 'node:net';
import { listenInNetns } from '../linux/netns-socket.js';
import { createLogger } from '../util/log.js';

const log = createLogger('lab-api-bridge');

export interface ApiBridge {
  close(): void;
  connections: number;
}

export async function startApiBridge(netns: string, listen: { host: string; port: number }, target: { host: string; port: number }): Promise<ApiBridge> {
  const server = await listenInNetns(netns, { host: listen.host, port: listen.port, type: 'tcp' });
  const bridge: ApiBridge = {
    connections: 0,
    close: () => server.close(),
  };
  server.on('connection', (inside: net.Socket) => {
    bridge.connections++;
    const outside = net.connect(target);
    inside.pipe(outside).pipe(inside);
    const end = () => {
      inside.destroy();
      outside.destroy();
    };
    inside.on('error', end);
    outside.on('error', end);
    inside.on('close', end);
    outside.on('close', end);
  });
  server.on('error', (err) => log.error('API bridge listener failed', { netns, err: err.message }));
  log.info('API server reachable inside the lab', { netns, listen: `${listen.host}:${listen.port}`, target: `${target.host}:${target.port}` });
  return bridge;
}
