// The nginx.ingress.kubernetes.io/* annotations flatnet implements, parsed and validated into
// typed settings. Every problem is reported, never thrown: a malformed value is ignored (the rest
// of the Ingress still works), a snippet is refused, an annotation we do not implement is named.
// Nothing here is ever turned into configuration text: values become typed fields only.
import { isIPv4, isIPv6 } from 'node:net';
import type { BackendProtocol } from './backends.js';
import type { CorsPolicy } from '../config.js';
import { regexError } from './regex.js';

export const NGINX_ANNOTATION_PREFIX = 'nginx.ingress.kubernetes.io/';

/** ingress-nginx's CORS defaults, used for the fields an Ingress with enable-cors leaves unset. */
export const CORS_DEFAULTS: CorsPolicy = {
  allowOrigins: ['*'],
  allowMethods: ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'],
  allowHeaders: ['DNT', 'Keep-Alive', 'User-Agent', 'X-Requested-With', 'If-Modified-Since', 'Cache-Control', 'Content-Type', 'Range', 'Authorization'],
  exposeHeaders: [],
  allowCredentials: true,
  maxAgeSeconds: 1728000,
};

export const DEFAULT_AFFINITY_COOKIE = 'INGRESSCOOKIE';

export interface CanarySettings {
  /** Share of the traffic for the canary: weight / weightTotal. */
  weight: number;
  weightTotal: number;
  header?: string;
  /** With a header: the value that selects the canary (else "always"/"never" semantics). */
  headerValue?: string;
  /** With a header and no value: a regular expression on the header value. */
  headerPattern?: string;
}

export interface RedirectSettings {
  scheme: 'http' | 'https';
  hostname: string;
  port?: number;
  path: string;
  statusCode: number;
  /** The annotation the redirect came from. */
  annotation: string;
}

export interface IngressAnnotations {
  rewriteTarget?: string;
  useRegex: boolean;
  /** undefined: the default (redirect when the host has TLS). */
  sslRedirect?: boolean;
  forceSslRedirect: boolean;
  backendProtocol?: BackendProtocol;
  appRoot?: string;
  redirect?: RedirectSettings;
  /** undefined: not set or 0 (unlimited). */
  maxBodyBytes?: number;
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
  sourceRange?: { allow: string[]; deny: string[] };
  cors?: CorsPolicy;
  canary?: CanarySettings;
  affinityCookie?: { name: string; maxAgeSeconds?: number; path?: string };
  upstreamVhost?: string;
}

export type AnnotationProblem = { reason: 'SnippetRefused' | 'AnnotationNotImplemented' | 'InvalidAnnotation' | 'UnsupportedAnnotationValue'; message: string };

/** A malformed value. */
class Invalid extends Error {}
/** A well-formed value the proxy cannot do. */
class Unsupported extends Invalid {}

const KNOWN = new Set([
  'rewrite-target',
  'use-regex',
  'ssl-redirect',
  'force-ssl-redirect',
  'backend-protocol',
  'app-root',
  'permanent-redirect',
  'permanent-redirect-code',
  'temporal-redirect',
  'proxy-body-size',
  'proxy-connect-timeout',
  'proxy-read-timeout',
  'proxy-send-timeout',
  'whitelist-source-range',
  'allowlist-source-range',
  'denylist-source-range',
  'enable-cors',
  'cors-allow-origin',
  'cors-allow-methods',
  'cors-allow-headers',
  'cors-expose-headers',
  'cors-allow-credentials',
  'cors-max-age',
  'canary',
  'canary-weight',
  'canary-weight-total',
  'canary-by-header',
  'canary-by-header-value',
  'canary-by-header-pattern',
  'affinity',
  'session-cookie-name',
  'session-cookie-max-age',
  'session-cookie-path',
  'upstream-vhost',
]);

function parseBool(v: string): boolean {
  const t = v.trim().toLowerCase();
  if (t === 'true' || t === '1' || t === 't') return true;
  if (t === 'false' || t === '0' || t === 'f') return false;
  throw new Invalid('expected "true" or "false"');
}

function parseUint(v: string, max = Number.MAX_SAFE_INTEGER): number {
  const t = v.trim();
  if (!/^\d+$/.test(t)) throw new Invalid('expected a whole number');
  const n = Number(t);
  if (n > max) throw new Invalid(`expected at most ${max}`);
  return n;
}

