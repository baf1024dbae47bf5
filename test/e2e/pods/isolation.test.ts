// Container isolation in a real lab: a `command:` container has its own mount, PID, UTS and IPC
// namespaces, cannot read the node's or the server's data directory, runs as its securityContext
// user with the container runtime's default capabilities, is refused when runAsNonRoot cannot
// hold, and finds a bound ServiceAccount token where in-pod clients look: kubectl inside the pod
// lists pods with the `view` role and is refused a delete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, eventually } from '../../support/lab.js';

const NS = 'iso-e2e';
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** containerd's default capability set as a CapBnd/CapEff mask (docker's well-known a80425fb). */
const DEFAULT_CAPS = '00000000a80425fb';

const manifests = `
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}, labels: {pod-security.kubernetes.io/enforce: privileged}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader, namespace: ${NS}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader-view, namespace: ${NS}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: reader, namespace: ${NS}}]
---
apiVersion: v1
kind: Pod
metadata: {name: user, namespace: ${NS}}
spec:
  hostname: isohost
  securityContext: {runAsUser: 1000, runAsGroup: 3000}
  containers:
  - name: main
    image: busybox:1.36
    command: [sleep, '3600']
    # Ready only when the probe runs inside the container, as its user.
    readinessProbe: {exec: {command: [sh, -c, 'test "$(id -u)" = 1000']}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: rooted, namespace: ${NS}}
spec:
  serviceAccountName: reader
  containers:
  - {name: main, image: busybox:1.36, command: [sleep, '3600']}
  - {name: netadmin, image: busybox:1.36, command: [sleep, '3600'], securityContext: {capabilities: {add: [NET_ADMIN], drop: [NET_RAW]}}}
---
apiVersion: v1
kind: Pod
metadata: {name: nonroot, namespace: ${NS}}
spec:
  securityContext: {runAsNonRoot: true}
  containers: [{name: main, image: busybox:1.36, command: [sleep, '3600']}]
---
apiVersion: v1
kind: Pod
metadata: {name: notoken, namespace: ${NS}}
spec:
  automountServiceAccountToken: false
  containers: [{name: main, image: busybox:1.36, command: [sleep, '3600']}]
`;

