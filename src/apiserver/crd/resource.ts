// A custom resource as the API server serves it: the ResourceInfo every generic path (routes,
// handlers, registry, watch, tables) already takes, plus the behaviour its CRD version gives it:
// pruning, defaulting and validation against the openAPIV3Schema, generation rules, the scale
// subresource's paths and the printer columns.
import type { ResourceInfo, SubresourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import type { FieldError } from '../../api/validation/index.js';
import { applySchemaDefaults } from '../../api/crd/schema/default.js';
import { pruneUnknownFields } from '../../api/crd/schema/prune.js';
import { validateAgainstSchema } from '../../api/crd/schema/validate.js';
import { compileSchemaRules, validateRules } from '../../api/crd/cel/rules.js';
import { unchanged } from '../../api/crd/ratchet.js';
import type { CustomResourceDefinition, CustomResourceNames, CustomResourceScale, CustomResourceVersion, JSONSchemaProps } from '../../api/crd/types.js';
import type { Printer } from '../present/tables/types.js';
import type { FieldGetter } from '../selectors.js';
import type { FieldType } from '../../api/schema/types.js';
import { customResourceFieldType } from '../../api/crd/schema/field-type.js';
import { customResourcePrinter } from './printer.js';

const STANDARD_VERBS = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];

/** What a CRD version makes a resource do beyond the generic machinery. */
export interface CustomResourceBehaviour {
  crdName: string;
  schema: JSONSchemaProps | undefined;
  scale?: CustomResourceScale;
  printer: Printer;
  /** Field selectors the CRD version's selectableFields allow (spec.color -> its value as text). */
  selectableFields: Record<string, FieldGetter>;
  /** The top-level fields whose change does not bump metadata.generation. */
  generationIgnores: readonly string[];
  /** Prunes unknown fields in place; answers their paths (fieldValidation Warn/Strict report them). */
  decode(obj: KubeObject): { unknown: string[]; error?: undefined };
  /**
   * Schema defaults (create and update); a create also drops status when status is a subresource.
   * The object is stored at the storage version (None conversion: its apiVersion).
   */
  default(obj: KubeObject, creating: boolean): void;
  /**
   * Schema and x-kubernetes-validations failures; `old` is the stored object on update (transition
   * rules). A rule failure that ratcheting allows is pushed to `warnings` as upstream words it.
   */
  validate(obj: KubeObject, old?: KubeObject, warnings?: string[]): FieldError[];
}

export interface CustomResourceInfo extends ResourceInfo {
  custom: CustomResourceBehaviour;
  /** What server-side apply and managed fields walk (src/api/schema's schemaFor reads it). */
  fieldType: FieldType;
}

/** The custom-resource behaviour of a resource, or undefined for a built-in one. */
export function customResourceOf(r: object): CustomResourceBehaviour | undefined {
  return (r as Partial<CustomResourceInfo>).custom;
}

/** A selectable field's value as field selectors compare it: strings as they are, integers and booleans as text, absent as "". */
function selectableField(jsonPath: string): FieldGetter {
  const keys = jsonPath.replace(/^\./, '').split('.');
  return (obj) => {
    let v: unknown = obj;
    for (const k of keys) v = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
  };
}

/** Schema errors after which upstream does not run the CEL rules (the values are not of their declared types). */
const BLOCKING = new Set<FieldError['type']>(['FieldValueTypeInvalid']);

function withoutMetadata(obj: KubeObject): Record<string, unknown> {
  const { metadata: _metadata, ...rest } = obj;
  return rest;
}

/** What CEL rules see of an object: everything but metadata, of which only name and generateName. */
function ruleInput(obj: KubeObject): Record<string, unknown> {
  const { metadata, ...rest } = obj;
  const meta: Record<string, unknown> = {};
  if (metadata?.name !== undefined) meta.name = metadata.name;
  if (metadata?.generateName !== undefined) meta.generateName = metadata.generateName;
  return { ...rest, metadata: meta };
}

function behaviourOf(crdName: string, v: CustomResourceVersion, storageApiVersion: string): CustomResourceBehaviour {
  const schema = v.schema?.openAPIV3Schema;
  // The CRD's validation already refused rules that do not compile; compiled once per served version.
  const rules = compileSchemaRules(schema).tree;
  const hasStatus = v.subresources?.status !== undefined && v.subresources.status !== null;
  return {
    crdName,
    schema,
    scale: v.subresources?.scale ?? undefined,
    printer: customResourcePrinter(v.additionalPrinterColumns ?? []),
    selectableFields: Object.fromEntries((v.selectableFields ?? []).map((f) => [f.jsonPath.replace(/^\./, ''), selectableField(f.jsonPath)])),
    generationIgnores: hasStatus ? ['metadata', 'status', 'apiVersion', 'kind'] : ['metadata', 'apiVersion', 'kind'],
    decode(obj) {
      if (!schema) return { unknown: [] };
      return { unknown: pruneUnknownFields(obj as unknown as Record<string, unknown>, schema) };
    },
    default(obj, creating) {
      obj.apiVersion = storageApiVersion;
      if (creating && hasStatus) delete obj.status;
      if (schema) applySchemaDefaults(obj as unknown as Record<string, unknown>, schema);
    },
    validate(obj, old, warnings) {
      if (!schema) return [];
      // ratcheting: the root counts as unchanged only if its metadata is too, as upstream compares it
      const rootChanged = old !== undefined && !unchanged(undefined, obj.metadata, old.metadata);
      const errors = validateAgainstSchema(schema, withoutMetadata(obj), '', old && { value: withoutMetadata(old), changed: rootChanged });
      if (!rules) return errors;
      if (errors.some((e) => BLOCKING.has(e.type))) {
        return [...errors, { type: 'FieldValueInvalid', field: '<nil>', message: 'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation' }];
      }
      const ratcheted: FieldError[] = [];
      const failures = validateRules(rules, ruleInput(obj), old && ruleInput(old), rootChanged, ratcheted);
      for (const r of ratcheted) warnings?.push(`${r.field}: ${r.message}`);
      return [...errors, ...failures];
    },
  };
}

/** The ResourceInfo of one served version of a CRD, named by its accepted names. */
export function customResourceInfo(crd: CustomResourceDefinition, version: CustomResourceVersion, names: CustomResourceNames): CustomResourceInfo {
  const subresources: SubresourceInfo[] = [];
  if (version.subresources?.status) subresources.push({ name: 'status', verbs: ['get', 'patch', 'update'] });
  if (version.subresources?.scale) subresources.push({ name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
  return {
    group: crd.spec.group,
    version: version.name,
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    plural: names.plural,
    singular: names.singular ?? names.kind.toLowerCase(),
    namespaced: crd.spec.scope === 'Namespaced',
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    verbs: STANDARD_VERBS,
    subresources,
    custom: behaviourOf(crd.metadata.name ?? '', version, `${crd.spec.group}/${(crd.spec.versions.find((v) => v.storage) ?? version).name}`),
    fieldType: customResourceFieldType(version.schema?.openAPIV3Schema),
  };
}
