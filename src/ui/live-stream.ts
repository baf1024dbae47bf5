// GET /ui/api/live?resources=nodes,pods,...: the page's list-and-watch of several kinds in one
// NDJSON answer. A browser keeps at most six HTTP/1.1 connections to a server; one watch per kind
// plus the flow stream would use them all and starve every other request. Each kind is
// authorized as the session's user (list and watch, cluster-wide) before anything is sent; a kind
// the user may not read is answered with an error line, the others still stream. Lines:
//   {"resource":"pods","type":"SYNC","objects":[...]}        the list, first
//   {"resource":"pods","type":"ADDED|MODIFIED|DELETED","object":{...}}
//   {"resource":"pods","error":"..."}                        this kind is not streamed
//   {"type":"HEARTBEAT"}                                     every 30 s
import type { IncomingMessage, ServerResponse } from 'node:http';
import { R, type ResourceInfo } from '../api/resources.js';
import { ApiStatusError, errors } from '../apiserver/errors.js';
import { storeKey } from '../apiserver/registry.js';
import type { Store } from '../store/types.js';

/** The kinds the page reads, by the name it asks with. */
export const LIVE_RESOURCES: Readonly<Record<string, ResourceInfo>> = {
  nodes: R.nodes,
  pods: R.pods,
  services: R.services,
  namespaces: R.namespaces,
  endpointslices: R.endpointslices,
  networkpolicies: R.networkpolicies,
};

export function collectionPath(r: ResourceInfo): string {
  return `${r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`}/${r.plural}`;
}

/** The kinds a query names; an unknown one is a 400 naming it. */
export function parseLiveResources(query: URLSearchParams): string[] {
  const names = (query.get('resources') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw errors.badRequest(`resources: required (a comma-separated list of ${Object.keys(LIVE_RESOURCES).join(', ')})`);
  for (const n of names) if (!LIVE_RESOURCES[n]) throw errors.badRequest(`resources: "${n}" is not one of ${Object.keys(LIVE_RESOURCES).join(', ')}`);
  return [...new Set(names)];
}

export function serveLiveStream(req: IncomingMessage, res: ServerResponse, store: Store, names: string[], authorize: (verb: 'list' | 'watch', path: string) => void): void {
  const allowed: string[] = [];
  const refused = new Map<string, string>();
  for (const name of names) {
    const path = collectionPath(LIVE_RESOURCES[name]);
    try {
      authorize('list', path);
      authorize('watch', path);
      allowed.push(name);
    } catch (err) {
      if (!(err instanceof ApiStatusError)) throw err;
      refused.set(name, err.message);
    }
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  const line = (obj: unknown) => res.write(JSON.stringify(obj) + '\n');
  for (const [name, message] of refused) line({ resource: name, error: message });
  const stops: (() => void)[] = [];
  for (const name of allowed) {
    const key = storeKey(LIVE_RESOURCES[name]);
    const list = store.list(key);
    line({ resource: name, type: 'SYNC', objects: list.entries.map((e) => e.obj) });
    stops.push(store.watch(key, list.revision, (ev) => line({ resource: name, type: ev.type, object: ev.entry.obj })));
  }
  const heartbeat = setInterval(() => line({ type: 'HEARTBEAT' }), 30_000);
  const close = () => {
    clearInterval(heartbeat);
    for (const stop of stops.splice(0)) stop();
  };
  res.on('close', close);
  req.on('close', close);
}
