// Field types of the built-in kinds, derived at load time from @kubernetes/client-node's generated
// models (each has a static attributeTypeMap), plus the patch strategies and SSA list keys upstream
// declares in k8s.io/api struct tags (which the models do not carry).
import * as models from '@kubernetes/client-node/dist/gen/models/all.js';
import { ANY, type FieldType, type ListMeta, type ObjectSchema, type ScalarKind } from './types.js';

interface Attribute {
  baseName: string;
  type: string;
  format?: string;
}

const modelTable = models as unknown as Record<string, { attributeTypeMap?: Attribute[] } | undefined>;

/** Upstream's patchStrategy/patchMergeKey and listType/listMapKey tags, by `<Model>.<field>`. */
const LIST_META: Record<string, ListMeta> = {
  'V1ObjectMeta.ownerReferences': { merge: true, mergeKey: 'uid', listType: 'map', mapKeys: ['uid'] },
  'V1ObjectMeta.finalizers': { merge: true, listType: 'set' },
  'V1PodSpec.containers': { merge: true, mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
  'V1PodSpec.initContainers': { merge: true, mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
  'V1PodSpec.ephemeralContainers': { merge: true, mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
  'V1PodSpec.imagePullSecrets': { merge: true, mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
  'V1PodSpec.schedulingGates': { merge: true, mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
  'V1PodSpec.volumes': { merge: true, mergeKey: 'name', retainKeys: true, listType: 'map', mapKeys: ['name'] },
  'V1PodSpec.resourceClaims': { merge: true, mergeKey: 'name', retainKeys: true, listType: 'map', mapKeys: ['name'] },
  'V1PodSpec.hostAliases': { merge: true, mergeKey: 'ip', listType: 'map', mapKeys: ['ip'] },
  'V1PodSpec.topologySpreadConstraints': { merge: true, mergeKey: 'topologyKey', listType: 'map', mapKeys: ['topologyKey', 'whenUnsatisfiable'] },
  'V1Container.ports': { merge: true, mergeKey: 'containerPort', listType: 'map', mapKeys: ['containerPort', 'protocol'] },
  'V1Container.env': { merge: true, mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
  'V1Container.volumeMounts': { merge: true, mergeKey: 'mountPath', listType: 'map', mapKeys: ['mountPath'] },
  'V1Container.volumeDevices': { merge: true, mergeKey: 'devicePath', listType: 'map', mapKeys: ['devicePath'] },
  'V1EphemeralContainer.ports': { merge: true, mergeKey: 'containerPort', listType: 'map', mapKeys: ['containerPort', 'protocol'] },
  'V1EphemeralContainer.env': { merge: true, mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
  'V1EphemeralContainer.volumeMounts': { merge: true, mergeKey: 'mountPath', listType: 'map', mapKeys: ['mountPath'] },
  'V1EphemeralContainer.volumeDevices': { merge: true, mergeKey: 'devicePath', listType: 'map', mapKeys: ['devicePath'] },
  'V1ResourceRequirements.claims': { listType: 'map', mapKeys: ['name'] },
  'V1PodStatus.conditions': { merge: true, mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  'V1PodStatus.podIPs': { merge: true, mergeKey: 'ip', listType: 'map', mapKeys: ['ip'] },
  'V1PodStatus.hostIPs': { merge: true, mergeKey: 'ip', listType: 'map', mapKeys: ['ip'] },
  'V1ServiceSpec.ports': { merge: true, mergeKey: 'port', listType: 'map', mapKeys: ['port', 'protocol'] },
  'V1ServiceSpec.externalIPs': { listType: 'atomic' },
  'V1ServiceStatus.conditions': { merge: true, mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  'V1DeploymentStatus.conditions': { merge: true, mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  'V1ReplicaSetStatus.conditions': { merge: true, mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  'V1StatefulSetStatus.conditions': { merge: true, mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  'V1DaemonSetStatus.conditions': { merge: true, mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  'V1JobStatus.conditions': { merge: true, mergeKey: 'type', listType: 'atomic' },
  'V1CronJobStatus.active': { listType: 'atomic' },
  'V1NodeStatus.conditions': { merge: true, mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  'V1NodeStatus.addresses': { merge: true, mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  'V1NodeSpec.podCIDRs': { merge: true, listType: 'set' },
  'V1NamespaceStatus.conditions': { merge: true, mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  'V1Endpoint.addresses': { listType: 'set' },
  'V1IngressLoadBalancerStatus.ingress': { listType: 'atomic' },
  'V1ServiceAccount.secrets': { merge: true, mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
};

/** Structs upstream marks +structType=atomic. */
const ATOMIC_STRUCTS = new Set(['V1LabelSelector', 'V1LocalObjectReference', 'V1ObjectReference', 'V1TypedLocalObjectReference', 'V1NodeSelector']);

/** Fields whose struct uses the retainKeys strategy. */
const RETAIN_KEYS_FIELDS = new Set(['V1DeploymentSpec.strategy']);

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
  if (arr) return { t: 'list', item: parseType(arr[1], owner, field, format), ...(LIST_META[`${owner}.${field}`] ?? {}) };
  const m = /^\{ \[key: string\]: (.+); \}$/.exec(t);
  if (m) return { t: 'map', value: parseType(m[1], owner, field, format) };
  if (modelTable[t]?.attributeTypeMap) {
    return {
      t: 'object',
      ref: () => modelSchema(t),
      model: t,
      ...(RETAIN_KEYS_FIELDS.has(`${owner}.${field}`) ? { retainKeys: true } : {}),
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
};
