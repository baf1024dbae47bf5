// Jobs and CronJobs against a real `flatnet server` with its controllers, driven by the real
// kubectl; a fake kubelet runs the pods, and the test plays the containers: it marks a pod
// Succeeded or Failed as a kubelet reports an exited container.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../../support/server.js';
import { R } from '../../../src/api/resources.js';
import { isConflict } from '../../../src/client/client.js';
import type { KubeObject } from '../../../src/api/types.js';
import type { Pod } from '../../../src/controllers/types.js';
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

async function jobPods(job: string, namespace = 'default'): Promise<Pod[]> {
  return (await server.client.list<Pod>(R.pods, { namespace, labelSelector: `batch.kubernetes.io/job-name=${job}` })).items;
}

async function getJob(name: string): Promise<KubeObject & { spec: any; status?: any }> {
  return (await server.client.get(R.jobs, 'default', name)) as KubeObject & { spec: any; status?: any };
}

/** The container of a Running pod exits: the pod's phase becomes Succeeded or Failed. */
async function finish(pod: Pod, phase: 'Succeeded' | 'Failed'): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const current = (await server.client.get(R.pods, pod.metadata.namespace, pod.metadata.name!)) as Pod;
    const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const conditions = (current.status?.conditions ?? []).map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', reason: 'PodCompleted', lastTransitionTime: at } : c));
    try {
      await server.client.updateStatus(R.pods, { ...current, status: { ...current.status, phase, conditions } });
      return;
    } catch (err) {
      if (!isConflict(err) || attempt > 20) throw err;
    }
  }
}

/** Waits for `count` Running pods of the job and finishes them. */
async function finishRunning(job: string, count: number, phase: 'Succeeded' | 'Failed'): Promise<Pod[]> {
  const running = await eventually(`${count} running pods of ${job}`, async () => {
    const pods = (await jobPods(job)).filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
    return pods.length >= count && pods.slice(0, count);
  });
  for (const p of running) await finish(p, phase);
  return running;
}

