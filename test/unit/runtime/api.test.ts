import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeApiError, containerIdOf, decodeContainerConfig, decodeRequest, negotiateVersion, routeOf, RUNTIME_API_VERSION } from '../../../src/runtime/api.js';

const identity = { uid: 1000, gid: 1000, groups: [1000], capabilities: ['CHOWN', 'KILL'], noNewPrivileges: true, readOnlyRootFilesystem: false, privileged: false };

function fails(f: () => unknown, status: number, message: RegExp): void {
  assert.throws(f, (err: unknown) => err instanceof RuntimeApiError && err.status === status && message.test(err.message));
}

test('routes: /v1/<Method>; an unknown version or method names what is served', () => {
  assert.deepEqual(routeOf('/v1/ListContainers'), { version: 'v1', method: 'ListContainers' });
  assert.deepEqual(routeOf('/v1/ContainerLogs'), { version: 'v1', method: 'ContainerLogs' });
  fails(() => routeOf('/v2/ListContainers'), 404, /unsupported runtime API version "v2"; this runtime speaks v1/);
  fails(() => routeOf('/v1/Exec'), 404, /unknown method "Exec"; methods: RunPodSandbox,/);
  fails(() => routeOf('/'), 404, /use \/version/);
});

test('version negotiation picks the newest common version or says who must upgrade', () => {
  assert.equal(negotiateVersion({ version: 'v1', supported: ['v1'], runtimeName: 'flatnet', runtimeVersion: '0' }), RUNTIME_API_VERSION);
  assert.equal(negotiateVersion({ supported: ['v1', 'v2'] }, ['v1', 'v2']), 'v2');
  assert.equal(negotiateVersion({ supported: ['v1', 'v2'] }, ['v1']), 'v1');
  assert.throws(() => negotiateVersion({ supported: ['v2'] }), /runtime speaks API v2 and this agent v1: upgrade one of them/);
  assert.throws(() => negotiateVersion({ version: 'v1' }), /without a "supported" list/);
});

test('a process container config decodes with its identity and namespaces', () => {
  const config = decodeContainerConfig({ sandboxId: 'u1', name: 'sh', attempt: 2, env: { A: '1' }, ports: [{ containerPort: 80, protocol: 'TCP' }], run: { kind: 'process', argv: ['sleep', '3600'], identity, hostPID: true, hidden: ['/var/lib/flatnet'], serviceAccountDir: '/data/tokens/u1', tty: false, stdin: true, workingDir: '/tmp' } });
  assert.deepEqual(config, {
    sandboxId: 'u1',
    name: 'sh',
    attempt: 2,
    env: { A: '1' },
    ports: [{ containerPort: 80, protocol: 'TCP' }],
    run: { kind: 'process', argv: ['sleep', '3600'], identity, hostPID: true, hostIPC: false, hidden: ['/var/lib/flatnet'], serviceAccountDir: '/data/tokens/u1', tty: false, stdin: true, workingDir: '/tmp' },
  });
});

test('a built-in container config decodes; attempt defaults to 0', () => {
  assert.deepEqual(decodeContainerConfig({ sandboxId: 'u1', name: 'web', run: { kind: 'builtin', image: 'nginx', args: [], api: { kubeconfig: '/data/kubelet.kubeconfig', tokenFile: '/data/tokens/u1/token' } } }), {
    sandboxId: 'u1',
    name: 'web',
    attempt: 0,
    env: {},
    ports: [],
    run: { kind: 'builtin', image: 'nginx', args: [], api: { kubeconfig: '/data/kubelet.kubeconfig', tokenFile: '/data/tokens/u1/token' } },
  });
});

