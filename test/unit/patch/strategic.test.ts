import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { PatchError, applyStrategicMergePatch } from '../../../src/api/patch/index.js';

const deployment = (): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, finalizers: ['a.io/x'] },
  spec: {
    replicas: 2,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'nginx', image: 'nginx:1.27', env: [{ name: 'A', value: '1' }, { name: 'C', value: 'c' }], ports: [{ containerPort: 80, protocol: 'TCP' }] },
          { name: 'sidecar', image: 'busybox', command: ['sleep', '1d'] },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
    },
  },
});

test('the Deployment patch kubectl apply sends (observed): image change, env merge, container delete, element order', () => {
  const patch = {
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'nginx' }],
          containers: [
            { '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }], env: [{ name: 'A', value: '2' }, { name: 'B', value: 'b' }], image: 'nginx:1.28', name: 'nginx' },
            { $patch: 'delete', name: 'sidecar' },
          ],
        },
      },
    },
  };
  const out = applyStrategicMergePatch(R.deployments, deployment(), patch) as any;
  const containers = out.spec.template.spec.containers;
  assert.equal(containers.length, 1);
  assert.equal(containers[0].image, 'nginx:1.28');
  // C is not in the patch's env list: SMP keeps it (only apply's 3-way diff deletes), after the ordered ones
  assert.deepEqual(containers[0].env, [{ name: 'A', value: '2' }, { name: 'B', value: 'b' }, { name: 'C', value: 'c' }]);
  assert.deepEqual(containers[0].ports, [{ containerPort: 80, protocol: 'TCP' }]);
  assert.deepEqual(out.spec.template.spec.volumes, [{ name: 'data', emptyDir: {} }]);
  assert.equal(out.spec.replicas, 2);
});

test('the Service patch kubectl apply sends (observed): ports merged by port', () => {
  const svc: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }], selector: { app: 'web' } },
  };
  const patch = { spec: { '$setElementOrder/ports': [{ port: 8080 }], ports: [{ name: 'http', port: 8080, targetPort: 80 }, { $patch: 'delete', port: 80 }] } };
  const out = applyStrategicMergePatch(R.services, svc, patch) as any;
  assert.deepEqual(out.spec.ports, [{ name: 'http', port: 8080, targetPort: 80 }]);
  assert.equal(out.spec.clusterIP, '10.96.0.20');
});

