// ObjectMeta validation (upstream's apimachinery/pkg/api/validation/objectmeta.go): names, namespaces,
// labels, annotations, owner references, finalizers; and the metadata fields an update may not change.
import type { KubeObject, ObjectMeta } from '../types.js';
import { FIELD_IMMUTABLE, type FieldPath, forbidden, invalid, required, tooLong, path } from './errors.js';
import type { FieldError } from './index.js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from './names.js';

export type NameValidator = (name: string, prefix: boolean) => string[];

/** A generateName prefix may end in '-': upstream masks one trailing dash before checking. */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? name.slice(0, -2) + 'a' : name;
}

export const nameIsDNSSubdomain: NameValidator = (name, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
export const nameIsDNSLabel: NameValidator = (name, prefix) => isDNS1123Label(prefix ? maskTrailingDash(name) : name);
export const nameIsDNS1035Label: NameValidator = (name, prefix) => isDNS1035Label(prefix ? maskTrailingDash(name) : name);
/** Names that only need to be usable as a URL path segment (events, leases are subdomains too, but a few kinds are looser). */
export const nameIsPathSegment: NameValidator = () => [];

export function isValidPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const errs: string[] = [];
  if (name.includes('/')) errs.push("may not contain '/'");
  if (name.includes('%')) errs.push("may not contain '%'");
  return errs;
}

export function validateLabels(labels: unknown, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (labels === undefined || labels === null) return errs;
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    for (const msg of isQualifiedName(k)) errs.push(invalid(fld, k, msg));
    const value = typeof v === 'string' ? v : String(v);
    for (const msg of isValidLabelValue(value)) errs.push(invalid(fld, value, msg));
  }
  return errs;
}

export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export function validateAnnotations(annotations: unknown, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (annotations === undefined || annotations === null) return errs;
  let total = 0;
  for (const [k, v] of Object.entries(annotations as Record<string, unknown>)) {
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(invalid(fld, k, msg));
    total += Buffer.byteLength(k) + Buffer.byteLength(typeof v === 'string' ? v : String(v));
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(tooLong(fld, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

/** Upstream's standard finalizers, plus the one apiextensions-apiserver puts on a deleted CRD (its validation has no such check). */
const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion', 'customresourcecleanup.apiextensions.k8s.io']);

function validateFinalizers(finalizers: string[] | undefined, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let hasOrphan = false;
  let hasForeground = false;
  for (const f of finalizers ?? []) {
    if (f === 'orphan') hasOrphan = true;
    if (f === 'foregroundDeletion') hasForeground = true;
    const msgs = isQualifiedName(f);
    if (msgs.length) {
      for (const msg of msgs) errs.push(invalid(fld, f, msg));
    } else if (!f.includes('/') && !STANDARD_FINALIZERS.has(f)) {
      errs.push(invalid(fld, f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  }
  if (hasOrphan && hasForeground) {
    errs.push(invalid(fld, finalizers, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errs;
}

function validateOwnerReferences(refs: ObjectMeta['ownerReferences'], fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let controllers = 0;
  (refs ?? []).forEach((ref) => {
    if (!ref.apiVersion) errs.push(invalid(fld.child('apiVersion'), ref.apiVersion ?? '', 'version must not be empty'));
    if (!ref.kind) errs.push(invalid(fld.child('kind'), ref.kind ?? '', 'kind must not be empty'));
    if (!ref.name) errs.push(invalid(fld.child('name'), ref.name ?? '', 'name must not be empty'));
    if (!ref.uid) errs.push(invalid(fld.child('uid'), ref.uid ?? '', 'uid must not be empty'));
    if (ref.controller) controllers++;
  });
  if (controllers > 1) errs.push(invalid(fld, refs, 'Only one reference can have Controller set to true'));
  return errs;
}

export interface MetaRules {
  namespaced: boolean;
  validateName: NameValidator;
}

/** upstream's ValidateObjectMeta (name generation already done by the API server). */
export function validateObjectMeta(meta: ObjectMeta | undefined, rules: MetaRules): FieldError[] {
  const fld = path('metadata');
  const errs: FieldError[] = [];
  const m = meta ?? {};
  if (m.generateName) {
    for (const msg of rules.validateName(m.generateName, true)) errs.push(invalid(fld.child('generateName'), m.generateName, msg));
  }
  if (!m.name) {
    errs.push(required(fld.child('name'), 'name or generateName is required'));
  } else {
    for (const msg of rules.validateName(m.name, false)) errs.push(invalid(fld.child('name'), m.name, msg));
    for (const msg of isValidPathSegmentName(m.name)) errs.push(invalid(fld.child('name'), m.name, msg));
  }
  if (rules.namespaced) {
    if (!m.namespace) errs.push(required(fld.child('namespace'), ''));
    else for (const msg of isDNS1123Label(m.namespace)) errs.push(invalid(fld.child('namespace'), m.namespace, msg));
  } else if (m.namespace) {
    errs.push(forbidden(fld.child('namespace'), 'not allowed on this type'));
  }
  if (typeof m.generation === 'number' && m.generation < 0) errs.push(invalid(fld.child('generation'), m.generation, 'must be greater than or equal to 0'));
  errs.push(...validateLabels(m.labels, fld.child('labels')));
  errs.push(...validateAnnotations(m.annotations, fld.child('annotations')));
  errs.push(...validateOwnerReferences(m.ownerReferences, fld.child('ownerReferences')));
  errs.push(...validateFinalizers(m.finalizers, fld.child('finalizers')));
  return errs;
}

/** upstream's ValidateObjectMetaUpdate: identity fields stay as they were. */
export function validateObjectMetaUpdate(obj: KubeObject, old: KubeObject, rules: MetaRules): FieldError[] {
  const fld = path('metadata');
  const errs = validateObjectMeta(obj.metadata, rules);
  const m = obj.metadata ?? {};
  const o = old.metadata ?? {};
  const immutable: (keyof ObjectMeta)[] = ['name', 'namespace', 'uid', 'creationTimestamp'];
  for (const key of immutable) {
    if (o[key] !== undefined && m[key] !== undefined && m[key] !== o[key]) errs.push(invalid(fld.child(key), m[key], FIELD_IMMUTABLE));
  }
  if (o.deletionTimestamp && m.deletionTimestamp && o.deletionTimestamp !== m.deletionTimestamp) {
    errs.push(invalid(fld.child('deletionTimestamp'), m.deletionTimestamp, FIELD_IMMUTABLE));
  }
  if (o.deletionTimestamp) {
    const had = new Set(o.finalizers ?? []);
    const added = [...new Set((m.finalizers ?? []).filter((f) => !had.has(f)))].sort();
    if (added.length > 0) {
      errs.push(forbidden(fld.child('finalizers'), `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`));
    }
  }
  return errs;
}