/** nginx size syntax: a number with an optional k/m/g suffix (1024-based); 0 = unlimited. */
export function parseNginxSize(v: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(v.trim());
  if (!m) throw new Invalid('expected an nginx size such as 8k, 1m or 0');
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

/** A CIDR (or a single address, as /32 or /128). */
export function parseCidr(v: string): string {
  const [addr, prefix, ...rest] = v.trim().split('/');
  if (rest.length > 0 || !addr) throw new Invalid(`"${v.trim()}" is not a CIDR`);
  const max = isIPv4(addr) ? 32 : isIPv6(addr) ? 128 : 0;
  if (max === 0) throw new Invalid(`"${v.trim()}" is not a CIDR (bad address)`);
  if (prefix === undefined) return `${addr}/${max}`;
  if (!/^\d+$/.test(prefix) || Number(prefix) > max) throw new Invalid(`"${v.trim()}" is not a CIDR (bad prefix length)`);
  return `${addr}/${Number(prefix)}`;
}

function parseCidrList(v: string): string[] {
  const items = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new Invalid('expected comma-separated CIDRs');
  return items.map(parseCidr);
}

function parseList(v: string, item: RegExp, what: string): string[] {
  const items = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const i of items) if (!item.test(i)) throw new Invalid(`"${i}" is not ${what}`);
  return items;
}

