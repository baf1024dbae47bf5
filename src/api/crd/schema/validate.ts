// Validation of a custom resource against its openAPIV3Schema, with the checks and messages of
// kube-apiserver's OpenAPI validator: type, nullable, enum, minimum/maximum (exclusive),
// multipleOf, length, pattern, format, item and property counts, uniqueness, required
// properties, list-type set/map uniqueness, allOf/anyOf/oneOf/not, int-or-string and embedded
// resources. Each problem is a FieldError whose field is the path in the object (spec.replicas,
// spec.ports[1].name). On update, validation ratchets (see ratchet.ts): the errors of a part that is
// unchanged from the old object are dropped.
import type { FieldError } from '../../validation/index.js';
import type { JSONSchemaProps } from '../types.js';
import { correlateField, itemCorrelator, unchanged, type Correlated } from '../ratchet.js';
import { checkFormat } from './formats.js';
import { re2Test } from '../re2.js';

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** How upstream prints a value inside an `Invalid value:` message. */
export function quoteValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  return JSON.stringify(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  return v;
}

const childPath = (at: string, key: string): string => (at === '' ? key : `${at}.${key}`);

class Validator {
  readonly errors: FieldError[] = [];

  private invalid(at: string, value: unknown, why: string, type: FieldError['type'] = 'FieldValueInvalid'): void {
    this.errors.push({ type, field: at, message: `Invalid value: ${quoteValue(value)}: ${why}` });
  }

  /** The `<path> in body` phrase of the OpenAPI validator's messages. */
  private body(at: string): string {
    return `${at === '' ? 'body' : at} in body`;
  }

  private typeMatches(s: JSONSchemaProps, v: unknown): boolean {
    if (s['x-kubernetes-int-or-string']) return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
    switch (s.type) {
      case undefined:
      case '':
        return true;
      case 'object':
        return isObject(v);
      case 'array':
        return Array.isArray(v);
      case 'string':
        return typeof v === 'string';
      case 'integer':
        return typeof v === 'number' && Number.isInteger(v);
      case 'number':
        return typeof v === 'number';
      case 'boolean':
        return typeof v === 'boolean';
      default:
        return true;
    }
  }

  /** `old`: the old value correlated with `v` (update only); errors of an unchanged part are dropped. */
  validate(s: JSONSchemaProps, v: unknown, at: string, old?: Correlated): void {
    const before = this.errors.length;
    this.check(s, v, at, old);
    if (old && !old.changed && this.errors.length > before && unchanged(s, v, old.value)) this.errors.length = before;
  }

  private check(s: JSONSchemaProps, v: unknown, at: string, old: Correlated | undefined): void {
    if (v === undefined) return;
    if (v === null) {
      if (!s.nullable && (s.type || s['x-kubernetes-int-or-string'])) {
        this.errors.push({ type: 'FieldValueTypeInvalid', field: at, message: `Invalid value: "null": ${this.body(at)} must be of type ${s.type ?? 'integer-or-string'}: "null"` });
      }
      return;
    }
    if (!this.typeMatches(s, v)) {
      const want = s['x-kubernetes-int-or-string'] ? 'integer-or-string' : s.type;
      const got = jsonType(v);
      this.errors.push({ type: 'FieldValueTypeInvalid', field: at, message: `Invalid value: ${JSON.stringify(got)}: ${this.body(at)} must be of type ${want}: ${JSON.stringify(got)}` });
      return;
    }
    const before = this.errors.length;
    this.values(s, v, at);
    if (this.errors.length > before) return;
    if (Array.isArray(v)) this.array(s, v, at, old);
    else if (isObject(v)) this.object(s, v, at, old);
    this.combinators(s, v, at, old);
  }

