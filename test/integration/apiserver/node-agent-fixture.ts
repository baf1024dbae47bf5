// A node that joined the test server the real way (bootstrap token, client and serving
// certificates through CertificateSigningRequests, its status written with its own credentials)
// and an HTTPS listener standing in for its agent's kubelet endpoint, which records what reaches
// it: path, Authorization header, and the subject of the client certificate.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { R } from '../../../src/api/resources.js';
import { KubeClient } from '../../../src/client/client.js';
import { loadKubeconfig } from '../../../src/client/kubeconfig.js';
import { nodeClientConnection, nodeServingCertificate, renderBootstrapKubeconfig, writePrivateFile, type ServingCredentials } from '../../../src/agent/tls-bootstrap.js';
import { createBootstrapToken } from '../../../src/apiserver/node-identity/join.js';
import { createLogger } from '../../../src/util/log.js';
import type { TestServer } from '../../support/server.js';

export interface Seen {
  url: string;
  auth: string | undefined;
  clientCN: string | undefined;
  upgrade: boolean;
}

export interface JoinedNode {
  name: string;
  client: KubeClient;
  serving: ServingCredentials;
}

const log = createLogger('test');

/** Joins `name` with a fresh bootstrap token; its serving certificate names 127.0.0.1. */
export async function joinNode(s: TestServer, name: string, work: string): Promise<JoinedNode> {
  const caPem = loadKubeconfig(s.kubeconfig).ca!.toString('utf8');
  const token = await createBootstrapToken(s.client, { ttlSeconds: 600 });
  const bootstrap = join(work, name, 'bootstrap.kubeconfig');
  writePrivateFile(bootstrap, renderBootstrapKubeconfig({ server: s.url, caPem, token }));
  const conn = await nodeClientConnection(name, { kubeconfig: join(work, name, 'kubelet.kubeconfig'), bootstrapKubeconfig: bootstrap, certDir: join(work, name, 'pki') }, log);
  const client = new KubeClient(conn);
  const serving = await nodeServingCertificate(client, name, ['127.0.0.1'], join(work, name, 'pki'), log);
  if (!(await client.get(R.nodes, undefined, name))) await client.create(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name } });
  return { name, client, serving };
}

/** Registers where the node's agent listens, with the node's own credentials (as the agent does). */
export async function registerEndpoint(node: JoinedNode, port: number): Promise<void> {
  await node.client.patch(R.nodes, undefined, node.name, { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: node.name }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } }, 'merge', { subresource: 'status' });
}

export interface FakeAgent {
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

/** An HTTPS kubelet endpoint with `tls` (any certificate the test wants to present), recording every request. */
export async function startFakeAgent(tls: { certPem: string; keyPem: string; caPem: string }): Promise<FakeAgent> {
  const seen: Seen[] = [];
  const record = (req: import('node:http').IncomingMessage, upgrade: boolean) => {
    const cn = (req.socket as TLSSocket).getPeerCertificate?.()?.subject?.CN;
    seen.push({ url: req.url ?? '', auth: req.headers.authorization, clientCN: typeof cn === 'string' && (req.socket as TLSSocket).authorized ? cn : undefined, upgrade });
  };
  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem, ca: tls.caPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    record(req, false);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`log line from ${req.url}\n`);
  });
  server.on('upgrade', (req, socket: Duplex) => {
    record(req, true);
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
