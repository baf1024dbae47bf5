// URL paths -> what they address: discovery, OpenAPI, health, or a resource collection, object
// or subresource (with the namespace when the path has one).
import { type ResourceInfo, findResource } from '../api/resources.js';

/** Finds a served resource by group, version and plural (the built-ins, or those plus custom resources). */
export type ResourceLookup = (group: string, version: string, plural: string) => ResourceInfo | undefined;

export type Route =
  | { kind: 'discovery'; path: string }
  | { kind: 'openapi'; path: string }
  | { kind: 'version' }
  | { kind: 'health'; check: string; subpath?: string }
  | { kind: 'metrics' }
  /** flatnet's flow events of every node, merged (src/apiserver/flows.ts). */
  | { kind: 'flows' }
  /** watch: the legacy /api/v1/watch/... and /apis/G/V/watch/... form of a watch. */
  | { kind: 'resource'; r: ResourceInfo; namespace?: string; name?: string; subresource?: string; subpath?: string; watch?: boolean }
  | { kind: 'notfound' };

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function parseRoute(pathname: string, lookup: ResourceLookup = findResource): Route {
  if (pathname === '/version' || pathname === '/version/') return { kind: 'version' };
  if (pathname === '/metrics') return { kind: 'metrics' };
  if (pathname === '/flatnet/v1/flows') return { kind: 'flows' };
  const health = pathname.match(/^\/(healthz|readyz|livez)(\/.*)?$/);
  if (health) return { kind: 'health', check: health[1], subpath: health[2] };
  if (pathname === '/openapi/v3' || pathname.startsWith('/openapi/v3/') || pathname.startsWith('/openapi/')) return { kind: 'openapi', path: pathname };

  const raw = pathname.split('/').filter((s) => s !== '');
  const segs: string[] = [];
  for (const s of raw) {
    const d = decode(s);
    if (d === undefined) return { kind: 'notfound' };
    segs.push(d);
  }
  let group: string;
  let version: string | undefined;
  let rest: string[];
  if (segs[0] === 'api') {
    group = '';
    version = segs[1];
    rest = segs.slice(2);
    if (!version) return { kind: 'discovery', path: '/api' };
  } else if (segs[0] === 'apis') {
    if (segs.length === 1) return { kind: 'discovery', path: '/apis' };
    group = segs[1];
    version = segs[2];
    rest = segs.slice(3);
    if (!version) return { kind: 'discovery', path: `/apis/${group}` };
  } else {
    return { kind: 'notfound' };
  }
  if (rest.length === 0) return { kind: 'discovery', path: group ? `/apis/${group}/${version}` : `/api/${version}` };
  const legacyWatch = rest[0] === 'watch';
  if (legacyWatch) {
    rest = rest.slice(1);
    if (rest.length === 0) return { kind: 'notfound' };
  }

  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && NAMESPACE_SUBRESOURCES.has(rest[2]))) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const r = lookup(group, version, rest[0]);
  if (!r) return { kind: 'notfound' };
  if (namespace !== undefined && !r.namespaced) return { kind: 'notfound' };
  const [, name, subresource, ...subpath] = rest;
  if (name === '') return { kind: 'notfound' };
  if (legacyWatch) return subresource === undefined ? { kind: 'resource', r, namespace, name, watch: true } : { kind: 'notfound' };
  return { kind: 'resource', r, namespace, name, subresource, subpath: subpath.length ? subpath.join('/') : undefined };
}
