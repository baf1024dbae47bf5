// ConfigMap, Secret, Node, Namespace and Lease validation (upstream's pkg/apis/core/validation and
// pkg/apis/coordination/validation).
import type { KubeObject } from '../types.js';
import type { Obj } from './defaults/util.js';
import { FIELD_IMMUTABLE, type FieldPath, forbidden, invalid, notSupported, path, required, tooLong } from './errors.js';
import type { FieldError } from './index.js';
import { isConfigMapKey, isQualifiedName, isValidCIDR, isValidLabelValue } from './names.js';

export const MAX_SECRET_SIZE = 1024 * 1024;

function validateKeys(map: unknown, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of Object.keys((map as Obj | undefined) ?? {})) for (const m of isConfigMapKey(key)) errs.push(invalid(fld.key(key), key, m));
  return errs;
}

function base64Size(v: unknown): number {
  return typeof v === 'string' ? Buffer.from(v, 'base64').length : 0;
}

export function validateConfigMap(cm: KubeObject): FieldError[] {
  const o = cm as Obj;
  const errs = [...validateKeys(o.data, path('data')), ...validateKeys(o.binaryData, path('binaryData'))];
  let total = 0;
  for (const v of Object.values((o.data as Obj | undefined) ?? {})) total += Buffer.byteLength(String(v));
  for (const [k, v] of Object.entries((o.binaryData as Obj | undefined) ?? {})) {
    total += base64Size(v);
    if (o.data && Object.prototype.hasOwnProperty.call(o.data, k)) errs.push(invalid(path('binaryData').key(k), k, 'duplicate of key present in data'));
  }
  if (total > MAX_SECRET_SIZE) errs.push(tooLong(path('[]'), MAX_SECRET_SIZE));
  return errs;
}

function immutableData(obj: Obj, old: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (old.immutable !== true) return errs;
  if (obj.immutable !== true) errs.push(forbidden(path('immutable'), 'field is immutable when `immutable` is set'));
  if (JSON.stringify(obj.data ?? {}) !== JSON.stringify(old.data ?? {})) errs.push(forbidden(path('data'), 'field is immutable when `immutable` is set'));
  if (JSON.stringify(obj.binaryData ?? {}) !== JSON.stringify(old.binaryData ?? {})) errs.push(forbidden(path('binaryData'), 'field is immutable when `immutable` is set'));
  return errs;
}

export function validateConfigMapUpdate(cm: KubeObject, old: KubeObject): FieldError[] {
  return [...validateConfigMap(cm), ...immutableData(cm as Obj, old as Obj)];
}

const SECRET_REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

export function validateSecret(secret: KubeObject): FieldError[] {
  const o = secret as Obj;
  const data = (o.data as Obj | undefined) ?? {};
  const errs = validateKeys(data, path('data'));
  let total = 0;
  for (const v of Object.values(data)) total += base64Size(v);
  if (total > MAX_SECRET_SIZE) errs.push(tooLong(path('data'), MAX_SECRET_SIZE));
  for (const key of SECRET_REQUIRED_KEYS[o.type] ?? []) if (!(key in data)) errs.push(required(path('data').key(key), ''));
  if (o.type === 'kubernetes.io/service-account-token' && !secret.metadata?.annotations?.['kubernetes.io/service-account.name']) {
    errs.push(required(path('metadata', 'annotations').key('kubernetes.io/service-account.name'), ''));
  }
  if (o.type === 'kubernetes.io/basic-auth' && !('username' in data) && !('password' in data)) {
    errs.push(required(path('data').key('username'), 'either username or password is required'));
  }
  return errs;
}

export function validateSecretUpdate(secret: KubeObject, old: KubeObject): FieldError[] {
  const errs = [...validateSecret(secret), ...immutableData(secret as Obj, old as Obj)];
  if ((secret as Obj).type !== (old as Obj).type) errs.push(invalid(path('type'), (secret as Obj).type ?? '', FIELD_IMMUTABLE));
  return errs;
}

const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];

