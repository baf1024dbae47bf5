// The ServiceAccount admission plugin's token volume through the real kubectl and the official
// Python client against a real server: the `kube-api-access-*` projected volume and its read-only
// mounts as kube-apiserver 1.32 adds them, the automount opt-outs (pod, ServiceAccount, the pod
// winning), a container's own mount at the path respected, ServiceAccount imagePullSecrets, and
// server-side dry run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startTestServer, type TestServer } from '../../support/server.js';

const PYTHON = '/usr/bin/python3';
const MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const VOLUME_NAME = /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/;
/** The projected source exactly as `kubectl get pod -o json` shows it on a 1.32 cluster. */
const UPSTREAM_SOURCE = {
  defaultMode: 420,
  sources: [
    { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
    { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
    { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
  ],
};

interface Mount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}
interface PodJson {
  spec: {
    serviceAccountName?: string;
    serviceAccount?: string;
    imagePullSecrets?: { name: string }[];
    volumes?: { name: string; projected?: unknown; emptyDir?: unknown }[];
    containers: { name: string; volumeMounts?: Mount[] }[];
    initContainers?: { name: string; volumeMounts?: Mount[] }[];
  };
}

let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: false });
  const ns = await s.kubectl(['create', 'namespace', 'sa-vol']);
  assert.equal(ns.code, 0, ns.stderr);
});
after(async () => {
  await s?.stop();
});

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await s.kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function createPod(yaml: string, extra: string[] = []): Promise<PodJson> {
  return JSON.parse(await kubectlOk(['create', '-n', 'sa-vol', '-o', 'json', ...extra, '-f', '-'], yaml)) as PodJson;
}