test('SMP directives and list strategies, table-driven', () => {
  type Row = [string, unknown, (out: any) => void];
  const table: Row[] = [
    ['null deletes a map key', { metadata: { labels: { app: null, tier: 'web' } } }, (o) => assert.deepEqual(o.metadata.labels, { tier: 'web' })],
    ['containers merge by name', { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:2' }] } } } }, (o) => {
      assert.equal(o.spec.template.spec.containers.length, 2);
      assert.equal(o.spec.template.spec.containers[1].image, 'busybox:2');
      assert.deepEqual(o.spec.template.spec.containers[1].command, ['sleep', '1d']);
    }],
    ['new container appended', { spec: { template: { spec: { containers: [{ name: 'log', image: 'fluent' }] } } } }, (o) => assert.deepEqual(o.spec.template.spec.containers.map((c: any) => c.name), ['nginx', 'sidecar', 'log'])],
    ['container ports merge by containerPort', { spec: { template: { spec: { containers: [{ name: 'nginx', ports: [{ containerPort: 443 }] }] } } } }, (o) =>
      assert.deepEqual(o.spec.template.spec.containers[0].ports.map((p: any) => p.containerPort), [80, 443])],
    ['atomic list replaced (command)', { spec: { template: { spec: { containers: [{ name: 'sidecar', command: ['true'] }] } } } }, (o) => assert.deepEqual(o.spec.template.spec.containers[1].command, ['true'])],
    ['$patch: replace on a list', { spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } } } }, (o) =>
      assert.deepEqual(o.spec.template.spec.containers, [{ name: 'only', image: 'x' }])],
    ['$patch: replace on a map', { spec: { strategy: { $patch: 'replace', type: 'Recreate' } } }, (o) => assert.deepEqual(o.spec.strategy, { type: 'Recreate' })],
    ['$patch: delete on a map', { spec: { strategy: { $patch: 'delete' } } }, (o) => assert.equal(o.spec.strategy, undefined)],
    ['$retainKeys (what kubectl sends when switching to Recreate)', { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } }, (o) => assert.deepEqual(o.spec.strategy, { type: 'Recreate' })],
    ['finalizers merge as a set', { metadata: { finalizers: ['b.io/y', 'a.io/x'] } }, (o) => assert.deepEqual(o.metadata.finalizers, ['a.io/x', 'b.io/y'])],
    ['$deleteFromPrimitiveList', { metadata: { '$deleteFromPrimitiveList/finalizers': ['a.io/x'] } }, (o) => assert.deepEqual(o.metadata.finalizers, [])],
    ['$setElementOrder on a primitive list', { metadata: { '$setElementOrder/finalizers': ['c.io/z', 'a.io/x'], finalizers: ['c.io/z'] } }, (o) => assert.deepEqual(o.metadata.finalizers, ['c.io/z', 'a.io/x'])],
    ['env delete by name', { spec: { template: { spec: { containers: [{ name: 'nginx', env: [{ name: 'A', $patch: 'delete' }] }] } } } }, (o) =>
      assert.deepEqual(o.spec.template.spec.containers[0].env, [{ name: 'C', value: 'c' }])],
    ['$patch: merge is the default', { spec: { $patch: 'merge', replicas: 5 } }, (o) => assert.equal(o.spec.replicas, 5)],
    ['new keys have directives removed', { spec: { template: { spec: { tolerations: [{ key: 'k', operator: 'Exists' }], dnsConfig: { $patch: 'merge', nameservers: ['1.1.1.1'] } } } } }, (o) =>
      assert.deepEqual(o.spec.template.spec.dnsConfig, { nameservers: ['1.1.1.1'] })],
  ];
  for (const [name, patch, check] of table) {
    const original = deployment();
    const out = applyStrategicMergePatch(R.deployments, original, patch);
    try {
      check(out);
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`, { cause: e });
    }
    assert.equal((original.spec as any).replicas, 2, `${name}: original untouched`);
  }
});

test('status conditions merge by type; pod IPs by ip', () => {
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'i' }] },
    status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }], podIPs: [{ ip: '10.0.0.5' }] },
  };
  const out = applyStrategicMergePatch(R.pods, pod, { status: { conditions: [{ type: 'Ready', status: 'True' }], podIPs: [{ ip: 'fd00::5' }] } }) as any;
  assert.deepEqual(out.status.conditions, [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }]);
  assert.deepEqual(out.status.podIPs, [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }]);
});

test('a merge-keyed item without its key is an error; gateway kinds take SMP as a merge patch', () => {
  assert.throws(
    () => applyStrategicMergePatch(R.deployments, deployment(), { spec: { template: { spec: { containers: [{ image: 'x' }] } } } }),
    (e: unknown) => e instanceof PatchError && /does not contain declared merge key: name/.test(e.message),
  );
  const route: KubeObject = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { hostnames: ['a.example.com'], rules: [{ backendRefs: [{ name: 'a' }] }] } };
  const out = applyStrategicMergePatch(R.httproutes, route, { spec: { rules: [{ backendRefs: [{ name: 'b' }] }], hostnames: null } }) as any;
  assert.deepEqual(out.spec, { rules: [{ backendRefs: [{ name: 'b' }] }] });
});

test('volumes merge by name with $retainKeys (what kubectl sends when a volume changes its source)', () => {
  const patch = { spec: { template: { spec: { volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'cfg' }, name: 'data' }] } } } };
  const out = applyStrategicMergePatch(R.deployments, deployment(), patch) as any;
  assert.deepEqual(out.spec.template.spec.volumes, [{ name: 'data', configMap: { name: 'cfg' } }]);
});
