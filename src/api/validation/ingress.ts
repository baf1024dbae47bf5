// networking.k8s.io/v1 Ingress and IngressClass validation (upstream's pkg/apis/networking/validation).
import type { KubeObject } from '../types.js';
import type { Obj } from './defaults/util.js';
import { FIELD_IMMUTABLE, type FieldPath, forbidden, invalid, invalidRendered, notSupported, path, required, tooLong } from './errors.js';
import type { FieldError } from './index.js';
import { isDNS1035Label, isDNS1123Subdomain, isValidPortName, isValidPortNum, isWildcardDNS1123Subdomain, parseIP } from './names.js';

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];

function validateHost(host: string, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (parseIP(host)) errs.push(invalid(fld, host, 'must be a DNS name, not an IP address'));
  const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
  for (const msg of msgs) errs.push(invalid(fld, host, msg));
  return errs;
}

function validateTypedLocalRef(ref: Obj, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!ref.name) errs.push(required(fld.child('name'), ''));
  if (!ref.kind) errs.push(required(fld.child('kind'), ''));
  if (ref.apiGroup) for (const msg of isDNS1123Subdomain(ref.apiGroup)) errs.push(invalid(fld.child('apiGroup'), ref.apiGroup, msg));
  return errs;
}

export function validateIngressBackend(backend: Obj | undefined, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const b = backend ?? {};
  const hasResource = b.resource !== undefined && b.resource !== null;
  const hasService = b.service !== undefined && b.service !== null;
  if (hasResource && hasService) return [invalid(fld, '', 'cannot set both resource and service backends')];
  if (hasResource) return validateTypedLocalRef(b.resource, fld.child('resource'));
  if (!hasService) return [invalid(fld, '', 'resource or service backend is required')];
  const svc = b.service as Obj;
  if (!svc.name) errs.push(required(fld.child('service', 'name'), ''));
  else for (const msg of isDNS1035Label(svc.name)) errs.push(invalid(fld.child('service', 'name'), svc.name, msg));
  const port = (svc.port ?? {}) as Obj;
  const hasName = typeof port.name === 'string' && port.name.length > 0;
  const hasNumber = typeof port.number === 'number' && port.number !== 0;
  if (hasName && hasNumber) errs.push(invalid(fld, '', 'cannot set both port name & port number'));
  else if (hasName) for (const msg of isValidPortName(port.name)) errs.push(invalid(fld.child('service', 'port', 'name'), port.name, msg));
  else if (hasNumber) for (const msg of isValidPortNum(port.number)) errs.push(invalid(fld.child('service', 'port', 'number'), port.number, msg));
  else errs.push(required(fld, 'port name or number is required'));
  return errs;
}

function validatePath(p: Obj, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const value = typeof p.path === 'string' ? p.path : '';
  if (p.pathType === undefined || p.pathType === null) return [required(fld.child('pathType'), 'pathType must be specified')];
  switch (p.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!value.startsWith('/')) errs.push(invalid(fld.child('path'), value, 'must be an absolute path'));
      if (value.length > 0) {
        for (const seq of INVALID_PATH_SEQUENCES) if (value.includes(seq)) errs.push(invalid(fld.child('path'), value, `must not contain '${seq}'`));
        for (const suf of INVALID_PATH_SUFFIXES) if (value.endsWith(suf)) errs.push(invalid(fld.child('path'), value, `cannot end with '${suf}'`));
      }
      break;
    case 'ImplementationSpecific':
      if (value.length > 0 && !value.startsWith('/')) errs.push(invalid(fld.child('path'), value, 'must be an absolute path'));
      break;
    default:
      errs.push(notSupported(fld.child('pathType'), p.pathType, PATH_TYPES));
  }
  errs.push(...validateIngressBackend(p.backend, fld.child('backend')));
  return errs;
}

