// The validation rules of each served kind: how its name is checked and which spec validators run.
import type { KubeObject } from '../types.js';
import type { FieldError } from './index.js';
import { type NameValidator, nameIsDNS1035Label, nameIsDNSLabel, nameIsDNSSubdomain } from './meta.js';
import { validateIngress, validateIngressClass, validateIngressClassUpdate } from './ingress.js';
import { validateNetworkPolicy } from './networkpolicy.js';
import { validatePod, validatePodUpdate } from './pod.js';
import { validateService, validateServiceUpdate } from './service.js';
import { validateDeployment, validateDeploymentUpdate, validateReplicaSet, validateReplicaSetUpdate } from './workloads.js';

export interface KindRules {
  name: NameValidator;
  create?: (obj: KubeObject) => FieldError[];
  /** Runs on update instead of `create` (it usually calls create's checks itself). */
  update?: (obj: KubeObject, old: KubeObject) => FieldError[];
}

const rules: Record<string, KindRules> = {
  Pod: { name: nameIsDNSSubdomain, create: validatePod, update: validatePodUpdate },
  Service: { name: nameIsDNS1035Label, create: validateService, update: validateServiceUpdate },
  Namespace: { name: nameIsDNSLabel },
  Deployment: { name: nameIsDNSSubdomain, create: validateDeployment, update: validateDeploymentUpdate },
  ReplicaSet: { name: nameIsDNSSubdomain, create: validateReplicaSet, update: validateReplicaSetUpdate },
  NetworkPolicy: { name: nameIsDNSSubdomain, create: validateNetworkPolicy },
  Ingress: { name: nameIsDNSSubdomain, create: validateIngress },
  IngressClass: { name: nameIsDNSSubdomain, create: validateIngressClass, update: validateIngressClassUpdate },
};

export function registerKindRules(kind: string, r: KindRules): void {
  rules[kind] = r;
}

export function rulesFor(kind: string): KindRules {
  return rules[kind] ?? { name: nameIsDNSSubdomain };
}
