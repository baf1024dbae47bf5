// StatefulSets and DaemonSets against a real `flatnet server` with its controllers, driven by the
// real kubectl; a fake kubelet plays two nodes. The StatefulSet's headless Service gets
// EndpointSlices with the pods' hostnames, which the cluster DNS handler answers for.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../../support/server.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import type { Pod } from '../../../src/controllers/types.js';
import { ClusterDnsModel } from '../../../src/dns/model.js';
import { slimEndpointSlice, slimService } from '../../../src/dns/objects.js';
import { ask, makeHandler } from '../../unit/dns/fixture.js';
import { startClusterWithFakeKubelet, type FakeKubelet, eventually } from './fake-kubelet.js';

let server: TestServer;
let kubelet: FakeKubelet;

before(async () => ({ server, kubelet } = await startClusterWithFakeKubelet()));

after(async () => {
  kubelet?.stop();
  await server?.stop();
});

const kubectl = (...args: string[]) => server.kubectlOk(args);

const apply = (yaml: string) => server.kubectlOk(['apply', '-f', '-'], yaml);

async function pods(namespace: string, selector: string): Promise<Pod[]> {
  return (await server.client.list<Pod>(R.pods, { namespace, labelSelector: selector })).items.filter((p) => !p.metadata.deletionTimestamp);
}

const names = (list: Pod[]) => list.map((p) => p.metadata.name!).sort();

const statefulSet = (image: string) => `apiVersion: v1
kind: Service
metadata: {name: nginx}
spec:
  clusterIP: None
  selector: {app: nginx}
  ports: [{name: web, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: nginx
  replicas: 3
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers:
      - name: nginx
        image: ${image}
        ports: [{name: web, containerPort: 80}]
        volumeMounts: [{name: www, mountPath: /usr/share/nginx/html}]
  volumeClaimTemplates:
  - metadata: {name: www}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`;

test('a StatefulSet creates web-0, web-1, web-2 in order, each after the one before is Ready', async () => {
  await kubelet.setReady('default', 'web-1', false);
  await apply(statefulSet('nginx:1'));
  // web-1 exists but is not Ready: web-2 is not created.
  await eventually('web-0 and web-1', async () => names(await pods('default', 'app=nginx')).join() === 'web-0,web-1');
  await eventually('status: 1 ready of 2', async () => {
    const s = (await server.client.get(R.statefulsets, 'default', 'web')) as KubeObject & { status?: any };
    return s.status?.replicas === 2 && s.status?.readyReplicas === 1;
  });
  assert.deepEqual(names(await pods('default', 'app=nginx')), ['web-0', 'web-1']);
  await kubelet.setReady('default', 'web-1', true);
  assert.match(await kubectl('rollout', 'status', 'statefulset/web', '--timeout=60s'), /partitioned roll out complete|rolling update complete/);
  const list = await pods('default', 'app=nginx');
  assert.deepEqual(names(list), ['web-0', 'web-1', 'web-2']);
  for (const p of list) {
    assert.equal(p.spec.hostname, p.metadata.name);
    assert.equal(p.spec.subdomain, 'nginx');
    assert.equal(p.metadata.labels!['statefulset.kubernetes.io/pod-name'], p.metadata.name);
    assert.equal(p.metadata.labels!['apps.kubernetes.io/pod-index'], p.metadata.name!.slice(4));
    assert.match(p.metadata.labels!['controller-revision-hash']!, /^web-[a-z0-9]+$/);
    // (besides the kube-api-access-xxxxx volume ServiceAccount admission adds)
    const volumes = (p.spec as { volumes?: { name: string }[] }).volumes ?? [];
    assert.deepEqual(volumes.filter((v) => !v.name.startsWith('kube-api-access-')), [{ name: 'www', emptyDir: {} }]);
  }
  // Creation order, from the controller's events (written asynchronously).
  const events = await eventually('three create events', async () => {
    const items = (await server.client.list(R.events, { namespace: 'default' })).items as (KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } })[];
    return items.filter((e) => e.involvedObject?.name === 'web' && e.reason === 'SuccessfulCreate').length >= 3 && items;
  });
  const created = events.filter((e) => e.involvedObject?.name === 'web' && e.reason === 'SuccessfulCreate').map((e) => e.message);
  assert.deepEqual(created, ['create Pod web-0 in StatefulSet web successful', 'create Pod web-1 in StatefulSet web successful', 'create Pod web-2 in StatefulSet web successful']);
  assert.ok(events.some((e) => e.involvedObject?.name === 'web' && e.reason === 'VolumeClaimTemplatesNotProvisioned'));
  assert.match(await kubectl('get', 'statefulset', 'web'), /^NAME\s+READY\s+AGE\nweb\s+3\/3\s+\S+\n$/);
});

