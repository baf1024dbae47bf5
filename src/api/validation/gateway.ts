// Gateway API validation as the v1.2.1 CRDs do it: OpenAPI constraints (required, enum, ranges,
// patterns, maxItems) worded as the API server words schema errors, and the CRDs' CEL rules
// (`Invalid value: "object": <rule message>`).
import type { KubeObject } from '../types.js';
import type { Obj } from './defaults/util.js';
import { type FieldPath, invalid, invalidRendered, notSupported, path, required, tooMany } from './errors.js';
import type { FieldError } from './index.js';

const HOSTNAME_PATTERN = '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const hostnameRe = new RegExp(HOSTNAME_PATTERN);
const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const DURATION_PATTERN = '^([0-9]{1,5}(h|m|s|ms)){1,4}$';
const CONTROLLER_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/[A-Za-z0-9\\/\\-._~%!$&\'()*+,;=:]+$';

function cel(fld: FieldPath, type: 'object' | 'array' | 'string', message: string): FieldError {
  return invalidRendered(fld, JSON.stringify(type), message);
}

function inRange(v: unknown, lo: number, hi: number, fld: FieldPath): FieldError[] {
  if (typeof v !== 'number') return [];
  if (v < lo) return [invalid(fld, v, `${fld} in body should be greater than or equal to ${lo}`)];
  if (v > hi) return [invalid(fld, v, `${fld} in body should be less than or equal to ${hi}`)];
  return [];
}

function pattern(v: unknown, re: string, fld: FieldPath): FieldError[] {
  return typeof v === 'string' && !new RegExp(re).test(v) ? [invalid(fld, v, `${fld} in body should match '${re}'`)] : [];
}

function requiredString(o: Obj, key: string, fld: FieldPath): FieldError[] {
  if (o[key] === undefined || o[key] === null) return [required(fld.child(key), '')];
  if (o[key] === '') return [invalid(fld.child(key), '', `${fld.child(key)} in body should be at least 1 chars long`)];
  return [];
}

function maxItems(list: unknown, max: number, fld: FieldPath): FieldError[] {
  return Array.isArray(list) && list.length > max ? [tooMany(fld, list.length, max)] : [];
}

function enumOf(v: unknown, values: string[], fld: FieldPath): FieldError[] {
  return v !== undefined && v !== null && !values.includes(String(v)) ? [notSupported(fld, v, values)] : [];
}

function hostnames(list: unknown, fld: FieldPath): FieldError[] {
  const errs = maxItems(list, 16, fld);
  (Array.isArray(list) ? list : []).forEach((h, i) => {
    if (typeof h === 'string' && !hostnameRe.test(h)) errs.push(invalid(fld.index(i), h, `${fld.index(i)} in body should match '${HOSTNAME_PATTERN}'`));
  });
  return errs;
}

function items(list: unknown): Obj[] {
  return Array.isArray(list) ? list.filter((x): x is Obj => typeof x === 'object' && x !== null) : [];
}

function parentRefs(list: unknown, fld: FieldPath): FieldError[] {
  const errs = maxItems(list, 32, fld);
  items(list).forEach((ref, i) => {
    const rf = fld.index(i);
    errs.push(...requiredString(ref, 'name', rf));
    errs.push(...inRange(ref.port, 1, 65535, rf.child('port')));
  });
  const refs = items(list);
  const keyOf = (r: Obj) => `${r.group ?? 'gateway.networking.k8s.io'}/${r.kind ?? 'Gateway'}/${r.namespace ?? ''}/${r.name}`;
  const dup = refs.some((a, i) => refs.some((b, j) => i < j && keyOf(a) === keyOf(b) && (a.sectionName ?? '') === (b.sectionName ?? '') && (a.port ?? 0) === (b.port ?? 0)));
  if (dup) errs.push(cel(fld, 'array', 'sectionName or port must be unique when parentRefs includes 2 or more references to the same parent'));
  return errs;
}

function backendRef(ref: Obj, fld: FieldPath, withWeight: boolean): FieldError[] {
  const errs = requiredString(ref, 'name', fld);
  errs.push(...inRange(ref.port, 1, 65535, fld.child('port')));
  if (withWeight) errs.push(...inRange(ref.weight, 0, 1000000, fld.child('weight')));
  const isService = (ref.group === undefined || ref.group === '') && (ref.kind === undefined || ref.kind === 'Service');
  if (isService && (ref.port === undefined || ref.port === null)) errs.push(cel(fld, 'object', 'Must have port for Service reference'));
  return errs;
}

const HTTP_FILTER_FIELDS: Record<string, string> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  ExtensionRef: 'extensionRef',
  CORS: 'cors',
};
const GRPC_FILTER_FIELDS: Record<string, string> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  ExtensionRef: 'extensionRef',
};

