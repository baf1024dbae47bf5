// The field-type graph of served kinds: what unknown-field detection walks and what strategic merge
// patch and server-side apply read their list strategies and keys from.

export interface ListMeta {
  /** SMP patchStrategy "merge": items are merged by `mergeKey` (or as a set when the items are scalars). */
  merge?: boolean;
  mergeKey?: string;
  /** SSA list type: map (keys `mapKeys`), set, or atomic (the default). */
  listType?: 'map' | 'set' | 'atomic';
  mapKeys?: string[];
  /** SMP patchStrategy "retainKeys" on the items (volumes). */
  retainKeys?: boolean;
}

/**
 * The Go type behind a scalar field, for typed decoding: JSON strings, integers of a width, floats,
 * booleans, times (RFC 3339 strings), int-or-string, resource quantities (strings or numbers) and
 * base64 bytes. Absent: any scalar.
 */
export type ScalarKind = 'string' | 'int32' | 'int64' | 'float' | 'bool' | 'time' | 'intOrString' | 'quantity' | 'bytes';

export type FieldType =
  | { t: 'scalar'; kind?: ScalarKind }
  /** Free-form content (fieldsV1, RawExtension): nothing below it is checked. */
  | { t: 'any' }
  | { t: 'map'; value: FieldType }
  | ({ t: 'list'; item: FieldType } & ListMeta)
  /** atomic: SSA owns and replaces the struct as one value (LabelSelector, object references). */
  | { t: 'object'; ref: () => ObjectSchema; retainKeys?: boolean; atomic?: boolean; model?: string };

export interface ObjectSchema {
  fields: Record<string, FieldType>;
  /** The Go struct's name (DeploymentSpec), for decoding errors as upstream words them. */
  goName?: string;
}

export const SCALAR: FieldType = { t: 'scalar' };
export const ANY: FieldType = { t: 'any' };

export function obj(fields: Record<string, FieldType>, opts: { retainKeys?: boolean } = {}): FieldType {
  const schema: ObjectSchema = { fields };
  return { t: 'object', ref: () => schema, ...opts };
}

export function list(item: FieldType, meta: ListMeta = {}): FieldType {
  return { t: 'list', item, ...meta };
}

export function map(value: FieldType = SCALAR): FieldType {
  return { t: 'map', value };
}

/** The fields of an object type (empty for anything else). */
export function fieldsOf(ft: FieldType | undefined): Record<string, FieldType> {
  return ft && ft.t === 'object' ? ft.ref().fields : {};
}
