// The OpenAPI v3 index (/openapi/v3) and one document per group-version (/openapi/v3/api/v1,
// /openapi/v3/apis/<group>/<version>). Each kind gets the paths kubectl looks at: a PATCH
// operation carrying x-kubernetes-group-version-kind and a fieldValidation parameter (so apply,
// create -f and edit validate on the server), plus component schemas for `kubectl explain` and
// for strategic-merge-patch computation (built-in kinds only; Gateway API kinds take merge patches).
import { createHash } from 'node:crypto';
import { GATEWAY_API_GROUP, SERVED_RESOURCES, groupVersions, type ResourceInfo } from '../../../api/resources.js';
import { builtinSchemas, schemaName, SCALAR_SCHEMAS, type Gvk } from './builtin.js';
import { gatewaySchemaName, gatewaySchemas } from './gateway.js';
import { ref, type Schema } from './schema.js';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const PATCH = `${META}.Patch`;
const STATUS = `${META}.Status`;
const DELETE_OPTIONS = `${META}.DeleteOptions`;

/** The client-node model class of a built-in kind. */
function modelClass(kind: string, group = ''): string {
  if (group === 'events.k8s.io') return `EventsV1${kind}`;
  return kind === 'Event' || kind === 'EventList' ? `CoreV1${kind}` : `V1${kind}`;
}

function isGateway(r: Pick<ResourceInfo, 'group'>): boolean {
  return r.group === GATEWAY_API_GROUP;
}

function kindSchemaName(r: ResourceInfo, kind: string): string {
  return isGateway(r) ? gatewaySchemaName(kind, r.version) : schemaName(modelClass(kind, r.group));
}

function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

function tagOf(group: string, version: string): string {
  const g = group === '' ? 'core' : group.replace(/\.k8s\.io$/, '').replace(/\./g, '_');
  return `${g}_${version}`;
}

function upperCamel(s: string): string {
  return s
    .split(/[._-]/)
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('');
}

const queryParam = (name: string, description: string, type = 'string'): Schema => ({
  name,
  in: 'query',
  description,
  schema: { type, uniqueItems: true },
});

const writeParams = [
  queryParam('dryRun', 'When present (All), the request is validated and answered but nothing is persisted.'),
  queryParam('fieldManager', 'Name of the actor making the change, recorded in managedFields.'),
  queryParam(
    'fieldValidation',
    'How the server treats unknown or duplicate fields: Ignore drops them, Warn drops them with a warning header, Strict (the default) rejects the request.',
  ),
];
const forceParam = queryParam('force', 'Apply requests only: take ownership of conflicting fields.', 'boolean');
const pathParam = (name: string, description: string): Schema => ({ name, in: 'path', description, required: true, schema: { type: 'string', uniqueItems: true } });
const namespaceParam = pathParam('namespace', 'Object name and auth scope, such as for teams and projects.');
const prettyParam = queryParam('pretty', "If 'true', the output is pretty printed.");

const jsonContent = (schemaRef: string) => ({
  'application/json': { schema: ref(schemaRef) },
  'application/yaml': { schema: ref(schemaRef) },
  'application/vnd.kubernetes.protobuf': { schema: ref(schemaRef) },
});

function response(schemaRef: string, code = '200', description = 'OK') {
  return { [code]: { description, content: jsonContent(schemaRef) }, '401': { description: 'Unauthorized' } };
}

interface OperationContext {
  r: ResourceInfo;
  gvk: Gvk;
  schemaRef: string;
  idBase: string; // e.g. CoreV1NamespacedPod, AppsV1NamespacedDeploymentScale
  what: string; // human name: "Pod", "scale of the specified Deployment"
}

function patchOperation(c: OperationContext): Schema {
  const content: Record<string, Schema> = {
    'application/json-patch+json': { schema: ref(PATCH) },
    'application/merge-patch+json': { schema: ref(PATCH) },
  };
  // Strategic merge patch only for built-in kinds, as upstream (CRD-served kinds reject it).
  if (!isGateway(c.r)) content['application/strategic-merge-patch+json'] = { schema: ref(PATCH) };
  content['application/apply-patch+yaml'] = { schema: ref(PATCH) };
  return {
    tags: [tagOf(c.r.group, c.r.version)],
    description: `partially update the specified ${c.what}`,
    operationId: `patch${c.idBase}`,
    parameters: [...writeParams, forceParam],
    requestBody: { content, required: true },
    responses: { ...response(c.schemaRef), ...response(c.schemaRef, '201', 'Created') },
    'x-kubernetes-action': 'patch',
    'x-kubernetes-group-version-kind': c.gvk,
  };
}

