import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import { admitPodDefaults, defaultImagePullPolicy } from '../../../src/api/validation/defaults/pod.js';
import { defaulted } from './helpers.js';

const meta = { name: 'x', namespace: 'default' };

test('Service defaults: ClusterIP, None affinity, TCP, targetPort = port, single-stack IPv4, Cluster traffic policy', () => {
  const svc = defaulted(R.services, { metadata: meta, spec: { selector: { app: 'web' }, ports: [{ port: 80 }, { port: 53, protocol: 'UDP', targetPort: 'dns' }] } });
  assert.deepEqual(svc.spec, {
    selector: { app: 'web' },
    ports: [
      { port: 80, protocol: 'TCP', targetPort: 80 },
      { port: 53, protocol: 'UDP', targetPort: 'dns' },
    ],
    sessionAffinity: 'None',
    type: 'ClusterIP',
    internalTrafficPolicy: 'Cluster',
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
  });
});

test('Service defaults by type', () => {
  const table: [Record<string, unknown>, Record<string, unknown>][] = [
    [{ type: 'NodePort', ports: [{ port: 80 }] }, { externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster' }],
    [{ type: 'LoadBalancer', ports: [{ port: 80 }] }, { externalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true }],
    [{ type: 'ClusterIP', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }, { sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } } }],
    [{ type: 'ExternalName', externalName: 'example.com' }, { sessionAffinity: 'None' }],
    [{ clusterIP: 'None' }, { ipFamilyPolicy: 'RequireDualStack', clusterIPs: ['None'] }],
  ];
  for (const [spec, expected] of table) {
    const svc = defaulted(R.services, { metadata: meta, spec });
    for (const [k, v] of Object.entries(expected)) assert.deepEqual(svc.spec[k], v, `${JSON.stringify(spec)} ${k}`);
  }
  const ext = defaulted(R.services, { metadata: meta, spec: { type: 'ExternalName', externalName: 'example.com' } });
  assert.equal(ext.spec.internalTrafficPolicy, undefined);
  assert.equal(ext.spec.ipFamilies, undefined);
  const cip = defaulted(R.services, { metadata: meta, spec: { ports: [{ port: 80 }] } });
  assert.equal(cip.spec.externalTrafficPolicy, undefined);
});

test('image pull policy: Always for :latest or no tag, else IfNotPresent', () => {
  const table: [string, string][] = [
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.27', 'IfNotPresent'],
    ['registry:5000/nginx', 'Always'],
    ['registry:5000/nginx:1.2', 'IfNotPresent'],
    ['nginx@sha256:abcd', 'IfNotPresent'],
  ];
  for (const [image, policy] of table) assert.equal(defaultImagePullPolicy(image), policy, image);
});

