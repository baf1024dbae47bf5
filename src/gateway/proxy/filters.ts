// Filters as pure functions: header modification, path rewriting, redirects, CORS and source
// ranges. Compiled once per config (regexes, address lists); applied per request.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { CorsPolicy, HeaderModifier, HttpFilter, PathModifier, WeightedBackend } from '../config.js';

export type HeaderMap = Record<string, string | string[] | undefined>;

export interface CompiledHeaderModifier {
  set: [string, string][];
  add: [string, string][];
  remove: string[];
}

export type CompiledPathModifier =
  | { type: 'ReplaceFullPath'; value: string }
  | { type: 'ReplacePrefixMatch'; value: string }
  | { type: 'RegexReplace'; regex: RegExp; replacement: string };

export interface CompiledRedirect {
  scheme?: 'http' | 'https';
  hostname?: string;
  port?: number;
  path?: CompiledPathModifier;
  statusCode: number;
}

export interface CompiledSourceRange {
  allow?: BlockList;
  deny?: BlockList;
}

export interface CompiledFilters {
  sourceRanges: CompiledSourceRange[];
  cors?: CorsPolicy;
  redirect?: CompiledRedirect;
  requestHeaders: CompiledHeaderModifier[];
  responseHeaders: CompiledHeaderModifier[];
  rewrite?: { hostname?: string; path?: CompiledPathModifier };
  mirrors: { backend: WeightedBackend; percent: number }[];
}

function compileHeaderModifier(m: HeaderModifier): CompiledHeaderModifier {
  return {
    set: m.set.map(([n, v]) => [n.toLowerCase(), v]),
    add: m.add.map(([n, v]) => [n.toLowerCase(), v]),
    remove: m.remove.map((n) => n.toLowerCase()),
  };
}

export function compilePathModifier(p: PathModifier, field: string): CompiledPathModifier {
  if (p.type !== 'RegexReplace') return p;
  try {
    return { type: 'RegexReplace', regex: new RegExp(`^(?:${p.pattern})`), replacement: p.replacement };
  } catch (err) {
    throw new Error(`${field}.pattern: invalid regular expression ${JSON.stringify(p.pattern)}: ${(err as Error).message}`, { cause: err });
  }
}

function addCidr(list: BlockList, cidr: string, field: string): void {
  const [addr, bits] = cidr.trim().split('/');
  const type = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : undefined;
  const max = type === 'ipv4' ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (!type || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new Error(`${field}: ${JSON.stringify(cidr)} is not an IP address or CIDR (like 10.0.0.0/8 or fd00::/8)`);
  }
  list.addSubnet(addr, prefix, type);
}

function compileList(cidrs: string[], field: string): BlockList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  cidrs.forEach((c, i) => addCidr(list, c, `${field}[${i}]`));
  return list;
}

/** Compiles a filter list; throws naming the field when a value cannot be used. */
export function compileFilters(filters: HttpFilter[], field: string): CompiledFilters {
  const out: CompiledFilters = { sourceRanges: [], requestHeaders: [], responseHeaders: [], mirrors: [] };
  filters.forEach((f, i) => {
    const at = `${field}[${i}]`;
    switch (f.type) {
      case 'RequestHeaderModifier':
        out.requestHeaders.push(compileHeaderModifier(f));
        break;
      case 'ResponseHeaderModifier':
        out.responseHeaders.push(compileHeaderModifier(f));
        break;
      case 'RequestRedirect':
        out.redirect = {
          scheme: f.scheme,
          hostname: f.hostname,
          port: f.port,
          path: f.path ? compilePathModifier(f.path, `${at}.path`) : undefined,
          statusCode: f.statusCode || 302,
        };
        break;
      case 'URLRewrite':
        out.rewrite = { hostname: f.hostname, path: f.path ? compilePathModifier(f.path, `${at}.path`) : undefined };
        break;
      case 'RequestMirror':
        out.mirrors.push({ backend: f.backend, percent: f.percent });
        break;
      case 'CORS':
        out.cors = f;
        break;
      case 'SourceRange':
        out.sourceRanges.push({ allow: compileList(f.allow, `${at}.allow`), deny: compileList(f.deny, `${at}.deny`) });
        break;
    }
  });
  return out;
}

export function applyHeaderModifier(headers: HeaderMap, m: CompiledHeaderModifier): void {
  for (const [name, value] of m.set) headers[name] = value;
  for (const [name, value] of m.add) {
    const old = headers[name];
    headers[name] = old === undefined ? value : Array.isArray(old) ? (name === 'set-cookie' ? [...old, value] : `${old.join(',')},${value}`) : `${old},${value}`;
  }
  for (const name of m.remove) delete headers[name];
}

