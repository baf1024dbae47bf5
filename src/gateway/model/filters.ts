// HTTPRoute / GRPCRoute filters -> HttpFilter. A filter that is invalid (an unknown type, a bad
// value, an incompatible combination) makes its rule invalid; an ExtensionRef cannot be resolved
// (flatnet has no extensions), and the spec says such a rule must not be served without it, so
// the rule answers 500.
import type { HeaderModifier, HttpFilter, PathModifier } from '../config.js';
import type { BackendResolver } from './backends.js';
import type { Problem } from './conditions.js';
import { asArray, asNumber, asRecord, asString } from './objects.js';

export interface FilterResult {
  filters: HttpFilter[];
  /** The rule cannot be implemented (dropped, PartiallyInvalid / Accepted=False). */
  ruleProblem?: Problem;
  /** A reference could not be resolved (ResolvedRefs=False). */
  refProblem?: Problem;
  /** The rule must answer 500 (an unresolvable ExtensionRef). */
  fail?: string;
}

export interface FilterContext {
  routeKind: 'HTTPRoute' | 'GRPCRoute';
  namespace: string;
  resolver: BackendResolver;
  /** Where in the object, for messages: `spec.rules[0].filters`. */
  path: string;
}

const HTTP_TYPES = new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'RequestMirror', 'CORS', 'ExtensionRef']);
const GRPC_TYPES = new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef']);
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

function headerModifier(raw: unknown): HeaderModifier {
  const r = asRecord(raw);
  const pairs = (v: unknown): [string, string][] =>
    asArray(v).map((h) => {
      const o = asRecord(h);
      return [asString(o.name) ?? '', asString(o.value) ?? ''];
    });
  return { set: pairs(r.set), add: pairs(r.add), remove: asArray(r.remove).filter((x): x is string => typeof x === 'string') };
}

function pathModifier(raw: unknown, where: string): PathModifier | Problem | undefined {
  if (raw === undefined || raw === null) return undefined;
  const r = asRecord(raw);
  const type = asString(r.type);
  if (type === 'ReplaceFullPath') return { type, value: asString(r.replaceFullPath) ?? '/' };
  if (type === 'ReplacePrefixMatch') return { type, value: asString(r.replacePrefixMatch) ?? '/' };
  return { reason: 'UnsupportedValue', message: `${where}.path.type ${JSON.stringify(type)} is not ReplaceFullPath or ReplacePrefixMatch` };
}

function isProblem(v: unknown): v is Problem {
  return typeof v === 'object' && v !== null && 'reason' in v && 'message' in v;
}

/** Translates one filter list (a rule's or a backendRef's). */
export function translateFilters(rawFilters: unknown, ctx: FilterContext): FilterResult {
  const out: FilterResult = { filters: [] };
  const allowed = ctx.routeKind === 'GRPCRoute' ? GRPC_TYPES : HTTP_TYPES;
  const seen = new Set<string>();
  for (const [i, raw] of asArray(rawFilters).entries()) {
    const f = asRecord(raw);
    const type = asString(f.type) ?? '';
    const where = `${ctx.path}[${i}]`;
    if (!allowed.has(type)) {
      out.ruleProblem ??= { reason: 'UnsupportedValue', message: `${where}.type ${JSON.stringify(type)} is not supported on a ${ctx.routeKind}` };
      continue;
    }
    if ((type === 'URLRewrite' || type === 'CORS' || type === 'RequestRedirect') && seen.has(type)) {
      out.ruleProblem ??= { reason: 'IncompatibleFilters', message: `${where}: at most one ${type} filter per rule` };
      continue;
    }
    seen.add(type);
    switch (type) {
      case 'RequestHeaderModifier':
        out.filters.push({ type, ...headerModifier(f.requestHeaderModifier) });
        break;
      case 'ResponseHeaderModifier':
        out.filters.push({ type, ...headerModifier(f.responseHeaderModifier) });
        break;
      case 'RequestRedirect': {
        const r = asRecord(f.requestRedirect);
        const scheme = asString(r.scheme);
        const statusCode = asNumber(r.statusCode) ?? 302;
        const path = pathModifier(r.path, `${where}.requestRedirect`);
        if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
          out.ruleProblem ??= { reason: 'UnsupportedValue', message: `${where}.requestRedirect.scheme ${JSON.stringify(scheme)} is not http or https` };
        } else if (!REDIRECT_CODES.has(statusCode)) {
          out.ruleProblem ??= { reason: 'UnsupportedValue', message: `${where}.requestRedirect.statusCode ${statusCode} is not 301, 302, 303, 307 or 308` };
        } else if (isProblem(path)) {
          out.ruleProblem ??= path;
        } else {
          const port = asNumber(r.port);
          const hostname = asString(r.hostname);
          out.filters.push({
            type,
            ...(scheme ? { scheme } : {}),
            ...(hostname ? { hostname } : {}),
            ...(port !== undefined ? { port } : {}),
            ...(path ? { path } : {}),
            statusCode,
          });
        }
        break;
      }
      case 'URLRewrite': {
        const r = asRecord(f.urlRewrite);
        const path = pathModifier(r.path, `${where}.urlRewrite`);
        if (isProblem(path)) out.ruleProblem ??= path;
        else {
          const hostname = asString(r.hostname);
          out.filters.push({ type, ...(hostname ? { hostname } : {}), ...(path ? { path } : {}) });
        }
        break;
      }
      case 'RequestMirror': {
        const r = asRecord(f.requestMirror);
        const resolved = ctx.resolver.resolve(ctx.routeKind, ctx.namespace, r.backendRef, ctx.routeKind === 'GRPCRoute' ? { protocol: 'grpc' } : {});
        if (resolved.problem) out.refProblem ??= { reason: resolved.problem.reason, message: `${where}.requestMirror: ${resolved.problem.message}` };
        const fraction = asRecord(r.fraction);
        const numerator = asNumber(fraction.numerator);
        const denominator = asNumber(fraction.denominator) ?? 100;
        let percent = asNumber(r.percent);
        if (percent === undefined && numerator !== undefined && denominator > 0) percent = (numerator / denominator) * 100;
        percent = Math.min(100, Math.max(0, percent ?? 100));
        out.filters.push({ type, backend: { ...resolved.backend, weight: 1 }, percent });
        break;
      }
      case 'CORS': {
        const r = asRecord(f.cors);
        const strings = (v: unknown) => asArray(v).filter((x): x is string => typeof x === 'string');
        out.filters.push({
          type,
          allowOrigins: strings(r.allowOrigins),
          allowMethods: strings(r.allowMethods),
          allowHeaders: strings(r.allowHeaders),
          exposeHeaders: strings(r.exposeHeaders),
          allowCredentials: r.allowCredentials === true,
          maxAgeSeconds: asNumber(r.maxAge) ?? 5,
        });
        break;
      }
      case 'ExtensionRef': {
        const r = asRecord(f.extensionRef);
        const what = `${asString(r.group) ?? ''}/${asString(r.kind) ?? ''} ${asString(r.name) ?? ''}`;
        out.refProblem ??= { reason: 'InvalidKind', message: `${where}.extensionRef ${what}: flatnet has no filter extensions` };
        out.fail = `unresolvable ExtensionRef filter ${what}`;
        break;
      }
    }
  }
  if (seen.has('RequestRedirect') && seen.has('URLRewrite')) {
    out.ruleProblem ??= { reason: 'IncompatibleFilters', message: `${ctx.path}: RequestRedirect and URLRewrite cannot be combined` };
  }
  return out;
}