test('the headless Service gets endpoint hostnames and web-0.nginx.default.svc.cluster.local resolves', async () => {
  const list = await pods('default', 'app=nginx');
  const ipOf = Object.fromEntries(list.map((p) => [p.metadata.name, p.status!.podIP]));
  const slices = await eventually('slices with three hostnames', async () => {
    const items = (await server.client.list(R.endpointslices, { namespace: 'default', labelSelector: 'kubernetes.io/service-name=nginx' })).items;
    const endpoints = items.flatMap((s) => ((s as { endpoints?: { hostname?: string; addresses: string[] }[] }).endpoints ?? []));
    return endpoints.filter((e) => e.hostname).length === 3 && items;
  });
  const endpoints = slices.flatMap((s) => ((s as { endpoints?: { hostname?: string; addresses: string[] }[] }).endpoints ?? []));
  for (const e of endpoints) assert.equal(ipOf[e.hostname!], e.addresses[0]);
  // The cluster DNS handler, fed the objects the API serves, answers for each pod's name.
  const model = new ClusterDnsModel();
  model.setNamespace('default');
  model.setService(slimService((await server.client.get(R.services, 'default', 'nginx'))!)!);
  for (const s of slices) model.setEndpointSlice(slimEndpointSlice(s)!);
  const handler = makeHandler(model);
  for (const name of ['web-0', 'web-1', 'web-2']) {
    const reply = await ask(handler, `${name}.nginx.default.svc.cluster.local`, 'A');
    assert.equal(reply.rcode, 'NOERROR');
    assert.deepEqual(reply.answers.map((a) => (a as { data?: unknown }).data), [ipOf[name]]);
  }
});

test('a deleted StatefulSet pod comes back with the same name; scaling down goes from the highest ordinal', async () => {
  const before = (await server.client.get(R.pods, 'default', 'web-1'))!;
  // Not --wait: kubectl waits for a DELETED of the name, and the StatefulSet may bring web-1 back before
  // kubectl's watch lists it, which that wait then never sees (a race of kubectl's, upstream too).
  await kubectl('delete', 'pod', 'web-1', '--wait=false');
  await eventually('web-1 back with a new uid', async () => {
    const p = (await server.client.get(R.pods, 'default', 'web-1')) as Pod | undefined;
    return p && p.metadata.uid !== before.metadata.uid && !p.metadata.deletionTimestamp && p.status?.phase === 'Running';
  });
  await kubectl('rollout', 'status', 'statefulset/web', '--timeout=60s');
  await kubectl('scale', 'statefulset', 'web', '--replicas=1');
  await eventually('only web-0 left', async () => names(await pods('default', 'app=nginx')).join() === 'web-0');
  // The controller's events (written asynchronously) show the order.
  const deleted = await eventually('two delete events', async () => {
    const events = (await server.client.list(R.events, { namespace: 'default' })).items as (KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } })[];
    const list = events.filter((e) => e.involvedObject?.name === 'web' && e.reason === 'SuccessfulDelete').map((e) => e.message);
    return list.length >= 2 && list;
  });
  assert.deepEqual(deleted.slice(-2), ['delete Pod web-2 in StatefulSet web successful', 'delete Pod web-1 in StatefulSet web successful']);
  await kubectl('scale', 'statefulset', 'web', '--replicas=3');
  await kubectl('rollout', 'status', 'statefulset/web', '--timeout=60s');
});

