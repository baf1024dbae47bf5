// kubectl drain, cordon and uncordon, PodDisruptionBudgets and the pods/eviction subresource,
// events.k8s.io/v1 over the core Events, per-controller event reporters and `kubectl debug`
// without ephemeral containers, against a real `flatnet server` with its controllers, driven by
// the real kubectl; a fake kubelet plays two nodes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestServer } from '../../support/server.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { ApiError } from '../../../src/client/client.js';
import type { Node, Pod } from '../../../src/controllers/types.js';
import type { PodDisruptionBudget } from '../../../src/controllers/disruption-plan.js';
import { startClusterWithFakeKubelet, type FakeKubelet, eventually } from './fake-kubelet.js';

let server: TestServer;
let kubelet: FakeKubelet;

before(async () => ({ server, kubelet } = await startClusterWithFakeKubelet()));

after(async () => {
  kubelet?.stop();
  await server?.stop();
});

const kubectl = (...args: string[]) => server.kubectlOk(args);

async function pdb(ns: string, name: string): Promise<PodDisruptionBudget> {
  return (await server.client.get<PodDisruptionBudget>(R.poddisruptionbudgets, ns, name))!;
}

function evictionPath(ns: string, pod: string): string {
  return `/api/v1/namespaces/${ns}/pods/${pod}/eviction`;
}

async function evictStatus(ns: string, pod: string, body: object): Promise<{ code: number; status: Record<string, unknown> }> {
  try {
    const status = await server.client.request<Record<string, unknown>>('POST', evictionPath(ns, pod), body);
    return { code: 201, status };
  } catch (err) {
    if (err instanceof ApiError) return { code: err.code, status: err.status as unknown as Record<string, unknown> };
    throw err;
  }
}

test('PodDisruptionBudgets: kubectl create pdb, validation with field paths, status from the disruption controller, kubectl get columns', async () => {
  await kubectl('create', 'namespace', 'budgets');
  await kubectl('-n', 'budgets', 'create', 'deployment', 'api', '--image=nginx', '--replicas=3');
  await kubectl('-n', 'budgets', 'rollout', 'status', 'deployment/api', '--timeout=60s');
  await kubectl('-n', 'budgets', 'create', 'pdb', 'api', '--selector=app=api', '--max-unavailable=34%');
  const status = await eventually('pdb status', async () => {
    const p = await pdb('budgets', 'api');
    return p.status?.observedGeneration === 1 && p.status.expectedPods === 3 && p.status;
  });
  // 34% of the Deployment's 3 replicas rounds up to 2 unavailable: 1 must stay healthy.
  assert.equal(status.desiredHealthy, 1);
  assert.equal(status.currentHealthy, 3);
  assert.equal(status.disruptionsAllowed, 2);
  assert.deepEqual(status.conditions?.map((c) => [c.type, c.status, c.reason]), [['DisruptionAllowed', 'True', 'SufficientPods']]);
  const table = await kubectl('-n', 'budgets', 'get', 'pdb');
  assert.match(table, /NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE/);
  assert.match(table, /api\s+N\/A\s+34%\s+2\s+/);

  const both = await server.kubectl(['-n', 'budgets', 'apply', '-f', '-'], JSON.stringify({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'bad' }, spec: { minAvailable: 1, maxUnavailable: '150%', selector: { matchLabels: { app: 'api' } } } }));
  assert.notEqual(both.code, 0);
  assert.match(both.stderr, /spec: Invalid value: .*minAvailable and maxUnavailable cannot be both set/);
  assert.match(both.stderr, /spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%/);
  assert.equal(await server.client.get(R.poddisruptionbudgets, 'budgets', 'bad'), undefined);
  const policy = await server.kubectl(['-n', 'budgets', 'apply', '-f', '-'], JSON.stringify({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'bad' }, spec: { minAvailable: 1, unhealthyPodEvictionPolicy: 'Never' } }));
  assert.match(policy.stderr, /spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"/);

  // A change of the budget is observed (observedGeneration follows generation).
  await kubectl('-n', 'budgets', 'patch', 'pdb', 'api', '--type=merge', '-p', '{"spec":{"maxUnavailable":null,"minAvailable":3}}');
  const changed = await eventually('pdb observed generation 2', async () => {
    const p = await pdb('budgets', 'api');
    return p.status?.observedGeneration === 2 && p.status;
  });
  assert.equal(changed.disruptionsAllowed, 0);
  assert.deepEqual(changed.conditions?.map((c) => [c.status, c.reason]), [['False', 'InsufficientPods']]);
});