/** Rewrites `path` (no query). `prefix` is the matched PathPrefix without trailing slashes. */
export function rewritePath(path: string, m: CompiledPathModifier, prefix: string | undefined): string {
  switch (m.type) {
    case 'ReplaceFullPath':
      return m.value;
    case 'ReplacePrefixMatch': {
      if (prefix === undefined) return path;
      const rest = path.slice(prefix.length); // '' or starts with '/'
      const replacement = m.value.replace(/\/+$/, '');
      const out = replacement + rest;
      return out === '' ? '/' : out.startsWith('/') ? out : `/${out}`;
    }
    case 'RegexReplace':
      return path.replace(m.regex, m.replacement);
  }
}

const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443 };

/** The Location of a RequestRedirect. */
export function redirectLocation(
  r: CompiledRedirect,
  req: { scheme: 'http' | 'https'; host: string; listenerPort: number; path: string; query: string; prefix: string | undefined },
): string {
  const scheme = r.scheme ?? req.scheme;
  const host = r.hostname ?? req.host;
  const port = r.port ?? (scheme !== req.scheme ? DEFAULT_PORT[scheme] : req.listenerPort);
  const path = r.path ? rewritePath(req.path, r.path, req.prefix) : req.path;
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const portPart = port === DEFAULT_PORT[scheme] ? '' : `:${port}`;
  return `${scheme}://${hostPart}${portPart}${path}${req.query ? `?${req.query}` : ''}`;
}

export function originAllowed(policy: CorsPolicy, origin: string): boolean {
  for (const allowed of policy.allowOrigins) {
    if (allowed === '*' || allowed === origin) return true;
    const star = allowed.indexOf('://*.');
    if (star >= 0) {
      const scheme = allowed.slice(0, star + 3);
      const suffix = allowed.slice(star + 4); // ".example.com[:port]"
      if (origin.startsWith(scheme) && origin.endsWith(suffix) && origin.length > scheme.length + suffix.length) return true;
    }
  }
  return false;
}

function allowOriginValue(policy: CorsPolicy, origin: string): string {
  return policy.allowOrigins.includes('*') && !policy.allowCredentials ? '*' : origin;
}

/** Headers answering a preflight from an allowed origin. */
export function preflightHeaders(policy: CorsPolicy, origin: string): Record<string, string> {
  const h: Record<string, string> = {
    'access-control-allow-origin': allowOriginValue(policy, origin),
    vary: 'Origin',
  };
  if (policy.allowMethods.length) h['access-control-allow-methods'] = policy.allowMethods.join(', ');
  if (policy.allowHeaders.length) h['access-control-allow-headers'] = policy.allowHeaders.join(', ');
  // The Gateway API CORS conformance test expects the exposed headers on the preflight answer too.
  if (policy.exposeHeaders.length) h['access-control-expose-headers'] = policy.exposeHeaders.join(', ');
  if (policy.allowCredentials) h['access-control-allow-credentials'] = 'true';
  if (policy.maxAgeSeconds !== undefined) h['access-control-max-age'] = String(policy.maxAgeSeconds);
  return h;
}

/** Headers added to an actual (non-preflight) response for an allowed origin. */
export function actualCorsHeaders(policy: CorsPolicy, origin: string): Record<string, string> {
  const h: Record<string, string> = { 'access-control-allow-origin': allowOriginValue(policy, origin), vary: 'Origin' };
  if (policy.exposeHeaders.length) h['access-control-expose-headers'] = policy.exposeHeaders.join(', ');
  if (policy.allowCredentials) h['access-control-allow-credentials'] = 'true';
  return h;
}

/** Whether a client address passes every SourceRange filter (IPv4-mapped IPv6 counts as IPv4). */
export function clientAllowed(ranges: CompiledSourceRange[], address: string): boolean {
  if (ranges.length === 0) return true;
  const mapped = address.startsWith('::ffff:') && isIPv4(address.slice(7));
  const ip = mapped ? address.slice(7) : address;
  const type = isIPv4(ip) ? 'ipv4' : 'ipv6';
  for (const r of ranges) {
    if (r.deny?.check(ip, type)) return false;
    if (r.allow && !r.allow.check(ip, type)) return false;
  }
  return true;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
/** The fixed hop-by-hop names (RFC 9110 7.6.1), lower-case, for skipping them while copying. */
export const HOP_BY_HOP_SET: ReadonlySet<string> = new Set(HOP_BY_HOP);

/** Removes hop-by-hop headers (RFC 9110 7.6.1): the fixed list plus the names listed in Connection. */
export function stripHopByHop(headers: HeaderMap): void {
  const conn = headers.connection;
  if (conn !== undefined) {
    for (const token of (Array.isArray(conn) ? conn.join(',') : conn).split(',')) {
      const name = token.trim().toLowerCase();
      if (name) delete headers[name];
    }
  }
  for (const name of HOP_BY_HOP) delete headers[name];
}
