// What a Job needs done, as a pure function of the Job, its pods and the time: start pods until
// `parallelism` run and `completions` succeeded (NonIndexed: any pod counts; Indexed: one success
// per index 0..completions-1), fail the Job when more than backoffLimit pods failed
// (BackoffLimitExceeded) or it ran longer than activeDeadlineSeconds (DeadlineExceeded), replace
// failed pods after upstream's backoff (10 s doubling to 6 min), and say when a finished Job's
// ttlSecondsAfterFinished runs out. Counts come from the pods that exist: flatnet does not put
// upstream's job-tracking finalizer on pods, so a finished pod someone deletes is no longer counted.
import type { KubeObject } from '../api/types.js';
import type { LabelSelector } from './selector.js';
import { generatedName } from './names.js';
import { isOwnedBy } from './replicaset-plan.js';
import { condition, isPodReady, type Condition, type Pod, type PodTemplate } from './types.js';

export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const COMPLETION_INDEX_LABEL = 'batch.kubernetes.io/job-completion-index';
export const BACKOFF_BASE_MS = 10_000;
export const BACKOFF_MAX_MS = 360_000;

export interface Job extends KubeObject {
  spec: {
    parallelism?: number;
    completions?: number | null;
    activeDeadlineSeconds?: number;
    backoffLimit?: number;
    ttlSecondsAfterFinished?: number;
    completionMode?: 'NonIndexed' | 'Indexed' | string;
    suspend?: boolean;
    selector?: LabelSelector;
    template: PodTemplate;
  };
  status?: JobStatus;
}

export interface JobStatus {
  conditions?: Condition[];
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
  terminating?: number;
  ready?: number;
  completedIndexes?: string;
  uncountedTerminatedPods?: Record<string, never>;
}

export interface JobPlan {
  /** Pods to create (Indexed: with their index). */
  create: Pod[];
  delete: Pod[];
  status: JobStatus;
  /** Events to record: [type, reason, message]. */
  events: [string, string, string][];
  /** Look again after this long (a backoff or a deadline runs out). */
  recheckAfterMs?: number;
  /** The Job finished and its ttlSecondsAfterFinished ran out: delete it. */
  deleteJob?: boolean;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export function isJobFinished(job: Job): 'Complete' | 'Failed' | undefined {
  if (condition(job, 'Complete')?.status === 'True') return 'Complete';
  if (condition(job, 'Failed')?.status === 'True') return 'Failed';
  return undefined;
}

/** The completion index of an Indexed Job's pod. */
export function podIndex(pod: Pod): number | undefined {
  const v = pod.metadata.annotations?.[COMPLETION_INDEX_ANNOTATION] ?? pod.metadata.labels?.[COMPLETION_INDEX_LABEL];
  return v !== undefined && /^(0|[1-9][0-9]*)$/.test(v) ? Number(v) : undefined;
}

/** Upstream's compressed index list: 0-2,4,6-7. */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j;
  }
  return parts.join(',');
}

/** A new pod of the Job; Indexed Jobs name it `<job>-<index>-<random>` and give it its index. */
export function jobPod(job: Job, index?: number): Pod {
  const t = job.spec.template ?? {};
  const name = job.metadata.name ?? 'job';
  const spec = structuredClone(t.spec ?? {}) as Pod['spec'] & { containers?: { name: string; env?: { name: string; value?: string }[] }[] };
  const labels = { ...(t.metadata?.labels ?? {}) };
  const annotations = { ...(t.metadata?.annotations ?? {}) };
  if (index !== undefined) {
    annotations[COMPLETION_INDEX_ANNOTATION] = String(index);
    labels[COMPLETION_INDEX_LABEL] = String(index);
    spec.hostname ??= `${name}-${index}`;
    for (const c of spec.containers ?? []) {
      const env = c.env ?? [];
      if (!env.some((e) => e.name === 'JOB_COMPLETION_INDEX')) env.push({ name: 'JOB_COMPLETION_INDEX', value: String(index) });
      c.env = env;
    }
  }
  const metadata: Pod['metadata'] = {
    name: generatedName(index === undefined ? name : `${name}-${index}`),
    namespace: job.metadata.namespace,
    labels,
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
  };
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec } as Pod;
}

function finishedAt(pod: Pod): number {
  const c = condition(pod, 'Ready') ?? condition(pod, 'ContainersReady');
  return Date.parse(c?.lastTransitionTime ?? pod.metadata.creationTimestamp ?? '') || 0;
}

function setCondition(conditions: Condition[], type: string, reason: string, message: string, now: number): Condition[] {
  const at = rfc3339(now);
  return [...conditions.filter((c) => c.type !== type), { type, status: 'True', reason, message, lastProbeTime: at, lastTransitionTime: at }];
}