test('pods/eviction: 429 with the DisruptionBudget cause, policy/v1beta1 bodies, dry runs, deleteOptions, and pods without a budget', async () => {
  const pods = (await server.client.list<Pod>(R.pods, { namespace: 'budgets', labelSelector: 'app=api' })).items;
  const victim = pods[0]!.metadata.name!;
  // minAvailable 3 of 3: refused.
  const refused = await evictStatus('budgets', victim, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: victim, namespace: 'budgets' } });
  assert.equal(refused.code, 429);
  assert.equal(refused.status.reason, 'TooManyRequests');
  assert.equal(refused.status.message, "Cannot evict pod as it would violate the pod's disruption budget.");
  assert.deepEqual((refused.status.details as { causes: unknown[] }).causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget api needs 3 healthy pods and has 3 currently' }]);

  await kubectl('-n', 'budgets', 'patch', 'pdb', 'api', '--type=merge', '-p', '{"spec":{"minAvailable":2}}');
  await eventually('one disruption allowed', async () => (await pdb('budgets', 'api')).status?.disruptionsAllowed === 1);
  // A dry run answers as a real eviction would and changes nothing.
  const dry = await evictStatus('budgets', victim, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: victim }, deleteOptions: { dryRun: ['All'] } });
  assert.equal(dry.code, 201);
  assert.equal((await pdb('budgets', 'api')).status?.disruptionsAllowed, 1);
  assert.ok(await server.client.get(R.pods, 'budgets', victim));
  // Two evictions at once against a budget with one disruption: exactly one wins. The old client's
  // policy/v1beta1 body is accepted like policy/v1.
  const second = pods[1]!.metadata.name!;
  const [ok, again] = await Promise.all([
    evictStatus('budgets', victim, { apiVersion: 'policy/v1beta1', kind: 'Eviction', metadata: { name: victim } }),
    evictStatus('budgets', second, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: second } }),
  ]);
  assert.deepEqual([ok.code, again.code].sort(), [201, 429]);
  const winner = ok.code === 201 ? ok : again;
  assert.deepEqual(winner.status, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });

  // Bad bodies name what is wrong.
  const mismatch = await evictStatus('budgets', second, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'other' } });
  assert.equal(mismatch.code, 400);
  assert.match(String(mismatch.status.message), /name in URL does not match name in Eviction object/);
  const badVersion = await evictStatus('budgets', second, { apiVersion: 'policy/v2', kind: 'Eviction', metadata: { name: second } });
  assert.equal(badVersion.code, 400);
  const missing = await evictStatus('budgets', 'nope', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'nope' } });
  assert.equal(missing.code, 404);

  // A pod no budget covers is deleted directly, with the Eviction's deleteOptions and a DisruptionTarget condition.
  await server.client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'lone', namespace: 'budgets' }, spec: { nodeName: 'ghost', containers: [{ name: 'c', image: 'nginx' }] } } as KubeObject);
  const wrongUid = await evictStatus('budgets', 'lone', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'lone' }, deleteOptions: { preconditions: { uid: 'not-this-pod' } } });
  assert.equal(wrongUid.code, 409);
  assert.match(String(wrongUid.status.message), /Precondition failed: UID in precondition: not-this-pod/);
  assert.equal((await server.client.get<Pod>(R.pods, 'budgets', 'lone'))!.metadata.deletionTimestamp, undefined);
  const lone = await evictStatus('budgets', 'lone', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'lone' }, deleteOptions: { gracePeriodSeconds: 7 } });
  assert.equal(lone.code, 201);
  const terminating = (await server.client.get<Pod>(R.pods, 'budgets', 'lone'))!;
  assert.equal(terminating.metadata.deletionGracePeriodSeconds, 7);
  assert.deepEqual(
    terminating.status?.conditions?.filter((c) => c.type === 'DisruptionTarget').map((c) => [c.status, c.reason, c.message]),
    [['True', 'EvictionByEvictionAPI', 'Eviction API: evicting']],
  );

  // Two budgets over one pod: refused as upstream refuses it (for a running pod: a Pending one, such as
  // the winner's replacement, is deleted without looking at budgets).
  await kubectl('-n', 'budgets', 'create', 'pdb', 'api-too', '--selector=app=api', '--min-available=0');
  const live = (await server.client.list<Pod>(R.pods, { namespace: 'budgets', labelSelector: 'app=api' })).items.find((p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running')!.metadata.name!;
  const two = await evictStatus('budgets', live, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: live } });
  assert.equal(two.code, 500);
  assert.match(String(two.status.message), /more than one PodDisruptionBudget/);
  await kubectl('-n', 'budgets', 'delete', 'namespace', 'budgets', '--wait=false');
});

