// GET /flows on an agent: the node's buffered events as NDJSON, one object per line, shaped like
// Hubble's GetFlows answers:
//   {"node_status": {...}}                 first: the node's buffer and loss counters
//   {"flow": {...}}                        each matching event, oldest first
//   {"lost_events": {"node", "source", "num_events_lost"}}   a follower fell behind
// Query: namespace, pod, service, verdict, since, node (filter.ts), limit (the last N), follow=true
// (keep the answer open and send new events as they happen).
import type http from 'node:http';
import { filterFromQuery, FlowFilterError, flowMatches } from './filter.js';
import { shedEvents } from './metrics.js';
import type { FlowPipeline } from './pipeline.js';
import type { FlowEvent } from './types.js';

/** A follower with more than this many bytes waiting loses events (counted) until it catches up. */
const FOLLOWER_BACKLOG_BYTES = 8 * 1024 * 1024;

export function sendJsonError(res: http.ServerResponse, code: number, message: string): void {
  const reason = code === 400 ? 'BadRequest' : code === 404 ? 'NotFound' : 'InternalError';
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function parseLimit(q: URLSearchParams): number | undefined {
  const text = q.get('limit');
  if (text === null) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new FlowFilterError(`limit: "${text}" must be a positive integer`);
  return n;
}

export function serveFlows(pipeline: FlowPipeline, url: URL, res: http.ServerResponse): void {
  let filter;
  let limit;
  try {
    filter = filterFromQuery(url.searchParams);
    limit = parseLimit(url.searchParams);
  } catch (err) {
    if (err instanceof FlowFilterError) return sendJsonError(res, 400, err.message);
    throw err;
  }
  const follow = url.searchParams.get('follow') === 'true';
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  const node = pipeline.stats().node;
  res.write(JSON.stringify({ node_status: pipeline.stats() }) + '\n');
  let matching = pipeline.ring.list().filter((e) => flowMatches(e, filter));
  if (limit !== undefined) matching = matching.slice(-limit);
  // Buffered events are written in chunks so a large answer does not hold the event loop.
  const lines = matching.map((e) => JSON.stringify({ flow: e }));
  for (let i = 0; i < lines.length; i += 1000) res.write(lines.slice(i, i + 1000).join('\n') + '\n');
  if (!follow) {
    res.end();
    return;
  }
  let lost = 0;
  const onFlow = (e: FlowEvent) => {
    if (!flowMatches(e, filter)) return;
    if (res.writableLength > FOLLOWER_BACKLOG_BYTES) {
      lost++;
      shedEvents.inc({ ring: e.verdict === 'dropped' || e.verdict === 'rejected' ? 'verdicts' : 'connections', reason: 'follower' });
      return;
    }
    if (lost > 0) {
      res.write(JSON.stringify({ lost_events: { node, source: 'follower', num_events_lost: lost } }) + '\n');
      lost = 0;
    }
    res.write(JSON.stringify({ flow: e }) + '\n');
  };
  const unsubscribe = pipeline.ring.subscribe(onFlow);
  // A heartbeat keeps proxies from timing the stream out and carries the loss counters.
  const heartbeat = setInterval(() => {
    if (lost > 0) {
      res.write(JSON.stringify({ lost_events: { node, source: 'follower', num_events_lost: lost } }) + '\n');
      lost = 0;
    }
    res.write(JSON.stringify({ node_status: pipeline.stats() }) + '\n');
  }, 5000);
  res.on('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
  });
}
