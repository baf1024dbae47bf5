// The BGPPeer kind (flatnet.dev/v1, cluster-scoped): a CustomResourceDefinition, so the API server
// validates it with its schema, lists it in discovery and prints its columns, as Calico's BGPPeer
// CRD does. `flatnet up --overlay bgp` installs it; `flatnet bgp crd` prints it for other clusters.
import type { ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { BGP_GROUP, BGP_VERSION } from './peers.js';

export const BGP_PEERS: ResourceInfo = {
  group: BGP_GROUP,
  version: BGP_VERSION,
  kind: 'BGPPeer',
  listKind: 'BGPPeerList',
  plural: 'bgppeers',
  singular: 'bgppeer',
  namespaced: false,
  shortNames: [],
  categories: [],
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: [],
};

const labelSelectorSchema = {
  type: 'object',
  description: 'The nodes that open a session to this peer (all nodes when absent).',
  properties: {
    matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string' },
          operator: { type: 'string', enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};

export function bgpPeerCrd(): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${BGP_PEERS.plural}.${BGP_GROUP}` },
    spec: {
      group: BGP_GROUP,
      scope: 'Cluster',
      names: { kind: BGP_PEERS.kind, listKind: BGP_PEERS.listKind, plural: BGP_PEERS.plural, singular: BGP_PEERS.singular },
      versions: [
        {
          name: BGP_VERSION,
          served: true,
          storage: true,
          additionalPrinterColumns: [
            { name: 'Peer', type: 'string', jsonPath: '.spec.peerAddress' },
            { name: 'ASN', type: 'integer', jsonPath: '.spec.peerASN' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'A BGP router the selected nodes peer with: they announce their pod CIDRs to it and install the routes it sends.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: {
                  type: 'object',
                  required: ['peerAddress', 'peerASN'],
                  properties: {
                    peerAddress: { type: 'string', description: "The peer's IPv4 address.", pattern: '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$' },
                    peerASN: { type: 'integer', format: 'int64', minimum: 1, maximum: 4294967295, description: "The peer's AS number (4-byte ASNs are supported)." },
                    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'TCP port of the peer (default 179).' },
                    password: {
                      type: 'object',
                      description: 'The TCP MD5 signature key (RFC 2385) of the session, as the peer has it (1-80 bytes), kept in a Secret in kube-system that the selected nodes read.',
                      required: ['secretKeyRef'],
                      properties: {
                        secretKeyRef: {
                          type: 'object',
                          description: 'The Secret (in kube-system) and its key that hold the password.',
                          required: ['name', 'key'],
                          properties: {
                            name: { type: 'string', minLength: 1, maxLength: 253, description: 'The name of a Secret in kube-system.' },
                            key: { type: 'string', minLength: 1, maxLength: 253, description: 'The key of the Secret whose value is the password.' },
                          },
                        },
                      },
                    },
                    nodeSelector: labelSelectorSchema,
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}