test('Pod defaults', () => {
  const pod = defaulted(R.pods, {
    metadata: meta,
    spec: {
      containers: [
        {
          name: 'c',
          image: 'busybox:1.36',
          ports: [{ containerPort: 80 }],
          readinessProbe: { httpGet: { port: 80 } },
          env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        },
      ],
      volumes: [{ name: 'v' }, { name: 'cm', configMap: { name: 'x' } }],
    },
  });
  const s = pod.spec;
  assert.equal(s.restartPolicy, 'Always');
  assert.equal(s.dnsPolicy, 'ClusterFirst');
  assert.equal(s.schedulerName, 'default-scheduler');
  assert.equal(s.terminationGracePeriodSeconds, 30);
  assert.deepEqual(s.securityContext, {});
  assert.equal(s.enableServiceLinks, true);
  // serviceAccountName and priority are admission's (admitPodDefaults), not defaulting's.
  assert.equal(s.priority, undefined);
  assert.equal(s.serviceAccountName, undefined);
  admitPodDefaults(pod);
  assert.equal(s.priority, 0);
  assert.equal(s.serviceAccountName, 'default');
  assert.equal(s.serviceAccount, 'default');
  const c = s.containers[0];
  assert.equal(c.imagePullPolicy, 'IfNotPresent');
  assert.equal(c.terminationMessagePath, '/dev/termination-log');
  assert.equal(c.terminationMessagePolicy, 'File');
  assert.deepEqual(c.ports, [{ containerPort: 80, protocol: 'TCP' }]);
  assert.deepEqual(c.readinessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.equal(c.env[0].valueFrom.fieldRef.apiVersion, 'v1');
  assert.deepEqual(s.volumes, [{ name: 'v', emptyDir: {} }, { name: 'cm', configMap: { name: 'x', defaultMode: 420 } }]);
  assert.deepEqual(pod.status, { phase: 'Pending', qosClass: 'BestEffort' });
});

test('Deployment and ReplicaSet defaults; templates get pod-spec defaults but not pod-only ones', () => {
  const d = defaulted(R.deployments, {
    metadata: meta,
    spec: { selector: { matchLabels: { app: 'w' } }, template: { metadata: { labels: { app: 'w' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  });
  assert.equal(d.spec.replicas, 1);
  assert.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  assert.equal(d.spec.revisionHistoryLimit, 10);
  assert.equal(d.spec.progressDeadlineSeconds, 600);
  assert.equal(d.spec.template.spec.restartPolicy, 'Always');
  assert.equal(d.spec.template.spec.containers[0].imagePullPolicy, 'Always');
  assert.equal(d.spec.template.spec.enableServiceLinks, undefined);
  const recreate = defaulted(R.deployments, { metadata: meta, spec: { strategy: { type: 'Recreate' }, template: { spec: { containers: [] } } } });
  assert.deepEqual(recreate.spec.strategy, { type: 'Recreate' });
  const rs = defaulted(R.replicasets, { metadata: meta, spec: { template: { spec: { containers: [{ name: 'c', image: 'x:1' }] } } } });
  assert.equal(rs.spec.replicas, 1);
});

test('NetworkPolicy defaults: policyTypes from the rules present, port protocol TCP', () => {
  const table: [Record<string, unknown>, string[]][] = [
    [{ podSelector: {} }, ['Ingress']],
    [{ podSelector: {}, ingress: [{}] }, ['Ingress']],
    [{ podSelector: {}, egress: [{ ports: [{ port: 53 }] }] }, ['Ingress', 'Egress']],
    [{ podSelector: {}, egress: [] }, ['Ingress']],
    [{ podSelector: {}, policyTypes: ['Egress'] }, ['Egress']],
  ];
  for (const [spec, types] of table) assert.deepEqual(defaulted(R.networkpolicies, { metadata: meta, spec }).spec.policyTypes, types, JSON.stringify(spec));
  const np = defaulted(R.networkpolicies, { metadata: meta, spec: { ingress: [{ ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }] } });
  assert.deepEqual(np.spec.ingress[0].ports, [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }]);
  assert.deepEqual(np.spec.podSelector, {});
});

test('Namespace, Secret, EndpointSlice, IngressClass defaults', () => {
  const ns = defaulted(R.namespaces, { metadata: { name: 'team-a' } });
  assert.deepEqual(ns.metadata.labels, { 'kubernetes.io/metadata.name': 'team-a' });
  assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
  assert.deepEqual(ns.status, { phase: 'Active' });
  assert.equal(defaulted(R.secrets, { metadata: meta }).type, 'Opaque');
  assert.equal(defaulted(R.secrets, { metadata: meta, type: 'kubernetes.io/tls' }).type, 'kubernetes.io/tls');
  const slice = defaulted(R.endpointslices, { metadata: meta, addressType: 'IPv4', endpoints: [], ports: [{ port: 80 }] });
  assert.deepEqual(slice.ports, [{ port: 80, name: '', protocol: 'TCP' }]);
  const ic = defaulted(R.ingressclasses, { metadata: { name: 'x' }, spec: { controller: 'a.io/b', parameters: { kind: 'K', name: 'n' } } });
  assert.equal(ic.spec.parameters.scope, 'Cluster');
});

test('Gateway API defaults from the CRDs', () => {
  const route = defaulted(R.httproutes, { metadata: meta, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] } });
  assert.deepEqual(route.spec.parentRefs, [{ name: 'gw', group: 'gateway.networking.k8s.io', kind: 'Gateway' }]);
  assert.deepEqual(route.spec.rules[0].matches, [{ path: { type: 'PathPrefix', value: '/' } }]);
  assert.deepEqual(route.spec.rules[0].backendRefs, [{ name: 'svc', port: 80, group: '', kind: 'Service', weight: 1 }]);
  const bare = defaulted(R.httproutes, { metadata: meta, spec: {} });
  assert.deepEqual(bare.spec.rules, [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }]);
  const gw = defaulted(R.gateways, { metadata: meta, spec: { gatewayClassName: 'c', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } });
  assert.deepEqual(gw.spec.listeners[0].allowedRoutes, { namespaces: { from: 'Same' } });
  assert.deepEqual(
    gw.status.conditions.map((c: { type: string; status: string; reason: string }) => `${c.type}=${c.status}/${c.reason}`),
    ['Accepted=Unknown/Pending', 'Programmed=Unknown/Pending'],
  );
});

test('defaulting is idempotent for every kind with defaults', () => {
  const samples: [keyof typeof R, Record<string, unknown>][] = [
    ['pods', { metadata: meta, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }], livenessProbe: { httpGet: { port: 80 } } }], volumes: [{ name: 'v' }] } }],
    ['services', { metadata: meta, spec: { type: 'LoadBalancer', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] } }],
    ['deployments', { metadata: meta, spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }] } } } }],
    ['replicasets', { metadata: meta, spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }] } } } }],
    ['networkpolicies', { metadata: meta, spec: { egress: [{ ports: [{ port: 53 }] }] } }],
    ['namespaces', { metadata: { name: 'ns1' } }],
    ['secrets', { metadata: meta, stringData: { a: 'b' } }],
    ['endpointslices', { metadata: meta, addressType: 'IPv4', endpoints: [], ports: [{ port: 1 }] }],
    ['httproutes', { metadata: meta, spec: { parentRefs: [{ name: 'g' }] } }],
    ['gateways', { metadata: meta, spec: { gatewayClassName: 'c', listeners: [{ name: 'h', port: 443, protocol: 'HTTPS', tls: {} }] } }],
    ['grpcroutes', { metadata: meta, spec: { rules: [{ matches: [{ method: { service: 's' } }], backendRefs: [{ name: 'b', port: 1 }] }] } }],
    ['tcproutes', { metadata: meta, spec: { rules: [{ backendRefs: [{ name: 'b', port: 1 }] }] } }],
  ];
  for (const [key, obj] of samples) {
    const once = defaulted(R[key], obj);
    assert.deepEqual(defaulted(R[key], once), once, key);
  }
});
