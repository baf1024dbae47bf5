// The strategy of each resource: a table by group and plural for the built-in kinds, one built
// from its CRD for a custom resource, the default for everything else.
import { GATEWAY_API_GROUP, RBAC_GROUP, type ResourceInfo } from '../../api/resources.js';
import { customResourceOf, type CustomResourceBehaviour } from '../crd/resource.js';
import { customResourceDefinitionStrategy, customResourceStrategy } from './custom-resources.js';
import { SPEC_GENERATION, defaultStrategy, withGeneration } from './default.js';
import { endpointsStrategy } from './endpoints.js';
import { gatewayApiStrategy } from './gateway-api.js';
import { ingressStrategy } from './ingresses.js';
import { namespaceStrategy } from './namespaces.js';
import { nodeStrategy } from './nodes.js';
import { podStrategy } from './pods.js';
import { serviceStrategy } from './services.js';
import { certificateSigningRequestStrategy } from './certificate-signing-requests.js';
import { statusUpdateResetting } from './status.js';
import type { ResourceStrategy } from './types.js';

export type { Allocator, GenerationRule, ResourceStrategy, StrategicMerge, StrategyEnv, UpdateSubresource } from './types.js';
export { generationChanged } from './default.js';

/**
 * The built-in kinds whose strategy differs from the default, keyed `group/plural`. Upstream
 * 1.32 sets metadata.generation only where a kind's strategy does: the apps and batch workloads,
 * EndpointSlice, NetworkPolicy, Ingress, IngressClass, PodDisruptionBudget, CRDs and (being CRDs
 * upstream) the Gateway API kinds; never core/v1 kinds such as Pod, Service or ConfigMap.
 */
const BUILT_IN: Record<string, ResourceStrategy> = {
  '/pods': podStrategy,
  '/services': serviceStrategy,
  '/namespaces': namespaceStrategy,
  '/nodes': nodeStrategy,
  '/endpoints': endpointsStrategy,
  '/serviceaccounts': { ...defaultStrategy, returnsDeletedObject: true },
  '/events': { ...defaultStrategy, allowCreateOnUpdate: true },
  'coordination.k8s.io/leases': { ...defaultStrategy, allowCreateOnUpdate: true },
  // Annotations are copied from a Deployment to its ReplicaSets, so changing them is a new generation.
  // deployments/status keeps the stored labels as well as the spec.
  'apps/deployments': { ...withGeneration({ ...SPEC_GENERATION, metadata: ['annotations'] }), prepareForStatusUpdate: statusUpdateResetting(['spec', 'labels']) },
  'apps/replicasets': withGeneration(),
  'apps/statefulsets': withGeneration(),
  'apps/daemonsets': withGeneration(),
  'batch/jobs': withGeneration(),
  'batch/cronjobs': withGeneration(),
  // An EndpointSlice has no spec: any change but metadata counts, and so do its labels.
  'discovery.k8s.io/endpointslices': withGeneration({ ignores: ['metadata', 'apiVersion', 'kind'], metadata: ['labels'] }),
  'networking.k8s.io/networkpolicies': withGeneration(),
  'networking.k8s.io/ingresses': ingressStrategy,
  'networking.k8s.io/ingressclasses': withGeneration(),
  'policy/poddisruptionbudgets': withGeneration(),
  'apiextensions.k8s.io/customresourcedefinitions': customResourceDefinitionStrategy,
  // Upstream counts spec changes of ValidatingAdmissionPolicies and their bindings (the status controller compares observedGeneration).
  'admissionregistration.k8s.io/validatingadmissionpolicies': withGeneration(),
  'admissionregistration.k8s.io/validatingadmissionpolicybindings': withGeneration(),
  // Approved/Denied conditions belong to the approval subresource, the certificate to status.
  'certificates.k8s.io/certificatesigningrequests': certificateSigningRequestStrategy,
};

/** RBAC names (system:aggregate-to-admin) need only be valid path segments. */
const rbacStrategy: ResourceStrategy = { ...defaultStrategy, nameFormat: 'path' };

const customStrategies = new WeakMap<CustomResourceBehaviour, ResourceStrategy>();

export function strategyFor(r: Pick<ResourceInfo, 'group' | 'plural'>): ResourceStrategy {
  const custom = customResourceOf(r);
  if (custom) {
    let s = customStrategies.get(custom);
    if (!s) customStrategies.set(custom, (s = customResourceStrategy(custom)));
    return s;
  }
  const builtIn = BUILT_IN[`${r.group}/${r.plural}`];
  if (builtIn) return builtIn;
  if (r.group === GATEWAY_API_GROUP) return gatewayApiStrategy;
  if (r.group === RBAC_GROUP) return rbacStrategy;
  return defaultStrategy;
}
