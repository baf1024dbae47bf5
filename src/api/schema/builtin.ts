// Field types of the built-in kinds, derived at load time from @kubernetes/client-node's generated
// models (each has a static attributeTypeMap), plus the patch strategies and SSA list keys upstream
// declares in k8s.io/api struct tags (which the models do not carry).
import * as models from '@kubernetes/client-node/dist/gen/models/all.js';
import { ANY, type FieldType, type ListMeta, type ObjectSchema, SCALAR } from './types.js';

interface Attribute {
  baseName: string;
  type: string;
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

function parseType(type: string, owner: string, field: string): FieldType {
  const t = type.trim();
  if (t === 'string' || t === 'number' || t === 'boolean' || t === 'Date' || t === 'IntOrString') return SCALAR;
  if (t === 'any') return ANY;
  const arr = /^Array<(.+)>$/.exec(t);
  if (arr) return { t: 'list', item: parseType(arr[1], owner, field), ...(LIST_META[`${owner}.${field}`] ?? {}) };
  const m = /^\{ \[key: string\]: (.+); \}$/.exec(t);
  if (m) return { t: 'map', value: parseType(m[1], owner, field) };
  if (modelTable[t]?.attributeTypeMap) {
    return {
      t: 'object',
      ref: () => modelSchema(t),
      ...(RETAIN_KEYS_FIELDS.has(`${owner}.${field}`) ? { retainKeys: true } : {}),
      ...(ATOMIC_STRUCTS.has(t) ? { atomic: true } : {}),
    };
  }
  return ANY;
}

/** The field table of one client-node model (V1Pod, V1ServiceSpec...). */
export function modelSchema(name: string): ObjectSchema {
  let schema = cache.get(name);
  if (schema) return schema;
  schema = { fields: {} };
  cache.set(name, schema);
  for (const attr of modelTable[name]?.attributeTypeMap ?? []) schema.fields[attr.baseName] = parseType(attr.type, name, attr.baseName);
  // Quantity-valued maps and int-or-string fields arrive as strings or numbers; both are scalars above.
  return schema;
}

export function modelType(name: string): FieldType {
  if (!modelTable[name]?.attributeTypeMap) throw new Error(`@kubernetes/client-node has no model ${name}`);
  return { t: 'object', ref: () => modelSchema(name), ...(ATOMIC_STRUCTS.has(name) ? { atomic: true } : {}) };
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
  EndpointSlice: 'V1EndpointSlice',
  NetworkPolicy: 'V1NetworkPolicy',
  Ingress: 'V1Ingress',
  IngressClass: 'V1IngressClass',
  Lease: 'V1Lease',
  Scale: 'V1Scale',
};