test('kubectl drain respects the budget (429 seen), the Deployment comes back on the other node; cordon taints, uncordon untaints', async () => {
  await kubectl('create', 'deployment', 'web', '--image=nginx', '--replicas=4');
  await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s');
  await kubectl('create', 'pdb', 'web', '--selector=app=web', '--min-available=3');
  await eventually('web budget', async () => (await pdb('default', 'web')).status?.disruptionsAllowed === 1);
  const onN1 = (await server.client.list<Pod>(R.pods, { namespace: 'default', fieldSelector: 'spec.nodeName=n1', labelSelector: 'app=web' })).items;
  assert.equal(onN1.length, 2, 'the scheduler spread the 4 replicas 2 and 2');

  const drain = await server.kubectl(['drain', 'n1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=120s']);
  assert.equal(drain.code, 0, drain.stderr);
  assert.match(drain.stdout, /node\/n1 cordoned/);
  for (const p of onN1) assert.match(drain.stdout, new RegExp(`pod/${p.metadata.name} evicted`));
  assert.match(drain.stdout, /node\/n1 drained/);
  // Only one disruption at a time: the second pod waited for the first's replacement.
  assert.match(drain.stderr, /Cannot evict pod as it would violate the pod's disruption budget/);

  const web = (await server.client.list<Pod>(R.pods, { namespace: 'default', labelSelector: 'app=web' })).items;
  assert.equal(web.filter((p) => !p.metadata.deletionTimestamp).length, 4);
  assert.ok(web.every((p) => p.spec.nodeName === 'n2'), `all replicas on n2: ${web.map((p) => p.spec.nodeName).join(',')}`);
  await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s');

  const cordoned = await eventually('unschedulable taint', async () => {
    const n = (await server.client.get<Node>(R.nodes, undefined, 'n1'))!;
    return n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unschedulable' && t.effect === 'NoSchedule') && n;
  });
  assert.equal(cordoned.spec?.unschedulable, true);
  assert.match(await kubectl('get', 'node', 'n1'), /Ready,SchedulingDisabled/);

  await kubectl('uncordon', 'n1');
  const open = await eventually('taint removed', async () => {
    const n = (await server.client.get<Node>(R.nodes, undefined, 'n1'))!;
    return !n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unschedulable') && n;
  });
  assert.equal(open.spec?.unschedulable, undefined);
  // A new pod may land on n1 again.
  await kubectl('scale', 'deployment/web', '--replicas=6');
  await eventually('a replica on n1', async () => (await server.client.list<Pod>(R.pods, { namespace: 'default', fieldSelector: 'spec.nodeName=n1', labelSelector: 'app=web' })).items.length > 0);
});

test('events name the controller that acted, with reportingController and reportingInstance', async () => {
  const events = await eventually('deployment-controller event', async () => {
    const list = (await server.client.list<KubeObject>(R.events, { namespace: 'default' })).items as unknown as Record<string, any>[];
    return list.some((e) => e.reason === 'ScalingReplicaSet') && list.some((e) => e.reason === 'SuccessfulCreate') && list.some((e) => e.reason === 'Scheduled') && list;
  });
  const by = (reason: string) => events.find((e) => e.reason === reason)!;
  for (const [reason, component] of [['ScalingReplicaSet', 'deployment-controller'], ['SuccessfulCreate', 'replicaset-controller'], ['Scheduled', 'default-scheduler']]) {
    const e = by(reason);
    assert.equal(e.source?.component, component, reason);
    assert.equal(e.reportingComponent, component, reason);
    assert.equal(e.reportingInstance, `${component}-${hostname()}`, reason);
  }
  assert.ok(!events.some((e) => e.source?.component === 'flatnet-controller-manager'));
  const out = await kubectl('events', '-n', 'default', '--for', 'deployment/web');
  assert.match(out, /ScalingReplicaSet/);
});

test('events.k8s.io/v1 serves the same Events: discovery, list with field selectors, create, update, watch', async () => {
  const resources = JSON.parse(await kubectl('get', '--raw', '/apis/events.k8s.io/v1')) as { resources: { name: string; kind: string }[] };
  assert.deepEqual(resources.resources.map((r) => [r.name, r.kind]), [['events', 'Event']]);
  const listed = JSON.parse(await kubectl('get', '--raw', '/apis/events.k8s.io/v1/namespaces/default/events?fieldSelector=reason%3DScalingReplicaSet,reportingController%3Ddeployment-controller')) as { apiVersion: string; items: Record<string, any>[] };
  assert.ok(listed.items.length > 0);
  const first = listed.items[0]!;
  assert.equal(first.apiVersion, 'events.k8s.io/v1');
  assert.equal(first.reportingController, 'deployment-controller');
  assert.equal(first.regarding.kind, 'Deployment');
  assert.match(first.note, /Scaled (up|down) replica set web-/);
  assert.equal(first.deprecatedSource.component, 'deployment-controller');
  assert.ok(first.deprecatedCount >= 1 && first.deprecatedFirstTimestamp);

  const v1 = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'web.custom', namespace: 'default' },
    eventTime: '2026-12-06T12:00:00.000000Z',
    reportingController: 'example.com/rollout-checker',
    reportingInstance: 'checker-0',
    action: 'Check',
    reason: 'Checked',
    type: 'Normal',
    note: 'all replicas answered',
    regarding: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'default' },
  };
  const created = await server.kubectl(['create', '-f', '-'], JSON.stringify(v1));
  assert.equal(created.code, 0, created.stderr);
  // The same Event through core/v1: message and involvedObject.
  const core = (await server.client.get<KubeObject>(R.events, 'default', 'web.custom')) as unknown as Record<string, any>;
  assert.equal(core.message, 'all replicas answered');
  assert.equal(core.involvedObject.name, 'web');
  assert.equal(core.reportingComponent, 'example.com/rollout-checker');
  assert.match(await kubectl('get', 'events', '--field-selector', 'involvedObject.name=web,reason=Checked'), /Checked/);

  // v1 rules: deprecated fields may not be set on create; the note may not change on update; series may.
  const bad = await server.kubectl(['create', '-f', '-'], JSON.stringify({ ...v1, metadata: { name: 'web.bad', namespace: 'default' }, deprecatedCount: 2, action: '' }));
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /action: Required value/);
  assert.match(bad.stderr, /deprecatedCount: Invalid value: "": needs to be unset/);
  const immut = await server.kubectl(['patch', 'events.v1.events.k8s.io', 'web.custom', '--type=merge', '-p', '{"note":"changed"}']);
  assert.notEqual(immut.code, 0);
  assert.match(immut.stderr, /message: Invalid value: "changed": field is immutable/);
  await kubectl('patch', 'events.v1.events.k8s.io', 'web.custom', '--type=merge', '-p', '{"series":{"count":2,"lastObservedTime":"2026-12-06T12:05:00.000000Z"}}');
  const updated = JSON.parse(await kubectl('get', 'events.v1.events.k8s.io', 'web.custom', '-o', 'json')) as Record<string, any>;
  assert.deepEqual(updated.series, { count: 2, lastObservedTime: '2026-12-06T12:05:00.000000Z' });

  // A watch of events.k8s.io/v1 (from now on) sees a core write, converted; the stream ends at timeoutSeconds.
  const rv = listed.items.length ? (JSON.parse(await kubectl('get', '--raw', '/apis/events.k8s.io/v1/namespaces/default/events?limit=1')) as { metadata: { resourceVersion: string } }).metadata.resourceVersion : '0';
  const watching = server.kubectl(['get', '--raw', `/apis/events.k8s.io/v1/namespaces/default/events?watch=true&timeoutSeconds=3&resourceVersion=${rv}`]);
  await new Promise((r) => setTimeout(r, 1000));
  await server.client.create(R.events, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.watched', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'x', namespace: 'default' }, reason: 'Poked', message: 'from core', type: 'Normal' } as KubeObject);
  const lines = (await watching).stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: Record<string, any> });
  const got = lines.find((l) => l.object.metadata?.name === 'web.watched');
  assert.ok(got, `the watch saw the new Event: ${lines.map((l) => l.object.metadata?.name).join(', ')}`);
  assert.equal(got.type, 'ADDED');
  assert.equal(got.object.apiVersion, 'events.k8s.io/v1');
  assert.equal(got.object.note, 'from core');
  await kubectl('delete', 'events.v1.events.k8s.io', 'web.custom');
  assert.equal(await server.client.get(R.events, 'default', 'web.custom'), undefined);
});