export function planJob(job: Job, pods: Pod[], now: number): JobPlan {
  const owned = pods.filter((p) => isOwnedBy(p, job.metadata.uid));
  const terminating = owned.filter((p) => p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const succeededPods = owned.filter((p) => p.status?.phase === 'Succeeded');
  const failedPods = owned.filter((p) => p.status?.phase === 'Failed');
  const active = owned.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const indexed = job.spec.completionMode === 'Indexed';
  const completions = job.spec.completions ?? undefined;
  const parallelism = job.spec.parallelism ?? 1;
  const prior = job.status ?? {};
  const plan: JobPlan = { create: [], delete: [], events: [], status: {} };
  let conditions = [...(prior.conditions ?? [])];

  const succeededIndexes = new Set<number>();
  if (indexed) for (const p of succeededPods) {
    const i = podIndex(p);
    if (i !== undefined && completions !== undefined && i < completions) succeededIndexes.add(i);
  }
  const succeeded = Math.max(indexed ? succeededIndexes.size : succeededPods.length, prior.succeeded ?? 0);
  // With restartPolicy OnFailure, container restarts of active pods count as failures too.
  const restarts = job.spec.template?.spec?.restartPolicy === 'OnFailure' ? active.reduce((n, p) => n + (p.status?.containerStatuses ?? []).reduce((m, c) => m + (c.restartCount ?? 0), 0), 0) : 0;
  const failed = Math.max(failedPods.length, prior.failed ?? 0);
  const startMs = Date.parse(prior.startTime ?? '') || undefined;
  const finished = isJobFinished(job);
  const status: JobStatus = { ...prior, active: active.length, succeeded, failed, terminating: terminating.length, ready: active.filter(isPodReady).length, uncountedTerminatedPods: {} };
  if (indexed) status.completedIndexes = formatIndexes(succeededIndexes);
  plan.status = status;

  if (finished) {
    plan.delete = active; // anything left running of a finished Job goes
    const ttl = job.spec.ttlSecondsAfterFinished;
    if (ttl !== undefined && ttl !== null) {
      const at = Date.parse(prior.completionTime ?? condition(job, finished)?.lastTransitionTime ?? '') || now;
      const left = at + ttl * 1000 - now;
      if (left <= 0) plan.deleteJob = true;
      else plan.recheckAfterMs = left;
    }
    return plan;
  }

  if (job.spec.suspend) {
    plan.delete = active;
    if (condition(job, 'Suspended')?.status !== 'True') {
      conditions = setCondition(conditions, 'Suspended', 'JobSuspended', 'Job suspended', now);
      plan.events.push(['Normal', 'Suspended', 'Job suspended']);
    }
    status.conditions = conditions;
    delete status.startTime;
    return plan;
  }
  if (condition(job, 'Suspended')?.status === 'True') {
    conditions = conditions.map((c) => (c.type === 'Suspended' ? { ...c, status: 'False', reason: 'JobResumed', message: 'Job resumed', lastTransitionTime: rfc3339(now) } : c));
    plan.events.push(['Normal', 'Resumed', 'Job resumed']);
  }
  if (!status.startTime) status.startTime = rfc3339(now);
  const started = startMs ?? now;

  const fail = (reason: string, message: string) => {
    plan.delete = active;
    conditions = setCondition(conditions, 'FailureTarget', reason, message, now);
    conditions = setCondition(conditions, 'Failed', reason, message, now);
    status.conditions = conditions;
    plan.events.push(['Warning', reason, message]);
    return plan;
  };
  if (failed + restarts > (job.spec.backoffLimit ?? 6)) return fail('BackoffLimitExceeded', 'Job has reached the specified backoff limit');
  const deadline = job.spec.activeDeadlineSeconds;
  if (deadline !== undefined && deadline !== null) {
    const left = started + deadline * 1000 - now;
    if (left <= 0) return fail('DeadlineExceeded', 'Job was active longer than specified deadline');
    plan.recheckAfterMs = left;
  }

  const complete = completions === undefined ? succeeded > 0 && active.length === 0 : succeeded >= completions;
  if (complete) {
    plan.delete = active;
    status.completionTime = rfc3339(now);
    conditions = setCondition(conditions, 'SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
    conditions = setCondition(conditions, 'Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
    status.conditions = conditions;
    plan.events.push(['Normal', 'Completed', 'Job completed']);
    if (job.spec.ttlSecondsAfterFinished !== undefined && job.spec.ttlSecondsAfterFinished !== null) plan.recheckAfterMs = job.spec.ttlSecondsAfterFinished * 1000;
    return plan;
  }
  if (conditions.length > 0) status.conditions = conditions;

  // How many more pods run now; a failed pod is replaced only after the backoff.
  if (failedPods.length > 0) {
    const delay = Math.min(BACKOFF_BASE_MS * 2 ** (failedPods.length - 1), BACKOFF_MAX_MS);
    const lastFailure = Math.max(...failedPods.map(finishedAt));
    const left = lastFailure + delay - now;
    if (left > 0) {
      plan.recheckAfterMs = Math.min(plan.recheckAfterMs ?? Infinity, left);
      return plan;
    }
  }
  if (indexed && completions !== undefined) {
    const busy = new Set(active.map(podIndex));
    const free = [];
    for (let i = 0; i < completions && free.length + active.length < parallelism; i++) if (!succeededIndexes.has(i) && !busy.has(i)) free.push(i);
    plan.create = free.map((i) => jobPod(job, i));
  } else {
    const want = completions === undefined ? (succeeded > 0 ? 0 : parallelism) : Math.min(parallelism, completions - succeeded);
    plan.create = Array.from({ length: Math.max(0, want - active.length - terminating.length) }, () => jobPod(job));
    if (active.length > want) plan.delete = active.slice(want);
  }
  return plan;
}
