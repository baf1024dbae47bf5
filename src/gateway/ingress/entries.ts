// One Ingress path (or default backend) -> one HttpRouteEntry carrying what the Ingress's
// annotations ask for: a redirect instead of backends, or source ranges, CORS, a rewrite (nginx
// rewrite-target with capture groups, upstream-vhost), timeouts, a body limit and cookie affinity.
import type { HttpFilter, HttpMatch, HttpRouteEntry, RouteSource, WeightedBackend } from '../config.js';
import type { IngressAnnotations } from './annotations.js';
import { nginxRegexSource } from './paths.js';

export function prefixMatch(value: string): HttpMatch {
  return { path: { type: 'PathPrefix', value }, headers: [], queryParams: [] };
}

/** The filters of a proxied (not redirected) entry, in the order nginx applies them. */
function proxyFilters(ann: IngressAnnotations, rawPath: string | undefined): HttpFilter[] {
  const filters: HttpFilter[] = [];
  if (ann.sourceRange) filters.push({ type: 'SourceRange', allow: [...ann.sourceRange.allow], deny: [...ann.sourceRange.deny] });
  if (ann.cors) filters.push({ type: 'CORS', ...structuredClone(ann.cors) });
  const rewrite = ann.rewriteTarget !== undefined && rawPath !== undefined;
  if (rewrite || ann.upstreamVhost) {
    filters.push({
      type: 'URLRewrite',
      ...(ann.upstreamVhost ? { hostname: ann.upstreamVhost } : {}),
      // nginx `rewrite "(?i)<path>" <target> break;`: the whole URI becomes the target, with $1.. from the path's groups.
      ...(rewrite ? { path: { type: 'RegexReplace' as const, pattern: nginxRegexSource(rawPath), replacement: ann.rewriteTarget! } } : {}),
    });
  }
  return filters;
}

/**
 * The entry for `match` of an Ingress whose annotations are `ann`, sending to `backends`.
 * `rawPath` is the path as written in the Ingress (the rewrite pattern), undefined for the
 * default backend's catch-all, which nginx does not rewrite.
 */
export function ingressEntry(source: RouteSource, match: HttpMatch, ann: IngressAnnotations, backends: WeightedBackend[], rawPath: string | undefined): HttpRouteEntry {
  if (ann.redirect) {
    const r = ann.redirect;
    return {
      source,
      match,
      filters: [{ type: 'RequestRedirect', scheme: r.scheme, hostname: r.hostname, ...(r.port !== undefined ? { port: r.port } : {}), path: { type: 'ReplaceFullPath', value: r.path }, statusCode: r.statusCode }],
      backends: [],
    };
  }
  const entry: HttpRouteEntry = { source, match, filters: proxyFilters(ann, rawPath), backends };
  if (ann.connectTimeoutMs || ann.readTimeoutMs) {
    entry.timeouts = {
      ...(ann.connectTimeoutMs ? { connectMs: ann.connectTimeoutMs } : {}),
      ...(ann.readTimeoutMs ? { backendRequestMs: ann.readTimeoutMs } : {}),
    };
  }
  if (ann.maxBodyBytes !== undefined) entry.maxBodyBytes = ann.maxBodyBytes;
  if (ann.affinityCookie) entry.affinityCookie = { ...ann.affinityCookie };
  return entry;
}

/** The HTTP-port twin of an entry whose host has TLS: a 308 to https, as ingress-nginx's ssl-redirect. */
export function sslRedirectEntry(entry: HttpRouteEntry): HttpRouteEntry {
  return { source: entry.source, match: entry.match, filters: [{ type: 'RequestRedirect', scheme: 'https', statusCode: 308 }], backends: [] };
}

/** nginx app-root: `/` answers 302 to the app root. */
export function appRootEntry(source: RouteSource, appRoot: string): HttpRouteEntry {
  return {
    source,
    match: { path: { type: 'Exact', value: '/' }, headers: [], queryParams: [] },
    filters: [{ type: 'RequestRedirect', path: { type: 'ReplaceFullPath', value: appRoot }, statusCode: 302 }],
    backends: [],
  };
}
