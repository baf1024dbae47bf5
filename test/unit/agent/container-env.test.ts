import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContainerConfigError, composeContainerEnv, expandVars, serviceEnv, type EnvSources } from '../../../src/agent/container-env.js';
import type { Pod, Service } from '../../../src/agent/pod-types.js';

const svc = (ns: string, name: string, ip: string, ports: Service['spec']['ports']): Service => ({ metadata: { namespace: ns, name }, spec: { clusterIP: ip, ports } });
const kubernetes = svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]);

function sources(pod: Pod, extra: Partial<EnvSources> = {}): EnvSources {
  return {
    pod,
    podIP: '10.244.1.7',
    hostIP: '172.18.0.11',
    namespaceServices: [svc('web', 'my-db', '10.96.3.4', [{ name: 'sql', port: 5432 }, { port: 9187, protocol: 'UDP' }]), svc('web', 'headless', 'None', [{ port: 80 }])],
    masterService: kubernetes,
    configMap: (name) => (name === 'cfg' ? { metadata: { name }, data: { mode: 'fast', level: '3' } } : undefined),
    secret: (name) => (name === 'creds' ? { metadata: { name }, data: { password: Buffer.from('s3cret').toString('base64') } } : undefined),
    ...extra,
  };
}

const pod = (spec: Partial<Pod['spec']> = {}): Pod => ({
  metadata: { name: 'client-0', namespace: 'web', uid: 'u-1', labels: { app: 'client' } },
  spec: { nodeName: 'node-a', containers: [{ name: 'c' }], ...spec },
});

test('Service variables: host, ports by name, docker links', () => {
  assert.deepEqual(serviceEnv(svc('x', 'my-db', '10.96.3.4', [{ name: 'sql', port: 5432 }])), {
    MY_DB_SERVICE_HOST: '10.96.3.4',
    MY_DB_SERVICE_PORT: '5432',
    MY_DB_SERVICE_PORT_SQL: '5432',
    MY_DB_PORT: 'tcp://10.96.3.4:5432',
    MY_DB_PORT_5432_TCP: 'tcp://10.96.3.4:5432',
    MY_DB_PORT_5432_TCP_PROTO: 'tcp',
    MY_DB_PORT_5432_TCP_PORT: '5432',
    MY_DB_PORT_5432_TCP_ADDR: '10.96.3.4',
  });
  assert.deepEqual(serviceEnv(svc('x', 'headless', 'None', [{ port: 80 }])), {});
});

test('a container gets HOSTNAME, KUBERNETES_*, namespace links, downward API, ConfigMap and Secret values', () => {
  const p = pod();
  const env = composeContainerEnv(
    {
      name: 'c',
      env: [
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'GREETING', value: 'hello $(POD) in $(NS), $$(POD) stays' },
      ],
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
    },
    sources(p),
  );
  assert.equal(env.HOSTNAME, 'client-0');
  assert.equal(env.KUBERNETES_SERVICE_HOST, '10.96.0.1');
  assert.equal(env.KUBERNETES_SERVICE_PORT, '443');
  assert.equal(env.KUBERNETES_PORT_443_TCP, 'tcp://10.96.0.1:443');
  assert.equal(env.MY_DB_SERVICE_HOST, '10.96.3.4');
  assert.equal(env.MY_DB_PORT_9187_UDP_PROTO, 'udp');
  assert.equal(env.HEADLESS_SERVICE_HOST, undefined);
  assert.equal(env.POD, 'client-0');
  assert.equal(env.NS, 'web');
  assert.equal(env.IP, '10.244.1.7');
  assert.equal(env.NODE, 'node-a');
  assert.equal(env.APP, 'client');
  assert.equal(env.MODE, 'fast');
  assert.equal(env.PASSWORD, 's3cret');
  assert.equal(env.CFG_level, '3');
  assert.equal(env.GREETING, 'hello client-0 in web, $(POD) stays');
});

test('enableServiceLinks: false drops namespace links but keeps the kubernetes Service', () => {
  const env = composeContainerEnv({ name: 'c' }, sources(pod({ enableServiceLinks: false })));
  assert.equal(env.MY_DB_SERVICE_HOST, undefined);
  assert.equal(env.KUBERNETES_SERVICE_HOST, '10.96.0.1');
});

test('a missing ConfigMap or key is a CreateContainerConfigError naming it; optional ones are skipped', () => {
  assert.throws(() => composeContainerEnv({ name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] }, sources(pod())), (err: Error) => err instanceof ContainerConfigError && /configmap "nope" not found/.test(err.message));
  assert.throws(() => composeContainerEnv({ name: 'c', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'user' } } }] }, sources(pod())), /couldn't find key user in Secret web\/creds/);
  const env = composeContainerEnv({ name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } }] }, sources(pod()));
  assert.equal(env.X, undefined);
});

test('$(VAR) expansion: known names replaced, unknown kept, $$ escapes', () => {
  assert.equal(expandVars('$(A)-$(B)-$$(A)-$(', { A: '1' }), '1-$(B)-$(A)-$(');
});
