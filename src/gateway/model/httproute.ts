// HTTPRoute -> route entries: one HttpRouteEntry per (rule, match), in rule and match order.
// Entries do not depend on the parent Gateway, so a route is translated once per computation
// and its entries are shared by every virtual host it serves. An invalid rule is dropped (and
// reported); backendRefs that cannot be resolved keep their weight and answer 500.
import type { KubeObject } from '../../api/types.js';
import type { HttpFilter, HttpMatch, HttpRouteEntry, WeightedBackend } from '../config.js';
import type { BackendProtocol, BackendResolver } from './backends.js';
import type { Problem } from './conditions.js';
import { parseDurationMs } from './duration.js';
import { translateFilters } from './filters.js';
import { isProblem, regexProblem, translateNameValueMatches } from './matches.js';
import { asArray, asNumber, asRecord, asString, nameOf, namespaceOf, specOf } from './objects.js';

export interface RouteTranslation {
  entries: HttpRouteEntry[];
  ruleCount: number;
  /** Rules that were dropped, with why. */
  ruleProblems: Problem[];
  /** The first unresolved reference (ResolvedRefs=False). */
  refProblem?: Problem;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

function translateHttpMatch(raw: unknown, where: string): HttpMatch | Problem {
  const r = asRecord(raw);
  const p = asRecord(r.path);
  const type = asString(p.type) ?? 'PathPrefix';
  const value = asString(p.value) ?? '/';
  if (type !== 'Exact' && type !== 'PathPrefix' && type !== 'RegularExpression') {
    return { reason: 'UnsupportedValue', message: `${where}.path.type ${JSON.stringify(type)} is not Exact, PathPrefix or RegularExpression` };
  }
  if (type !== 'RegularExpression' && (!value.startsWith('/') || value.includes('//'))) {
    return { reason: 'UnsupportedValue', message: `${where}.path.value ${JSON.stringify(value)} must start with "/" and not contain "//"` };
  }
  if (type === 'RegularExpression') {
    const bad = regexProblem(value, `${where}.path.value`);
    if (bad) return bad;
  }
  const headers = translateNameValueMatches<HttpMatch['headers'][number]>(r.headers, `${where}.headers`, true);
  if (isProblem(headers)) return headers;
  const queryParams = translateNameValueMatches<HttpMatch['queryParams'][number]>(r.queryParams, `${where}.queryParams`, false);
  if (isProblem(queryParams)) return queryParams;
  const method = asString(r.method)?.toUpperCase();
  if (method !== undefined && !METHODS.has(method)) {
    return { reason: 'UnsupportedValue', message: `${where}.method ${JSON.stringify(r.method)} is not an HTTP method` };
  }
  return { path: { type, value }, ...(method ? { method } : {}), headers, queryParams };
}

export interface BackendsResult {
  backends: WeightedBackend[];
  ruleProblem?: Problem;
  refProblem?: Problem;
}

/** A rule's backendRefs with their own filters; weight-0 backends are dropped. */
export function translateBackendRefs(
  raw: unknown,
  routeKind: 'HTTPRoute' | 'GRPCRoute',
  namespace: string,
  resolver: BackendResolver,
  where: string,
  protocol?: BackendProtocol,
): BackendsResult {
  const out: BackendsResult = { backends: [] };
  for (const [i, ref] of asArray(raw).entries()) {
    const resolved = resolver.resolve(routeKind, namespace, ref, protocol ? { protocol } : {});
    if (resolved.problem) out.refProblem ??= resolved.problem;
    const f = translateFilters(asRecord(ref).filters, { routeKind, namespace, resolver, path: `${where}[${i}].filters` });
    if (f.ruleProblem) out.ruleProblem ??= f.ruleProblem;
    if (f.refProblem) out.refProblem ??= f.refProblem;
    if (resolved.backend.weight === 0) continue;
    const backend: WeightedBackend = { ...resolved.backend, filters: f.filters };
    if (f.fail && !backend.invalid) backend.invalid = f.fail;
    out.backends.push(backend);
  }
  return out;
}

export function translateHttpRoute(route: KubeObject, resolver: BackendResolver): RouteTranslation {
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
    const matches: HttpMatch[] = [];
    const rawMatches = asArray(rule.matches);
    for (const [mi, m] of (rawMatches.length > 0 ? rawMatches : [{}]).entries()) {
      const t = translateHttpMatch(m, `${where}.matches[${mi}]`);
      if (isProblem(t)) {
        problem ??= t;
        break;
      }
      matches.push(t);
    }
    const filters = translateFilters(rule.filters, { routeKind: 'HTTPRoute', namespace, resolver, path: `${where}.filters` });
    problem ??= filters.ruleProblem;
    const backends = translateBackendRefs(rule.backendRefs, 'HTTPRoute', namespace, resolver, `${where}.backendRefs`);
    problem ??= backends.ruleProblem;
    const refProblem = filters.refProblem ?? backends.refProblem;
    if (refProblem) out.refProblem ??= refProblem;
    const hasRedirect = filters.filters.some((f) => f.type === 'RequestRedirect');
    if (hasRedirect && asArray(rule.backendRefs).length > 0) {
      problem ??= { reason: 'IncompatibleFilters', message: `${where}: a RequestRedirect rule cannot have backendRefs` };
    }
    if (!problem) problem = prefixRewriteProblem(filters.filters, matches, where);
    const timeouts = translateTimeouts(rule.timeouts, where);
    if (isProblem(timeouts)) problem ??= timeouts;
    const retry = translateRetry(rule.retry, where);
    if (isProblem(retry)) problem ??= retry;
    if (problem) {
      out.ruleProblems.push(problem);
      continue;
    }
    let ruleBackends = backends.backends;
    if (filters.fail) ruleBackends = [{ weight: 1, name: 'extensionRef', invalid: filters.fail, protocol: 'http', endpoints: [], filters: [] }];
    for (const [mi, match] of matches.entries()) {
      const entry: HttpRouteEntry = {
        source: { kind: 'HTTPRoute', namespace, name, rule: ri, match: mi, ...(ruleName ? { ruleName } : {}) },
        match,
        filters: filters.filters,
        backends: ruleBackends,
      };
      if (timeouts && !isProblem(timeouts)) entry.timeouts = timeouts;
      if (retry && !isProblem(retry)) entry.retry = retry;
      out.entries.push(entry);
    }
  }
  return out;
}

