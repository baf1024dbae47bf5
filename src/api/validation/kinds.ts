// The validation rules of each served kind: how its name is checked and which spec validators run.
import type { KubeObject } from '../types.js';
import type { FieldError } from './index.js';
import { type NameValidator, nameIsDNS1035Label, nameIsDNSLabel, nameIsDNSSubdomain, nameIsPathSegment } from './meta.js';
import { validateConfigMap, validateConfigMapUpdate, validateLease, validateNamespace, validateNode, validateNodeUpdate, validateSecret, validateSecretUpdate } from './core.js';
import { validateEndpointSlice, validateEndpointSliceUpdate, validateEndpoints } from './discovery.js';
import { gatewayValidator, validateGatewayClassUpdate } from './gateway.js';
import { validateIngress, validateIngressClass, validateIngressClassUpdate } from './ingress.js';
import { validateNetworkPolicy } from './networkpolicy.js';
import { validatePod, validatePodUpdate } from './pod.js';
import { validateService, validateServiceUpdate } from './service.js';
import { validateDeployment, validateDeploymentUpdate, validateReplicaSet, validateReplicaSetUpdate } from './workloads.js';
import { validateCronJob, validateJob, validateJobUpdate } from './batch.js';
import { validateCustomResourceDefinition, validateCustomResourceDefinitionUpdate } from '../crd/validation.js';
import { validatePodDisruptionBudget, validatePodDisruptionBudgetUpdate } from './policy.js';
import { validateValidatingAdmissionPolicy, validateValidatingAdmissionPolicyBinding } from './admission-policy.js';
import { validateControllerRevision, validateControllerRevisionUpdate, validateDaemonSet, validateDaemonSetUpdate, validateStatefulSet, validateStatefulSetUpdate } from './workload-sets.js';

export interface KindRules {
  name: NameValidator;
  create?: (obj: KubeObject) => FieldError[];
  /** Runs on update instead of `create` (it usually calls create's checks itself). */
  update?: (obj: KubeObject, old: KubeObject) => FieldError[];
}

const rules: Record<string, KindRules> = {
  Pod: { name: nameIsDNSSubdomain, create: validatePod, update: validatePodUpdate },
  Service: { name: nameIsDNS1035Label, create: validateService, update: validateServiceUpdate },
  Namespace: { name: nameIsDNSLabel, create: validateNamespace },
  Node: { name: nameIsDNSSubdomain, create: validateNode, update: validateNodeUpdate },
  ConfigMap: { name: nameIsDNSSubdomain, create: validateConfigMap, update: validateConfigMapUpdate },
  Secret: { name: nameIsDNSSubdomain, create: validateSecret, update: validateSecretUpdate },
  Endpoints: { name: nameIsDNSSubdomain, create: validateEndpoints },
  EndpointSlice: { name: nameIsDNSSubdomain, create: validateEndpointSlice, update: validateEndpointSliceUpdate },
  Lease: { name: nameIsDNSSubdomain, create: validateLease },
  ServiceAccount: { name: nameIsDNSSubdomain },
  Event: { name: nameIsDNSSubdomain },
  GatewayClass: { name: nameIsDNSSubdomain, create: gatewayValidator('GatewayClass'), update: validateGatewayClassUpdate },
  Gateway: { name: nameIsDNSSubdomain, create: gatewayValidator('Gateway') },
  HTTPRoute: { name: nameIsDNSSubdomain, create: gatewayValidator('HTTPRoute') },
  GRPCRoute: { name: nameIsDNSSubdomain, create: gatewayValidator('GRPCRoute') },
  ReferenceGrant: { name: nameIsDNSSubdomain, create: gatewayValidator('ReferenceGrant') },
  TCPRoute: { name: nameIsDNSSubdomain, create: gatewayValidator('TCPRoute') },
  UDPRoute: { name: nameIsDNSSubdomain, create: gatewayValidator('UDPRoute') },
  TLSRoute: { name: nameIsDNSSubdomain, create: gatewayValidator('TLSRoute') },
  Deployment: { name: nameIsDNSSubdomain, create: validateDeployment, update: validateDeploymentUpdate },
  ReplicaSet: { name: nameIsDNSSubdomain, create: validateReplicaSet, update: validateReplicaSetUpdate },
  StatefulSet: { name: nameIsDNSLabel, create: validateStatefulSet, update: validateStatefulSetUpdate },
  DaemonSet: { name: nameIsDNSSubdomain, create: validateDaemonSet, update: validateDaemonSetUpdate },
  ControllerRevision: { name: nameIsDNSSubdomain, create: validateControllerRevision, update: validateControllerRevisionUpdate },
  Job: { name: nameIsDNSSubdomain, create: validateJob, update: validateJobUpdate },
  CronJob: { name: nameIsDNSSubdomain, create: validateCronJob },
  NetworkPolicy: { name: nameIsDNSSubdomain, create: validateNetworkPolicy },
  PodDisruptionBudget: { name: nameIsDNSSubdomain, create: validatePodDisruptionBudget, update: validatePodDisruptionBudgetUpdate },
  Ingress: { name: nameIsDNSSubdomain, create: validateIngress },
  IngressClass: { name: nameIsDNSSubdomain, create: validateIngressClass, update: validateIngressClassUpdate },
  // RBAC names are path segments upstream (ValidateRBACName): system:aggregate-to-admin is valid.
  ClusterRole: { name: nameIsPathSegment },
  ClusterRoleBinding: { name: nameIsPathSegment },
  Role: { name: nameIsPathSegment },
  RoleBinding: { name: nameIsPathSegment },
  CustomResourceDefinition: { name: nameIsDNSSubdomain, create: validateCustomResourceDefinition, update: validateCustomResourceDefinitionUpdate },
  ValidatingAdmissionPolicy: { name: nameIsDNSSubdomain, create: validateValidatingAdmissionPolicy },
  ValidatingAdmissionPolicyBinding: { name: nameIsDNSSubdomain, create: validateValidatingAdmissionPolicyBinding },
};

export function registerKindRules(kind: string, r: KindRules): void {
  rules[kind] = r;
}

export function rulesFor(kind: string): KindRules {
  return rules[kind] ?? { name: nameIsDNSSubdomain };
}