test('the official Python client: typed PodDisruptionBudget CRUD, eviction refused (429) then allowed, events.k8s.io/v1', async () => {
  const python = '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import kubernetes'], { encoding: 'utf8' });
  assert.equal(probe.status, 0, `the official Python client is missing: ${python} cannot import kubernetes (${probe.stderr?.trim()}). Install Debian's python3-kubernetes.`);
  await kubectl('create', 'namespace', 'py-budgets');
  const script = fileURLToPath(new URL('./python/disruption_client.py', import.meta.url));
  const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(python, [script, server.kubeconfig, 'py-budgets', 'n1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
  const checks = r.out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { check: string; ok: boolean; error?: string });
  assert.deepEqual(checks.map((c) => c.check), ['budget_crud', 'eviction', 'events_v1'], r.out);
  for (const c of checks) assert.ok(c.ok, `${c.check}: ${c.error}`);
  assert.equal(r.code, 0, r.out);
});

test('kubectl debug fails cleanly when ephemeral containers are not served', async () => {
  await kubectl('run', 'solo', '--image=nginx');
  const r = await server.kubectl(['debug', 'solo', '-i', '--image=busybox', '--profile=general', '--', 'true']);
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.stderr, /panic|nil pointer/);
  assert.match(r.stderr, /ephemeral containers are disabled for this cluster \(error from server: "the server could not find the requested resource"\)/);
});