export function validateNode(node: KubeObject): FieldError[] {
  const spec = ((node as Obj).spec ?? {}) as Obj;
  const errs: FieldError[] = [];
  const cidrs: string[] = Array.isArray(spec.podCIDRs) ? spec.podCIDRs : [];
  cidrs.forEach((c, i) => {
    if (isValidCIDR(String(c)).length) errs.push(invalid(path('spec', 'podCIDRs').index(i), cidrs, 'must be a valid CIDR'));
  });
  if (cidrs.length > 2) errs.push(invalid(path('spec', 'podCIDRs'), cidrs, 'may specify no more than one CIDR for each IP family'));
  if (spec.podCIDR && isValidCIDR(String(spec.podCIDR)).length) errs.push(invalid(path('spec', 'podCIDR'), spec.podCIDR, 'must be a valid CIDR'));
  if (spec.podCIDR && cidrs.length && cidrs[0] !== spec.podCIDR) errs.push(invalid(path('spec', 'podCIDRs'), cidrs, 'must match the value of `podCIDR`'));
  const seen = new Set<string>();
  (Array.isArray(spec.taints) ? spec.taints : []).forEach((t: Obj, i: number) => {
    const tf = path('spec', 'taints').index(i);
    for (const m of isQualifiedName(String(t?.key ?? ''))) errs.push(invalid(tf.child('key'), t?.key ?? '', m));
    if (t?.value) for (const m of isValidLabelValue(String(t.value))) errs.push(invalid(tf.child('value'), t.value, m));
    if (!t?.effect) errs.push(required(tf.child('effect'), ''));
    else if (!TAINT_EFFECTS.includes(t.effect)) errs.push(notSupported(tf.child('effect'), t.effect, TAINT_EFFECTS));
    const key = `${t?.key}/${t?.effect}`;
    if (seen.has(key)) errs.push(invalid(tf, `${t?.key}:${t?.effect}`, 'taints must be unique by key and effect pair'));
    seen.add(key);
  });
  return errs;
}

export function validateNodeUpdate(node: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateNode(node);
  const spec = ((node as Obj).spec ?? {}) as Obj;
  const oldSpec = ((old as Obj).spec ?? {}) as Obj;
  const oldCidrs: string[] = Array.isArray(oldSpec.podCIDRs) ? oldSpec.podCIDRs : [];
  const cidrs: string[] = Array.isArray(spec.podCIDRs) ? spec.podCIDRs : [];
  if (oldCidrs.length > 0 && JSON.stringify(oldCidrs) !== JSON.stringify(cidrs)) {
    errs.push(forbidden(path('spec', 'podCIDRs'), 'node updates may not change podCIDR except from "" to valid'));
  }
  if (oldSpec.providerID && spec.providerID !== oldSpec.providerID) {
    errs.push(forbidden(path('spec', 'providerID'), 'node updates may not change providerID except from "" to valid'));
  }
  return errs;
}

export function validateNamespace(ns: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const finalizers: unknown[] = Array.isArray(((ns as Obj).spec as Obj | undefined)?.finalizers) ? (ns as Obj).spec.finalizers : [];
  finalizers.forEach((f) => {
    const msgs = isQualifiedName(String(f));
    for (const m of msgs) errs.push(invalid(path('spec', 'finalizers'), f, m));
    if (!msgs.length && !String(f).includes('/') && f !== 'kubernetes') {
      errs.push(invalid(path('spec', 'finalizers'), f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  });
  return errs;
}

export function validateLease(lease: KubeObject): FieldError[] {
  const spec = ((lease as Obj).spec ?? {}) as Obj;
  const errs: FieldError[] = [];
  if (typeof spec.leaseDurationSeconds === 'number' && spec.leaseDurationSeconds <= 0) {
    errs.push(invalid(path('spec', 'leaseDurationSeconds'), spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  if (typeof spec.leaseTransitions === 'number' && spec.leaseTransitions < 0) {
    errs.push(invalid(path('spec', 'leaseTransitions'), spec.leaseTransitions, 'must be greater than or equal to 0'));
  }
  return errs;
}
