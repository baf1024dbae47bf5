// OpenAPI v3 for custom resources, as kube-apiserver publishes it from each CRD version: one
// document per group-version (merged into the built-in document when the group has built-in kinds)
// with the operations kubectl looks for (PATCH with x-kubernetes-group-version-kind and the
// fieldValidation parameter, so apply and create validate on the server) and component schemas
// named after the reversed group (com.example.stable.v1.CronTab) that `kubectl explain` reads:
// the openAPIV3Schema with apiVersion, kind and a metadata reference to ObjectMeta.
import { createHash } from 'node:crypto';
import type { JSONSchemaProps } from '../../api/crd/types.js';
import { builtinSchemas, schemaName, SCALAR_SCHEMAS, type Gvk } from '../present/openapi/builtin.js';
import { ref, type Schema } from '../present/openapi/schema.js';
import type { CustomResourceInfo } from './resource.js';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const OBJECT_META = `${META}.ObjectMeta`;
const LIST_META = `${META}.ListMeta`;
const STATUS = `${META}.Status`;
const DELETE_OPTIONS = `${META}.DeleteOptions`;
const PATCH = `${META}.Patch`;
const SCALE = 'io.k8s.api.autoscaling.v1.Scale';

/** com.example.stable.v1.CronTab: the component name upstream gives a custom kind. */
export function customSchemaName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

export function gvPath(group: string, version: string): string {
  return `apis/${group}/${version}`;
}

const param = (name: string, description: string, type = 'string', where = 'query'): Schema => ({ name, in: where, description, ...(where === 'path' ? { required: true } : {}), schema: { type, uniqueItems: true } });
const writeParams = [
  param('dryRun', 'When present (All), the request is validated and answered but nothing is persisted.'),
  param('fieldManager', 'Name of the actor making the change, recorded in managedFields.'),
  param('fieldValidation', 'How the server treats unknown fields: Ignore drops them, Warn drops them with a warning header, Strict rejects the request.'),
];
const content = (schemaRef: string): Schema => ({ 'application/json': { schema: ref(schemaRef) }, 'application/yaml': { schema: ref(schemaRef) } });
const ok = (schemaRef: string, code = '200'): Schema => ({ [code]: { description: code === '201' ? 'Created' : 'OK', content: content(schemaRef) }, '401': { description: 'Unauthorized' } });

function itemOps(r: CustomResourceInfo, gvk: Gvk, schemaRef: string, idBase: string, what: string, withDelete: boolean): Schema {
  const common = { tags: [`${r.group}_${r.version}`], 'x-kubernetes-group-version-kind': gvk };
  const ops: Schema = {
    get: { ...common, description: `read the specified ${what}`, operationId: `read${idBase}`, responses: ok(schemaRef), 'x-kubernetes-action': 'get' },
    put: {
      ...common,
      description: `replace the specified ${what}`,
      operationId: `replace${idBase}`,
      parameters: writeParams,
      requestBody: { content: { '*/*': { schema: ref(schemaRef) } }, required: true },
      responses: { ...ok(schemaRef), ...ok(schemaRef, '201') },
      'x-kubernetes-action': 'put',
    },
    patch: {
      ...common,
      description: `partially update the specified ${what}`,
      operationId: `patch${idBase}`,
      parameters: [...writeParams, param('force', 'Apply requests only: take ownership of conflicting fields.', 'boolean')],
      requestBody: { content: { 'application/json-patch+json': { schema: ref(PATCH) }, 'application/merge-patch+json': { schema: ref(PATCH) }, 'application/apply-patch+yaml': { schema: ref(PATCH) } }, required: true },
      responses: { ...ok(schemaRef), ...ok(schemaRef, '201') },
      'x-kubernetes-action': 'patch',
    },
  };
  if (withDelete) {
    ops.delete = {
      ...common,
      description: `delete the specified ${what}`,
      operationId: `delete${idBase}`,
      parameters: [param('dryRun', 'When present (All), nothing is deleted.'), param('gracePeriodSeconds', 'Seconds before the object is deleted.', 'integer'), param('propagationPolicy', 'Orphan, Background or Foreground.')],
      requestBody: { content: { '*/*': { schema: ref(DELETE_OPTIONS) } } },
      responses: { ...ok(STATUS), ...ok(STATUS, '202') },
      'x-kubernetes-action': 'delete',
    };
  }
  return ops;
}

function upperCamel(s: string): string {
  return s
    .split(/[._-]/)
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('');
}

