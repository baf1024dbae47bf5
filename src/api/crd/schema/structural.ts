// The structural-schema rules kube-apiserver enforces on a CRD version's openAPIV3Schema: every
// specified field has a type (unless int-or-string or preserve-unknown-fields), the root is an
// object, properties and additionalProperties exclude each other, arrays have items, root
// metadata only constrains name and generateName, forbidden JSON-Schema features are absent,
// patterns compile, list-type map has keys, and defaults are valid and already pruned.
import type { FieldError } from '../../validation/index.js';
import type { JSONSchemaProps } from '../types.js';
import { pruneUnknownFields } from './prune.js';
import { validateAgainstSchema } from './validate.js';
import { re2SyntaxError } from '../re2.js';

const TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const FORBIDDEN = ['$ref', 'definitions', 'id', 'additionalItems', 'patternProperties', 'dependencies'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class StructuralCheck {
  readonly errors: FieldError[] = [];

  node(s: JSONSchemaProps, at: string, opts: { root?: boolean; inValueValidation?: boolean } = {}): void {
    if (!isObject(s)) {
      this.errors.push({ type: 'FieldValueTypeInvalid', field: at, message: 'Invalid value: must be a schema object' });
      return;
    }
    for (const f of FORBIDDEN) if (s[f] !== undefined) this.errors.push({ type: 'FieldValueForbidden', field: `${at}.${f}`, message: `Forbidden: ${f} is not supported` });
    if (s.uniqueItems === true) {
      this.errors.push({ type: 'FieldValueForbidden', field: `${at}.uniqueItems`, message: 'Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic' });
    }
    const intOrString = s['x-kubernetes-int-or-string'] === true;
    const preserve = s['x-kubernetes-preserve-unknown-fields'];
    if (preserve === false) this.errors.push({ type: 'FieldValueInvalid', field: `${at}.x-kubernetes-preserve-unknown-fields`, message: 'Invalid value: false: must be true or undefined' });
    if (!opts.inValueValidation) {
      if (s.type === undefined || s.type === '') {
        if (!intOrString && preserve !== true) this.errors.push({ type: 'FieldValueRequired', field: `${at}.type`, message: 'Required value: must not be empty for specified object fields' });
      } else if (!TYPES.includes(s.type)) {
        this.errors.push({ type: 'FieldValueNotSupported', field: `${at}.type`, message: `Unsupported value: ${JSON.stringify(s.type)}: supported values: ${TYPES.map((t) => JSON.stringify(t)).join(', ')}` });
      }
      if (intOrString && s.type) this.errors.push({ type: 'FieldValueInvalid', field: `${at}.type`, message: `Invalid value: ${JSON.stringify(s.type)}: must be empty if x-kubernetes-int-or-string is true` });
    }
    if (opts.root && s.type !== 'object') this.errors.push({ type: 'FieldValueInvalid', field: `${at}.type`, message: `Invalid value: ${JSON.stringify(s.type ?? '')}: must be object at the root` });
    if (s['x-kubernetes-embedded-resource'] === true && s.type !== 'object') {
      this.errors.push({ type: 'FieldValueInvalid', field: `${at}.type`, message: `Invalid value: ${JSON.stringify(s.type ?? '')}: must be object if x-kubernetes-embedded-resource is true` });
    }
    if (s.properties !== undefined && s.additionalProperties !== undefined && s.additionalProperties !== false) {
      this.errors.push({ type: 'FieldValueForbidden', field: `${at}.additionalProperties`, message: 'Forbidden: additionalProperties and properties are mutual exclusive' });
    }
    if (s.type === 'array' && !opts.inValueValidation && s.items === undefined) this.errors.push({ type: 'FieldValueRequired', field: `${at}.items`, message: 'Required value: must be specified' });
    if (s.items !== undefined && !isObject(s.items) && !Array.isArray(s.items)) this.errors.push({ type: 'FieldValueTypeInvalid', field: `${at}.items`, message: 'Invalid value: must be a schema object' });
    if (s.additionalProperties !== undefined && typeof s.additionalProperties !== 'boolean' && !isObject(s.additionalProperties)) {
      this.errors.push({ type: 'FieldValueTypeInvalid', field: `${at}.additionalProperties`, message: 'Invalid value: must be a schema object or a boolean' });
    }
    if (Array.isArray(s.items)) this.errors.push({ type: 'FieldValueForbidden', field: `${at}.items`, message: 'Forbidden: items must be a schema object and not an array' });
    if (s.pattern !== undefined) {
      const why = typeof s.pattern === 'string' ? re2SyntaxError(s.pattern) : 'must be a string';
      if (why !== undefined) this.errors.push({ type: 'FieldValueInvalid', field: `${at}.pattern`, message: `Invalid value: ${JSON.stringify(s.pattern)}: must be a valid regular expression, but isn't: ${why}` });
    }
    if (s['x-kubernetes-list-type'] !== undefined) this.listType(s, at);
    for (const [k, p] of Object.entries(s.properties ?? {})) {
      if (opts.root && k === 'metadata') this.rootMetadata(p, `${at}.properties[metadata]`);
      else this.node(p, `${at}.properties[${k}]`, { inValueValidation: opts.inValueValidation });
    }
    if (isObject(s.additionalProperties)) this.node(s.additionalProperties as JSONSchemaProps, `${at}.additionalProperties`, { inValueValidation: opts.inValueValidation });
    if (isObject(s.items)) this.node(s.items as JSONSchemaProps, `${at}.items`, { inValueValidation: opts.inValueValidation });
    for (const k of ['allOf', 'anyOf', 'oneOf'] as const) (s[k] ?? []).forEach((sub, i) => this.node(sub, `${at}.${k}[${i}]`, { inValueValidation: true }));
    if (s.not) this.node(s.not, `${at}.not`, { inValueValidation: true });
  }

  private listType(s: JSONSchemaProps, at: string): void {
    const t = s['x-kubernetes-list-type'];
    if (!['atomic', 'set', 'map'].includes(t as string)) {
      this.errors.push({ type: 'FieldValueNotSupported', field: `${at}.x-kubernetes-list-type`, message: `Unsupported value: ${JSON.stringify(t)}: supported values: "atomic", "set", "map"` });
      return;
    }
    if (s.type !== 'array') this.errors.push({ type: 'FieldValueInvalid', field: `${at}.type`, message: `Invalid value: ${JSON.stringify(s.type ?? '')}: must be array if x-kubernetes-list-type is specified` });
    const keys = s['x-kubernetes-list-map-keys'];
    if (t === 'map' && (!keys || keys.length === 0)) {
      this.errors.push({ type: 'FieldValueRequired', field: `${at}.x-kubernetes-list-map-keys`, message: 'Required value: must not be empty if x-kubernetes-list-type is map' });
    }
    if (t !== 'map' && keys !== undefined) {
      this.errors.push({ type: 'FieldValueForbidden', field: `${at}.x-kubernetes-list-map-keys`, message: 'Forbidden: must be empty if x-kubernetes-list-type is not map' });
    }
  }

  /** Root metadata may only be an object constraining name and generateName. */
  private rootMetadata(s: JSONSchemaProps, at: string): void {
    if (s.type !== undefined && s.type !== 'object') this.errors.push({ type: 'FieldValueInvalid', field: `${at}.type`, message: `Invalid value: ${JSON.stringify(s.type)}: must be object` });
    for (const k of Object.keys(s.properties ?? {})) {
      if (k !== 'name' && k !== 'generateName') this.errors.push({ type: 'FieldValueForbidden', field: `${at}.properties[${k}]`, message: 'Forbidden: must not be specified' });
    }
  }
}

/** Defaults must be valid against their own schema and contain no field that pruning would drop. */
function checkDefaults(s: JSONSchemaProps, at: string, out: FieldError[]): void {
  if (!isObject(s)) return;
  if (s.default !== undefined) {
    if (isObject(s.default)) {
      const pruned = pruneUnknownFields(JSON.parse(JSON.stringify(s.default)) as Record<string, unknown>, { ...s, 'x-kubernetes-embedded-resource': false });
      if (pruned.length > 0) out.push({ type: 'FieldValueInvalid', field: `${at}.default`, message: `Invalid value: ${JSON.stringify(s.default)}: must not have unknown fields, got ${pruned.map((p) => JSON.stringify(p)).join(', ')}` });
    }
    for (const e of validateAgainstSchema(s, s.default, `${at}.default`)) out.push(e);
  }
  for (const [k, p] of Object.entries(s.properties ?? {})) checkDefaults(p, `${at}.properties[${k}]`, out);
  if (isObject(s.additionalProperties)) checkDefaults(s.additionalProperties as JSONSchemaProps, `${at}.additionalProperties`, out);
  if (isObject(s.items)) checkDefaults(s.items as JSONSchemaProps, `${at}.items`, out);
}

/** The errors of an openAPIV3Schema at `at` (spec.versions[0].schema.openAPIV3Schema). */
export function validateStructuralSchema(schema: JSONSchemaProps, at: string): FieldError[] {
  const c = new StructuralCheck();
  c.node(schema, at, { root: true });
  if (c.errors.length > 0) return c.errors;
  const out: FieldError[] = [];
  checkDefaults(schema, at, out);
  return out;
}
