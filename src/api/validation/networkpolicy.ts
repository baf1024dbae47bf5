// networking.k8s.io/v1 NetworkPolicy validation (upstream's ValidateNetworkPolicySpec, Port, Peer, IPBlock).
import type { KubeObject } from '../types.js';
import type { Obj } from './defaults/util.js';
import { type FieldPath, forbidden, invalid, notSupported, path, required } from './errors.js';
import type { FieldError } from './index.js';
import { isValidCIDR, isValidPortName, isValidPortNum, parseCIDR, cidrContains } from './names.js';
import { validateLabelSelector } from './selectors.js';

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const POLICY_TYPES = ['Ingress', 'Egress'];

function validatePort(port: Obj, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (port.protocol !== undefined && port.protocol !== null && !PROTOCOLS.includes(port.protocol)) {
    errs.push(notSupported(fld.child('protocol'), port.protocol, PROTOCOLS));
  }
  const hasEnd = port.endPort !== undefined && port.endPort !== null;
  if (port.port !== undefined && port.port !== null) {
    if (typeof port.port === 'number') {
      for (const msg of isValidPortNum(port.port)) errs.push(invalid(fld.child('port'), port.port, msg));
      if (hasEnd) {
        if (port.endPort < port.port) errs.push(invalid(fld.child('endPort'), port.port, 'must be greater than or equal to `port`'));
        for (const msg of isValidPortNum(port.endPort)) errs.push(invalid(fld.child('endPort'), port.endPort, msg));
      }
    } else {
      if (hasEnd) errs.push(invalid(fld.child('endPort'), port.endPort, 'may not be specified when `port` is non-numeric'));
      for (const msg of isValidPortName(String(port.port))) errs.push(invalid(fld.child('port'), port.port, msg));
    }
  } else if (hasEnd) {
    errs.push(invalid(fld.child('endPort'), port.endPort, 'may not be specified when `port` is not specified'));
  }
  return errs;
}

function validateIPBlock(ipb: Obj, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!ipb.cidr) return [required(fld.child('cidr'), '')];
  for (const msg of isValidCIDR(String(ipb.cidr))) errs.push(invalid(fld.child('cidr'), ipb.cidr, msg));
  const outer = parseCIDR(String(ipb.cidr));
  (Array.isArray(ipb.except) ? ipb.except : []).forEach((ex: unknown, i: number) => {
    const ef = fld.child('except').index(i);
    const msgs = isValidCIDR(String(ex));
    for (const msg of msgs) errs.push(invalid(ef, ex, msg));
    const inner = parseCIDR(String(ex));
    if (!outer || !inner) return;
    if (!cidrContains(outer, inner) || inner.prefix <= outer.prefix) errs.push(invalid(ef, ex, 'must be a strict subset of `cidr`'));
  });
  return errs;
}

function validatePeer(peer: Obj, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  if (peer.podSelector) {
    n++;
    errs.push(...validateLabelSelector(peer.podSelector, fld.child('podSelector')));
  }
  if (peer.namespaceSelector) {
    n++;
    errs.push(...validateLabelSelector(peer.namespaceSelector, fld.child('namespaceSelector')));
  }
  if (peer.ipBlock) {
    n++;
    errs.push(...validateIPBlock(peer.ipBlock, fld.child('ipBlock')));
  }
  if (n === 0) errs.push(required(fld, 'must specify a peer'));
  else if (n > 1 && peer.ipBlock) errs.push(forbidden(fld, 'may not specify both ipBlock and another peer'));
  return errs;
}

function validateRules(rules: unknown, fld: FieldPath, peerKey: 'from' | 'to'): FieldError[] {
  const errs: FieldError[] = [];
  (Array.isArray(rules) ? rules : []).forEach((rule: Obj, i: number) => {
    const rf = fld.index(i);
    (Array.isArray(rule?.ports) ? rule.ports : []).forEach((p: Obj, j: number) => errs.push(...validatePort(p ?? {}, rf.child('ports').index(j))));
    (Array.isArray(rule?.[peerKey]) ? rule[peerKey] : []).forEach((p: Obj, j: number) => errs.push(...validatePeer(p ?? {}, rf.child(peerKey).index(j))));
  });
  return errs;
}

export function validateNetworkPolicy(np: KubeObject): FieldError[] {
  const spec = (np.spec ?? {}) as Obj;
  const fld = path('spec');
  const errs: FieldError[] = [];
  errs.push(...validateLabelSelector(spec.podSelector, fld.child('podSelector')));
  errs.push(...validateRules(spec.ingress, fld.child('ingress'), 'from'));
  errs.push(...validateRules(spec.egress, fld.child('egress'), 'to'));
  const types: unknown[] = Array.isArray(spec.policyTypes) ? spec.policyTypes : [];
  if (types.length > POLICY_TYPES.length) {
    errs.push(invalid(fld.child('policyTypes'), types, 'may not specify more than two policyTypes'));
    return errs;
  }
  types.forEach((t, i) => {
    if (!POLICY_TYPES.includes(String(t))) errs.push(notSupported(fld.child('policyTypes').index(i), t, POLICY_TYPES));
  });
  return errs;
}