test('a StatefulSet rolling update replaces every pod and makes the new revision current', async () => {
  const old = (await server.client.get(R.statefulsets, 'default', 'web')) as KubeObject & { status?: any };
  await kubectl('set', 'image', 'statefulset/web', 'nginx=nginx:2');
  assert.match(await kubectl('rollout', 'status', 'statefulset/web', '--timeout=90s'), /partitioned roll out complete: 3 new pods have been updated/);
  const s = (await server.client.get(R.statefulsets, 'default', 'web')) as KubeObject & { status?: any };
  assert.notEqual(s.status.updateRevision, old.status.updateRevision);
  assert.equal(s.status.currentRevision, s.status.updateRevision);
  assert.deepEqual([s.status.replicas, s.status.readyReplicas, s.status.currentReplicas, s.status.updatedReplicas], [3, 3, 3, 3]);
  assert.equal(s.status.observedGeneration, s.metadata.generation);
  const list = await pods('default', 'app=nginx');
  assert.ok(list.every((p) => p.metadata.labels!['controller-revision-hash'] === s.status.updateRevision && (p.spec.containers ?? [])[0]!.image === 'nginx:2'));
  // Each template is a ControllerRevision: rollout history lists them, rollout undo goes back.
  assert.match(await kubectl('get', 'controllerrevisions'), new RegExp(`${s.status.updateRevision}\\s+statefulset.apps/web\\s+2\\s`));
  assert.match(await kubectl('rollout', 'history', 'statefulset/web'), /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
  assert.match(await kubectl('rollout', 'undo', 'statefulset/web'), /statefulset.apps\/web rolled back/);
  await eventually('web back on nginx:1', async () => {
    const back = await pods('default', 'app=nginx');
    return back.length === 3 && back.every((p) => p.spec.containers![0]!.image === 'nginx:1' && p.metadata.labels!['controller-revision-hash'] === old.status.updateRevision && p.status?.phase === 'Running');
  });
  await kubectl('rollout', 'status', 'statefulset/web', '--timeout=60s');
  assert.match(await kubectl('rollout', 'history', 'statefulset/web'), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);
});

test('StatefulSet validation speaks upstream', async () => {
  const r = await server.kubectl(['apply', '-f', '-'], `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: bad}
spec:
  podManagementPolicy: Sometimes
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: b}}
    spec: {containers: [{name: c, image: busybox}]}
`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /spec.podManagementPolicy: Invalid value: "Sometimes": must be 'OrderedReady' or 'Parallel'/);
  assert.match(r.stderr, /spec.template.metadata.labels: Invalid value: map\[string\]string\{"app":"b"\}: `selector` does not match template `labels`/);
});

const daemonSet = (image: string, extra = '') => `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:${extra}
      containers: [{name: agent, image: ${image}}]
`;

test('a DaemonSet runs one pod per node, bound by the scheduler through its node affinity', async () => {
  await apply(daemonSet('busybox:1'));
  assert.match(await kubectl('rollout', 'status', 'daemonset/agent', '-n', 'kube-system', '--timeout=60s'), /daemon set "agent" successfully rolled out/);
  const list = await pods('kube-system', 'app=agent');
  assert.deepEqual(list.map((p) => p.spec.nodeName).sort(), ['n1', 'n2']);
  for (const p of list) {
    assert.deepEqual(p.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms, [
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: [p.spec.nodeName] }] },
    ]);
    assert.ok(p.spec.tolerations?.some((t) => t.key === 'node.kubernetes.io/unschedulable' && t.effect === 'NoSchedule'));
  }
  const ds = (await server.client.get(R.daemonsets, 'kube-system', 'agent')) as KubeObject & { status?: any };
  assert.deepEqual(
    [ds.status.desiredNumberScheduled, ds.status.currentNumberScheduled, ds.status.numberReady, ds.status.updatedNumberScheduled, ds.status.numberAvailable, ds.status.numberMisscheduled],
    [2, 2, 2, 2, 2, 0],
  );
  assert.match(await kubectl('get', 'ds', '-n', 'kube-system', 'agent'), /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\nagent\s+2\s+2\s+2\s+2\s+2\s+<none>\s+\S+\n$/);
});

test('a DaemonSet follows node labels and rolls out a new template', async () => {
  await kubectl('label', 'node', 'n1', 'role=edge');
  await apply(daemonSet('busybox:1', '\n      nodeSelector: {role: edge}'));
  await eventually('only the n1 pod left', async () => {
    const list = await pods('kube-system', 'app=agent');
    return list.length === 1 && list[0]!.spec.nodeName === 'n1';
  });
  await kubectl('label', 'node', 'n2', 'role=edge');
  await eventually('a pod on n2 again', async () => (await pods('kube-system', 'app=agent')).length === 2);
  await kubectl('set', 'image', 'daemonset/agent', '-n', 'kube-system', 'agent=busybox:2');
  assert.match(await kubectl('rollout', 'status', 'daemonset/agent', '-n', 'kube-system', '--timeout=60s'), /successfully rolled out/);
  const list = await pods('kube-system', 'app=agent');
  assert.equal(list.length, 2);
  assert.ok(list.every((p) => p.spec.containers![0]!.image === 'busybox:2'));
  assert.match(await kubectl('get', 'ds', '-n', 'kube-system', 'agent'), /agent\s+2\s+2\s+2\s+2\s+2\s+role=edge/);
  assert.match(await kubectl('rollout', 'history', 'daemonset/agent', '-n', 'kube-system'), /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n3\s+<none>\n/);
});
