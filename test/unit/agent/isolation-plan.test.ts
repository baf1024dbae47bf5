import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALL_CAPABILITIES,
  ContainerSecurityError,
  DEFAULT_CAPABILITIES,
  capabilitySet,
  containerIdentity,
  containerLaunchArgv,
  execInContainerArgv,
  hiddenPaths,
  mountScript,
  setprivArgs,
  type ContainerIdentity,
} from '../../../src/agent/isolation-plan.js';
import { refreshDelayMs, tokenRequestBody } from '../../../src/agent/isolation-token.js';

const pod = { namespace: 'web', name: 'api', uid: 'u-1' };
const rootId: ContainerIdentity = { uid: 0, gid: 0, groups: [], capabilities: capabilitySet(false, undefined), noNewPrivileges: false, readOnlyRootFilesystem: false, privileged: false };

test('capabilities: the runtime default set, add and drop as containerd applies them', () => {
  assert.deepEqual(new Set(capabilitySet(false, undefined)), new Set(DEFAULT_CAPABILITIES));
  assert.deepEqual(capabilitySet(true, { drop: ['ALL'] }), [...ALL_CAPABILITIES]);
  const s = capabilitySet(false, { add: ['NET_ADMIN', 'CAP_SYS_TIME'], drop: ['net_raw'] });
  assert.ok(s.includes('NET_ADMIN') && s.includes('SYS_TIME'));
  assert.ok(!s.includes('NET_RAW'));
  assert.deepEqual(capabilitySet(false, { drop: ['ALL'] }), []);
  assert.deepEqual(capabilitySet(false, { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }), ['NET_BIND_SERVICE']);
  assert.deepEqual(capabilitySet(false, { add: ['ALL'] }), [...ALL_CAPABILITIES]);
  assert.throws(() => capabilitySet(false, { add: ['FLY'] }), /unknown capability "FLY"/);
});

test('identity: container securityContext over the pod one; root by default', () => {
  assert.deepEqual(containerIdentity(pod, { name: 'c' }), rootId);
  const id = containerIdentity({ ...pod, securityContext: { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000] } }, { name: 'c', securityContext: { runAsUser: 2000, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true } });
  assert.equal(id.uid, 2000);
  assert.equal(id.gid, 3000);
  assert.deepEqual(id.groups, [3000, 4000]);
  assert.equal(id.noNewPrivileges, true);
  assert.equal(id.readOnlyRootFilesystem, true);
  assert.deepEqual(containerIdentity(pod, { name: 'c', securityContext: { privileged: true } }).capabilities, [...ALL_CAPABILITIES]);
});

