// A minimal HTTP API endpoint for driving the real kubectl against the present/ module: it
// answers /version (minor 32, so the kubectl dispatcher runs kubectl 1.32), discovery and
// OpenAPI from the module under test, records every request, and leaves the rest to the test.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggregatedDiscovery, AGGREGATED_DISCOVERY_CONTENT_TYPE, legacyDiscovery, openapiV3 } from '../../../src/apiserver/present/index.js';

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Handler = (req: Recorded, res: ServerResponse) => boolean;

export interface Harness {
  url: string;
  requests: Recorded[];
  handler: Handler;
  /** Answer /api and /apis with legacy documents only (clients then fetch every group-version). */
  legacyDiscoveryOnly: boolean;
  kubectl(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  res.writeHead(code, { 'Content-Type': contentType });
  res.end(JSON.stringify(body));
}

export function notFound(res: ServerResponse, what: string): void {
  sendJson(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `${what} not found`, reason: 'NotFound', code: 404 });
}

export { sendJson };

export async function startHarness(): Promise<Harness> {
  // Each harness has its own kubectl cache directory, so discovery is never served from disk.
  const requests: Recorded[] = [];
  const cacheDir = mkdtempSync(join(tmpdir(), 'flatnet-present-'));
  const h: Harness = {
    url: '',
    requests,
    handler: () => false,
    legacyDiscoveryOnly: false,
    kubectl: (args, stdin) =>
      new Promise((resolve) => {
        const child = execFile(
          'kubectl',
          ['--server', h.url, '--cache-dir', cacheDir, ...args],
          { env: { ...process.env, KUBECONFIG: join(cacheDir, 'no-kubeconfig'), HOME: cacheDir }, timeout: 30_000 },
          (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
        if (stdin !== undefined) child.stdin!.end(stdin);
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        rmSync(cacheDir, { recursive: true, force: true });
      }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(rec);
      const path = rec.url.split('?')[0];
      if (path === '/version') return sendJson(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' });
      if ((path === '/api' || path === '/apis') && !h.legacyDiscoveryOnly && String(req.headers.accept ?? '').includes('g=apidiscovery.k8s.io')) {
        return sendJson(res, 200, aggregatedDiscovery(path.slice(1) as 'api' | 'apis'), AGGREGATED_DISCOVERY_CONTENT_TYPE);
      }
      if (path.startsWith('/openapi/v3')) {
        const doc = openapiV3(rec.url);
        return doc ? sendJson(res, 200, doc) : notFound(res, path);
      }
      if (h.handler(rec, res)) return;
      const legacy = legacyDiscovery(path);
      if (legacy && rec.method === 'GET') return sendJson(res, 200, legacy);
      notFound(res, path);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  h.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return h;
}
