// Reads GET /flatnet/v1/flows from the API server as a stream of NDJSON objects.
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import type { ClusterConnection } from '../client/kubeconfig.js';
import { filterToQuery, type FlowFilter } from './filter.js';
import type { FlowEvent } from './types.js';

export interface NodeStatusLine {
  node: string;
  error?: string;
  nextSeq?: number;
  shed?: { verdicts: number; connections: number };
  kernelLosses?: { conntrack: number; nflog: number };
}

export type FlowStreamItem = { flow: FlowEvent } | { node_status: NodeStatusLine } | { lost_events: { node: string; source: string; num_events_lost: number } };

export interface FlowStream {
  items: AsyncIterable<FlowStreamItem>;
  close(): void;
}

export function flowsPath(filter: FlowFilter, opts: { follow?: boolean; limit?: number }): string {
  const q = filterToQuery(filter);
  if (opts.follow) q.set('follow', 'true');
  if (opts.limit !== undefined) q.set('limit', String(opts.limit));
  const qs = q.toString();
  return `/flatnet/v1/flows${qs ? `?${qs}` : ''}`;
}

export function openFlowStream(conn: ClusterConnection, path: string): Promise<FlowStream> {
  const url = new URL(conn.server);
  const headers: Record<string, string> = { accept: 'application/x-ndjson' };
  if (conn.token) headers.authorization = `Bearer ${conn.token}`;
  const secure = url.protocol === 'https:';
  const options: https.RequestOptions = {
    method: 'GET',
    hostname: url.hostname,
    port: url.port || (secure ? 443 : 80),
    path,
    headers,
    ca: conn.ca,
    cert: conn.cert,
    key: conn.key,
    rejectUnauthorized: !conn.insecureSkipTLSVerify,
    // One connection, closed with the answer: Node's global agent keeps sockets alive, which
    // would keep a finished `flatnet flows` from exiting.
    agent: false,
  };
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(options, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          let message = body.trim();
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? message;
          } catch {
            // not a Status
          }
          reject(new Error(`the API server answered ${res.statusCode} for ${path}: ${message}`));
        });
        return;
      }
      // The iterator is taken now: readline drops lines that arrive before it exists.
      const lines = createInterface({ input: res })[Symbol.asyncIterator]();
      async function* items(): AsyncGenerator<FlowStreamItem> {
        for (let next = await lines.next(); !next.done; next = await lines.next()) if (next.value !== '') yield JSON.parse(next.value) as FlowStreamItem;
      }
      resolve({ items: items(), close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}