const ORIGIN = /^(\*|https?:\/\/(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?)$/;
const TOKEN = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?$/;
const URL_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
const REDIRECT_CODES = [301, 302, 303, 307, 308];

function parseRedirectUrl(v: string, annotation: string, statusCode: number): RedirectSettings {
  let url: URL;
  try {
    url = new URL(v.trim());
  } catch {
    throw new Invalid('expected an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Invalid('expected an absolute http:// or https:// URL');
  return {
    scheme: url.protocol === 'https:' ? 'https' : 'http',
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname + url.search,
    statusCode,
    annotation,
  };
}

function backendProtocol(v: string): BackendProtocol {
  switch (v.trim().toUpperCase()) {
    case 'HTTP':
    case 'AUTO_HTTP':
      return 'http';
    case 'HTTPS':
      return 'https';
    case 'GRPC':
      return 'grpc';
    case 'GRPCS':
    case 'FCGI':
      throw new Unsupported('this backend protocol is not supported by the flatnet proxy (HTTP, HTTPS, GRPC and AUTO_HTTP are); the backend is spoken to over HTTP');
    default:
      throw new Invalid('expected HTTP, HTTPS, GRPC, GRPCS, AUTO_HTTP or FCGI');
  }
}

/** Parses an Ingress's annotations; `report` receives every problem. */
export function parseIngressAnnotations(annotations: Readonly<Record<string, string>> | undefined, report: (p: AnnotationProblem) => void): IngressAnnotations {
  const out: IngressAnnotations = { useRegex: false, forceSslRedirect: false };
  const a = new Map<string, string>();
  for (const [key, value] of Object.entries(annotations ?? {})) {
    if (!key.startsWith(NGINX_ANNOTATION_PREFIX)) continue;
    const name = key.slice(NGINX_ANNOTATION_PREFIX.length);
    if (name.endsWith('-snippet') || name === 'snippet') {
      report({
        reason: 'SnippetRefused',
        message: `annotation ${key} was not executed and never will be: flatnet runs no configuration text from annotations (IngressNightmare, CVE-2025-1974); the rest of the Ingress is served without it`,
      });
      continue;
    }
    if (!KNOWN.has(name)) {
      report({ reason: 'AnnotationNotImplemented', message: `annotation ${key} is not implemented by flatnet and has no effect` });
      continue;
    }
    a.set(name, typeof value === 'string' ? value : String(value));
  }
  /** Runs `parse` on an annotation's value; a malformed value is reported and ignored. */
  const read = <T>(name: string, parse: (v: string) => T): T | undefined => {
    const v = a.get(name);
    if (v === undefined) return undefined;
    try {
      return parse(v);
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      report({ reason: err instanceof Unsupported ? 'UnsupportedAnnotationValue' : 'InvalidAnnotation', message: `annotation ${NGINX_ANNOTATION_PREFIX}${name}: value ${JSON.stringify(v)} is ignored: ${err.message}` });
      return undefined;
    }
  };

  out.useRegex = read('use-regex', parseBool) ?? false;
  out.rewriteTarget = read('rewrite-target', (v) => {
    const t = v.trim();
    if (t === '' || /[\s{};]/.test(t) || !(t.startsWith('/') || t.startsWith('$'))) throw new Invalid('expected a path such as / or /$2');
    return t;
  });
  out.sslRedirect = read('ssl-redirect', parseBool);
  out.forceSslRedirect = read('force-ssl-redirect', parseBool) ?? false;
  out.backendProtocol = read('backend-protocol', backendProtocol);
  out.appRoot = read('app-root', (v) => {
    const t = v.trim();
    if (!URL_PATH.test(t)) throw new Invalid('expected a path starting with /');
    return t;
  });

  const permanentCode = read('permanent-redirect-code', (v) => {
    const n = parseUint(v);
    if (!REDIRECT_CODES.includes(n)) throw new Invalid(`expected one of ${REDIRECT_CODES.join(', ')}`);
    return n;
  });
  const temporal = read('temporal-redirect', (v) => parseRedirectUrl(v, 'temporal-redirect', 302));
  const permanent = read('permanent-redirect', (v) => parseRedirectUrl(v, 'permanent-redirect', permanentCode ?? 301));
  // As ingress-nginx: a temporal redirect takes precedence over a permanent one.
  out.redirect = temporal ?? permanent;

  const body = read('proxy-body-size', parseNginxSize);
  if (body !== undefined && body > 0) out.maxBodyBytes = body;
  const seconds = (v: string) => parseUint(v, 86400 * 365) * 1000;
  out.connectTimeoutMs = read('proxy-connect-timeout', seconds);
  out.readTimeoutMs = read('proxy-read-timeout', seconds);
  const sendMs = read('proxy-send-timeout', seconds);
  if (sendMs !== undefined) {
    report({
      reason: 'AnnotationNotImplemented',
      message: `annotation ${NGINX_ANNOTATION_PREFIX}proxy-send-timeout has no separate effect: the flatnet proxy bounds a backend request as a whole (proxy-read-timeout)`,
    });
  }

  const allow = read('whitelist-source-range', parseCidrList) ?? read('allowlist-source-range', parseCidrList);
  const deny = read('denylist-source-range', parseCidrList);
  if (allow || deny) out.sourceRange = { allow: allow ?? [], deny: deny ?? [] };

  if (read('enable-cors', parseBool)) {
    out.cors = {
      allowOrigins: read('cors-allow-origin', (v) => {
        const list = parseList(v, ORIGIN, 'an origin (*, http(s)://host[:port], or http(s)://*.domain)');
        if (list.length === 0) throw new Invalid('expected at least one origin');
        return list;
      }) ?? [...CORS_DEFAULTS.allowOrigins],
      allowMethods: read('cors-allow-methods', (v) => parseList(v, /^[A-Za-z]+$/, 'an HTTP method').map((m) => m.toUpperCase())) ?? [...CORS_DEFAULTS.allowMethods],
      allowHeaders: read('cors-allow-headers', (v) => parseList(v, /^[A-Za-z0-9\-_*]+$/, 'a header name')) ?? [...CORS_DEFAULTS.allowHeaders],
      exposeHeaders: read('cors-expose-headers', (v) => parseList(v, /^[A-Za-z0-9\-_*]+$/, 'a header name')) ?? [...CORS_DEFAULTS.exposeHeaders],
      allowCredentials: read('cors-allow-credentials', parseBool) ?? CORS_DEFAULTS.allowCredentials,
      maxAgeSeconds: read('cors-max-age', (v) => parseUint(v)) ?? CORS_DEFAULTS.maxAgeSeconds,
    };
  }

  if (read('canary', parseBool)) {
    const weightTotal = read('canary-weight-total', (v) => {
      const n = parseUint(v);
      if (n < 1) throw new Invalid('expected a positive whole number');
      return n;
    }) ?? 100;
    const weight = read('canary-weight', (v) => {
      const n = parseUint(v);
      if (n > weightTotal) throw new Invalid(`expected 0 to ${weightTotal} (canary-weight-total)`);
      return n;
    }) ?? 0;
    const header = read('canary-by-header', (v) => {
      const t = v.trim();
      if (!TOKEN.test(t)) throw new Invalid('expected a header name');
      return t.toLowerCase();
    });
    const headerValue = read('canary-by-header-value', (v) => {
      if (v === '' || /[\r\n]/.test(v)) throw new Invalid('expected a header value');
      return v;
    });
    const headerPattern = read('canary-by-header-pattern', (v) => {
      const err = regexError(v);
      if (err) throw new Invalid(`not a regular expression: ${err}`);
      return v;
    });
    out.canary = { weight, weightTotal, header, headerValue: header ? headerValue : undefined, headerPattern: header && !headerValue ? headerPattern : undefined };
  }

  const affinity = read('affinity', (v) => {
    if (v.trim() !== 'cookie') throw new Invalid('the only affinity type is "cookie"');
    return true;
  });
  if (affinity) {
    out.affinityCookie = {
      name: read('session-cookie-name', (v) => {
        if (!TOKEN.test(v.trim())) throw new Invalid('expected a cookie name');
        return v.trim();
      }) ?? DEFAULT_AFFINITY_COOKIE,
      maxAgeSeconds: read('session-cookie-max-age', (v) => parseUint(v)),
      path: read('session-cookie-path', (v) => {
        if (!URL_PATH.test(v.trim()) || v.includes(';')) throw new Invalid('expected a path starting with /');
        return v.trim();
      }),
    };
  }

  out.upstreamVhost = read('upstream-vhost', (v) => {
    if (!HOSTNAME.test(v.trim())) throw new Invalid('expected a host name');
    return v.trim().toLowerCase();
  });
  return out;
}