  private values(s: JSONSchemaProps, v: unknown, at: string): void {
    if (s.enum && s.enum.length > 0 && !s.enum.some((e) => deepEqual(e, v))) {
      this.errors.push({ type: 'FieldValueNotSupported', field: at, message: `Unsupported value: ${quoteValue(v)}: supported values: ${s.enum.map(quoteValue).join(', ')}` });
    }
    if (typeof v === 'number') {
      if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) {
        this.invalid(at, v, `${this.body(at)} should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`);
      }
      if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) {
        this.invalid(at, v, `${this.body(at)} should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`);
      }
      if (s.multipleOf !== undefined && s.multipleOf > 0 && !Number.isInteger(v / s.multipleOf)) {
        this.invalid(at, v, `${this.body(at)} should be a multiple of ${s.multipleOf}`);
      }
    }
    if (typeof v === 'string') {
      const length = [...v].length;
      if (s.maxLength !== undefined && length > s.maxLength) {
        this.errors.push({ type: 'FieldValueTooLong', field: at, message: `Too long: may not be more than ${s.maxLength} bytes` });
      }
      if (s.minLength !== undefined && length < s.minLength) this.invalid(at, v, `${this.body(at)} should be at least ${s.minLength} chars long`);
      if (s.pattern !== undefined && !re2Test(s.pattern, v)) this.invalid(at, v, `${this.body(at)} should match '${s.pattern}'`);
      if (s.format && !s['x-kubernetes-int-or-string'] && !checkFormat(s.format, v)) this.invalid(at, v, `${this.body(at)} must be of type ${s.format}: ${JSON.stringify(v)}`);
    }
  }

  private array(s: JSONSchemaProps, v: unknown[], at: string, old: Correlated | undefined): void {
    if (s.maxItems !== undefined && v.length > s.maxItems) {
      this.errors.push({ type: 'FieldValueTooMany', field: at, message: `Too many: ${v.length}: must have at most ${s.maxItems} items` });
    }
    if (s.minItems !== undefined && v.length < s.minItems) this.invalid(at, v.length, `${this.body(at)} should have at least ${s.minItems} items`);
    const listType = s['x-kubernetes-list-type'];
    if (s.uniqueItems || listType === 'set') {
      for (let i = 0; i < v.length; i++) {
        if (v.slice(0, i).some((x) => deepEqual(x, v[i]))) this.errors.push({ type: 'FieldValueDuplicate', field: `${at}[${i}]`, message: `Duplicate value: ${quoteValue(v[i])}` });
      }
    }
    if (listType === 'map' && s['x-kubernetes-list-map-keys']) {
      const keys = s['x-kubernetes-list-map-keys'];
      const seen = new Set<string>();
      v.forEach((item, i) => {
        if (!isObject(item)) return;
        const key = JSON.stringify(keys.map((k) => item[k] ?? null));
        if (seen.has(key)) {
          const shown = Object.fromEntries(keys.filter((k) => item[k] !== undefined).map((k) => [k, item[k]]));
          this.errors.push({ type: 'FieldValueDuplicate', field: `${at}[${i}]`, message: `Duplicate value: ${JSON.stringify(shown)}` });
        }
        seen.add(key);
      });
    }
    const items = s.items;
    if (items && !Array.isArray(items)) {
      const correlate = itemCorrelator(s, old);
      v.forEach((item, i) => this.validate(items, item, `${at}[${i}]`, correlate(item, i)));
    }
  }

  private object(s: JSONSchemaProps, v: Record<string, unknown>, at: string, old: Correlated | undefined): void {
    const count = Object.keys(v).length;
    if (s.maxProperties !== undefined && count > s.maxProperties) {
      this.errors.push({ type: 'FieldValueTooMany', field: at, message: `Too many: ${count}: must have at most ${s.maxProperties} items` });
    }
    if (s.minProperties !== undefined && count < s.minProperties) this.invalid(at, count, `${this.body(at)} should have at least ${s.minProperties} properties`);
    for (const name of s.required ?? []) {
      if (v[name] === undefined) this.errors.push({ type: 'FieldValueRequired', field: childPath(at, name), message: 'Required value' });
    }
    if (s['x-kubernetes-embedded-resource']) this.embedded(v, at);
    const props = s.properties ?? {};
    const additional = s.additionalProperties;
    for (const [k, child] of Object.entries(v)) {
      const ps = props[k];
      if (ps) this.validate(ps, child, childPath(at, k), correlateField(old, k));
      else if (isObject(additional)) this.validate(additional, child, childPath(at, k), correlateField(old, k));
    }
  }

  /** x-kubernetes-embedded-resource: a whole object with apiVersion, kind and valid metadata. */
  private embedded(v: Record<string, unknown>, at: string): void {
    for (const f of ['apiVersion', 'kind']) {
      if (v[f] === undefined || v[f] === '') this.errors.push({ type: 'FieldValueRequired', field: childPath(at, f), message: 'Required value: must not be empty' });
    }
    const meta = v.metadata;
    if (meta !== undefined && !isObject(meta)) {
      this.errors.push({ type: 'FieldValueTypeInvalid', field: childPath(at, 'metadata'), message: `Invalid value: ${JSON.stringify(jsonType(meta))}: must be an object` });
    }
  }

  private combinators(s: JSONSchemaProps, v: unknown, at: string, old: Correlated | undefined): void {
    for (const sub of s.allOf ?? []) this.validate(sub, v, at, old);
    if (s.anyOf && s.anyOf.length > 0 && !s.anyOf.some((sub) => passes(sub, v, at))) {
      this.invalid(at, v, `${this.body(at)} must validate at least one schema (anyOf)`);
    }
    if (s.oneOf && s.oneOf.length > 0) {
      const n = s.oneOf.filter((sub) => passes(sub, v, at)).length;
      if (n !== 1) this.invalid(at, v, `${this.body(at)} must validate one and only one schema (oneOf)${n > 1 ? '. Found ' + n + ' valid alternatives' : ''}`);
    }
    if (s.not && passes(s.not, v, at)) this.invalid(at, v, `${this.body(at)} must not validate the schema (not)`);
  }
}

function passes(s: JSONSchemaProps, v: unknown, at: string): boolean {
  const inner = new Validator();
  inner.validate(s, v, at);
  return inner.errors.length === 0;
}


/**
 * The errors of `value` (a whole custom resource, or any part at `at`) against `schema`; on update,
 * `old` is the stored value, and errors of parts unchanged from it are dropped (ratcheting).
 */
export function validateAgainstSchema(schema: JSONSchemaProps, value: unknown, at = '', old?: Correlated): FieldError[] {
  const v = new Validator();
  v.validate(schema, value, at, old);
  return v.errors;
}