export function validateIngress(ing: KubeObject): FieldError[] {
  const spec = (ing.spec ?? {}) as Obj;
  const fld = path('spec');
  const errs: FieldError[] = [];
  const rules: Obj[] = Array.isArray(spec.rules) ? spec.rules : [];
  if (rules.length === 0 && !spec.defaultBackend) {
    errs.push(invalidRendered(fld, spec.rules === undefined ? '[]networking.IngressRule(nil)' : '[]networking.IngressRule{}', 'either `defaultBackend` or `rules` must be specified'));
  }
  if (spec.defaultBackend) errs.push(...validateIngressBackend(spec.defaultBackend, fld.child('defaultBackend')));
  rules.forEach((rule, i) => {
    const rf = fld.child('rules').index(i);
    if (typeof rule.host === 'string' && rule.host.length > 0) errs.push(...validateHost(rule.host, rf.child('host')));
    if (rule.http) {
      const paths: Obj[] = Array.isArray(rule.http.paths) ? rule.http.paths : [];
      if (paths.length === 0) errs.push(required(rf.child('http', 'paths'), ''));
      paths.forEach((p, j) => errs.push(...validatePath(p ?? {}, rf.child('http', 'paths').index(j))));
    }
  });
  (Array.isArray(spec.tls) ? spec.tls : []).forEach((t: Obj, i: number) => {
    (Array.isArray(t?.hosts) ? t.hosts : []).forEach((h: string, j: number) => {
      const hf = fld.child('tls').index(i).child('hosts').index(j);
      const msgs = String(h).includes('*') ? isWildcardDNS1123Subdomain(String(h)) : isDNS1123Subdomain(String(h));
      for (const msg of msgs) errs.push(invalid(hf, h, msg));
    });
    if (t?.secretName) for (const msg of isDNS1123Subdomain(t.secretName)) errs.push(invalid(fld.child('tls').index(i).child('secretName'), t.secretName, msg));
  });
  if (spec.ingressClassName !== undefined && spec.ingressClassName !== null) {
    for (const msg of isDNS1123Subdomain(String(spec.ingressClassName))) errs.push(invalid(fld.child('ingressClassName'), spec.ingressClassName, msg));
  }
  return errs;
}

const MAX_CONTROLLER_LEN = 250;

export function validateIngressClass(ic: KubeObject): FieldError[] {
  const spec = (ic.spec ?? {}) as Obj;
  const fld = path('spec');
  const errs: FieldError[] = [];
  const controller = typeof spec.controller === 'string' ? spec.controller : '';
  if (!controller) errs.push(required(fld.child('controller'), ''));
  else {
    if (controller.length > MAX_CONTROLLER_LEN) errs.push(tooLong(fld.child('controller'), MAX_CONTROLLER_LEN));
    const slash = controller.indexOf('/');
    if (slash < 0) errs.push(invalid(fld.child('controller'), controller, 'must be a domain-prefixed path (such as "acme.io/foo")'));
    else for (const msg of isDNS1123Subdomain(controller.slice(0, slash))) errs.push(invalid(fld.child('controller'), controller, msg));
  }
  const params = spec.parameters as Obj | undefined;
  if (params) {
    const pf = fld.child('parameters');
    if (!params.kind) errs.push(required(pf.child('kind'), ''));
    if (!params.name) errs.push(required(pf.child('name'), ''));
    if (params.apiGroup) for (const msg of isDNS1123Subdomain(params.apiGroup)) errs.push(invalid(pf.child('apiGroup'), params.apiGroup, msg));
    const scope = params.scope;
    if (scope === undefined) errs.push(required(pf.child('scope'), ''));
    else if (scope === 'Namespace') {
      if (!params.namespace) errs.push(required(pf.child('namespace'), "`parameters.scope` is set to 'Namespace'"));
    } else if (scope === 'Cluster') {
      if (params.namespace) errs.push(forbidden(pf.child('namespace'), "`parameters.scope` is set to 'Cluster'"));
    } else errs.push(notSupported(pf.child('scope'), scope, ['Cluster', 'Namespace']));
  }
  return errs;
}

export function validateIngressClassUpdate(ic: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateIngressClass(ic);
  const now = (ic.spec as Obj | undefined)?.controller;
  const before = (old.spec as Obj | undefined)?.controller;
  if (now !== before) errs.push(invalid(path('spec', 'controller'), now ?? '', FIELD_IMMUTABLE));
  return errs;
}
