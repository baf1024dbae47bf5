// Defaulting and validation of CustomResourceDefinition objects, as apiextensions-apiserver does
// them for apiextensions.k8s.io/v1: the name is <plural>.<group>, the group is a domain with a dot
// (approved when it is a k8s.io or kubernetes.io group), names are DNS-1035 labels, exactly one
// storage version, at least one served, a structural schema per version, scale paths under .spec
// and .status, printer columns with known types and valid JSON paths.
import type { KubeObject } from '../types.js';
import type { FieldError } from '../validation/index.js';
import { validateStructuralSchema } from './schema/structural.js';
import { compileSchemaRules } from './cel/rules.js';
import type { CustomResourceDefinition, CustomResourceDefinitionSpec, CustomResourceVersion, JSONSchemaProps } from './types.js';

const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const APPROVAL_ANNOTATION = 'api-approved.kubernetes.io';
const COLUMN_TYPES = ['integer', 'number', 'string', 'boolean', 'date'];
const COLUMN_FORMATS = ['int32', 'int64', 'float', 'double', 'byte', 'date', 'date-time', 'password'];
const JSON_PATH = /^(\.[A-Za-z0-9_-]+|\[\*\]|\[\d+\]|\[\?\(@\.[A-Za-z0-9_-]+\s*==\s*["'][^"']*["']\)\]|\['[^']+'\])+$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** SetDefaults for a CRD: singular and listKind from the kind, conversion strategy None. */
export function defaultCustomResourceDefinition(obj: Record<string, any>): void {
  const spec = obj.spec;
  if (!isObject(spec)) return;
  const names = spec.names as Record<string, unknown> | undefined;
  if (isObject(names) && typeof names.kind === 'string' && names.kind !== '') {
    if (!names.singular) names.singular = names.kind.toLowerCase();
    if (!names.listKind) names.listKind = `${names.kind}List`;
  }
  if (spec.conversion === undefined) spec.conversion = { strategy: 'None' };
}

function dns1035(value: unknown, field: string, out: FieldError[]): void {
  if (typeof value !== 'string' || !DNS1035.test(value) || value.length > 63) {
    out.push({
      type: 'FieldValueInvalid',
      field,
      message: `Invalid value: ${JSON.stringify(value ?? '')}: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    });
  }
}

function validateNames(spec: CustomResourceDefinitionSpec, out: FieldError[]): void {
  const names = spec.names;
  if (!isObject(names)) {
    out.push({ type: 'FieldValueRequired', field: 'spec.names', message: 'Required value' });
    return;
  }
  if (!names.plural) out.push({ type: 'FieldValueRequired', field: 'spec.names.plural', message: 'Required value' });
  else dns1035(names.plural, 'spec.names.plural', out);
  if (names.singular) dns1035(names.singular, 'spec.names.singular', out);
  if (!names.kind) out.push({ type: 'FieldValueRequired', field: 'spec.names.kind', message: 'Required value' });
  else dns1035(String(names.kind).toLowerCase(), 'spec.names.kind', out);
  if (!names.listKind) out.push({ type: 'FieldValueRequired', field: 'spec.names.listKind', message: 'Required value' });
  else dns1035(String(names.listKind).toLowerCase(), 'spec.names.listKind', out);
  if (names.kind && names.listKind === names.kind) out.push({ type: 'FieldValueInvalid', field: 'spec.names.listKind', message: `Invalid value: ${JSON.stringify(names.listKind)}: kind and listKind may not be the same` });
  (names.shortNames ?? []).forEach((s, i) => dns1035(s, `spec.names.shortNames[${i}]`, out));
  (names.categories ?? []).forEach((s, i) => dns1035(s, `spec.names.categories[${i}]`, out));
}

function underPath(path: unknown, prefixes: string[]): boolean {
  return typeof path === 'string' && prefixes.some((p) => path.startsWith(`${p}.`)) && JSON_PATH.test(path);
}

function validateVersion(v: CustomResourceVersion, at: string, out: FieldError[]): void {
  if (!v.name) out.push({ type: 'FieldValueRequired', field: `${at}.name`, message: 'Required value' });
  else dns1035(v.name, `${at}.name`, out);
  const schema = v.schema?.openAPIV3Schema;
  if (!schema) out.push({ type: 'FieldValueRequired', field: `${at}.schema.openAPIV3Schema`, message: 'Required value: schemas are required' });
  else out.push(...validateStructuralSchema(schema, `${at}.schema.openAPIV3Schema`), ...compileSchemaRules(schema, `${at}.schema.openAPIV3Schema`).errors);
  const scale = v.subresources?.scale;
  if (scale) {
    const s = `${at}.subresources.scale`;
    if (!scale.specReplicasPath) out.push({ type: 'FieldValueRequired', field: `${s}.specReplicasPath`, message: 'Required value' });
    else if (!underPath(scale.specReplicasPath, ['.spec'])) out.push({ type: 'FieldValueInvalid', field: `${s}.specReplicasPath`, message: `Invalid value: ${JSON.stringify(scale.specReplicasPath)}: should be a json path under .spec` });
    if (!scale.statusReplicasPath) out.push({ type: 'FieldValueRequired', field: `${s}.statusReplicasPath`, message: 'Required value' });
    else if (!underPath(scale.statusReplicasPath, ['.status'])) out.push({ type: 'FieldValueInvalid', field: `${s}.statusReplicasPath`, message: `Invalid value: ${JSON.stringify(scale.statusReplicasPath)}: should be a json path under .status` });
    if (scale.labelSelectorPath && !underPath(scale.labelSelectorPath, ['.spec', '.status'])) {
      out.push({ type: 'FieldValueInvalid', field: `${s}.labelSelectorPath`, message: `Invalid value: ${JSON.stringify(scale.labelSelectorPath)}: should be a json path under either .spec or .status` });
    }
  }
  validateSelectableFields(v, at, out);
  (v.additionalPrinterColumns ?? []).forEach((c, i) => {
    const p = `${at}.additionalPrinterColumns[${i}]`;
    if (!c.name) out.push({ type: 'FieldValueRequired', field: `${p}.name`, message: 'Required value' });
    if (!COLUMN_TYPES.includes(c.type)) out.push({ type: 'FieldValueNotSupported', field: `${p}.type`, message: `Unsupported value: ${JSON.stringify(c.type ?? '')}: supported values: ${COLUMN_TYPES.map((t) => JSON.stringify(t)).join(', ')}` });
    if (c.format && !COLUMN_FORMATS.includes(c.format)) out.push({ type: 'FieldValueNotSupported', field: `${p}.format`, message: `Unsupported value: ${JSON.stringify(c.format)}: supported values: ${COLUMN_FORMATS.map((t) => JSON.stringify(t)).join(', ')}` });
    if (!c.jsonPath) out.push({ type: 'FieldValueRequired', field: `${p}.jsonPath`, message: 'Required value' });
    else if (!JSON_PATH.test(c.jsonPath.replace(/^\{(.*)\}$/, '$1'))) out.push({ type: 'FieldValueInvalid', field: `${p}.jsonPath`, message: `Invalid value: ${JSON.stringify(c.jsonPath)}: must be a simple json path starting with .` });
  });
}

/** The schema of the field a simple path (.spec.a.b) names, or undefined. */
function schemaAt(schema: JSONSchemaProps | undefined, path: string): JSONSchemaProps | undefined {
  let s = schema;
  for (const k of path.replace(/^\./, '').split('.')) s = s?.properties?.[k];
  return s;
}

const MAX_SELECTABLE_FIELDS = 8;

/** selectableFields: at most 8, distinct, each a simple path to a string, integer or boolean field outside metadata. */
function validateSelectableFields(v: CustomResourceVersion, at: string, out: FieldError[]): void {
  const fields = v.selectableFields ?? [];
  if (fields.length > MAX_SELECTABLE_FIELDS) {
    out.push({ type: 'FieldValueTooMany', field: `${at}.selectableFields`, message: `Too many: ${fields.length}: must have at most ${MAX_SELECTABLE_FIELDS} items` });
  }
  const seen = new Set<string>();
  fields.forEach((f, i) => {
    const p = `${at}.selectableFields[${i}].jsonPath`;
    const path = f?.jsonPath;
    if (!path) return void out.push({ type: 'FieldValueRequired', field: p, message: 'Required value' });
    if (seen.has(path)) out.push({ type: 'FieldValueDuplicate', field: p, message: `Duplicate value: ${JSON.stringify(path)}` });
    seen.add(path);
    if (!/^(\.[A-Za-z0-9_-]+)+$/.test(path) || path.startsWith('.metadata.')) {
      return void out.push({ type: 'FieldValueInvalid', field: p, message: `Invalid value: ${JSON.stringify(path)}: must be a simple json path to a field outside metadata, such as .spec.color` });
    }
    const target = schemaAt(v.schema?.openAPIV3Schema, path);
    if (!target) return void out.push({ type: 'FieldValueInvalid', field: p, message: `Invalid value: ${JSON.stringify(path)}: is an invalid path: does not refer to a field of the schema` });
    if (!['string', 'integer', 'boolean'].includes(target.type ?? '')) {
      out.push({ type: 'FieldValueInvalid', field: p, message: `Invalid value: ${JSON.stringify(path)}: must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.` });
    }
  });
}

function validateVersions(spec: CustomResourceDefinitionSpec, out: FieldError[]): void {
  const versions = spec.versions;
  if (!Array.isArray(versions) || versions.length === 0) {
    out.push({ type: 'FieldValueInvalid', field: 'spec.versions', message: 'Invalid value: null: must have exactly one version marked as storage version' });
    return;
  }
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    if (seen.has(v.name)) out.push({ type: 'FieldValueDuplicate', field: `spec.versions[${i}].name`, message: `Duplicate value: ${JSON.stringify(v.name)}` });
    seen.add(v.name);
    validateVersion(v, `spec.versions[${i}]`, out);
  });
  const summary = JSON.stringify(versions.map((v) => ({ name: v.name, served: v.served, storage: v.storage })));
  if (versions.filter((v) => v.storage === true).length !== 1) out.push({ type: 'FieldValueInvalid', field: 'spec.versions', message: `Invalid value: ${summary}: must have exactly one version marked as storage version` });
  if (!versions.some((v) => v.served === true)) out.push({ type: 'FieldValueInvalid', field: 'spec.versions', message: `Invalid value: ${summary}: must have at least one version marked as served` });
}

/** The errors of a CRD on create (after defaulting). */
export function validateCustomResourceDefinition(obj: KubeObject): FieldError[] {
  const out: FieldError[] = [];
  const crd = obj as CustomResourceDefinition;
  const spec = crd.spec;
  if (!isObject(spec)) return [{ type: 'FieldValueRequired', field: 'spec', message: 'Required value' }];
  const group = spec.group;
  if (!group) out.push({ type: 'FieldValueRequired', field: 'spec.group', message: 'Required value' });
  else if (!DNS1123_SUBDOMAIN.test(group)) out.push({ type: 'FieldValueInvalid', field: 'spec.group', message: `Invalid value: ${JSON.stringify(group)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` });
  else if (!group.includes('.')) out.push({ type: 'FieldValueInvalid', field: 'spec.group', message: `Invalid value: ${JSON.stringify(group)}: should be a domain with at least one dot` });
  else if ((group === 'k8s.io' || group.endsWith('.k8s.io') || group === 'kubernetes.io' || group.endsWith('.kubernetes.io')) && !obj.metadata.annotations?.[APPROVAL_ANNOTATION]) {
    out.push({
      type: 'FieldValueRequired',
      field: `metadata.annotations[${APPROVAL_ANNOTATION}]`,
      message: `Required value: protected groups must have approval annotation "${APPROVAL_ANNOTATION}", see https://github.com/kubernetes/enhancements/pull/1111`,
    });
  }
  validateNames(spec, out);
  const expectedName = `${spec.names?.plural ?? ''}.${group ?? ''}`;
  if (obj.metadata.name !== expectedName) out.push({ type: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: ${JSON.stringify(obj.metadata.name ?? '')}: must be spec.names.plural+"."+spec.group` });
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
    out.push(spec.scope ? { type: 'FieldValueNotSupported', field: 'spec.scope', message: `Unsupported value: ${JSON.stringify(spec.scope)}: supported values: "Cluster", "Namespaced"` } : { type: 'FieldValueRequired', field: 'spec.scope', message: 'Required value' });
  }
  validateVersions(spec, out);
  const strategy = spec.conversion?.strategy;
  if (strategy !== undefined && strategy !== 'None' && strategy !== 'Webhook') {
    out.push({ type: 'FieldValueNotSupported', field: 'spec.conversion.strategy', message: `Unsupported value: ${JSON.stringify(strategy)}: supported values: "None", "Webhook"` });
  }
  // With one served version no conversion ever runs; with several, a Webhook CRD would need this
  // server to call the webhook, which it does not: refuse rather than serve unconverted objects.
  const served = Array.isArray(spec.versions) ? spec.versions.filter((v) => v?.served).length : 0;
  if (strategy === 'Webhook' && served > 1) {
    out.push({ type: 'FieldValueForbidden', field: 'spec.conversion.strategy', message: 'Forbidden: flatnet does not call conversion webhooks; serve one version or use the None strategy' });
  }
  if (spec.preserveUnknownFields === true) out.push({ type: 'FieldValueInvalid', field: 'spec.preserveUnknownFields', message: 'Invalid value: true: must be false in order to use defaults in the schema' });
  return out;
}

/** The errors of a CRD update: the create checks plus the immutable scope once objects may exist. */
export function validateCustomResourceDefinitionUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const out = validateCustomResourceDefinition(obj);
  const scope = (obj as CustomResourceDefinition).spec?.scope;
  const oldScope = (old as CustomResourceDefinition).spec?.scope;
  if (scope !== oldScope) out.push({ type: 'FieldValueInvalid', field: 'spec.scope', message: `Invalid value: ${JSON.stringify(scope)}: field is immutable` });
  return out;
}