function resourcePaths(r: CustomResourceInfo): Record<string, Schema> {
  const base = `/${gvPath(r.group, r.version)}`;
  const collection = r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}` : `${base}/${r.plural}`;
  const gvk: Gvk = { group: r.group, version: r.version, kind: r.kind };
  const kindRef = customSchemaName(r.group, r.version, r.kind);
  const listRef = customSchemaName(r.group, r.version, r.listKind);
  const idBase = `${upperCamel(r.group)}${upperCamel(r.version)}${r.namespaced ? 'Namespaced' : ''}${r.kind}`;
  const scopeParams = r.namespaced ? [param('namespace', 'The object name and auth scope, such as for teams and projects.', 'string', 'path')] : [];
  const itemParams = [param('name', `name of the ${r.kind}`, 'string', 'path'), ...scopeParams];
  const tags = [`${r.group}_${r.version}`];
  const paths: Record<string, Schema> = {
    [collection]: {
      get: {
        tags,
        description: `list objects of kind ${r.kind}`,
        operationId: `list${idBase}`,
        parameters: [param('labelSelector', 'Select objects by label.'), param('fieldSelector', 'Select objects by field.'), param('limit', 'Maximum number of items.', 'integer'), param('watch', 'Watch for changes.', 'boolean')],
        responses: ok(listRef),
        'x-kubernetes-action': 'list',
        'x-kubernetes-group-version-kind': gvk,
      },
      post: {
        tags,
        description: `create a ${r.kind}`,
        operationId: `create${idBase}`,
        parameters: writeParams,
        requestBody: { content: { '*/*': { schema: ref(kindRef) } }, required: true },
        responses: { ...ok(kindRef), ...ok(kindRef, '201') },
        'x-kubernetes-action': 'post',
        'x-kubernetes-group-version-kind': gvk,
      },
      parameters: scopeParams,
    },
    [`${collection}/{name}`]: { ...itemOps(r, gvk, kindRef, idBase, r.kind, true), parameters: itemParams },
  };
  if (r.namespaced) {
    paths[`${base}/${r.plural}`] = {
      get: { tags, description: `list objects of kind ${r.kind} in all namespaces`, operationId: `list${idBase}ForAllNamespaces`, responses: ok(listRef), 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': gvk },
    };
  }
  if (r.subresources.some((s) => s.name === 'status')) paths[`${collection}/{name}/status`] = { ...itemOps(r, gvk, kindRef, `${idBase}Status`, `status of the specified ${r.kind}`, false), parameters: itemParams };
  if (r.subresources.some((s) => s.name === 'scale')) {
    paths[`${collection}/{name}/scale`] = { ...itemOps(r, { group: 'autoscaling', version: 'v1', kind: 'Scale' }, SCALE, `${idBase}Scale`, `scale of the specified ${r.kind}`, false), parameters: itemParams };
  }
  return paths;
}

function kindSchema(r: CustomResourceInfo): Schema {
  const schema = (r.custom.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }) as JSONSchemaProps;
  const properties: Record<string, unknown> = {
    ...(schema.properties ?? {}),
    apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
    kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
    metadata: { allOf: [ref(OBJECT_META)], description: "Standard object's metadata." },
  };
  return { ...schema, type: 'object', properties, 'x-kubernetes-group-version-kind': [{ group: r.group, version: r.version, kind: r.kind }] };
}

function listSchema(r: CustomResourceInfo): Schema {
  return {
    description: `${r.listKind} is a list of ${r.kind}`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      items: { type: 'array', description: `List of ${r.plural}.`, items: ref(customSchemaName(r.group, r.version, r.kind)) },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { allOf: [ref(LIST_META)], description: 'Standard list metadata.' },
    },
    'x-kubernetes-group-version-kind': [{ group: r.group, version: r.version, kind: r.listKind }],
  };
}

let metaSchemas: Record<string, Schema> | undefined;

/** ObjectMeta, ListMeta, Status, DeleteOptions and Scale, which every custom document references. */
function sharedSchemas(): Record<string, Schema> {
  metaSchemas ??= {
    ...SCALAR_SCHEMAS,
    [PATCH]: { type: 'object', description: 'The body of a PATCH request: a JSON patch, a JSON merge patch or an apply configuration.' },
    ...builtinSchemas(['V1ObjectMeta', 'V1ListMeta', 'V1Status', 'V1DeleteOptions', 'V1Scale'], new Map([['V1Scale', { group: 'autoscaling', version: 'v1', kind: 'Scale' }]])),
  };
  if (!(SCALE in metaSchemas)) throw new Error(`OpenAPI component ${SCALE} is not named ${schemaName('V1Scale')}`);
  return metaSchemas;
}

/** The paths and component schemas of these custom resources (one group-version). */
export function customDocumentParts(resources: CustomResourceInfo[]): { paths: Record<string, Schema>; schemas: Record<string, Schema> } {
  const paths: Record<string, Schema> = {};
  const schemas: Record<string, Schema> = { ...sharedSchemas() };
  for (const r of resources) {
    Object.assign(paths, resourcePaths(r));
    schemas[customSchemaName(r.group, r.version, r.kind)] = kindSchema(r);
    schemas[customSchemaName(r.group, r.version, r.listKind)] = listSchema(r);
  }
  return { paths, schemas };
}

type Document = { paths?: Record<string, Schema>; components?: { schemas?: Record<string, Schema> } } & Schema;

/**
 * The OpenAPI v3 answer for `path` with the custom resources added: the index gains their
 * group-versions; a group-version document gains their paths and schemas (or is made for them).
 * `builtin` answers a path from the built-in documents (undefined = none).
 */
export function withCustomResources(path: string, builtin: (path: string) => Schema | undefined, resources: CustomResourceInfo[]): Schema | undefined {
  const clean = path.split('?')[0].replace(/\/+$/, '');
  if (resources.length === 0) return builtin(path);
  const byGv = new Map<string, CustomResourceInfo[]>();
  for (const r of resources) {
    const key = gvPath(r.group, r.version);
    byGv.set(key, [...(byGv.get(key) ?? []), r]);
  }
  if (clean === '/openapi/v3') {
    const index = { paths: { ...((builtin(clean)?.paths as Record<string, Schema> | undefined) ?? {}) } };
    for (const key of byGv.keys()) {
      const doc = withCustomResources(`/openapi/v3/${key}`, builtin, resources);
      const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase();
      index.paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
    }
    return index;
  }
  const key = clean.replace(/^\/openapi\/v3\//, '');
  const own = byGv.get(key);
  if (!own) return builtin(path);
  const parts = customDocumentParts(own);
  const base = (builtin(clean) ?? { openapi: '3.0.0', info: { title: 'Kubernetes CRD Swagger', version: 'v0.1.0' }, paths: {}, components: { schemas: {} } }) as Document;
  return {
    ...base,
    paths: { ...(base.paths ?? {}), ...parts.paths },
    components: { ...(base.components ?? {}), schemas: { ...parts.schemas, ...(base.components?.schemas ?? {}) } },
  };
}
