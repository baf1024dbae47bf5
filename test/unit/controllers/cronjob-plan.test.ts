import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobFromCronJob, jobNameFor, planCronJob, zonedRFC3339, type CronJob } from '../../../src/controllers/cronjob-plan.js';
import type { Job } from '../../../src/controllers/job-plan.js';

const at = (s: string) => Date.parse(s);

function cronJob(spec: Partial<CronJob['spec']> = {}, status?: CronJob['status']): CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'hello', namespace: 'default', uid: 'uid-cj', creationTimestamp: '2026-12-06T10:00:30Z' },
    spec: {
      schedule: '*/1 * * * *',
      concurrencyPolicy: 'Allow',
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: { metadata: { labels: { team: 'a' } }, spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'OnFailure' } } } },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

function jobOf(cj: CronJob, scheduled: string, finished?: 'Complete' | 'Failed'): Job {
  const j = jobFromCronJob(cj, at(scheduled));
  j.metadata.uid = `uid-${j.metadata.name}`;
  j.metadata.creationTimestamp = scheduled;
  if (finished) {
    const t = new Date(at(scheduled) + 5000).toISOString().replace('.000Z', 'Z');
    j.status = { startTime: scheduled, conditions: [{ type: finished, status: 'True', lastTransitionTime: t }], ...(finished === 'Complete' ? { completionTime: t } : {}) };
  }
  return j;
}

test('nothing before the first schedule time; then the Job of that minute', () => {
  const cj = cronJob();
  let plan = planCronJob(cj, [], at('2026-12-06T10:00:50Z'));
  assert.equal(plan.create, undefined);
  assert.equal(plan.recheckAfterMs, 10_000);
  plan = planCronJob(cj, [], at('2026-12-06T10:01:02Z'));
  const job = plan.create!;
  assert.equal(job.metadata.name, `hello-${at('2026-12-06T10:01:00Z') / 60_000}`);
  assert.equal(job.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2026-12-06T10:01:00Z');
  assert.deepEqual(job.metadata.labels, { team: 'a' });
  assert.deepEqual(job.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]), [['CronJob', 'hello', 'uid-cj', true]]);
  assert.equal(plan.status.lastScheduleTime, '2026-12-06T10:01:00Z');
  assert.equal(plan.recheckAfterMs, 58_000);
});

test('a schedule already run is not run again; the Job shows in status.active', () => {
  const cj = cronJob({}, { lastScheduleTime: '2026-12-06T10:01:00Z' });
  const running = jobOf(cj, '2026-12-06T10:01:00Z');
  const plan = planCronJob(cj, [running], at('2026-12-06T10:01:30Z'));
  assert.equal(plan.create, undefined);
  assert.deepEqual(plan.status.active?.map((r) => [r.kind, r.name, r.uid]), [['Job', running.metadata.name, running.metadata.uid]]);
});

test('concurrencyPolicy Forbid skips while a Job runs; Replace deletes it; Allow runs both', () => {
  const base = { lastScheduleTime: '2026-12-06T10:01:00Z' };
  const now = at('2026-12-06T10:02:01Z');
  const forbid = cronJob({ concurrencyPolicy: 'Forbid' }, base);
  const running = jobOf(forbid, '2026-12-06T10:01:00Z');
  let plan = planCronJob(forbid, [running], now);
  assert.equal(plan.create, undefined);
  assert.equal(plan.status.lastScheduleTime, '2026-12-06T10:01:00Z');
  assert.equal(plan.events[0]?.[1], 'JobAlreadyActive');
  plan = planCronJob(cronJob({ concurrencyPolicy: 'Replace' }, base), [running], now);
  assert.ok(plan.create);
  assert.deepEqual(plan.delete, [running]);
  assert.equal(plan.status.active, undefined);
  plan = planCronJob(cronJob({}, base), [running], now);
  assert.ok(plan.create);
  assert.deepEqual(plan.delete, []);
});

test('suspend starts nothing; startingDeadlineSeconds skips a start that is too late', () => {
  assert.equal(planCronJob(cronJob({ suspend: true }), [], at('2026-12-06T10:05:00Z')).create, undefined);
  const late = planCronJob(cronJob({ schedule: '0 * * * *', startingDeadlineSeconds: 10 }, { lastScheduleTime: '2026-12-06T09:00:00Z' }), [], at('2026-12-06T11:00:30Z'));
  assert.equal(late.create, undefined);
  const inTime = planCronJob(cronJob({ schedule: '0 * * * *', startingDeadlineSeconds: 60 }, { lastScheduleTime: '2026-12-06T09:00:00Z' }), [], at('2026-12-06T11:00:30Z'));
  assert.equal(inTime.create?.metadata.name, jobNameFor(cronJob(), at('2026-12-06T11:00:00Z')));
});

test('many missed times: only the most recent runs, with a warning', () => {
  const cj = cronJob({}, { lastScheduleTime: '2026-12-01T00:00:00Z' });
  const plan = planCronJob(cj, [], at('2026-12-06T10:17:30Z'));
  assert.equal(plan.create?.metadata.name, jobNameFor(cj, at('2026-12-06T10:17:00Z')));
  assert.equal(plan.events.find((e) => e[1] === 'TooManyMissedTimes')?.[0], 'Warning');
});

test('history limits keep the newest finished Jobs; lastSuccessfulTime and completed Jobs seen', () => {
  const cj = cronJob({ successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }, { lastScheduleTime: '2026-12-06T10:05:00Z', active: [{ kind: 'Job', name: 'x', uid: `uid-hello-${at('2026-12-06T10:05:00Z') / 60_000}` }] });
  const jobs = [
    jobOf(cj, '2026-12-06T10:01:00Z', 'Complete'),
    jobOf(cj, '2026-12-06T10:02:00Z', 'Failed'),
    jobOf(cj, '2026-12-06T10:03:00Z', 'Complete'),
    jobOf(cj, '2026-12-06T10:04:00Z', 'Failed'),
    jobOf(cj, '2026-12-06T10:05:00Z', 'Complete'),
  ];
  const plan = planCronJob(cj, jobs, at('2026-12-06T10:05:30Z'));
  assert.deepEqual(plan.delete.map((j) => j.metadata.name).sort(), [jobs[0]!.metadata.name, jobs[1]!.metadata.name].sort());
  assert.equal(plan.status.lastSuccessfulTime, '2026-12-06T10:05:05Z');
  assert.equal(plan.status.active, undefined);
  assert.deepEqual(plan.events.find((e) => e[1] === 'SawCompletedJob'), ['Normal', 'SawCompletedJob', `Saw completed job: ${jobs[4]!.metadata.name}, condition: Complete`]);
});

test('time zones: the schedule runs on the zone wall clock and the annotation carries its offset', () => {
  const cj = cronJob({ schedule: '0 9 * * *', timeZone: 'Europe/Berlin' }, { lastScheduleTime: '2026-12-05T08:00:00Z' });
  const plan = planCronJob(cj, [], at('2026-12-06T08:00:10Z'));
  assert.equal(plan.status.lastScheduleTime, '2026-12-06T08:00:00Z');
  assert.equal(plan.create?.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2026-12-06T09:00:00+01:00');
  assert.equal(zonedRFC3339(at('2026-07-01T12:00:00Z'), 'America/New_York'), '2026-07-01T08:00:00-04:00');
});
