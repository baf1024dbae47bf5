// CONTRACT (owned by the api-semantics work): defaulting and validation of every served kind,
// as upstream Kubernetes does them. The API server calls these on create/update/patch.
import type { ResourceInfo } from '../resources.js';
import type { KubeObject } from '../types.js';

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

/** Fills the defaults upstream's defaulting functions set (mutates obj). */
export function applyDefaults(_r: ResourceInfo, _obj: KubeObject): void {
  throw new Error('applyDefaults: not implemented yet');
}

/** Validates a new object (after defaulting). */
export function validateCreate(_r: ResourceInfo, _obj: KubeObject): FieldError[] {
  throw new Error('validateCreate: not implemented yet');
}

/** Validates an update against the stored object (immutable fields included). */
export function validateUpdate(_r: ResourceInfo, _obj: KubeObject, _old: KubeObject): FieldError[] {
  throw new Error('validateUpdate: not implemented yet');
}

/** For fieldValidation=Strict/Warn: the paths of fields the kind does not have, as upstream words them (`.spec.foo`). */
export function findUnknownFields(_r: ResourceInfo, _obj: KubeObject): string[] {
  throw new Error('findUnknownFields: not implemented yet');
}
