// CRDs the CRD tests apply: a namespaced CronTab-like kind with a schema that exercises
// validation, pruning, defaulting, the status and scale subresources and printer columns; and a
// bundle with the names, versions, scope and subresources of the Gateway API v1.x standard-install
// CRDs (facts of that release, written here as our own minimal schemas).
export const WIDGET_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.demo.flatnet.dev
spec:
  group: demo.flatnet.dev
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wg]
    categories: [all, flatnet-demo]
  versions:
  - name: v1
    served: true
    storage: true
    selectableFields:
    - jsonPath: .spec.size
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.selector
    additionalPrinterColumns:
    - name: Size
      type: string
      jsonPath: .spec.size
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Ready
      type: string
      jsonPath: .status.conditions[?(@.type=="Ready")].status
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    schema:
      openAPIV3Schema:
        type: object
        description: A Widget is a test kind of flatnet's CRD support.
        properties:
          spec:
            type: object
            description: What the widget should be.
            required: [size]
            properties:
              size:
                type: string
                description: How big the widget is.
                enum: [small, medium, large]
              replicas:
                type: integer
                minimum: 0
                maximum: 100
                default: 1
              color:
                type: string
                pattern: '^#[0-9a-f]{6}$'
                default: '#000000'
              port:
                x-kubernetes-int-or-string: true
              owner:
                type: string
                format: email
              tags:
                type: array
                maxItems: 3
                items:
                  type: string
                  maxLength: 10
              extra:
                type: object
                x-kubernetes-preserve-unknown-fields: true
              template:
                type: object
                x-kubernetes-embedded-resource: true
                x-kubernetes-preserve-unknown-fields: true
          status:
            type: object
            properties:
              replicas:
                type: integer
              selector:
                type: string
              conditions:
                type: array
                items:
                  type: object
                  required: [type, status]
                  properties:
                    type: {type: string}
                    status: {type: string}
`;

export interface BundleKind {
  plural: string;
  kind: string;
  scope: 'Namespaced' | 'Cluster';
  /** served versions, storage first */
  versions: string[];
  shortNames?: string[];
  status: boolean;
}

/** The Gateway API v1.x standard-install kinds: names, scope, served versions and subresources. */
export const GATEWAY_STANDARD_KINDS: BundleKind[] = [
  { plural: 'gatewayclasses', kind: 'GatewayClass', scope: 'Cluster', versions: ['v1', 'v1beta1'], shortNames: ['gc'], status: true },
  { plural: 'gateways', kind: 'Gateway', scope: 'Namespaced', versions: ['v1', 'v1beta1'], shortNames: ['gtw'], status: true },
  { plural: 'httproutes', kind: 'HTTPRoute', scope: 'Namespaced', versions: ['v1', 'v1beta1'], status: true },
  { plural: 'grpcroutes', kind: 'GRPCRoute', scope: 'Namespaced', versions: ['v1'], status: true },
  { plural: 'referencegrants', kind: 'ReferenceGrant', scope: 'Namespaced', versions: ['v1', 'v1beta1'], shortNames: ['refgrant'], status: false },
];

/** One CRD of the bundle, in the form a person applies (with the approval annotation the group needs). */
export function gatewayBundleCrd(k: BundleKind): string {
  const versions = k.versions
    .map(
      (v, i) => `  - name: ${v}
    served: true
    storage: ${i === 0}
${k.status ? '    subresources:\n      status: {}\n' : ''}    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-preserve-unknown-fields: true
${k.status ? '          status:\n            type: object\n            x-kubernetes-preserve-unknown-fields: true\n' : ''}`,
    )
    .join('');
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${k.plural}.gateway.networking.k8s.io
  annotations:
    api-approved.kubernetes.io: https://github.com/kubernetes-sigs/gateway-api/pull/3328
    gateway.networking.k8s.io/bundle-version: v1.2.1
    gateway.networking.k8s.io/channel: standard
spec:
  group: gateway.networking.k8s.io
  scope: ${k.scope}
  names:
    plural: ${k.plural}
    singular: ${k.kind.toLowerCase()}
    kind: ${k.kind}
    listKind: ${k.kind}List
    categories: [gateway-api]
${k.shortNames ? `    shortNames: [${k.shortNames.join(', ')}]\n` : ''}  versions:
${versions}`;
}

export const GATEWAY_BUNDLE = GATEWAY_STANDARD_KINDS.map(gatewayBundleCrd).join('---\n');
