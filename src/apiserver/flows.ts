// GET /flatnet/v1/flows: the flow events of every node, merged. The server asks each node's agent
// for its buffer (GET /flows on the kubelet endpoint, over the same verified TLS connection the
// node proxy uses, with the API server's kubelet client certificate) and answers NDJSON: first one
// node_status line per node (buffer and loss counters, or why the node could not be read), then
// the matching events of all nodes in time order. With follow=true the answer stays open and
// each node's new events are passed on as they come. The query is the agents' (src/flows/filter.ts).
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createInterface } from 'node:readline';
import { filterFromQuery, FlowFilterError } from '../flows/filter.js';
import { parseLimit, sendJsonError } from '../flows/serve.js';
import type { FlowEvent } from '../flows/types.js';
import { kubeletEndpoint, type KubeletDialer } from './proxy.js';
import type { Registry } from './registry.js';
import { drained, PacedWriter } from './paced-write.js';

interface NodeStream {
  node: string;
  lines: AsyncIterable<string>;
  close(): void;
}

async function openNodeStream(node: string, host: string, port: number, path: string, dialer: KubeletDialer): Promise<NodeStream> {
  const socket = await dialer.dial({ nodeName: node, host, port });
  return new Promise((resolve, reject) => {
    const req = http.request({ method: 'GET', path, headers: { host: `${host}:${port}`, accept: 'application/x-ndjson' }, createConnection: () => socket }, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          socket.destroy();
          let message = body.trim();
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? message;
          } catch {
            // plain text
          }
          reject(new Error(`the agent answered ${res.statusCode}: ${message}`));
        });
        return;
      }
      // The iterator is taken now: readline drops lines that arrive before it exists.
      const it = createInterface({ input: res })[Symbol.asyncIterator]();
      resolve({ node, lines: { [Symbol.asyncIterator]: () => it }, close: () => socket.destroy() });
    });
    req.on('error', (err) => {
      socket.destroy();
      reject(err);
    });
    req.end();
  });
}

function line(res: ServerResponse, obj: unknown): boolean {
  return res.write(JSON.stringify(obj) + '\n');
}

export async function serveClusterFlows(req: IncomingMessage, res: ServerResponse, registry: Registry, dialer: KubeletDialer): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://server');
  let limit: number | undefined;
  try {
    filterFromQuery(url.searchParams); // refuse a bad query before asking any node
    limit = parseLimit(url.searchParams);
  } catch (err) {
    if (err instanceof FlowFilterError) return sendJsonError(res, 400, err.message);
    throw err;
  }
  const follow = url.searchParams.get('follow') === 'true';
  const wantedNode = url.searchParams.get('node');
  const path = `/flows?${url.searchParams.toString()}`;
  const nodes = registry.store.list('/nodes').entries.map((e) => e.obj).filter((n) => !wantedNode || n.metadata.name === wantedNode);
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  const streams: NodeStream[] = [];
  await Promise.all(
    nodes.map(async (n) => {
      const name = n.metadata.name!;
      const ep = kubeletEndpoint(n);
      if (!ep) {
        line(res, { node_status: { node: name, error: 'the node has no agent endpoint (status.addresses and daemonEndpoints.kubeletEndpoint.Port)' } });
        return;
      }
      try {
        streams.push(await openNodeStream(name, ep.host, ep.port, path, dialer));
      } catch (err) {
        line(res, { node_status: { node: name, error: `cannot read the node's flows: ${(err as Error).message}` } });
      }
    }),
  );
  let gone = false;
  res.on('close', () => {
    gone = true;
    streams.forEach((s) => s.close());
  });
  // One wait for 'drain' that every node's stream shares.
  let draining: Promise<void> | undefined;
  const roomToWrite = () =>
    (draining ??= drained(res).then(() => {
      draining = undefined;
    }));
  if (!follow) {
    const flows: FlowEvent[] = [];
    await Promise.all(
      streams.map(async (s) => {
        for await (const text of s.lines) {
          if (text === '') continue;
          const obj = JSON.parse(text) as { flow?: FlowEvent };
          if (obj.flow) flows.push(obj.flow);
          else res.write(text + '\n');
        }
      }),
    );
    flows.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.node < b.node ? -1 : a.seq - b.seq));
    const shown = limit === undefined ? flows : flows.slice(-limit);
    const out = new PacedWriter(res);
    for (let i = 0; i < shown.length; i += 1000) out.write(Buffer.from(shown.slice(i, i + 1000).map((f) => JSON.stringify({ flow: f })).join('\n') + '\n'));
    out.end();
    return;
  }
  await Promise.all(
    streams.map(async (s) => {
      // A client that reads slowly holds the nodes' streams back rather than filling the session's queue.
      for await (const text of s.lines) if (text !== '' && !res.write(text + '\n') && !gone) await roomToWrite();
      line(res, { node_status: { node: s.node, error: 'the node ended its stream' } });
    }),
  );
  res.end();
}
