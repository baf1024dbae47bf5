import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIndexes, jobPod, planJob, podIndex, type Job } from '../../../src/controllers/job-plan.js';
import type { Pod } from '../../../src/controllers/types.js';

const T0 = Date.parse('2026-06-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function job(spec: Partial<Job['spec']> = {}, status?: Job['status']): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid: 'uid-job' },
    spec: {
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      template: { metadata: { labels: { 'batch.kubernetes.io/job-name': 'pi' } }, spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

let seq = 0;
function pod(j: Job, phase: string, o: { index?: number; at?: number } = {}): Pod {
  const p = jobPod(j, o.index);
  p.metadata.uid = `uid-${++seq}`;
  p.status = { phase, conditions: [{ type: 'Ready', status: phase === 'Running' ? 'True' : 'False', lastTransitionTime: iso(o.at ?? T0) }] };
  return p;
}

const condTypes = (p: ReturnType<typeof planJob>) => (p.status.conditions ?? []).filter((c) => c.status === 'True').map((c) => `${c.type}/${c.reason}`);

test('starts parallelism pods, no more than the completions left', () => {
  const j = job({ completions: 5, parallelism: 2 });
  let plan = planJob(j, [], T0);
  assert.equal(plan.create.length, 2);
  assert.equal(plan.status.startTime, iso(T0));
  assert.deepEqual([plan.status.active, plan.status.succeeded, plan.status.failed], [0, 0, 0]);
  const made = plan.create[0]!;
  assert.match(made.metadata.name!, /^pi-[a-z0-9]{5}$/);
  assert.deepEqual(made.metadata.ownerReferences?.map((r) => [r.apiVersion, r.kind, r.name, r.uid, r.controller]), [['batch/v1', 'Job', 'pi', 'uid-job', true]]);
  assert.equal(made.metadata.labels?.['batch.kubernetes.io/job-name'], 'pi');
  const s = { ...plan.status };
  plan = planJob(job({ completions: 5, parallelism: 2 }, s), [pod(j, 'Succeeded'), pod(j, 'Succeeded'), pod(j, 'Succeeded'), pod(j, 'Running')], T0 + 1000);
  assert.equal(plan.create.length, 1); // 3 of 5 done, 1 running: one more
  assert.equal(plan.status.startTime, iso(T0));
  assert.deepEqual([plan.status.active, plan.status.succeeded, plan.status.ready], [1, 3, 1]);
});

test('Complete once the completions succeeded; remaining pods go', () => {
  const j = job({ completions: 2, parallelism: 2 }, { startTime: iso(T0) });
  const running = pod(j, 'Running');
  const plan = planJob(j, [pod(j, 'Succeeded'), pod(j, 'Succeeded'), running], T0 + 5000);
  assert.deepEqual(condTypes(plan), ['SuccessCriteriaMet/CompletionsReached', 'Complete/CompletionsReached']);
  assert.equal(plan.status.completionTime, iso(T0 + 5000));
  assert.deepEqual(plan.delete, [running]);
  assert.deepEqual(plan.events, [['Normal', 'Completed', 'Job completed']]);
  // Without completions (a work queue), the first success completes it once nothing runs.
  const queue = job({ completions: undefined, parallelism: 3 }, { startTime: iso(T0) });
  assert.deepEqual(condTypes(planJob(queue, [pod(queue, 'Succeeded'), pod(queue, 'Running')], T0)), []);
  assert.equal(planJob(queue, [pod(queue, 'Succeeded'), pod(queue, 'Running')], T0).create.length, 0);
  assert.deepEqual(condTypes(planJob(queue, [pod(queue, 'Succeeded')], T0)), ['SuccessCriteriaMet/CompletionsReached', 'Complete/CompletionsReached']);
});

test('failed pods are replaced after the backoff; past backoffLimit the Job fails', () => {
  const j = job({ backoffLimit: 2 }, { startTime: iso(T0) });
  const f1 = pod(j, 'Failed', { at: T0 });
  let plan = planJob(j, [f1], T0 + 5000);
  assert.equal(plan.create.length, 0);
  assert.equal(plan.recheckAfterMs, 5000);
  plan = planJob(j, [f1], T0 + 10_000);
  assert.equal(plan.create.length, 1);
  const f2 = pod(j, 'Failed', { at: T0 + 20_000 });
  plan = planJob(j, [f1, f2], T0 + 30_000); // second failure: 20 s backoff
  assert.equal(plan.create.length, 0);
  assert.equal(plan.recheckAfterMs, 10_000);
  const running = pod(j, 'Running');
  plan = planJob(j, [f1, f2, pod(j, 'Failed'), running], T0 + 60_000);
  assert.deepEqual(condTypes(plan), ['FailureTarget/BackoffLimitExceeded', 'Failed/BackoffLimitExceeded']);
  assert.equal(plan.status.failed, 3);
  assert.deepEqual(plan.delete, [running]);
  assert.deepEqual(plan.events, [['Warning', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit']]);
  // backoffLimit 0: the first failure fails the Job.
  assert.deepEqual(condTypes(planJob(job({ backoffLimit: 0 }), [pod(j, 'Failed')], T0)), ['FailureTarget/BackoffLimitExceeded', 'Failed/BackoffLimitExceeded']);
});

test('restarts of OnFailure pods count against backoffLimit', () => {
  const j = job({ backoffLimit: 1, template: { spec: { containers: [{ name: 'c' }], restartPolicy: 'OnFailure' } } }, { startTime: iso(T0) });
  const p = pod(j, 'Running');
  p.status!.containerStatuses = [{ restartCount: 2 }];
  assert.deepEqual(condTypes(planJob(j, [p], T0)), ['FailureTarget/BackoffLimitExceeded', 'Failed/BackoffLimitExceeded']);
});

test('activeDeadlineSeconds fails a Job that runs too long', () => {
  const j = job({ activeDeadlineSeconds: 30 }, { startTime: iso(T0) });
  const running = pod(j, 'Running');
  let plan = planJob(j, [running], T0 + 10_000);
  assert.equal(plan.recheckAfterMs, 20_000);
  plan = planJob(j, [running], T0 + 30_000);
  assert.deepEqual(condTypes(plan), ['FailureTarget/DeadlineExceeded', 'Failed/DeadlineExceeded']);
  assert.equal(plan.status.conditions?.find((c) => c.type === 'Failed')?.message, 'Job was active longer than specified deadline');
  assert.deepEqual(plan.delete, [running]);
});

test('ttlSecondsAfterFinished: a finished Job is deleted when its time runs out', () => {
  const done = job({ ttlSecondsAfterFinished: 60 }, {
    startTime: iso(T0),
    completionTime: iso(T0 + 1000),
    succeeded: 1,
    conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: iso(T0 + 1000) }],
  });
  let plan = planJob(done, [pod(done, 'Succeeded')], T0 + 31_000);
  assert.equal(plan.deleteJob, undefined);
  assert.equal(plan.recheckAfterMs, 30_000);
  assert.equal(plan.create.length, 0);
  plan = planJob(done, [pod(done, 'Succeeded')], T0 + 61_000);
  assert.equal(plan.deleteJob, true);
});

test('Indexed: one pod per index with its index, completedIndexes as ranges', () => {
  const j = job({ completionMode: 'Indexed', completions: 5, parallelism: 2 });
  let plan = planJob(j, [], T0);
  assert.deepEqual(plan.create.map(podIndex), [0, 1]);
  const p0 = plan.create[0]!;
  assert.match(p0.metadata.name!, /^pi-0-[a-z0-9]{5}$/);
  assert.equal(p0.metadata.annotations?.['batch.kubernetes.io/job-completion-index'], '0');
  assert.equal(p0.spec.hostname, 'pi-0');
  assert.deepEqual((p0.spec.containers?.[0] as { env?: unknown }).env, [{ name: 'JOB_COMPLETION_INDEX', value: '0' }]);
  plan = planJob(j, [pod(j, 'Succeeded', { index: 0 }), pod(j, 'Succeeded', { index: 1 }), pod(j, 'Running', { index: 3 })], T0);
  assert.deepEqual(plan.create.map(podIndex), [2]);
  assert.equal(plan.status.completedIndexes, '0-1');
  assert.equal(formatIndexes([0, 1, 2, 4, 6, 7]), '0-2,4,6-7');
  const all = [0, 1, 2, 3, 4].map((i) => pod(j, 'Succeeded', { index: i }));
  assert.deepEqual(condTypes(planJob(j, all, T0)), ['SuccessCriteriaMet/CompletionsReached', 'Complete/CompletionsReached']);
});

test('suspend deletes the running pods and says so; pods of other Jobs do not count', () => {
  const j = job({ suspend: true }, { startTime: iso(T0) });
  const running = pod(j, 'Running');
  const plan = planJob(j, [running], T0);
  assert.deepEqual(plan.delete, [running]);
  assert.deepEqual(condTypes(plan), ['Suspended/JobSuspended']);
  const other = pod(job(), 'Succeeded');
  other.metadata.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'Job', name: 'x', uid: 'other', controller: true }];
  assert.equal(planJob(job(), [other], T0).create.length, 1);
});
