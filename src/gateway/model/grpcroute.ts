// GRPCRoute -> route entries. A gRPC call is `POST /<service>/<method>`, so a method match
// becomes a path match: service and method -> Exact `/<service>/<method>`; service only ->
// PathPrefix `/<service>`; method only -> RegularExpression `/[^/]+/<method>`; RegularExpression
// matches build the same shapes from the patterns. Every entry also requires a gRPC content-type
// (`application/grpc`, `application/grpc+proto`...), so a GRPCRoute and an HTTPRoute may share a
// hostname: gRPC calls reach the GRPCRoute's entries, other requests the HTTPRoute's (flatnet
// keeps both routes Accepted, which v1.6 allows). Backends are spoken to with h2c (`grpc`).
import type { KubeObject } from '../../api/types.js';
import type { HttpMatch, HttpRouteEntry } from '../config.js';
import type { BackendResolver } from './backends.js';
import type { Problem } from './conditions.js';
import { translateFilters } from './filters.js';
import { translateBackendRefs, type RouteTranslation } from './httproute.js';
import { isProblem, regexProblem, translateNameValueMatches } from './matches.js';
import { asArray, asRecord, asString, nameOf, namespaceOf, specOf } from './objects.js';

/** The gRPC precedence of an entry: characters of the matched service and method. */
export interface GrpcRank {
  serviceChars: number;
  methodChars: number;
}

export const grpcRanks = new WeakMap<HttpRouteEntry, GrpcRank>();

export const GRPC_CONTENT_TYPE = 'application/grpc([+;].*)?';

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function translateGrpcMatch(raw: unknown, where: string): { match: HttpMatch; rank: GrpcRank } | Problem {
  const r = asRecord(raw);
  const m = asRecord(r.method);
  const type = asString(m.type) ?? 'Exact';
  const service = asString(m.service) || undefined;
  const method = asString(m.method) || undefined;
  if (type !== 'Exact' && type !== 'RegularExpression') {
    return { reason: 'UnsupportedValue', message: `${where}.method.type ${JSON.stringify(type)} is not Exact or RegularExpression` };
  }
  let path: HttpMatch['path'];
  if (type === 'Exact') {
    if (service && method) path = { type: 'Exact', value: `/${service}/${method}` };
    else if (service) path = { type: 'PathPrefix', value: `/${service}` };
    else if (method) path = { type: 'RegularExpression', value: `/[^/]+/${escapeRegex(method)}` };
    else path = { type: 'PathPrefix', value: '/' };
  } else {
    for (const [field, v] of [['service', service], ['method', method]] as const) {
      if (v === undefined) continue;
      const bad = regexProblem(v, `${where}.method.${field}`);
      if (bad) return bad;
    }
    path = service || method ? { type: 'RegularExpression', value: `/(?:${service ?? '[^/]+'})/(?:${method ?? '[^/]+'})` } : { type: 'PathPrefix', value: '/' };
  }
  const headers = translateNameValueMatches<HttpMatch['headers'][number]>(r.headers, `${where}.headers`, true);
  if (isProblem(headers)) return headers;
  const withContentType = headers.some((h) => h.name === 'content-type')
    ? headers
    : [...headers, { type: 'RegularExpression' as const, name: 'content-type', value: GRPC_CONTENT_TYPE }];
  return {
    match: { path, method: 'POST', headers: withContentType, queryParams: [] },
    rank: { serviceChars: service?.length ?? 0, methodChars: method?.length ?? 0 },
  };
}

export function translateGrpcRoute(route: KubeObject, resolver: BackendResolver): RouteTranslation {
  const namespace = namespaceOf(route);
  const name = nameOf(route);
  const out: RouteTranslation = { entries: [], ruleCount: 0, ruleProblems: [] };
  const rules = asArray(specOf(route).rules);
  const effectiveRules = rules.length > 0 ? rules : [{}];
  out.ruleCount = effectiveRules.length;
  for (const [ri, rawRule] of effectiveRules.entries()) {
    const rule = asRecord(rawRule);
    const where = `spec.rules[${ri}]`;
    const ruleName = asString(rule.name);
    let problem: Problem | undefined;
    const matches: { match: HttpMatch; rank: GrpcRank }[] = [];
    const rawMatches = asArray(rule.matches);
    for (const [mi, m] of (rawMatches.length > 0 ? rawMatches : [{}]).entries()) {
      const t = translateGrpcMatch(m, `${where}.matches[${mi}]`);
      if (isProblem(t)) {
        problem ??= t;
        break;
      }
      matches.push(t);
    }
    const filters = translateFilters(rule.filters, { routeKind: 'GRPCRoute', namespace, resolver, path: `${where}.filters` });
    problem ??= filters.ruleProblem;
    const backends = translateBackendRefs(rule.backendRefs, 'GRPCRoute', namespace, resolver, `${where}.backendRefs`, 'grpc');
    problem ??= backends.ruleProblem;
    const refProblem = filters.refProblem ?? backends.refProblem;
    if (refProblem) out.refProblem ??= refProblem;
    if (problem) {
      out.ruleProblems.push(problem);
      continue;
    }
    const ruleBackends = filters.fail
      ? [{ weight: 1, name: 'extensionRef', invalid: filters.fail, protocol: 'grpc' as const, endpoints: [], filters: [] }]
      : backends.backends;
    for (const [mi, m] of matches.entries()) {
      const entry: HttpRouteEntry = {
        source: { kind: 'GRPCRoute', namespace, name, rule: ri, match: mi, ...(ruleName ? { ruleName } : {}) },
        match: m.match,
        filters: filters.filters,
        backends: ruleBackends,
      };
      grpcRanks.set(entry, m.rank);
      out.entries.push(entry);
    }
  }
  return out;
}
