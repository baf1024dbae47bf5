// Defaults the Gateway API v1.2.1 CRD schemas declare (OpenAPI `default:` values).
import { GATEWAY_API_GROUP } from '../../resources.js';
import { type Obj, ensureObj, isObj, objItems, setDefault } from './util.js';

const EPOCH = '1970-01-01T00:00:00Z';

function pendingCondition(type: string): Obj {
  return { lastTransitionTime: EPOCH, message: 'Waiting for controller', reason: 'Pending', status: 'Unknown', type };
}

function defaultParentRefs(spec: Obj): void {
  for (const ref of objItems(spec, 'parentRefs')) {
    setDefault(ref, 'group', GATEWAY_API_GROUP);
    setDefault(ref, 'kind', 'Gateway');
  }
}

function defaultBackendRef(ref: Obj, withWeight: boolean): void {
  setDefault(ref, 'group', '');
  setDefault(ref, 'kind', 'Service');
  if (withWeight) setDefault(ref, 'weight', 1);
}

function defaultHTTPFilters(filters: Obj[]): void {
  for (const f of filters) {
    if (isObj(f.requestRedirect)) setDefault(f.requestRedirect, 'statusCode', 302);
    if (isObj(f.requestMirror) && isObj(f.requestMirror.backendRef)) defaultBackendRef(f.requestMirror.backendRef, false);
  }
}

export function defaultGatewayClass(gc: Obj): void {
  if (!isObj(gc.status)) gc.status = { conditions: [{ ...pendingCondition('Accepted'), reason: 'Pending' }] };
}

export function defaultGateway(gw: Obj): void {
  const spec = ensureObj(gw, 'spec');
  for (const l of objItems(spec, 'listeners')) {
    const allowed = ensureObj(l, 'allowedRoutes');
    const namespaces = ensureObj(allowed, 'namespaces');
    setDefault(namespaces, 'from', 'Same');
    if (isObj(l.tls)) setDefault(l.tls, 'mode', 'Terminate');
  }
  for (const a of objItems(spec, 'addresses')) setDefault(a, 'type', 'IPAddress');
  if (!isObj(gw.status)) gw.status = { conditions: [pendingCondition('Accepted'), pendingCondition('Programmed')] };
}

export function defaultHTTPRoute(route: Obj): void {
  const spec = ensureObj(route, 'spec');
  defaultParentRefs(spec);
  if (!Array.isArray(spec.rules)) spec.rules = [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }];
  for (const rule of objItems(spec, 'rules')) {
    if (!Array.isArray(rule.matches)) rule.matches = [{ path: { type: 'PathPrefix', value: '/' } }];
    for (const m of objItems(rule, 'matches')) {
      const p = ensureObj(m, 'path');
      setDefault(p, 'type', 'PathPrefix');
      setDefault(p, 'value', '/');
      for (const h of objItems(m, 'headers')) setDefault(h, 'type', 'Exact');
      for (const q of objItems(m, 'queryParams')) setDefault(q, 'type', 'Exact');
    }
    defaultHTTPFilters(objItems(rule, 'filters'));
    for (const b of objItems(rule, 'backendRefs')) {
      defaultBackendRef(b, true);
      defaultHTTPFilters(objItems(b, 'filters'));
    }
  }
}

export function defaultGRPCRoute(route: Obj): void {
  const spec = ensureObj(route, 'spec');
  defaultParentRefs(spec);
  for (const rule of objItems(spec, 'rules')) {
    for (const m of objItems(rule, 'matches')) {
      if (isObj(m.method)) setDefault(m.method, 'type', 'Exact');
      for (const h of objItems(m, 'headers')) setDefault(h, 'type', 'Exact');
    }
    for (const b of objItems(rule, 'backendRefs')) defaultBackendRef(b, true);
  }
}

/** TCPRoute, UDPRoute, TLSRoute. */
export function defaultL4Route(route: Obj): void {
  const spec = ensureObj(route, 'spec');
  defaultParentRefs(spec);
  for (const rule of objItems(spec, 'rules')) for (const b of objItems(rule, 'backendRefs')) defaultBackendRef(b, true);
}