function filters(list: unknown, fld: FieldPath, table: Record<string, string>): FieldError[] {
  const errs = maxItems(list, 16, fld);
  const types = Object.keys(table);
  const seen = new Map<string, number>();
  items(list).forEach((f, i) => {
    const ff = fld.index(i);
    if (!f.type) errs.push(required(ff.child('type'), ''));
    else errs.push(...enumOf(f.type, types, ff.child('type')));
    for (const [type, field] of Object.entries(table)) {
      if (f.type === type && (f[field] === undefined || f[field] === null)) errs.push(cel(ff, 'object', `filter.${field} must be specified for ${type} filter.type`));
      if (f.type !== type && f[field] !== undefined && f[field] !== null) errs.push(cel(ff, 'object', `filter.${field} must be nil if the filter.type is not ${type}`));
    }
    if (f.requestRedirect) {
      const rr = f.requestRedirect as Obj;
      errs.push(...enumOf(rr.scheme, ['http', 'https'], ff.child('requestRedirect', 'scheme')));
      if (rr.statusCode !== undefined) errs.push(...enumOf(String(rr.statusCode), ['301', '302', '303', '307', '308'], ff.child('requestRedirect', 'statusCode')));
      errs.push(...inRange(rr.port, 1, 65535, ff.child('requestRedirect', 'port')));
    }
    if (f.requestMirror?.backendRef) errs.push(...backendRef(f.requestMirror.backendRef, ff.child('requestMirror', 'backendRef'), false));
    seen.set(String(f.type), (seen.get(String(f.type)) ?? 0) + 1);
  });
  for (const t of ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'CORS']) {
    if ((seen.get(t) ?? 0) > 1) errs.push(cel(fld, 'array', `${t} filter cannot be repeated`));
  }
  if (seen.has('RequestRedirect') && seen.has('URLRewrite')) errs.push(cel(fld, 'array', 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both'));
  return errs;
}

function headerMatches(list: unknown, fld: FieldPath, types: string[]): FieldError[] {
  const errs = maxItems(list, 16, fld);
  items(list).forEach((h, i) => {
    errs.push(...requiredString(h, 'name', fld.index(i)));
    errs.push(...enumOf(h.type, types, fld.index(i).child('type')));
    if (h.value === undefined) errs.push(required(fld.index(i).child('value'), ''));
  });
  return errs;
}

function validateHTTPRouteSpec(spec: Obj): FieldError[] {
  const fld = path('spec');
  const errs = [...parentRefs(spec.parentRefs, fld.child('parentRefs')), ...hostnames(spec.hostnames, fld.child('hostnames'))];
  errs.push(...maxItems(spec.rules, 16, fld.child('rules')));
  let totalMatches = 0;
  items(spec.rules).forEach((rule, i) => {
    const rf = fld.child('rules').index(i);
    errs.push(...maxItems(rule.matches, 64, rf.child('matches')));
    totalMatches += items(rule.matches).length;
    items(rule.matches).forEach((m, j) => {
      const mf = rf.child('matches').index(j);
      const p = m.path as Obj | undefined;
      if (p) {
        errs.push(...enumOf(p.type, ['Exact', 'PathPrefix', 'RegularExpression'], mf.child('path', 'type')));
        const v = typeof p.value === 'string' ? p.value : '';
        if (p.type === 'Exact' || p.type === 'PathPrefix') {
          if (!v.startsWith('/')) errs.push(cel(mf.child('path'), 'object', "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"));
          if (v.includes('//')) errs.push(cel(mf.child('path'), 'object', "must not contain '//' when type one of ['Exact', 'PathPrefix']"));
          if (v.includes('/./')) errs.push(cel(mf.child('path'), 'object', "must not contain '/./' when type one of ['Exact', 'PathPrefix']"));
          if (v.includes('/../')) errs.push(cel(mf.child('path'), 'object', "must not contain '/../' when type one of ['Exact', 'PathPrefix']"));
          if (v.includes('%2f') || v.includes('%2F')) errs.push(cel(mf.child('path'), 'object', "must not contain '%2f' or '%2F' when type one of ['Exact', 'PathPrefix']"));
          if (v.includes('#')) errs.push(cel(mf.child('path'), 'object', "must not contain '#' when type one of ['Exact', 'PathPrefix']"));
          if (v.endsWith('/..') || v.endsWith('/.')) errs.push(cel(mf.child('path'), 'object', "must not end with '/..' or '/.' when type one of ['Exact', 'PathPrefix']"));
        }
        if (v.length > 1024) errs.push(invalid(mf.child('path', 'value'), v, `${mf.child('path', 'value')} in body should be at most 1024 chars long`));
      }
      errs.push(...headerMatches(m.headers, mf.child('headers'), ['Exact', 'RegularExpression']));
      errs.push(...headerMatches(m.queryParams, mf.child('queryParams'), ['Exact', 'RegularExpression']));
      errs.push(...enumOf(m.method, ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'], mf.child('method')));
    });
    errs.push(...filters(rule.filters, rf.child('filters'), HTTP_FILTER_FIELDS));
    const hasRedirect = items(rule.filters).some((f) => f.type === 'RequestRedirect');
    if (hasRedirect && items(rule.backendRefs).length > 0) errs.push(cel(rf, 'object', 'RequestRedirect filter must not be used together with backendRefs'));
    const prefixReplace = items(rule.filters).some((f) => (f.requestRedirect?.path ?? f.urlRewrite?.path)?.type === 'ReplacePrefixMatch');
    if (prefixReplace) {
      const ms = items(rule.matches);
      if (ms.length !== 1 || (ms[0].path as Obj | undefined)?.type !== 'PathPrefix') {
        errs.push(cel(rf, 'object', 'When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified'));
      }
    }
    errs.push(...maxItems(rule.backendRefs, 16, rf.child('backendRefs')));
    items(rule.backendRefs).forEach((b, j) => {
      errs.push(...backendRef(b, rf.child('backendRefs').index(j), true));
      errs.push(...filters(b.filters, rf.child('backendRefs').index(j).child('filters'), HTTP_FILTER_FIELDS));
    });
    if (rule.timeouts) {
      errs.push(...pattern(rule.timeouts.request, DURATION_PATTERN, rf.child('timeouts', 'request')));
      errs.push(...pattern(rule.timeouts.backendRequest, DURATION_PATTERN, rf.child('timeouts', 'backendRequest')));
    }
  });
  if (totalMatches > 128) errs.push(cel(fld.child('rules'), 'array', 'While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128'));
  return errs;
}

function validateGRPCRouteSpec(spec: Obj): FieldError[] {
  const fld = path('spec');
  const errs = [...parentRefs(spec.parentRefs, fld.child('parentRefs')), ...hostnames(spec.hostnames, fld.child('hostnames'))];
  errs.push(...maxItems(spec.rules, 16, fld.child('rules')));
  items(spec.rules).forEach((rule, i) => {
    const rf = fld.child('rules').index(i);
    errs.push(...maxItems(rule.matches, 64, rf.child('matches')));
    items(rule.matches).forEach((m, j) => {
      const mf = rf.child('matches').index(j);
      const method = m.method as Obj | undefined;
      if (method) {
        errs.push(...enumOf(method.type, ['Exact', 'RegularExpression'], mf.child('method', 'type')));
        if ((method.type ?? 'Exact') === 'Exact' && !method.service && !method.method) errs.push(cel(mf.child('method'), 'object', 'One or both of \'service\' or \'method\' must be specified'));
      }
      errs.push(...headerMatches(m.headers, mf.child('headers'), ['Exact', 'RegularExpression']));
    });
    errs.push(...filters(rule.filters, rf.child('filters'), GRPC_FILTER_FIELDS));
    items(rule.backendRefs).forEach((b, j) => errs.push(...backendRef(b, rf.child('backendRefs').index(j), true)));
  });
  return errs;
}

function validateL4RouteSpec(spec: Obj, withHostnames: boolean): FieldError[] {
  const fld = path('spec');
  const errs = parentRefs(spec.parentRefs, fld.child('parentRefs'));
  if (withHostnames) errs.push(...hostnames(spec.hostnames, fld.child('hostnames')));
  const rules = items(spec.rules);
  if (spec.rules === undefined) errs.push(required(fld.child('rules'), ''));
  else if (rules.length === 0) errs.push(invalid(fld.child('rules'), spec.rules, `${fld.child('rules')} in body should have at least 1 items`));
  errs.push(...maxItems(spec.rules, 16, fld.child('rules')));
  rules.forEach((rule, i) => {
    const rf = fld.child('rules').index(i);
    const refs = items(rule.backendRefs);
    if (refs.length === 0) errs.push(invalid(rf.child('backendRefs'), rule.backendRefs ?? [], `${rf.child('backendRefs')} in body should have at least 1 items`));
    refs.forEach((b, j) => errs.push(...backendRef(b, rf.child('backendRefs').index(j), true)));
  });
  return errs;
}

const PROTOCOLS_WITHOUT_TLS = ['HTTP', 'TCP', 'UDP'];
const PROTOCOLS_WITHOUT_HOSTNAME = ['TCP', 'UDP'];

function validateGatewaySpec(spec: Obj): FieldError[] {
  const fld = path('spec');
  const errs = requiredString(spec, 'gatewayClassName', fld);
  const listeners = items(spec.listeners);
  if (spec.listeners === undefined) errs.push(required(fld.child('listeners'), ''));
  else if (listeners.length === 0) errs.push(invalid(fld.child('listeners'), spec.listeners, `${fld.child('listeners')} in body should have at least 1 items`));
  errs.push(...maxItems(spec.listeners, 64, fld.child('listeners')));
  listeners.forEach((l, i) => {
    const lf = fld.child('listeners').index(i);
    errs.push(...requiredString(l, 'name', lf));
    errs.push(...pattern(l.name, NAME_PATTERN, lf.child('name')));
    if (l.port === undefined) errs.push(required(lf.child('port'), ''));
    errs.push(...inRange(l.port, 1, 65535, lf.child('port')));
    errs.push(...requiredString(l, 'protocol', lf));
    if (typeof l.hostname === 'string' && !hostnameRe.test(l.hostname)) errs.push(invalid(lf.child('hostname'), l.hostname, `${lf.child('hostname')} in body should match '${HOSTNAME_PATTERN}'`));
    if (l.tls) errs.push(...enumOf(l.tls.mode, ['Terminate', 'Passthrough'], lf.child('tls', 'mode')));
    const ns = l.allowedRoutes?.namespaces;
    if (ns) errs.push(...enumOf(ns.from, ['All', 'Selector', 'Same', 'None'], lf.child('allowedRoutes', 'namespaces', 'from')));
    errs.push(...maxItems(l.allowedRoutes?.kinds, 8, lf.child('allowedRoutes', 'kinds')));
  });
  const lp = fld.child('listeners');
  if (listeners.some((l) => PROTOCOLS_WITHOUT_TLS.includes(l.protocol) && l.tls)) errs.push(cel(lp, 'array', "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"));
  if (listeners.some((l) => (l.protocol === 'HTTPS' || l.protocol === 'TLS') && !l.tls)) errs.push(cel(lp, 'array', 'tls mode must be set for protocol HTTPS or TLS'));
  if (listeners.some((l) => l.protocol === 'HTTPS' && l.tls && l.tls.mode && l.tls.mode !== 'Terminate')) errs.push(cel(lp, 'array', 'tls mode must be Terminate for protocol HTTPS'));
  if (listeners.some((l) => PROTOCOLS_WITHOUT_HOSTNAME.includes(l.protocol) && l.hostname)) errs.push(cel(lp, 'array', "hostname must not be specified for protocols ['TCP', 'UDP']"));
  const names = listeners.map((l) => l.name);
  if (new Set(names).size !== names.length) errs.push(cel(lp, 'array', 'Listener name must be unique within the Gateway'));
  const combos = listeners.map((l) => `${l.port}/${l.protocol}/${l.hostname ?? ''}`);
  if (new Set(combos).size !== combos.length) errs.push(cel(lp, 'array', 'Combination of port, protocol and hostname must be unique for each listener'));
  errs.push(...maxItems(spec.addresses, 16, fld.child('addresses')));
  items(spec.addresses).forEach((a, i) => {
    if (!a.value) errs.push(required(fld.child('addresses').index(i).child('value'), ''));
  });
  return errs;
}

/** The validator of one Gateway API kind. */
export function gatewayValidator(kind: string): (obj: KubeObject) => FieldError[] {
  return (obj) => validateGatewayAPIObject(kind, obj);
}

function validateGatewayAPIObject(kind: string, obj: KubeObject): FieldError[] {
  const spec = ((obj as Obj).spec ?? undefined) as Obj | undefined;
  if (!spec) return [required(path('spec'), '')];
  switch (kind) {
    case 'GatewayClass':
      return [...requiredString(spec, 'controllerName', path('spec')), ...pattern(spec.controllerName, CONTROLLER_PATTERN, path('spec', 'controllerName'))];
    case 'Gateway':
      return validateGatewaySpec(spec);
    case 'HTTPRoute':
      return validateHTTPRouteSpec(spec);
    case 'GRPCRoute':
      return validateGRPCRouteSpec(spec);
    case 'TCPRoute':
    case 'UDPRoute':
      return validateL4RouteSpec(spec, false);
    case 'TLSRoute':
      return validateL4RouteSpec(spec, true);
    case 'ReferenceGrant': {
      const errs: FieldError[] = [];
      for (const key of ['from', 'to']) {
        const list = items(spec[key]);
        if (list.length === 0) errs.push(invalid(path('spec', key), spec[key] ?? [], `spec.${key} in body should have at least 1 items`));
        errs.push(...maxItems(spec[key], 16, path('spec', key)));
        list.forEach((e, i) => {
          errs.push(...requiredString(e, 'kind', path('spec', key).index(i)));
          if (e.group === undefined) errs.push(required(path('spec', key).index(i).child('group'), ''));
          if (key === 'from') errs.push(...requiredString(e, 'namespace', path('spec', key).index(i)));
        });
      }
      return errs;
    }
    default:
      return [];
  }
}

export function validateGatewayClassUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateGatewayAPIObject('GatewayClass', obj);
  const now = ((obj as Obj).spec as Obj | undefined)?.controllerName;
  const before = ((old as Obj).spec as Obj | undefined)?.controllerName;
  if (now !== before) errs.push(invalidRendered(path('spec', 'controllerName'), JSON.stringify(now ?? ''), 'Value is immutable'));
  return errs;
}
