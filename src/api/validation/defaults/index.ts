// Which defaulting function each served kind gets.
import type { ResourceInfo } from '../../resources.js';
import { defaultDeployment, defaultReplicaSet } from './apps.js';
import { defaultCronJob, defaultJob } from './batch.js';
import { defaultDaemonSet, defaultStatefulSet } from './workload-sets.js';
import {
  defaultEndpointSlice,
  defaultEndpoints,
  defaultIngressClass,
  defaultNamespace,
  defaultNetworkPolicy,
  defaultNode,
  defaultSecret,
  defaultService,
} from './core.js';
import { defaultGRPCRoute, defaultGateway, defaultGatewayClass, defaultHTTPRoute, defaultL4Route } from './gateway.js';
import { defaultPod } from './pod.js';
import { defaultPodDisruptionBudget } from '../policy.js';
import { defaultCustomResourceDefinition } from '../../crd/validation.js';
import type { Obj } from './util.js';

const BY_KIND: Record<string, (obj: Obj) => void> = {
  Pod: defaultPod,
  Service: defaultService,
  Namespace: defaultNamespace,
  Secret: defaultSecret,
  Endpoints: defaultEndpoints,
  Node: defaultNode,
  Deployment: defaultDeployment,
  ReplicaSet: defaultReplicaSet,
  StatefulSet: defaultStatefulSet,
  DaemonSet: defaultDaemonSet,
  Job: defaultJob,
  CronJob: defaultCronJob,
  EndpointSlice: defaultEndpointSlice,
  NetworkPolicy: defaultNetworkPolicy,
  PodDisruptionBudget: defaultPodDisruptionBudget,
  IngressClass: defaultIngressClass,
  GatewayClass: defaultGatewayClass,
  Gateway: defaultGateway,
  HTTPRoute: defaultHTTPRoute,
  GRPCRoute: defaultGRPCRoute,
  TCPRoute: defaultL4Route,
  CustomResourceDefinition: defaultCustomResourceDefinition,
  UDPRoute: defaultL4Route,
  TLSRoute: defaultL4Route,
};

export function defaultsFor(r: ResourceInfo): ((obj: Obj) => void) | undefined {
  return BY_KIND[r.kind];
}