function itemOperations(c: OperationContext, withDelete: boolean): Record<string, Schema> {
  const common = { tags: [tagOf(c.r.group, c.r.version)], 'x-kubernetes-group-version-kind': c.gvk };
  const ops: Record<string, Schema> = {
    get: { ...common, description: `read the specified ${c.what}`, operationId: `read${c.idBase}`, responses: response(c.schemaRef), 'x-kubernetes-action': 'get' },
    put: {
      ...common,
      description: `replace the specified ${c.what}`,
      operationId: `replace${c.idBase}`,
      parameters: writeParams,
      requestBody: { content: { '*/*': { schema: ref(c.schemaRef) } }, required: true },
      responses: { ...response(c.schemaRef), ...response(c.schemaRef, '201', 'Created') },
      'x-kubernetes-action': 'put',
    },
    patch: patchOperation(c),
  };
  if (withDelete) {
    ops.delete = {
      ...common,
      description: `delete a ${c.what}`,
      operationId: `delete${c.idBase}`,
      parameters: [queryParam('dryRun', 'When present (All), nothing is deleted.'), queryParam('gracePeriodSeconds', 'Seconds before the object is deleted.', 'integer'), queryParam('propagationPolicy', 'Orphan, Background or Foreground.')],
      requestBody: { content: { '*/*': { schema: ref(DELETE_OPTIONS) } } },
      responses: { ...response(STATUS), ...response(STATUS, '202', 'Accepted') },
      'x-kubernetes-action': 'delete',
    };
  }
  return ops;
}