test('bad container configs are refused with the field path', () => {
  const base = { sandboxId: 'u1', name: 'web', run: { kind: 'builtin', image: 'nginx' } };
  const cases: [unknown, RegExp][] = [
    [null, /^config: must be an object/],
    [{ ...base, name: 'Web' }, /^config\.name: "Web" is not a DNS label/],
    [{ ...base, sandboxId: '' }, /^config\.sandboxId: must not be empty/],
    [{ ...base, attempt: -1 }, /^config\.attempt: must be a whole number >= 0/],
    [{ ...base, attempt: 1.5 }, /^config\.attempt: must be a whole number/],
    [{ ...base, env: { A: 1 } }, /^config\.env\.A: must be a string/],
    [{ ...base, ports: [{ containerPort: 70000 }] }, /^config\.ports\[0\]\.containerPort: must be at most 65535/],
    [{ ...base, ports: [{ containerPort: 80, protocol: 'tcp' }] }, /^config\.ports\[0\]\.protocol: must be TCP, UDP or SCTP/],
    [{ ...base, run: { kind: 'vm' } }, /^config\.run\.kind: must be "builtin" or "process"/],
    [{ ...base, run: { kind: 'builtin', image: 'nginx', api: { kubeconfig: 'relative' } } }, /^config\.run\.api\.kubeconfig: must be an absolute path/],
    [{ ...base, run: { kind: 'builtin', image: 'nginx', api: { kubeconfig: '/data/kubelet.kubeconfig' } } }, /^config\.run\.api\.tokenFile: must be a string/],
    [{ ...base, run: { kind: 'builtin', image: 'nginx', api: { kubeconfig: '/data/kubelet.kubeconfig', tokenFile: 'token' } } }, /^config\.run\.api\.tokenFile: must be an absolute path/],
    [{ ...base, run: { kind: 'process', argv: [], identity } }, /^config\.run\.argv: must not be empty/],
    [{ ...base, run: { kind: 'process', argv: ['sh'], identity: { ...identity, uid: -1 } } }, /^config\.run\.identity\.uid: must be a whole number >= 0/],
    [{ ...base, run: { kind: 'process', argv: ['sh'], identity: { ...identity, capabilities: ['cap_net_admin'] } } }, /^config\.run\.identity\.capabilities\[0\]: "cap_net_admin" is not a capability name/],
    [{ ...base, run: { kind: 'process', argv: ['sh'], identity, hidden: ['data'] } }, /^config\.run\.hidden\[0\]: must be an absolute path/],
    [{ ...base, run: { kind: 'process', argv: ['sh'], identity, tty: 'yes' } }, /^config\.run\.tty: must be true or false/],
  ];
  for (const [input, message] of cases) fails(() => decodeContainerConfig(input), 400, message);
});

test('requests of each method decode, with defaults, or name the bad field', () => {
  assert.deepEqual(decodeRequest('StopContainer', { containerId: 'c1' }), { containerId: 'c1', graceSeconds: 30 });
  assert.deepEqual(decodeRequest('StopPodSandbox', { sandboxId: 's', graceSeconds: 0 }), { sandboxId: 's', graceSeconds: 0 });
  assert.deepEqual(decodeRequest('ListContainers', {}), {});
  assert.deepEqual(decodeRequest('ListContainers', { sandboxId: 's' }), { sandboxId: 's' });
  assert.deepEqual(decodeRequest('RunPodSandbox', { config: { uid: 'u', namespace: 'default', name: 'p', netns: 'flatnet-pod-1', podIP: '10.244.1.2', hostname: 'p', logDir: '/d/pods/x' } }).config.netns, 'flatnet-pod-1');
  fails(() => decodeRequest('StartContainer', {}), 400, /^request\.containerId: must be a string/);
  fails(() => decodeRequest('StopContainer', { containerId: 'c', graceSeconds: 'soon' }), 400, /^request\.graceSeconds: must be a whole number/);
  fails(() => decodeRequest('RunPodSandbox', { config: { uid: 'u', namespace: 'default', name: 'p', netns: '../etc', logDir: '/d' } }), 400, /^config\.netns: "\.\.\/etc" is not a network namespace name/);
  fails(() => decodeRequest('RunPodSandbox', { config: { uid: 'u', namespace: 'default', name: 'p', netns: '', logDir: 'pods' } }), 400, /^config\.logDir: must be an absolute path/);
  fails(() => decodeRequest('ListPodSandbox', []), 400, /^request: must be an object/);
  assert.deepEqual(decodeRequest('PullImage', { image: 'flatnet/dns:1.0' }), { image: 'flatnet/dns:1.0' });
  fails(() => decodeRequest('PullImage', { image: '' }), 400, /^request\.image: /);
});

test('container ids are stable per pod, name and attempt', () => {
  assert.equal(containerIdOf('0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0', 'web', 3), '0f1e2d3c4b5a-web-3');
  assert.notEqual(containerIdOf('u', 'web', 0), containerIdOf('u', 'web', 1));
});
