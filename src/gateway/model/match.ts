// Request -> route entry, as config.ts defines the proxy's matching: the port's most specific
// virtual host whose hostname fits the Host header (port removed, lower-cased), then the first
// entry whose match fits. PathPrefix compares whole path elements, RegularExpression is anchored
// at both ends, header names are case-insensitive, query parameter names exact (first value).
// Pure: the proxy may reuse it.
import type { HttpMatch, HttpPortConfig, HttpRouteEntry, ProxyConfig, VirtualHost } from '../config.js';

export interface Selection {
  host: VirtualHost;
  entry: HttpRouteEntry;
}

const regexCache = new Map<string, RegExp>();

function anchored(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`);
    if (regexCache.size > 4096) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

/** The Host header without its port, lower-cased (IPv6 literals keep their brackets). */
export function normalizeHost(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end >= 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

export function virtualHostMatches(vh: VirtualHost, host: string): boolean {
  if (vh.hostname === '*') return true;
  if (vh.hostname.startsWith('*.')) {
    const suffix = vh.hostname.slice(1);
    if (!(host.length > suffix.length && host.endsWith(suffix))) return false;
    return !vh.wildcardOneLabel || !host.slice(0, host.length - suffix.length).includes('.');
  }
  return vh.hostname === host;
}

export function pathMatches(match: HttpMatch['path'], path: string): boolean {
  switch (match.type) {
    case 'Exact':
      return path === match.value;
    case 'PathPrefix': {
      const prefix = match.value.endsWith('/') ? match.value.slice(0, -1) : match.value;
      if (prefix === '') return path.startsWith('/') || path === '';
      return path === prefix || path.startsWith(`${prefix}/`);
    }
    case 'RegularExpression':
      return anchored(match.value).test(path);
  }
}

type Headers = Record<string, string | string[] | undefined>;

function headerValue(headers: Headers, lowerName: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== lowerName || v === undefined) continue;
    return Array.isArray(v) ? v.join(',') : v;
  }
  return undefined;
}

export function entryMatches(entry: HttpRouteEntry, method: string, path: string, query: URLSearchParams, headers: Headers): boolean {
  const m = entry.match;
  if (m.method && m.method !== method.toUpperCase()) return false;
  if (!pathMatches(m.path, path)) return false;
  for (const h of m.headers) {
    const v = headerValue(headers, h.name);
    if (v === undefined) return false;
    if (h.type === 'Exact' ? v !== h.value : !anchored(h.value).test(v)) return false;
  }
  for (const q of m.queryParams) {
    const v = query.get(q.name);
    if (v === null) return false;
    if (q.type === 'Exact' ? v !== q.value : !anchored(q.value).test(v)) return false;
  }
  return true;
}

/** The virtual host a request's Host header selects on an HTTP port. */
export function selectVirtualHost(port: HttpPortConfig, host: string): VirtualHost | undefined {
  const h = normalizeHost(host);
  return port.hosts.find((vh) => virtualHostMatches(vh, h));
}

/**
 * The entry that serves a request, or undefined (404). `target` is the request target: the path,
 * optionally with `?query`.
 */
export function selectEntry(
  config: ProxyConfig,
  port: number,
  host: string,
  method: string,
  target: string,
  headers: Headers = {},
): Selection | undefined {
  const p = config.ports.find((c): c is HttpPortConfig => c.port === port && c.kind === 'http');
  if (!p) return undefined;
  const vh = selectVirtualHost(p, host);
  if (!vh) return undefined;
  const q = target.indexOf('?');
  const path = q >= 0 ? target.slice(0, q) : target;
  const query = new URLSearchParams(q >= 0 ? target.slice(q + 1) : '');
  const entry = vh.entries.find((e) => entryMatches(e, method, path, query, headers));
  return entry ? { host: vh, entry } : undefined;
}
