// Defaulting and validation of every served kind,
// as upstream Kubernetes does them. The API server calls these on create/update/patch.
import type { ResourceInfo } from '../resources.js';
import type { KubeObject } from '../types.js';
import { defaultsFor } from './defaults/index.js';
import { type KindRules, rulesFor } from './kinds.js';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { unknownFields } from '../schema/unknown.js';

/** Upstream's field.ErrorType names, used as metav1.StatusCause reasons. */
export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotFound';

export interface FieldError {
  type: FieldErrorType;
  /** Upstream field path: spec.ports[0].port, metadata.name, spec.rules[0].http.paths[0].pathType */
  field: string;
  /** The cause message as upstream words it: 'Required value', 'Invalid value: 0: must be between 1 and 65535, inclusive' */
  message: string;
}

/**
 * A custom resource (it carries the field type of its CRD's schema) gets no built-in kind's
 * defaults or rules, even when its kind is named like one (Istio's Gateway, a CRD's Service).
 */
function isCustomResource(r: ResourceInfo): boolean {
  return (r as { fieldType?: unknown }).fieldType !== undefined;
}

/** Fills the defaults upstream's defaulting functions set (mutates obj). */
export function applyDefaults(r: ResourceInfo, obj: KubeObject): void {
  if (!isCustomResource(r)) defaultsFor(r)?.(obj as Record<string, any>);
}

/** Custom resource names are DNS subdomains; their schema checks live with their CRD (src/apiserver/crd). */
const CUSTOM_RESOURCE_RULES: KindRules = { name: nameIsDNSSubdomain };

/** Validates a new object (after defaulting). */
export function validateCreate(r: ResourceInfo, obj: KubeObject): FieldError[] {
  const rules = isCustomResource(r) ? CUSTOM_RESOURCE_RULES : rulesFor(r.kind);
  return [...validateObjectMeta(obj.metadata, { namespaced: r.namespaced, validateName: rules.name }), ...(rules.create?.(obj) ?? [])];
}

/** Validates an update against the stored object (immutable fields included). */
export function validateUpdate(r: ResourceInfo, obj: KubeObject, old: KubeObject): FieldError[] {
  const rules = isCustomResource(r) ? CUSTOM_RESOURCE_RULES : rulesFor(r.kind);
  const spec = rules.update ? rules.update(obj, old) : (rules.create?.(obj) ?? []);
  return [...validateObjectMetaUpdate(obj, old, { namespaced: r.namespaced, validateName: rules.name }), ...spec];
}

/**
 * For fieldValidation=Strict/Warn: the paths of fields the kind does not have, as upstream's strict
 * decoder words them (`spec.foo`, `spec.containers[0].bogus`; the server reports `unknown field "<path>"`).
 */
export function findUnknownFields(r: ResourceInfo, obj: KubeObject): string[] {
  return unknownFields(r, obj);
}
