// Field errors worded as upstream's k8s.io/apimachinery/pkg/util/validation/field package words them.
import type { FieldError } from './index.js';

/** A field path under construction: spec.ports[0].port, metadata.labels[app]. */
export class FieldPath {
  private constructor(private readonly text: string) {}

  static root(name: string): FieldPath {
    return new FieldPath(name);
  }

  child(...names: string[]): FieldPath {
    let text = this.text;
    for (const name of names) text = text === '' ? name : `${text}.${name}`;
    return new FieldPath(text);
  }

  index(i: number): FieldPath {
    return new FieldPath(`${this.text}[${i}]`);
  }

  key(k: string): FieldPath {
    return new FieldPath(`${this.text}[${k}]`);
  }

  toString(): string {
    return this.text;
  }
}

export function path(root: string, ...names: string[]): FieldPath {
  return FieldPath.root(root).child(...names);
}

/** Renders a bad value as Go's field.Error does: numbers and bools plain, strings quoted, the rest as Go syntax. */
export function renderValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  return goSyntax(value);
}

/** Approximates Go's %#v for the JSON shapes validation reports (maps of strings, string lists, selectors). */
export function goSyntax(value: unknown): string {
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((v) => typeof v === 'string')) return `[]string{${value.map((v) => JSON.stringify(v)).join(', ')}}`;
    return `[]interface {}{${value.map(goSyntax).join(', ')}}`;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.every(([, v]) => typeof v === 'string')) {
      return `map[string]string{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(', ')}}`;
    }
    return `map[string]interface {}{${entries.map(([k, v]) => `${JSON.stringify(k)}:${goSyntax(v)}`).join(', ')}}`;
  }
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Go's %#v of a map[string]string that may be nil. */
export function goStringMap(value: Record<string, string> | undefined): string {
  return value === undefined ? 'map[string]string(nil)' : goSyntax(value);
}

function withDetail(body: string, detail: string): string {
  return detail ? `${body}: ${detail}` : body;
}

export function required(field: FieldPath, detail = ''): FieldError {
  return { type: 'FieldValueRequired', field: String(field), message: withDetail('Required value', detail) };
}

export function invalid(field: FieldPath, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field: String(field), message: withDetail(`Invalid value: ${renderValue(value)}`, detail) };
}

/** Invalid with a value already rendered (for Go structs we spell out by hand). */
export function invalidRendered(field: FieldPath, rendered: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field: String(field), message: withDetail(`Invalid value: ${rendered}`, detail) };
}

export function notSupported(field: FieldPath, value: unknown, supported: readonly string[]): FieldError {
  const detail = supported.length ? `supported values: ${supported.map((v) => JSON.stringify(v)).join(', ')}` : '';
  return { type: 'FieldValueNotSupported', field: String(field), message: withDetail(`Unsupported value: ${renderValue(value)}`, detail) };
}

export function notSupportedRendered(field: FieldPath, rendered: string, supported: readonly string[]): FieldError {
  const detail = supported.length ? `supported values: ${supported.map((v) => JSON.stringify(v)).join(', ')}` : '';
  return { type: 'FieldValueNotSupported', field: String(field), message: withDetail(`Unsupported value: ${rendered}`, detail) };
}

export function duplicate(field: FieldPath, value: unknown): FieldError {
  return { type: 'FieldValueDuplicate', field: String(field), message: `Duplicate value: ${renderValue(value)}` };
}

export function duplicateRendered(field: FieldPath, rendered: string): FieldError {
  return { type: 'FieldValueDuplicate', field: String(field), message: `Duplicate value: ${rendered}` };
}

export function forbidden(field: FieldPath, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field: String(field), message: withDetail('Forbidden', detail) };
}

export function tooLong(field: FieldPath, maxLength: number): FieldError {
  return { type: 'FieldValueTooLong', field: String(field), message: `Too long: may not be more than ${maxLength} ${maxLength === 1 ? 'byte' : 'bytes'}` };
}

export function tooMany(field: FieldPath, actual: number, max: number): FieldError {
  return { type: 'FieldValueTooMany', field: String(field), message: `Too many: ${actual}: must have at most ${max} ${max === 1 ? 'item' : 'items'}` };
}

export function typeInvalid(field: FieldPath, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueTypeInvalid', field: String(field), message: withDetail(`Invalid value: ${renderValue(value)}`, detail) };
}

/** upstream's ValidateImmutableField */
export const FIELD_IMMUTABLE = 'field is immutable';