test('runAsNonRoot is enforced with the kubelet messages', () => {
  const nonRoot = { ...pod, securityContext: { runAsNonRoot: true } };
  assert.throws(() => containerIdentity(nonRoot, { name: 'main' }), (err: Error) => err instanceof ContainerSecurityError && err.message === 'container has runAsNonRoot and image will run as root (pod: "api_web(u-1)", container: main)');
  assert.throws(() => containerIdentity(nonRoot, { name: 'main', securityContext: { runAsUser: 0 } }), /container's runAsUser breaks non-root policy \(pod: "api_web\(u-1\)", container: main\)/);
  assert.equal(containerIdentity(nonRoot, { name: 'main', securityContext: { runAsUser: 65534 } }).uid, 65534);
  // The container's runAsNonRoot false overrides the pod's true.
  assert.equal(containerIdentity(nonRoot, { name: 'main', securityContext: { runAsNonRoot: false } }).uid, 0);
  assert.throws(() => containerIdentity(pod, { name: 'main', securityContext: { runAsUser: -1 } }), /securityContext.runAsUser: -1 is not a valid id/);
});

test('hidden paths: the node data dir, the lab (server) data dir above nodes/, and the fixed list', () => {
  const h = hiddenPaths('/tmp/lab/data/nodes/worker-1');
  assert.ok(h.includes('/tmp/lab/data'));
  assert.ok(!h.includes('/tmp/lab/data/nodes/worker-1'), 'covered by its parent');
  for (const p of ['/root', '/home', '/var/lib/flatnet', '/etc/kubernetes']) assert.ok(h.includes(p), p);
  assert.ok(hiddenPaths('/srv/agent').includes('/srv/agent'));
  assert.ok(!hiddenPaths('/var/lib/flatnet/nodes/n1').some((p) => p.startsWith('/var/lib/flatnet/')));
});

test('setpriv arguments: uid, gid, groups, bounding set, no inheritable caps, no_new_privs', () => {
  assert.deepEqual(setprivArgs({ ...rootId, uid: 1000, gid: 3000, groups: [3000], capabilities: ['NET_ADMIN'], noNewPrivileges: true }), [
    'setpriv', '--reuid=1000', '--regid=3000', '--groups=3000', '--bounding-set=-all,+net_admin', '--inh-caps=-all', '--no-new-privs',
  ]);
  assert.ok(setprivArgs({ ...rootId, capabilities: [] }).includes('--bounding-set=-all'));
  assert.ok(setprivArgs(rootId).includes('--clear-groups'));
});

test('launch: network, UTS, then new mount/IPC/PID namespaces, the mounts, the identity, tini', () => {
  const argv = containerLaunchArgv({ netns: 'flatnet-pod-abc', utsPath: '/run/flatnet/uts/x', hostPID: false, hostIPC: false, identity: rootId, hidden: ['/data'], serviceAccountDir: '/data/tokens/u-1', argv: ['sleep', '10'], tty: false });
  assert.deepEqual(argv.slice(0, 7), ['ip', 'netns', 'exec', 'flatnet-pod-abc', 'nsenter', '--uts=/run/flatnet/uts/x', '--']);
  const unshareAt = argv.indexOf('unshare');
  const dashes = argv.indexOf('--', unshareAt);
  assert.deepEqual(argv.slice(unshareAt, dashes), ['unshare', '--mount', '--propagation', 'private', '--ipc', '--pid', '--fork', '--mount-proc', '--kill-child']);
  assert.deepEqual(argv.slice(-4), ['tini', '--', 'sleep', '10']);
  const hostPid = containerLaunchArgv({ netns: '', hostPID: true, hostIPC: true, identity: rootId, hidden: [], argv: ['sleep', '10'], tty: false });
  assert.ok(!hostPid.includes('--pid') && !hostPid.includes('--ipc') && !hostPid.includes('tini'));
  assert.equal(hostPid[0], 'unshare');
});

test('mount script: the token is bound before the data dirs are covered; shm and read-only root', () => {
  const script = mountScript({ hidden: ['/data', "/it's"], serviceAccountDir: '/data/tokens/u-1', identity: { ...rootId, readOnlyRootFilesystem: true }, hostIPC: false, hostPID: false });
  const lines = script.split('\n');
  const bind = lines.findIndex((l) => l.startsWith('mount --bind -o ro,nosuid,nodev,noexec /data/tokens/u-1 /run/secrets/kubernetes.io/serviceaccount'));
  const cover = lines.findIndex((l) => l.includes('flatnet-hidden /data;'));
  assert.ok(bind >= 0 && cover > bind, script);
  assert.ok(script.includes(`'/it'\\''s'`), 'quoted');
  assert.ok(lines.includes('mount -o remount,bind,ro /'));
  assert.ok(lines.some((l) => l.startsWith('mount -t tmpfs') && l.endsWith('/shm')));
  assert.ok(lines.includes('mount --move /run/flatnet/container-dev /dev'));
  assert.ok(!lines.some((l) => l.includes('mount --bind /tmp /tmp')), 'readOnlyRootFilesystem: /tmp read-only too');
  assert.equal(lines.at(-1), 'exec "$@"');
  const writable = mountScript({ hidden: [], identity: rootId, hostIPC: true, hostPID: false }).split('\n');
  assert.ok(writable.includes('if [ -d /tmp ]; then mount --bind /tmp /tmp; fi'));
  assert.ok(writable.indexOf('mount -o remount,bind,ro /') > writable.indexOf('if [ -d /tmp ]; then mount --bind /tmp /tmp; fi'));
  assert.ok(writable.includes('mount --bind /dev/shm /run/flatnet/container-dev/shm'), 'hostIPC: the host /dev/shm');
  const privileged = mountScript({ hidden: ['/data'], identity: { ...rootId, privileged: true }, hostIPC: false, hostPID: false });
  assert.ok(!privileged.includes('mount --move') && !privileged.includes('remount,bind,ro /\n'), privileged);
});

test('exec enters the namespaces of the container PID 1', () => {
  assert.deepEqual(execInContainerArgv(4242, { hostPID: false, identity: { ...rootId, uid: 7, capabilities: [] }, argv: ['id'], tty: false }), [
    'nsenter', '--target=4242', '--mount', '--ipc', '--uts', '--net', '--pid', '--', 'setpriv', '--reuid=7', '--regid=0', '--clear-groups', '--bounding-set=-all', '--inh-caps=-all', '--', 'id',
  ]);
});

test('token: renewal at 80% of the lifetime, bound TokenRequest', () => {
  assert.equal(refreshDelayMs(0, 3_607_000, 0), 2_885_600);
  assert.equal(refreshDelayMs(0, 1000, 5000), 0);
  const body = tokenRequestBody({ namespace: 'web', name: 'api', uid: 'u-1', serviceAccountName: 'reader' }) as unknown as { metadata: { name: string }; spec: { expirationSeconds: number; boundObjectRef: { kind: string; uid: string } } };
  assert.equal(body.metadata.name, 'reader');
  assert.equal(body.spec.expirationSeconds, 3607);
  assert.deepEqual([body.spec.boundObjectRef.kind, body.spec.boundObjectRef.uid], ['Pod', 'u-1']);
});
