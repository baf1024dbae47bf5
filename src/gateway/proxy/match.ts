// Host and entry selection for one request: pure functions over a compiled table.
// Hosts: the first VirtualHost whose hostname fits (exact, `*.suffix` = one or more labels, or one
// label for Ingress wildcards, `*` = any). Entries: the first whose match fits, in config order.
import type { HttpMatch, HttpRouteEntry, VirtualHost } from '../config.js';

export interface CompiledMatch {
  pathType: HttpMatch['path']['type'];
  /** Exact: the path; PathPrefix: the prefix without trailing slashes ('' for '/'). */
  pathValue: string;
  pathRegex?: RegExp;
  method?: string;
  headers: { name: string; value?: string; regex?: RegExp }[];
  queryParams: { name: string; value?: string; regex?: RegExp }[];
}

export interface RequestFacts {
  method: string;
  /** Path without the query. */
  path: string;
  /** Raw query string without '?', '' when none. */
  query: string;
  header(name: string): string | undefined;
}

/** Strips the port and lower-cases a Host header value (IPv6 literals keep their brackets). */
export function normalizeHost(host: string | undefined): string {
  if (!host) return '';
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end >= 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.lastIndexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** Whether `host` (normalized) is served by the pattern `hostname`. */
export function hostMatches(pattern: string, host: string, oneLabel = false): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1); // ".example.com"
    if (host.length <= suffix.length || !host.endsWith(suffix)) return false;
    const labels = host.slice(0, host.length - suffix.length);
    return !oneLabel || !labels.includes('.');
  }
  return pattern === host;
}

export function selectVirtualHost<H extends Pick<VirtualHost, 'hostname' | 'wildcardOneLabel'>>(hosts: readonly H[], host: string): H | undefined {
  for (const h of hosts) if (hostMatches(h.hostname, host, h.wildcardOneLabel)) return h;
  return undefined;
}

function anchored(source: string, field: string): RegExp {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch (err) {
    throw new Error(`${field}: invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`, { cause: err });
  }
}

/** Compiles regexes once per config; throws naming the field when a regex does not compile. */
export function compileMatch(m: HttpMatch, field: string): CompiledMatch {
  const trimmed = m.path.value.replace(/\/+$/, '');
  return {
    pathType: m.path.type,
    pathValue: m.path.type === 'PathPrefix' ? trimmed : m.path.value,
    pathRegex: m.path.type === 'RegularExpression' ? anchored(m.path.value, `${field}.path`) : undefined,
    method: m.method?.toUpperCase(),
    headers: m.headers.map((h, i) => ({
      name: h.name.toLowerCase(),
      value: h.type === 'Exact' ? h.value : undefined,
      regex: h.type === 'RegularExpression' ? anchored(h.value, `${field}.headers[${i}]`) : undefined,
    })),
    queryParams: m.queryParams.map((q, i) => ({
      name: q.name,
      value: q.type === 'Exact' ? q.value : undefined,
      regex: q.type === 'RegularExpression' ? anchored(q.value, `${field}.queryParams[${i}]`) : undefined,
    })),
  };
}

export function pathMatches(m: CompiledMatch, path: string): boolean {
  switch (m.pathType) {
    case 'Exact':
      return path === m.pathValue;
    case 'PathPrefix':
      return m.pathValue === '' || path === m.pathValue || path.startsWith(m.pathValue + '/');
    case 'RegularExpression':
      return m.pathRegex!.test(path);
  }
}

function queryParam(query: string, name: string): string | undefined {
  if (!query) return undefined;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    let key: string;
    try {
      key = decodeURIComponent(k.replace(/\+/g, ' '));
    } catch {
      key = k;
    }
    if (key !== name) continue;
    const v = eq < 0 ? '' : part.slice(eq + 1);
    try {
      return decodeURIComponent(v.replace(/\+/g, ' '));
    } catch {
      return v;
    }
  }
  return undefined;
}

export function requestMatches(m: CompiledMatch, req: RequestFacts): boolean {
  if (m.method !== undefined && m.method !== req.method) return false;
  if (!pathMatches(m, req.path)) return false;
  for (const h of m.headers) {
    const v = req.header(h.name);
    if (v === undefined) return false;
    if (h.value !== undefined ? v !== h.value : !h.regex!.test(v)) return false;
  }
  for (const q of m.queryParams) {
    const v = queryParam(req.query, q.name);
    if (v === undefined) return false;
    if (q.value !== undefined ? v !== q.value : !q.regex!.test(v)) return false;
  }
  return true;
}

export function selectEntry<E extends { match: CompiledMatch }>(entries: readonly E[], req: RequestFacts): E | undefined {
  for (const e of entries) if (requestMatches(e.match, req)) return e;
  return undefined;
}

/** The part of `path` that a PathPrefix match matched (for ReplacePrefixMatch). */
export function matchedPrefix(m: CompiledMatch): string | undefined {
  return m.pathType === 'PathPrefix' ? m.pathValue : undefined;
}

export type { HttpRouteEntry };