const pod = (name: string, spec: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n${spec}`;

function tokenVolumes(p: PodJson) {
  return (p.spec.volumes ?? []).filter((v) => v.name.startsWith('kube-api-access-'));
}

test('kubectl: the projected volume and a read-only mount in every container and init container, as upstream', async () => {
  const p = await createPod(
    pod(
      'plain',
      `  initContainers:
  - {name: init, image: busybox}
  containers:
  - {name: a, image: nginx}
  - {name: b, image: nginx}`,
    ),
  );
  assert.equal(p.spec.serviceAccountName, 'default');
  assert.equal(p.spec.serviceAccount, 'default');
  const vols = tokenVolumes(p);
  assert.equal(vols.length, 1);
  assert.match(vols[0].name, VOLUME_NAME);
  assert.deepEqual(vols[0].projected, UPSTREAM_SOURCE);
  for (const c of [...p.spec.initContainers!, ...p.spec.containers]) {
    assert.deepEqual(c.volumeMounts, [{ name: vols[0].name, mountPath: MOUNT_PATH, readOnly: true }], c.name);
  }
  // Stored as admitted: a later read shows the same volume, and a second pod gets its own name.
  const again = JSON.parse(await kubectlOk(['get', 'pod', 'plain', '-n', 'sa-vol', '-o', 'json'])) as PodJson;
  assert.deepEqual(again.spec.volumes, p.spec.volumes);
  const other = await createPod(pod('plain2', `  containers:\n  - {name: a, image: nginx}`));
  assert.match(tokenVolumes(other)[0].name, VOLUME_NAME);
});

test('kubectl: automountServiceAccountToken false on the pod or its ServiceAccount leaves the pod alone; the pod wins', async () => {
  const off = await createPod(pod('opt-out', `  automountServiceAccountToken: false\n  containers:\n  - {name: a, image: nginx}`));
  assert.equal(off.spec.volumes, undefined);
  assert.equal(off.spec.containers[0].volumeMounts, undefined);
  await kubectlOk(['apply', '-n', 'sa-vol', '-f', '-'], `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: quiet}\nautomountServiceAccountToken: false\n`);
  const quiet = await createPod(pod('quiet', `  serviceAccountName: quiet\n  containers:\n  - {name: a, image: nginx}`));
  assert.equal(quiet.spec.volumes, undefined);
  assert.equal(quiet.spec.containers[0].volumeMounts, undefined);
  const wins = await createPod(pod('wins', `  serviceAccountName: quiet\n  automountServiceAccountToken: true\n  containers:\n  - {name: a, image: nginx}`));
  assert.equal(tokenVolumes(wins).length, 1);
  assert.equal(wins.spec.containers[0].volumeMounts?.[0].mountPath, MOUNT_PATH);
});

test('kubectl: a container that already mounts something at the path keeps its mount; the others get the token', async () => {
  const p = await createPod(
    pod(
      'own',
      `  volumes:
  - {name: mine, emptyDir: {}}
  containers:
  - name: a
    image: nginx
    volumeMounts: [{name: mine, mountPath: ${MOUNT_PATH}}]
  - {name: b, image: nginx}`,
    ),
  );
  const [a, b] = p.spec.containers;
  assert.deepEqual(a.volumeMounts, [{ name: 'mine', mountPath: MOUNT_PATH }]);
  const vols = tokenVolumes(p);
  assert.equal(vols.length, 1);
  assert.deepEqual(b.volumeMounts, [{ name: vols[0].name, mountPath: MOUNT_PATH, readOnly: true }]);
  // Every container with its own mount there: no token volume at all.
  const allOwn = await createPod(
    pod('all-own', `  volumes:\n  - {name: mine, emptyDir: {}}\n  containers:\n  - name: a\n    image: nginx\n    volumeMounts: [{name: mine, mountPath: ${MOUNT_PATH}}]`),
  );
  assert.deepEqual(allOwn.spec.volumes?.map((v) => v.name), ['mine']);
});

test('kubectl: imagePullSecrets come from the ServiceAccount when the pod names none; dry run shows the volume and stores nothing', async () => {
  await kubectlOk(['apply', '-n', 'sa-vol', '-f', '-'], `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: puller}\nimagePullSecrets: [{name: regcred}]\n`);
  const p = await createPod(pod('pulls', `  serviceAccountName: puller\n  containers:\n  - {name: a, image: nginx}`));
  assert.deepEqual(p.spec.imagePullSecrets, [{ name: 'regcred' }]);
  const own = await createPod(pod('pulls-own', `  serviceAccountName: puller\n  imagePullSecrets: [{name: mine}]\n  containers:\n  - {name: a, image: nginx}`));
  assert.deepEqual(own.spec.imagePullSecrets, [{ name: 'mine' }]);
  const dry = await createPod(pod('dry', `  containers:\n  - {name: a, image: nginx}`), ['--dry-run=server']);
  assert.equal(tokenVolumes(dry).length, 1);
  const gone = await s.kubectl(['get', 'pod', 'dry', '-n', 'sa-vol']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /NotFound/);
});

test('python client: the typed Pod read back carries the volume and mounts as upstream', () => {
  const probe = spawnSync(PYTHON, ['-c', 'import kubernetes'], { encoding: 'utf8' });
  assert.equal(probe.status, 0, `the official Python client is missing: ${PYTHON} cannot import kubernetes (${probe.stderr.trim()}). Install Debian's python3-kubernetes.`);
  const script = `
import json, sys
from kubernetes import client, config
config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
body = client.V1Pod(metadata=client.V1ObjectMeta(name="py"), spec=client.V1PodSpec(
    init_containers=[client.V1Container(name="init", image="busybox")],
    containers=[client.V1Container(name="a", image="nginx")]))
v1.create_namespaced_pod("sa-vol", body)
p = v1.read_namespaced_pod("py", "sa-vol")
off = v1.create_namespaced_pod("sa-vol", client.V1Pod(metadata=client.V1ObjectMeta(name="py-off"),
    spec=client.V1PodSpec(automount_service_account_token=False, containers=[client.V1Container(name="a", image="nginx")])))
vol = [v for v in p.spec.volumes if v.name.startswith("kube-api-access-")][0]
src = vol.projected
print(json.dumps({
  "sa": p.spec.service_account_name,
  "name": vol.name,
  "mode": src.default_mode,
  "token": [src.sources[0].service_account_token.path, src.sources[0].service_account_token.expiration_seconds],
  "ca": [src.sources[1].config_map.name, src.sources[1].config_map.items[0].key, src.sources[1].config_map.items[0].path],
  "ns": [src.sources[2].downward_api.items[0].path, src.sources[2].downward_api.items[0].field_ref.field_path, src.sources[2].downward_api.items[0].field_ref.api_version],
  "mounts": [[m.name, m.mount_path, m.read_only] for c in p.spec.init_containers + p.spec.containers for m in c.volume_mounts],
  "off": [off.spec.volumes, off.spec.containers[0].volume_mounts],
}))
`;
  const run = spawnSync(PYTHON, ['-c', script, s.kubeconfig], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  const r = JSON.parse(run.stdout) as Record<string, unknown>;
  assert.equal(r.sa, 'default');
  assert.match(r.name as string, VOLUME_NAME);
  assert.equal(r.mode, 420);
  assert.deepEqual(r.token, ['token', 3607]);
  assert.deepEqual(r.ca, ['kube-root-ca.crt', 'ca.crt', 'ca.crt']);
  assert.deepEqual(r.ns, ['namespace', 'metadata.namespace', 'v1']);
  assert.deepEqual(r.mounts, [
    [r.name, MOUNT_PATH, true],
    [r.name, MOUNT_PATH, true],
  ]);
  assert.deepEqual(r.off, [null, null]);
});
