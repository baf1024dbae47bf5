import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { findUnknownFields } from '../../../src/api/validation/index.js';

const table: [string, keyof typeof R, Record<string, unknown>, string[]][] = [
  [
    'a full deployment has no unknown fields',
    'deployments',
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        labels: { app: 'web' },
        annotations: { a: 'b' },
        managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }],
      },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'nginx',
                image: 'nginx',
                ports: [{ containerPort: 80, protocol: 'TCP' }],
                resources: { limits: { cpu: '100m' } },
                readinessProbe: { httpGet: { path: '/', port: 'http' } },
                env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
              },
            ],
          },
        },
      },
      status: { conditions: [{ type: 'Available', status: 'True' }] },
    },
    [],
  ],
  ['top-level and spec fields', 'services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', bogus: 1 }, spec: { ports: [{ port: 80, nodeport: 3 }], foo: 'x' }, extra: true }, ['metadata.bogus', 'spec.ports[0].nodeport', 'spec.foo', 'extra']],
  ['nested in lists', 'pods', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i' }, { name: 'd', image: 'i', imagePullPolicyy: 'Always' }] } }, ['spec.containers[1].imagePullPolicyy']],
  ['maps of objects', 'configmaps', { metadata: { name: 'c' }, data: { 'any.key': 'v' }, binaryData: {} }, []],
  ['networkpolicy', 'networkpolicies', { metadata: { name: 'n' }, spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', exept: [] } }] }] } }, ['spec.ingress[0].from[0].ipBlock.exept']],
  ['ingress', 'ingresses', { metadata: { name: 'i' }, spec: { rules: [{ host: 'a', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { serviceName: 'x' } }] } }] } }, ['spec.rules[0].http.paths[0].backend.serviceName']],
  [
    'gateway (hand-written schema)',
    'gateways',
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'g' }, spec: { gatewayClassName: 'c', listeners: [{ name: 'h', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All', selector: { matchLabels: { a: 'b' } } } }, bogus: 1 }] } },
    ['spec.listeners[0].bogus'],
  ],
  [
    'httproute',
    'httproutes',
    {
      metadata: { name: 'r' },
      spec: {
        parentRefs: [{ name: 'g', sectionName: 'h' }],
        hostnames: ['a.example.com'],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ name: 'x', value: 'y' }] }], filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 301, foo: 1 } }], backendRefs: [{ name: 's', port: 80, weight: 1 }] }],
      },
    },
    ['spec.rules[0].filters[0].requestRedirect.foo'],
  ],
];

test('findUnknownFields reports the paths upstream strict decoding names', () => {
  for (const [name, key, obj, expected] of table) {
    assert.deepEqual(findUnknownFields(R[key], obj as KubeObject), expected, name);
  }
});