/** ReplacePrefixMatch rewrites what a PathPrefix match matched: every match must be one. */
function prefixRewriteProblem(filters: HttpFilter[], matches: HttpMatch[], where: string): Problem | undefined {
  const usesPrefix = filters.some(
    (f) => (f.type === 'RequestRedirect' || f.type === 'URLRewrite') && f.path?.type === 'ReplacePrefixMatch',
  );
  if (usesPrefix && matches.some((m) => m.path.type !== 'PathPrefix')) {
    return { reason: 'UnsupportedValue', message: `${where}: ReplacePrefixMatch needs PathPrefix matches only` };
  }
  return undefined;
}

function translateTimeouts(raw: unknown, where: string): HttpRouteEntry['timeouts'] | Problem | undefined {
  if (raw === undefined || raw === null) return undefined;
  const r = asRecord(raw);
  const out: NonNullable<HttpRouteEntry['timeouts']> = {};
  for (const [field, key] of [['request', 'requestMs'], ['backendRequest', 'backendRequestMs']] as const) {
    const text = asString(r[field]);
    if (text === undefined) continue;
    const ms = parseDurationMs(text);
    if (ms === undefined) return { reason: 'UnsupportedValue', message: `${where}.timeouts.${field} ${JSON.stringify(text)} is not a duration (e.g. 500ms, 10s, 1m)` };
    if (ms > 0) out[key] = ms;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function translateRetry(raw: unknown, where: string): HttpRouteEntry['retry'] | Problem | undefined {
  if (raw === undefined || raw === null) return undefined;
  const r = asRecord(raw);
  const codes: number[] = [];
  for (const c of asArray(r.codes)) {
    const n = asNumber(c);
    if (n === undefined || n < 400 || n > 599) return { reason: 'UnsupportedValue', message: `${where}.retry.codes: ${JSON.stringify(c)} is not a status code in 400-599` };
    if (!codes.includes(n)) codes.push(n);
  }
  const attempts = asNumber(r.attempts) ?? 1;
  let backoffMs = 25;
  const backoff = asString(r.backoff);
  if (backoff !== undefined) {
    const ms = parseDurationMs(backoff);
    if (ms === undefined) return { reason: 'UnsupportedValue', message: `${where}.retry.backoff ${JSON.stringify(backoff)} is not a duration` };
    backoffMs = ms;
  }
  return { attempts: Math.max(0, Math.floor(attempts)), codes, backoffMs };
}