test('kubectl create job runs a pod to completion and kubectl wait sees Complete', async () => {
  assert.match(await kubectl('create', 'job', 'hello', '--image=busybox', '--', 'echo', 'hi'), /job.batch\/hello created/);
  const job = await getJob('hello');
  const uid = job.metadata.uid!;
  assert.deepEqual(job.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
  assert.deepEqual([job.spec.completions, job.spec.parallelism, job.spec.backoffLimit, job.spec.completionMode], [1, 1, 6, 'NonIndexed']);
  const [pod] = await finishRunning('hello', 1, 'Succeeded');
  assert.equal(pod!.metadata.labels!['controller-uid'], uid);
  assert.equal(pod!.metadata.labels!['batch.kubernetes.io/controller-uid'], uid);
  assert.equal(pod!.metadata.labels!['job-name'], 'hello');
  assert.match(pod!.metadata.name!, /^hello-[a-z0-9]{5}$/);
  assert.deepEqual(pod!.metadata.ownerReferences!.map((r) => [r.kind, r.name, r.controller]), [['Job', 'hello', true]]);
  assert.match(await kubectl('wait', '--for=condition=complete', 'job/hello', '--timeout=60s'), /job.batch\/hello condition met/);
  const done = await getJob('hello');
  assert.deepEqual([done.status.succeeded, done.status.active, done.status.failed], [1, 0, 0]);
  assert.ok(done.status.startTime && done.status.completionTime);
  assert.match(await kubectl('get', 'job', 'hello'), /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\nhello\s+Complete\s+1\/1\s+\S+\s+\S+\n$/);
  assert.match(await kubectl('describe', 'job', 'hello'), /Pods Statuses:\s+0 Active .* 1 Succeeded \/ 0 Failed/);
});

test('completions and parallelism: never more than parallelism pods, done at completions', async () => {
  await apply(`apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox, command: [sh, -c, 'true']}]
`);
  await finishRunning('batch', 2, 'Succeeded');
  // One completion left: one more pod, not two.
  await finishRunning('batch', 1, 'Succeeded');
  await kubectl('wait', '--for=condition=complete', 'job/batch', '--timeout=60s');
  const pods = await jobPods('batch');
  assert.equal(pods.length, 3);
  assert.ok(pods.every((p) => p.status?.phase === 'Succeeded'));
  assert.match(await kubectl('get', 'job', 'batch'), /batch\s+Complete\s+3\/3/);
});

test('backoffLimit: a failed pod fails the Job with BackoffLimitExceeded', async () => {
  await kubectl('create', 'job', 'doomed', '--image=busybox', '--', 'false');
  await kubectl('patch', 'job', 'doomed', '--type=merge', '-p', '{"spec":{"backoffLimit":0}}');
  await finishRunning('doomed', 1, 'Failed');
  assert.match(await kubectl('wait', '--for=condition=failed', 'job/doomed', '--timeout=60s'), /condition met/);
  const job = await getJob('doomed');
  const failed = job.status.conditions.find((c: any) => c.type === 'Failed');
  assert.deepEqual([failed.status, failed.reason, failed.message], ['True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit']);
  assert.equal(job.status.failed, 1);
  assert.match(await kubectl('get', 'job', 'doomed'), /doomed\s+Failed\s+0\/1/);
});

test('activeDeadlineSeconds ends a running Job with DeadlineExceeded and deletes its pod', async () => {
  await apply(`apiVersion: batch/v1
kind: Job
metadata: {name: slow}
spec:
  activeDeadlineSeconds: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox, command: [sleep, '3600']}]
`);
  await kubectl('wait', '--for=condition=failed', 'job/slow', '--timeout=60s');
  const job = await getJob('slow');
  assert.equal(job.status.conditions.find((c: any) => c.type === 'Failed').reason, 'DeadlineExceeded');
  await eventually('the pod of slow gone', async () => (await jobPods('slow')).length === 0);
});

test('ttlSecondsAfterFinished deletes a finished Job and its pods', async () => {
  await apply(`apiVersion: batch/v1
kind: Job
metadata: {name: brief}
spec:
  ttlSecondsAfterFinished: 1
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
`);
  await finishRunning('brief', 1, 'Succeeded');
  await eventually('job brief deleted', async () => (await server.client.get(R.jobs, 'default', 'brief')) === undefined);
  await eventually('pods of brief deleted', async () => (await jobPods('brief')).length === 0);
});

test('Indexed Jobs give each pod its index and report completedIndexes', async () => {
  await apply(`apiVersion: batch/v1
kind: Job
metadata: {name: idx}
spec:
  completionMode: Indexed
  completions: 3
  parallelism: 3
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
`);
  const pods = await finishRunning('idx', 3, 'Succeeded');
  assert.deepEqual(pods.map((p) => p.metadata.annotations!['batch.kubernetes.io/job-completion-index']).sort(), ['0', '1', '2']);
  assert.ok(pods.every((p) => p.spec.hostname === `idx-${p.metadata.annotations!['batch.kubernetes.io/job-completion-index']}`));
  await kubectl('wait', '--for=condition=complete', 'job/idx', '--timeout=60s');
  assert.equal((await getJob('idx')).status.completedIndexes, '0-2');
});

test('Job validation speaks upstream: restartPolicy Always is refused', async () => {
  const r = await server.kubectl(['apply', '-f', '-'], `apiVersion: batch/v1
kind: Job
metadata: {name: bad}
spec:
  template:
    spec:
      restartPolicy: Always
      containers: [{name: c, image: busybox}]
`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"/);
});

test('CronJobs: created by kubectl, validated, run on schedule with Forbid, suspended', async () => {
  assert.match(await kubectl('create', 'cronjob', 'minutely', '--image=busybox', '--schedule=*/1 * * * *', '--', 'echo', 'hi'), /cronjob.batch\/minutely created/);
  assert.match(await kubectl('get', 'cronjob', 'minutely'), /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\nminutely\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+0\s+<none>\s+\S+\n$/);
  const bad = await server.kubectl(['create', 'cronjob', 'bad', '--image=busybox', '--schedule=61 * * * *']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /spec.schedule: Invalid value: "61 \* \* \* \*": end of range \(61\) above maximum \(59\): 61/);
  const badZone = await server.kubectl(['apply', '-f', '-'], `apiVersion: batch/v1
kind: CronJob
metadata: {name: badzone}
spec:
  schedule: '@hourly'
  timeZone: Mars/Olympus
  jobTemplate: {spec: {template: {spec: {restartPolicy: OnFailure, containers: [{name: c, image: busybox}]}}}}
`);
  assert.match(badZone.stderr, /spec.timeZone: Invalid value: "Mars\/Olympus": unknown time zone Mars\/Olympus/);

  // Every second, but Forbid: one Job at a time.
  await apply(`apiVersion: batch/v1
kind: CronJob
metadata: {name: often}
spec:
  schedule: '@every 1s'
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: c, image: busybox}]
`);
  const cj = await server.client.get(R.cronjobs, 'default', 'often');
  const firstJob = await eventually('a job of often', async () => {
    const jobs = (await server.client.list(R.jobs, { namespace: 'default' })).items.filter((j) => j.metadata.ownerReferences?.some((r) => r.uid === cj!.metadata.uid));
    return jobs.length > 0 && jobs;
  });
  assert.equal(firstJob.length, 1);
  assert.match(firstJob[0]!.metadata.name!, /^often-\d+$/);
  assert.ok(firstJob[0]!.metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp']);
  const withActive = await eventually('often lists its active job', async () => {
    const c = (await server.client.get(R.cronjobs, 'default', 'often')) as KubeObject & { status?: any };
    return c.status?.active?.length === 1 && c;
  });
  assert.equal(withActive.status.active[0].name, firstJob[0]!.metadata.name);
  assert.ok(withActive.status.lastScheduleTime);
  // While that Job runs, Forbid starts no other (the schedule fired several times meanwhile).
  const podOfJob = await eventually('the pod of the first job running', async () => {
    const pods = await jobPods(firstJob[0]!.metadata.name!);
    return pods.find((p) => p.status?.phase === 'Running');
  });
  await new Promise((r) => setTimeout(r, 2500));
  const owned = (await server.client.list(R.jobs, { namespace: 'default' })).items.filter((j) => j.metadata.ownerReferences?.some((r) => r.uid === cj!.metadata.uid));
  assert.equal(owned.length, 1);
  await finish(podOfJob, 'Succeeded');
  const finished = await eventually('often records a success', async () => {
    const c = (await server.client.get(R.cronjobs, 'default', 'often')) as KubeObject & { status?: any };
    return c.status?.lastSuccessfulTime && c;
  });
  assert.ok(finished.status.lastSuccessfulTime);
  await kubectl('patch', 'cronjob', 'often', '--type=merge', '-p', '{"spec":{"suspend":true}}');
  assert.match(await kubectl('get', 'cronjob', 'often'), /often\s+@every 1s\s+<none>\s+True/);
});