function resourcePaths(r: ResourceInfo): Record<string, Schema> {
  const base = `/${gvPath(r.group, r.version)}`;
  const collection = r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}` : `${base}/${r.plural}`;
  const scope = r.namespaced ? 'Namespaced' : '';
  const groupId = upperCamel(r.group === '' ? 'core' : r.group.replace(/\.k8s\.io$/, '')) + upperCamel(r.version);
  const gvk: Gvk = { group: r.group, version: r.version, kind: r.kind };
  const kindRef = kindSchemaName(r, r.kind);
  const listRef = kindSchemaName(r, r.listKind);
  const tags = [tagOf(r.group, r.version)];
  const baseParams = r.namespaced ? [namespaceParam, prettyParam] : [prettyParam];
  const paths: Record<string, Schema> = {};
  if (!r.verbs.includes('list')) return createOnlyPaths(r, collection, groupId + scope, kindRef, baseParams);

  paths[collection] = {
    get: {
      tags,
      description: `list or watch objects of kind ${r.kind}`,
      operationId: `list${groupId}${scope}${r.kind}`,
      parameters: [queryParam('labelSelector', 'Select objects by label.'), queryParam('fieldSelector', 'Select objects by field.'), queryParam('limit', 'Maximum number of items.', 'integer'), queryParam('watch', 'Watch for changes.', 'boolean')],
      responses: response(listRef),
      'x-kubernetes-action': 'list',
      'x-kubernetes-group-version-kind': gvk,
    },
    post: {
      tags,
      description: `create a ${r.kind}`,
      operationId: `create${groupId}${scope}${r.kind}`,
      parameters: writeParams,
      requestBody: { content: { '*/*': { schema: ref(kindRef) } }, required: true },
      responses: { ...response(kindRef), ...response(kindRef, '201', 'Created'), ...response(kindRef, '202', 'Accepted') },
      'x-kubernetes-action': 'post',
      'x-kubernetes-group-version-kind': gvk,
    },
    parameters: baseParams,
  };
  if (r.namespaced) {
    paths[`${base}/${r.plural}`] = {
      get: {
        tags,
        description: `list or watch objects of kind ${r.kind} in all namespaces`,
        operationId: `list${groupId}${r.kind}ForAllNamespaces`,
        responses: response(listRef),
        'x-kubernetes-action': 'list',
        'x-kubernetes-group-version-kind': gvk,
      },
      parameters: [prettyParam],
    };
  }
  const itemParams = [pathParam('name', `name of the ${r.kind}`), ...baseParams];
  paths[`${collection}/{name}`] = {
    ...itemOperations({ r, gvk, schemaRef: kindRef, idBase: `${groupId}${scope}${r.kind}`, what: r.kind }, true),
    parameters: itemParams,
  };
  for (const sub of r.subresources) {
    if (sub.name === 'status') {
      paths[`${collection}/{name}/status`] = {
        ...itemOperations({ r, gvk, schemaRef: kindRef, idBase: `${groupId}${scope}${r.kind}Status`, what: `status of the specified ${r.kind}` }, false),
        parameters: itemParams,
      };
    } else if (sub.name === 'scale' && sub.kind === 'Scale') {
      const scaleGvk: Gvk = { group: sub.group ?? r.group, version: sub.version ?? r.version, kind: 'Scale' };
      paths[`${collection}/{name}/scale`] = {
        ...itemOperations({ r, gvk: scaleGvk, schemaRef: schemaName('V1Scale'), idBase: `${groupId}${scope}${r.kind}Scale`, what: `scale of the specified ${r.kind}` }, false),
        parameters: itemParams,
      };
    }
  }
  return paths;
}

/** A kind that is only ever created (the access reviews): one POST, answered, never stored. */
function createOnlyPaths(r: ResourceInfo, collection: string, idBase: string, kindRef: string, params: Schema[]): Record<string, Schema> {
  const gvk: Gvk = { group: r.group, version: r.version, kind: r.kind };
  return {
    [collection]: {
      post: {
        tags: [tagOf(r.group, r.version)],
        description: `create a ${r.kind}`,
        operationId: `create${idBase}${r.kind}`,
        parameters: writeParams,
        requestBody: { content: { '*/*': { schema: ref(kindRef) } }, required: true },
        responses: { ...response(kindRef), ...response(kindRef, '201', 'Created'), ...response(kindRef, '202', 'Accepted') },
        'x-kubernetes-action': 'post',
        'x-kubernetes-group-version-kind': gvk,
      },
      parameters: params,
    },
  };
}

const metaSchemas: Record<string, Schema> = {
  [PATCH]: { type: 'object', description: 'The body of a PATCH request: a JSON patch, a JSON merge patch, a strategic merge patch or an apply configuration.' },
};

function componentSchemas(resources: ResourceInfo[]): Record<string, Schema> {
  const gvks = new Map<string, Gvk>();
  const roots = ['V1Status', 'V1DeleteOptions'];
  const gatewayKinds: string[] = [];
  for (const r of resources) {
    if (isGateway(r)) {
      gatewayKinds.push(r.kind);
      continue;
    }
    // Create-only kinds (the access reviews) have no list kind.
    for (const k of r.verbs.includes('list') ? [r.kind, r.listKind] : [r.kind]) {
      const cls = modelClass(k, r.group);
      roots.push(cls);
      gvks.set(cls, { group: r.group, version: r.version, kind: k });
    }
    if (r.subresources.some((s) => s.kind === 'Scale')) {
      roots.push('V1Scale');
      gvks.set('V1Scale', { group: 'autoscaling', version: 'v1', kind: 'Scale' });
    }
  }
  if (gatewayKinds.length) roots.push('V1ObjectMeta', 'V1Condition', 'V1LabelSelector', 'V1ListMeta');
  const schemas = { ...SCALAR_SCHEMAS, ...metaSchemas, ...builtinSchemas(roots, gvks), ...gatewaySchemas(gatewayKinds, resources[0]?.version) };
  return Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function buildDocument(group: string, version: string): Schema {
  const resources = SERVED_RESOURCES.filter((r) => r.group === group && r.version === version);
  const paths: Record<string, Schema> = {};
  for (const r of resources) Object.assign(paths, resourcePaths(r));
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths,
    components: { schemas: componentSchemas(resources) },
  };
}

interface Built {
  index: Schema;
  docs: Map<string, Schema>;
}

let built: Built | undefined;

/** Build every document once (first request), hash it, and keep it. */
function build(): Built {
  if (built) return built;
  const docs = new Map<string, Schema>();
  const paths: Record<string, Schema> = {};
  for (const gv of groupVersions()) {
    const path = gvPath(gv.group, gv.version);
    const doc = buildDocument(gv.group, gv.version);
    docs.set(path, doc);
    const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase();
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  }
  built = { index: { paths }, docs };
  return built;
}

/** GET /openapi/v3 (the index) or /openapi/v3/<gv path>; undefined = 404. */
export function openapiV3Document(path: string): Schema | undefined {
  const clean = path.split('?')[0].replace(/\/+$/, '');
  if (clean === '/openapi/v3') return build().index;
  if (!clean.startsWith('/openapi/v3/')) return undefined;
  return build().docs.get(clean.slice('/openapi/v3/'.length));
}
