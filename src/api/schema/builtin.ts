// Field types of the built-in kinds, derived at load time from @kubernetes/client-node's generated
// models (each has a static attributeTypeMap), plus the patch strategies and SSA list keys upstream
// declares in k8s.io/api markers (which the models do not carry), from the upstream field table.
import * as models from '@kubernetes/client-node/dist/gen/models/all.js';
import { ANY, type FieldType, type ListMeta, type ObjectSchema, type ScalarKind } from './types.js';
import { fieldMetaOf, messageOfModel } from './upstream/index.js';

interface Attribute {
  baseName: string;
  type: string;
  format?: string;
}

const modelTable = models as unknown as Record<string, { attributeTypeMap?: Attribute[] } | undefined>;

/** Upstream's patchStrategy/patchMergeKey and listType/listMapKey markers of a model's field (one table, shared with the OpenAPI document). */
function listMetaOf(owner: string, field: string): ListMeta {
  const message = messageOfModel(owner);
  const meta = message ? fieldMetaOf(message).get(field) : undefined;
  if (!meta) return {};
  const strategies = meta.patchStrategy?.split(',') ?? [];
  const out: ListMeta = {};
  if (strategies.includes('merge')) out.merge = true;
  if (meta.patchMergeKey) out.mergeKey = meta.patchMergeKey;
  if (strategies.includes('retainKeys')) out.retainKeys = true;
  if (meta.listType) out.listType = meta.listType;
  if (meta.listMapKeys) out.mapKeys = meta.listMapKeys;
  return out;
}

/** Structs upstream marks +structType=atomic. */
const ATOMIC_STRUCTS = new Set(['V1LabelSelector', 'V1LocalObjectReference', 'V1ObjectReference', 'V1TypedLocalObjectReference', 'V1NodeSelector']);

const cache = new Map<string, ObjectSchema>();

/** Fields upstream types as resource.Quantity (a string or a number in JSON); the models say string. */
const QUANTITY_FIELDS = new Set(['limits', 'requests', 'capacity', 'allocatable', 'overhead', 'allocatedResources', 'sizeLimit', 'hard', 'used']);

const scalarTypes = new Map<string, FieldType>();

function scalar(kind: ScalarKind): FieldType {
  let ft = scalarTypes.get(kind);
  if (!ft) scalarTypes.set(kind, (ft = { t: 'scalar', kind }));
  return ft;
}

function scalarKind(t: string, format: string, field: string): ScalarKind | undefined {
  switch (t) {
    case 'string':
      if (format === 'byte') return 'bytes';
      return QUANTITY_FIELDS.has(field) ? 'quantity' : 'string';
    case 'number':
      return format === 'int32' ? 'int32' : format === 'int64' ? 'int64' : 'float';
    case 'boolean':
      return 'bool';
    case 'Date':
      return 'time';
    case 'IntOrString':
      return 'intOrString';
    default:
      return undefined;
  }
}

function parseType(type: string, owner: string, field: string, format = ''): FieldType {
  const t = type.trim();
  const kind = scalarKind(t, format, field);
  if (kind) return scalar(kind);
  if (t === 'any') return ANY;
  const arr = /^Array<(.+)>$/.exec(t);
  if (arr) return { t: 'list', item: parseType(arr[1], owner, field, format), ...listMetaOf(owner, field) };
  const m = /^\{ \[key: string\]: (.+); \}$/.exec(t);
  if (m) return { t: 'map', value: parseType(m[1], owner, field, format) };
  if (modelTable[t]?.attributeTypeMap) {
    return {
      t: 'object',
      ref: () => modelSchema(t),
      model: t,
      ...(listMetaOf(owner, field).retainKeys ? { retainKeys: true } : {}),
      ...(ATOMIC_STRUCTS.has(t) ? { atomic: true } : {}),
    };
  }
  return ANY;
}

/** V1DeploymentSpec -> DeploymentSpec, CoreV1Event -> Event: the Go struct's name. */
export function goStructName(model: string): string {
  return model.replace(/^(?:[A-Z][a-z]+)?V\d+(?:(?:alpha|beta)\d+)?(?=[A-Z])/, '');
}

/** The field table of one client-node model (V1Pod, V1ServiceSpec...). */
export function modelSchema(name: string): ObjectSchema {
  let schema = cache.get(name);
  if (schema) return schema;
  schema = { fields: {}, goName: goStructName(name) };
  cache.set(name, schema);
  for (const attr of modelTable[name]?.attributeTypeMap ?? []) schema.fields[attr.baseName] = parseType(attr.type, name, attr.baseName, attr.format ?? '');
  // Quantity-valued maps and int-or-string fields arrive as strings or numbers; both are scalars above.
  return schema;
}

export function modelType(name: string): FieldType {
  if (!modelTable[name]?.attributeTypeMap) throw new Error(`@kubernetes/client-node has no model ${name}`);
  return { t: 'object', ref: () => modelSchema(name), model: name, ...(ATOMIC_STRUCTS.has(name) ? { atomic: true } : {}) };
}

/** The root model of each built-in kind. */
export const BUILTIN_ROOTS: Record<string, string> = {
  Namespace: 'V1Namespace',
  Node: 'V1Node',
  Pod: 'V1Pod',
  Service: 'V1Service',
  Endpoints: 'V1Endpoints',
  ConfigMap: 'V1ConfigMap',
  Secret: 'V1Secret',
  Event: 'CoreV1Event',
  ServiceAccount: 'V1ServiceAccount',
  Deployment: 'V1Deployment',
  ReplicaSet: 'V1ReplicaSet',
  StatefulSet: 'V1StatefulSet',
  DaemonSet: 'V1DaemonSet',
  ControllerRevision: 'V1ControllerRevision',
  Job: 'V1Job',
  CronJob: 'V1CronJob',
  EndpointSlice: 'V1EndpointSlice',
  NetworkPolicy: 'V1NetworkPolicy',
  Ingress: 'V1Ingress',
  IngressClass: 'V1IngressClass',
  Lease: 'V1Lease',
  CertificateSigningRequest: 'V1CertificateSigningRequest',
  PodDisruptionBudget: 'V1PodDisruptionBudget',
  ValidatingAdmissionPolicy: 'V1ValidatingAdmissionPolicy',
  ValidatingAdmissionPolicyBinding: 'V1ValidatingAdmissionPolicyBinding',
  Eviction: 'V1Eviction',
  // events.k8s.io/v1 bodies (served over the core Events, src/apiserver/events-v1.ts)
  'events.k8s.io/Event': 'EventsV1Event',
  Scale: 'V1Scale',
  ClusterRole: 'V1ClusterRole',
  ClusterRoleBinding: 'V1ClusterRoleBinding',
  Role: 'V1Role',
  RoleBinding: 'V1RoleBinding',
  SelfSubjectAccessReview: 'V1SelfSubjectAccessReview',
  SelfSubjectRulesReview: 'V1SelfSubjectRulesReview',
  SubjectAccessReview: 'V1SubjectAccessReview',
  LocalSubjectAccessReview: 'V1LocalSubjectAccessReview',
  SelfSubjectReview: 'V1SelfSubjectReview',
  TokenReview: 'V1TokenReview',
  TokenRequest: 'AuthenticationV1TokenRequest',
  CustomResourceDefinition: 'V1CustomResourceDefinition',
};
