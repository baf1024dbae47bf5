// OpenAPI v3 component schemas for built-in kinds, derived at run time from the model classes of
// the installed @kubernetes/client-node package: field names and types from each model's
// attributeTypeMap (read from its .js file), descriptions and required fields from its .d.ts.
// Only the models reachable from the requested kinds are read, synchronously, once.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fieldMetaOf, messageOfModel } from '../../../api/schema/upstream/index.js';
import { ref, type Schema } from './schema.js';

interface Attr {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

interface Model {
  attrs: Attr[];
  description: string;
  fieldDocs: Map<string, string>;
  required: string[];
}

let modelsDir: string | undefined;
function modelsPath(): string {
  if (!modelsDir) {
    const main = createRequire(import.meta.url).resolve('@kubernetes/client-node');
    modelsDir = join(dirname(main), 'gen', 'models');
  }
  return modelsDir;
}

function unescapeDoc(text: string): string {
  return text.replace(/\\(['"\\])/g, '$1').trim();
}

/** Doc comments and required fields from a model's .d.ts. */
function parseDeclarations(source: string): { description: string; fieldDocs: Map<string, string>; required: string[] } {
  const fieldDocs = new Map<string, string>();
  const required: string[] = [];
  let description = '';
  let pendingDoc = '';
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*\/\*\*/.test(line)) {
      const body: string[] = [];
      for (i++; i < lines.length && !/^\s*\*\//.test(lines[i]); i++) body.push(lines[i].replace(/^\s*\*\s?/, ''));
      pendingDoc = unescapeDoc(body.join(' '));
      continue;
    }
    if (/^export declare class /.test(line)) {
      description = pendingDoc;
      pendingDoc = '';
      continue;
    }
    const field = /^ {4}'([^']+)'(\?)?:/.exec(line);
    if (field) {
      if (pendingDoc) fieldDocs.set(field[1], pendingDoc);
      if (!field[2]) required.push(field[1]);
      pendingDoc = '';
    }
  }
  return { description, fieldDocs, required };
}

const models = new Map<string, Model>();

/** Read one model class (e.g. `V1PodSpec`). Throws naming the class when the package lacks it. */
export function loadModel(className: string): Model {
  let m = models.get(className);
  if (m) return m;
  const base = join(modelsPath(), className);
  let js: string;
  let dts: string;
  try {
    js = readFileSync(`${base}.js`, 'utf8');
    dts = readFileSync(`${base}.d.ts`, 'utf8');
  } catch {
    throw new Error(`OpenAPI: @kubernetes/client-node has no model ${className}; reinstall dependencies`);
  }
  const map = /\.attributeTypeMap = (\[[\s\S]*?\]);/.exec(js);
  const attrs: Attr[] = map ? JSON.parse(map[1]) : [];
  m = { attrs, ...parseDeclarations(dts) };
  models.set(className, m);
  return m;
}

// ---- naming: client-node class -> upstream schema name ----

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const metaTypes = new Set([
  'ObjectMeta', 'ListMeta', 'LabelSelector', 'LabelSelectorRequirement', 'OwnerReference', 'ManagedFieldsEntry',
  'Condition', 'Status', 'StatusDetails', 'StatusCause', 'DeleteOptions', 'Preconditions',
]);
const groupTypes: [string, string[]][] = [
  ['io.k8s.api.apps.v1', ['Deployment', 'DeploymentSpec', 'DeploymentStrategy', 'RollingUpdateDeployment', 'DeploymentStatus', 'DeploymentCondition', 'DeploymentList', 'ReplicaSet', 'ReplicaSetList', 'ReplicaSetSpec', 'ReplicaSetStatus', 'ReplicaSetCondition', 'StatefulSet', 'StatefulSetList', 'StatefulSetSpec', 'StatefulSetStatus', 'StatefulSetCondition', 'StatefulSetUpdateStrategy', 'RollingUpdateStatefulSetStrategy', 'StatefulSetPersistentVolumeClaimRetentionPolicy', 'StatefulSetOrdinals', 'DaemonSet', 'DaemonSetList', 'DaemonSetSpec', 'DaemonSetStatus', 'DaemonSetCondition', 'DaemonSetUpdateStrategy', 'RollingUpdateDaemonSet', 'ControllerRevision', 'ControllerRevisionList']],
  ['io.k8s.api.batch.v1', ['Job', 'JobList', 'JobSpec', 'JobStatus', 'JobCondition', 'JobTemplateSpec', 'PodFailurePolicy', 'PodFailurePolicyRule', 'PodFailurePolicyOnExitCodesRequirement', 'PodFailurePolicyOnPodConditionsPattern', 'SuccessPolicy', 'SuccessPolicyRule', 'UncountedTerminatedPods', 'CronJob', 'CronJobList', 'CronJobSpec', 'CronJobStatus']],
  ['io.k8s.api.networking.v1', ['NetworkPolicy', 'NetworkPolicySpec', 'NetworkPolicyIngressRule', 'NetworkPolicyEgressRule', 'NetworkPolicyPort', 'IPBlock', 'NetworkPolicyPeer', 'NetworkPolicyList', 'Ingress', 'IngressList', 'IngressSpec', 'IngressTLS', 'IngressStatus', 'IngressLoadBalancerStatus', 'IngressLoadBalancerIngress', 'IngressPortStatus', 'IngressRule', 'HTTPIngressRuleValue', 'HTTPIngressPath', 'IngressBackend', 'IngressServiceBackend', 'ServiceBackendPort', 'IngressClass', 'IngressClassSpec', 'IngressClassParametersReference', 'IngressClassList']],
  ['io.k8s.api.discovery.v1', ['EndpointSlice', 'Endpoint', 'EndpointConditions', 'EndpointHints', 'ForZone', 'ForNode', 'EndpointPort', 'EndpointSliceList']],
  ['io.k8s.api.coordination.v1', ['Lease', 'LeaseSpec', 'LeaseList']],
  ['io.k8s.api.certificates.v1', ['CertificateSigningRequest', 'CertificateSigningRequestSpec', 'CertificateSigningRequestStatus', 'CertificateSigningRequestCondition', 'CertificateSigningRequestList']],
  ['io.k8s.api.autoscaling.v1', ['Scale', 'ScaleSpec', 'ScaleStatus']],
  ['io.k8s.api.policy.v1', ['PodDisruptionBudget', 'PodDisruptionBudgetList', 'PodDisruptionBudgetSpec', 'PodDisruptionBudgetStatus', 'Eviction']],
  ['io.k8s.api.admissionregistration.v1', ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyList', 'ValidatingAdmissionPolicySpec', 'ValidatingAdmissionPolicyStatus', 'ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicyBindingList', 'ValidatingAdmissionPolicyBindingSpec', 'Validation', 'MatchResources', 'NamedRuleWithOperations', 'ParamKind', 'ParamRef', 'MatchCondition', 'Variable', 'AuditAnnotation', 'TypeChecking', 'ExpressionWarning']],
];
const packageOfType = new Map<string, string>();
for (const [pkg, names] of groupTypes) for (const n of names) packageOfType.set(n, pkg);

/** The Go type name of a client-node class: V1PodSpec -> PodSpec, CoreV1EndpointPort -> EndpointPort. */
export function goTypeName(className: string): string {
  return className.replace(/^(CoreV1|DiscoveryV1|EventsV1|V1)/, '');
}

/** The upstream OpenAPI schema name of a client-node class: V1Pod -> io.k8s.api.core.v1.Pod. */
export function schemaName(className: string): string {
  const go = goTypeName(className);
  if (className.startsWith('DiscoveryV1')) return `io.k8s.api.discovery.v1.${go}`;
  if (className.startsWith('EventsV1')) return `io.k8s.api.events.v1.${go}`;
  if (className.startsWith('CoreV1')) return `io.k8s.api.core.v1.${go}`;
  if (metaTypes.has(go)) return `${META}.${go}`;
  return `${packageOfType.get(go) ?? 'io.k8s.api.core.v1'}.${go}`;
}

export const TIME = `${META}.Time`;
export const MICRO_TIME = `${META}.MicroTime`;
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/** Schemas of the scalar types every document may reference. */
export const SCALAR_SCHEMAS: Record<string, Schema> = {
  [TIME]: { type: 'string', format: 'date-time', description: 'Time is a timestamp in RFC 3339 form (e.g. 2026-11-21T10:00:00Z), with seconds precision.' },
  [MICRO_TIME]: { type: 'string', format: 'date-time', description: 'MicroTime is a timestamp in RFC 3339 form with microsecond precision.' },
  [INT_OR_STRING]: { 'x-kubernetes-int-or-string': true, format: 'int-or-string', description: 'IntOrString holds either an integer or a string (e.g. a port number or a port name).' },
  [QUANTITY]: { type: 'string', description: 'Quantity is a fixed-point number with an optional suffix (e.g. 100m, 128Mi, 2).' },
};

/** Map-valued fields whose values are resource.Quantity upstream. */
const quantityMaps = new Set(['limits', 'requests', 'capacity', 'allocatable', 'hard', 'used', 'overhead', 'allocatedResources']);


function isModelType(type: string): boolean {
  return /^(V\d|CoreV1|DiscoveryV1|EventsV1)[A-Za-z0-9]*$/.test(type) && type !== 'V1MicroTime';
}

/** The schema of one attribute type; model classes it references are pushed onto `pending`. */
function typeSchema(type: string, format: string, pending: string[], fieldName: string): Schema {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return { type: 'array', items: typeSchema(array[1], format, pending, fieldName) };
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (map[1] === 'string' && quantityMaps.has(fieldName)) return { type: 'object', additionalProperties: ref(QUANTITY) };
    return { type: 'object', additionalProperties: typeSchema(map[1], format, pending, fieldName) };
  }
  if (format === 'date-time-micro' || type === 'V1MicroTime') return ref(MICRO_TIME);
  switch (type) {
    case 'string':
      return format === 'byte' ? { type: 'string', format: 'byte' } : { type: 'string' };
    case 'boolean':
      return { type: 'boolean' };
    case 'number':
      return format === 'int32' || format === 'int64' ? { type: 'integer', format } : { type: 'number', format: format || 'double' };
    case 'Date':
      return ref(TIME);
    case 'IntOrString':
      return ref(INT_OR_STRING);
    case 'any':
      return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  }
  if (isModelType(type)) {
    pending.push(type);
    return { allOf: [ref(schemaName(type))] };
  }
  return { type: 'object' };
}

/** Descriptions for the common fields the model package leaves undocumented. */
function fallbackDoc(field: string, goType: string): string | undefined {
  switch (field) {
    case 'metadata':
      return goType.endsWith('List')
        ? 'Standard list metadata: resourceVersion and continue token.'
        : "Standard object's metadata: name, namespace, labels, annotations, uid, resourceVersion, ...";
    case 'spec':
      return `Specification of the desired behavior of the ${goType}.`;
    case 'status':
      return `Most recently observed status of the ${goType}, written by the system. Read-only.`;
    case 'items':
      return `The list of ${goType.replace(/List$/, '')} objects.`;
  }
  return undefined;
}

export interface Gvk {
  group: string;
  version: string;
  kind: string;
}

/**
 * Component schemas for these root classes and every model they reach, keyed by upstream name.
 * `gvks` marks the top-level kinds (x-kubernetes-group-version-kind).
 */
export function builtinSchemas(roots: string[], gvks: Map<string, Gvk>): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  const pending = [...roots];
  const done = new Set<string>();
  while (pending.length) {
    const cls = pending.pop()!;
    if (done.has(cls)) continue;
    done.add(cls);
    const model = loadModel(cls);
    const go = goTypeName(cls);
    const properties: Record<string, Schema> = {};
    const message = messageOfModel(cls);
    const fieldMeta = message ? fieldMetaOf(message) : undefined;
    for (const a of model.attrs) {
      const s: Schema = { ...typeSchema(a.type, a.format, pending, a.baseName) };
      const doc = model.fieldDocs.get(a.name) ?? fallbackDoc(a.baseName, go);
      if (doc) s.description = doc;
      const pm = fieldMeta?.get(a.baseName);
      if (pm?.listType) s['x-kubernetes-list-type'] = pm.listType;
      if (pm?.listMapKeys) s['x-kubernetes-list-map-keys'] = pm.listMapKeys;
      if (pm?.patchMergeKey) s['x-kubernetes-patch-merge-key'] = pm.patchMergeKey;
      if (pm?.patchStrategy) s['x-kubernetes-patch-strategy'] = pm.patchStrategy;
      properties[a.baseName] = s;
    }
    const schema: Schema = { description: model.description, type: 'object', properties };
    const baseOf = new Map(model.attrs.map((a) => [a.name, a.baseName]));
    const required = model.required.map((r) => baseOf.get(r) ?? r).filter((r) => r in properties);
    if (required.length) schema.required = required;
    const gvk = gvks.get(cls);
    if (gvk) schema['x-kubernetes-group-version-kind'] = [gvk];
    out[schemaName(cls)] = schema;
  }
  return out;
}