test('container isolation and the ServiceAccount token in a lab', { timeout: 600_000 }, async (t) => {
  const lab = await startLab({ nodes: 1 });
  t.after(() => lab.down());
  await lab.apply(manifests);
  await lab.ok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/user', 'pod/rooted', 'pod/notoken', '--timeout=180s']);
  const exec = (pod: string, ...cmd: string[]) => lab.kubectl(['-n', NS, 'exec', pod, '--', ...cmd]);
  const out = async (pod: string, ...cmd: string[]) => {
    const r = await exec(pod, ...cmd);
    assert.equal(r.code, 0, `${cmd.join(' ')} in ${pod}: ${r.stdout}${r.stderr}`);
    return r.stdout.trim();
  };

  await t.test('the container runs as its runAsUser and runAsGroup, with no capabilities', async () => {
    assert.equal(await out('user', 'id', '-u'), '1000');
    assert.equal(await out('user', 'id', '-g'), '3000');
    assert.match(await out('user', 'grep', 'CapEff', '/proc/self/status'), /CapEff:\s+0000000000000000/);
    // The container's own process, not only an exec, runs as the user.
    assert.match(await out('user', 'cat', '/proc/1/status'), /Uid:\s+1000\s+1000\s+1000/);
  });

  await t.test('hostname and UTS namespace of the pod', async () => {
    assert.equal(await out('user', 'hostname'), 'isohost');
  });

  await t.test('its own PID namespace: no host process is visible', async () => {
    const pids = (await out('user', 'sh', '-c', 'ls /proc | grep -E "^[0-9]+$"')).split('\n').map(Number);
    assert.ok(pids.includes(1), `PID 1 in ${pids.join(' ')}`);
    assert.ok(!pids.includes(process.pid), `the test runner (pid ${process.pid}) is visible: ${pids.join(' ')}`);
    // PID 1 is tini (it forwards signals to the container's program); the rest is the pod's own:
    // the program, this exec, and the readiness probe of every second caught in flight (setpriv
    // switching to the user, then sh running the test).
    const ps = (await out('user', 'ps', '-o', 'pid,comm')).split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    assert.deepEqual(ps[0], ['1', 'tini']);
    for (const [, comm] of ps.slice(1)) assert.ok(['busybox', 'sleep', 'ps', 'setpriv', 'sh'].includes(comm), `unexpected process ${comm} in ${JSON.stringify(ps)}`);
  });

  await t.test('the server and node data directories are not readable, even as root', async () => {
    for (const pod of ['user', 'rooted']) {
      const listing = await exec(pod, 'ls', '-A', lab.dataDir);
      assert.equal(listing.stdout.trim(), '', `${pod} sees ${lab.dataDir}: ${listing.stdout}`);
      const kubeconfig = await exec(pod, 'cat', `${lab.dataDir}/admin.kubeconfig`);
      assert.notEqual(kubeconfig.code, 0, `${pod} read the admin kubeconfig`);
      const nodes = await exec(pod, 'ls', `${lab.dataDir}/nodes`);
      assert.notEqual(nodes.code, 0, `${pod} lists the nodes' data: ${nodes.stdout}`);
    }
    // Root in the container cannot uncover them: no CAP_SYS_ADMIN.
    const umount = await exec('rooted', 'umount', lab.dataDir);
    assert.notEqual(umount.code, 0, 'root in the container unmounted the cover');
  });

  await t.test('root gets the runtime default capabilities; add and drop are honoured', async () => {
    assert.match(await out('rooted', 'grep', 'CapBnd', '/proc/self/status'), new RegExp(`CapBnd:\\s+${DEFAULT_CAPS}`));
    const r = await lab.kubectl(['-n', NS, 'exec', 'rooted', '-c', 'netadmin', '--', 'grep', 'CapEff', '/proc/self/status']);
    const mask = BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(r.stdout)?.[1] ?? '0'}`);
    assert.equal(mask & (1n << 12n), 1n << 12n, `NET_ADMIN added: ${r.stdout}`);
    assert.equal(mask & (1n << 13n), 0n, `NET_RAW dropped: ${r.stdout}`);
  });

  await t.test('runAsNonRoot without a non-root user is refused with the kubelet error', async () => {
    const waiting = await eventually('the nonroot container waiting', async () => {
      const pod = await lab.client.request<{ status?: { containerStatuses?: { state?: { waiting?: { reason?: string; message?: string } } }[] } }>('GET', `/api/v1/namespaces/${NS}/pods/nonroot`);
      const w = pod.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    });
    assert.match(waiting.message ?? '', /^container has runAsNonRoot and image will run as root \(pod: "nonroot_iso-e2e\(.+\)", container: main\)$/);
  });

  await t.test('the bound token: in-pod kubectl lists pods with view and is refused a delete', async () => {
    assert.equal(await out('rooted', 'cat', `${SA_DIR}/namespace`), NS);
    assert.match(await out('rooted', 'cat', `${SA_DIR}/ca.crt`), /BEGIN CERTIFICATE/);
    const token = await out('rooted', 'cat', `${SA_DIR}/token`);
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { sub: string; exp: number; iat: number; 'kubernetes.io': { pod?: { name: string } } };
    assert.equal(claims.sub, `system:serviceaccount:${NS}:reader`);
    assert.equal(claims['kubernetes.io'].pod?.name, 'rooted');
    assert.equal(claims.exp - claims.iat, 3607);
    const list = await exec('rooted', 'kubectl', 'get', 'pods', '-o', 'name');
    assert.equal(list.code, 0, list.stdout + list.stderr);
    assert.match(list.stdout, /pod\/rooted/);
    const del = await exec('rooted', 'kubectl', 'delete', 'pod', 'user');
    assert.notEqual(del.code, 0);
    assert.match(del.stderr, /Forbidden.*system:serviceaccount:iso-e2e:reader.*cannot delete resource "pods"/);
  });

  await t.test('automountServiceAccountToken false: no token', async () => {
    const r = await exec('notoken', 'test', '-e', `${SA_DIR}/token`);
    assert.notEqual(r.code, 0, 'a token is mounted');
  });

});
