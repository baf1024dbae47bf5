// EndpointSlice (discovery.k8s.io/v1) and core/v1 Endpoints validation.
import type { KubeObject } from '../types.js';
import type { Obj } from './defaults/util.js';
import { FIELD_IMMUTABLE, type FieldPath, duplicate, invalid, notSupported, path, required, tooMany } from './errors.js';
import type { FieldError } from './index.js';
import { isDNS1123Label, isDNS1123Subdomain, isValidPortNum, parseCIDR, parseIP, cidrContains } from './names.js';
import { PORT_PROTOCOLS } from './service.js';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;

function validateAddress(addr: string, type: string, fld: FieldPath): FieldError[] {
  if (type === 'IPv4') return parseIP(addr)?.family === 4 ? [] : [invalid(fld, addr, 'must be a valid IPv4 address')];
  if (type === 'IPv6') return parseIP(addr)?.family === 6 ? [] : [invalid(fld, addr, 'must be a valid IPv6 address')];
  if (type === 'FQDN') {
    const errs = isDNS1123Subdomain(addr).map((m) => invalid(fld, addr, m));
    if (!errs.length && !addr.includes('.')) errs.push(invalid(fld, addr, 'should be a domain with at least two segments separated by dots'));
    return errs;
  }
  return [];
}

export function validateEndpointSlice(slice: KubeObject): FieldError[] {
  const s = slice as Obj;
  const errs: FieldError[] = [];
  const type = s.addressType;
  if (!type) errs.push(required(path('addressType'), ''));
  else if (!ADDRESS_TYPES.includes(type)) errs.push(notSupported(path('addressType'), type, ADDRESS_TYPES));
  const endpoints: Obj[] = Array.isArray(s.endpoints) ? s.endpoints : [];
  if (endpoints.length > MAX_ENDPOINTS) errs.push(tooMany(path('endpoints'), endpoints.length, MAX_ENDPOINTS));
  endpoints.forEach((ep, i) => {
    const ef = path('endpoints').index(i);
    const addrs: string[] = Array.isArray(ep?.addresses) ? ep.addresses : [];
    if (addrs.length === 0) errs.push(required(ef.child('addresses'), 'must contain at least 1 address'));
    else if (addrs.length > MAX_ADDRESSES) errs.push(tooMany(ef.child('addresses'), addrs.length, MAX_ADDRESSES));
    addrs.forEach((a, j) => errs.push(...validateAddress(String(a), type, ef.child('addresses').index(j))));
    if (ep?.nodeName) for (const m of isDNS1123Subdomain(ep.nodeName)) errs.push(invalid(ef.child('nodeName'), ep.nodeName, m));
    if (ep?.hostname) for (const m of isDNS1123Label(ep.hostname)) errs.push(invalid(ef.child('hostname'), ep.hostname, m));
  });
  const ports: Obj[] = Array.isArray(s.ports) ? s.ports : [];
  if (ports.length > MAX_PORTS) errs.push(tooMany(path('ports'), ports.length, MAX_PORTS));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const pf = path('ports').index(i);
    const name = typeof p?.name === 'string' ? p.name : '';
    if (name !== '') for (const m of isDNS1123Label(name)) errs.push(invalid(pf.child('name'), name, m));
    if (names.has(name)) errs.push(duplicate(pf.child('name'), name));
    names.add(name);
    if (!p?.protocol) errs.push(required(pf.child('protocol'), ''));
    else if (!PORT_PROTOCOLS.includes(p.protocol)) errs.push(notSupported(pf.child('protocol'), p.protocol, PORT_PROTOCOLS));
    if (p?.port !== undefined && p.port !== null) for (const m of isValidPortNum(p.port)) errs.push(invalid(pf.child('port'), p.port, m));
  });
  return errs;
}

export function validateEndpointSliceUpdate(slice: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateEndpointSlice(slice);
  if ((slice as Obj).addressType !== (old as Obj).addressType) errs.push(invalid(path('addressType'), (slice as Obj).addressType ?? '', FIELD_IMMUTABLE));
  return errs;
}

// Upstream also refuses loopback addresses; flatnet allows them because an API server listening
// on 127.0.0.1 advertises that address in the `kubernetes` Endpoints.
const SPECIAL_RANGES: [string, string][] = [
  ['169.254.0.0/16', 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
  ['fe80::/10', 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
  ['224.0.0.0/24', 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'],
  ['ff02::/10', 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'],
];

/** Endpoints addresses must be usable pod or node IPs (upstream's validateNonSpecialIP, loopback allowed). */
function validateEndpointIP(ip: string, fld: FieldPath): FieldError[] {
  const parsed = parseIP(ip);
  if (!parsed) return [invalid(fld, ip, 'must be a valid IP address')];
  if (parsed.bytes.every((b) => b === 0)) return [invalid(fld, ip, 'may not be unspecified (0.0.0.0)')];
  const host = { ip: parsed, prefix: parsed.family === 4 ? 32 : 128 };
  for (const [cidr, msg] of SPECIAL_RANGES) {
    const range = parseCIDR(cidr)!;
    if (cidrContains(range, host)) return [invalid(fld, ip, msg)];
  }
  return [];
}

export function validateEndpoints(ep: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const subsets: Obj[] = Array.isArray((ep as Obj).subsets) ? (ep as Obj).subsets : [];
  subsets.forEach((ss, i) => {
    const sf = path('subsets').index(i);
    for (const key of ['addresses', 'notReadyAddresses']) {
      (Array.isArray(ss?.[key]) ? ss[key] : []).forEach((a: Obj, j: number) => {
        const af = sf.child(key).index(j);
        if (!a?.ip) errs.push(required(af.child('ip'), ''));
        else errs.push(...validateEndpointIP(String(a.ip), af.child('ip')));
        if (a?.hostname) for (const m of isDNS1123Label(a.hostname)) errs.push(invalid(af.child('hostname'), a.hostname, m));
        if (a?.nodeName) for (const m of isDNS1123Subdomain(a.nodeName)) errs.push(invalid(af.child('nodeName'), a.nodeName, m));
      });
    }
    const ports: Obj[] = Array.isArray(ss?.ports) ? ss.ports : [];
    const names = new Set<string>();
    ports.forEach((p, j) => {
      const pf = sf.child('ports').index(j);
      const name = typeof p?.name === 'string' ? p.name : '';
      if (ports.length > 1 && name === '') errs.push(required(pf.child('name'), ''));
      else if (name !== '') {
        for (const m of isDNS1123Label(name)) errs.push(invalid(pf.child('name'), name, m));
        if (names.has(name)) errs.push(duplicate(pf.child('name'), name));
        names.add(name);
      }
      for (const m of isValidPortNum(p?.port)) errs.push(invalid(pf.child('port'), p?.port ?? 0, m));
      if (!p?.protocol) errs.push(required(pf.child('protocol'), ''));
      else if (!PORT_PROTOCOLS.includes(p.protocol)) errs.push(notSupported(pf.child('protocol'), p.protocol, PORT_PROTOCOLS));
    });
  });
  return errs;
}
