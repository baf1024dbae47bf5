// What a CronJob needs done at `now`, as a pure function of the CronJob and its Jobs: start the
// Job of the most recent schedule time not yet run (`<cronjob>-<unix minutes>`), unless it is
// suspended, later than startingDeadlineSeconds, or forbidden by concurrencyPolicy (Forbid skips
// while a Job runs; Replace deletes the running ones first); keep successful/failed Job history
// within its limits; and report status.active, lastScheduleTime and lastSuccessfulTime.
import type { KubeObject } from '../api/types.js';
import { mostRecentSchedule, nextAfter, parseSchedule, zoneOffsetMs } from '../api/cron-schedule.js';
import { isJobFinished, type Job } from './job-plan.js';
import { isOwnedBy } from './replicaset-plan.js';
import { condition } from './types.js';

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export interface CronJob extends KubeObject {
  spec: {
    schedule: string;
    timeZone?: string;
    startingDeadlineSeconds?: number;
    concurrencyPolicy?: 'Allow' | 'Forbid' | 'Replace' | string;
    suspend?: boolean;
    successfulJobsHistoryLimit?: number;
    failedJobsHistoryLimit?: number;
    jobTemplate: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Job['spec'] };
  };
  status?: CronJobStatus;
}

export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
}

export interface CronJobStatus {
  active?: ObjectReference[];
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
}

export interface CronJobPlan {
  create?: Job;
  /** Jobs to delete: replaced ones and history past its limits. */
  delete: Job[];
  status: CronJobStatus;
  events: ['Normal' | 'Warning', string, string][];
  /** The next schedule time is this far away. */
  recheckAfterMs?: number;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** RFC 3339 with the zone's offset, as Go formats a time in a location. */
export function zonedRFC3339(ms: number, timeZone: string): string {
  const off = zoneOffsetMs(timeZone, ms);
  if (off === 0) return rfc3339(ms);
  const wall = new Date(ms + off).toISOString().replace(/\.\d+Z$/, '');
  const mins = Math.abs(off) / 60_000;
  return `${wall}${off < 0 ? '-' : '+'}${String(Math.floor(mins / 60)).padStart(2, '0')}:${String(mins % 60).padStart(2, '0')}`;
}

export function jobNameFor(cj: CronJob, scheduledMs: number): string {
  return `${cj.metadata.name}-${Math.floor(scheduledMs / 60_000)}`;
}

export function jobFromCronJob(cj: CronJob, scheduledMs: number): Job {
  const t = cj.spec.jobTemplate ?? {};
  const annotations = { ...(t.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: zonedRFC3339(scheduledMs, cj.spec.timeZone ?? 'UTC') };
  const metadata: Job['metadata'] = {
    name: jobNameFor(cj, scheduledMs),
    namespace: cj.metadata.namespace,
    annotations,
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata.name ?? '', uid: cj.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
  };
  if (t.metadata?.labels) metadata.labels = { ...t.metadata.labels };
  return { apiVersion: 'batch/v1', kind: 'Job', metadata, spec: structuredClone(t.spec ?? ({} as Job['spec'])) };
}

function jobRef(job: Job): ObjectReference {
  return { kind: 'Job', namespace: job.metadata.namespace, name: job.metadata.name, uid: job.metadata.uid, apiVersion: 'batch/v1', resourceVersion: job.metadata.resourceVersion };
}

function finishTime(job: Job): number {
  return Date.parse(job.status?.completionTime ?? condition(job, isJobFinished(job) ?? 'Complete')?.lastTransitionTime ?? job.status?.startTime ?? job.metadata.creationTimestamp ?? '') || 0;
}

function overLimit(jobs: Job[], limit: number | undefined): Job[] {
  if (limit === undefined || limit === null) return [];
  const sorted = [...jobs].sort((a, b) => finishTime(a) - finishTime(b));
  return sorted.slice(0, Math.max(0, sorted.length - limit));
}

/** `jobs` may hold any Jobs of the namespace; only those the CronJob controls count. */
export function planCronJob(cj: CronJob, jobs: Job[], now: number): CronJobPlan {
  const owned = jobs.filter((j) => isOwnedBy(j, cj.metadata.uid) && !j.metadata.deletionTimestamp);
  const running = owned.filter((j) => !isJobFinished(j));
  const plan: CronJobPlan = { delete: [], events: [], status: {} };
  const prior = cj.status ?? {};
  const wasActive = new Set((prior.active ?? []).map((r) => r.uid));
  let lastSuccess = Date.parse(prior.lastSuccessfulTime ?? '') || 0;
  for (const j of owned) {
    const done = isJobFinished(j);
    if (done && wasActive.has(j.metadata.uid)) plan.events.push(['Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${done}`]);
    if (done === 'Complete') lastSuccess = Math.max(lastSuccess, finishTime(j));
  }
  plan.delete.push(...overLimit(owned.filter((j) => isJobFinished(j) === 'Complete'), cj.spec.successfulJobsHistoryLimit));
  plan.delete.push(...overLimit(owned.filter((j) => isJobFinished(j) === 'Failed'), cj.spec.failedJobsHistoryLimit));
  let active = running;
  const status: CronJobStatus = { ...prior };
  if (lastSuccess) status.lastSuccessfulTime = rfc3339(lastSuccess);
  plan.status = status;
  const finish = () => {
    const refs = active.map(jobRef).sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : 1));
    if (refs.length > 0) status.active = refs;
    else delete status.active;
    return plan;
  };
  if (cj.metadata.deletionTimestamp || cj.spec.suspend) return finish();

  let schedule;
  try {
    schedule = parseSchedule(cj.spec.schedule);
  } catch (err) {
    plan.events.push(['Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec.schedule)} : ${(err as Error).message}`]);
    return finish();
  }
  const tz = cj.spec.timeZone ?? 'UTC';
  const next = nextAfter(schedule, now, tz);
  if (next !== undefined) plan.recheckAfterMs = next - now;
  let earliest = Date.parse(prior.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '') || now;
  const deadline = cj.spec.startingDeadlineSeconds;
  if (deadline !== undefined && deadline !== null) earliest = Math.max(earliest, now - deadline * 1000);
  const recent = mostRecentSchedule(schedule, earliest, now, tz);
  if (!recent) return finish();
  if (recent.missed > 100) {
    plan.events.push(['Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew']);
  }
  if (deadline !== undefined && deadline !== null && recent.at + deadline * 1000 < now) {
    plan.events.push(['Warning', 'MissSchedule', `Missed scheduled time to start a job: ${zonedRFC3339(recent.at, tz)}`]);
    return finish();
  }
  const name = jobNameFor(cj, recent.at);
  if (owned.some((j) => j.metadata.name === name)) {
    status.lastScheduleTime = rfc3339(recent.at);
    return finish();
  }
  const policy = cj.spec.concurrencyPolicy ?? 'Allow';
  if (policy === 'Forbid' && running.length > 0) {
    plan.events.push(['Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid']);
    return finish();
  }
  if (policy === 'Replace') {
    plan.delete.push(...running);
    active = [];
  }
  plan.create = jobFromCronJob(cj, recent.at);
  status.lastScheduleTime = rfc3339(recent.at);
  return finish();
}
