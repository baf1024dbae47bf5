// batch/v1 Job and CronJob validation (upstream's pkg/apis/batch/validation, 1.32 wording).
import type { KubeObject } from '../types.js';
import { isTimeZone, parseSchedule } from '../cron-schedule.js';
import { CONTROLLER_UID_LABEL } from './defaults/batch.js';
import type { Obj } from './defaults/util.js';
import { FIELD_IMMUTABLE, type FieldPath, goStringMap, invalid, invalidRendered, notSupported, path, required } from './errors.js';
import type { FieldError } from './index.js';
import { validatePodTemplate } from './pod.js';
import { type LabelSelector, goLabelSelector, isEmptySelector, selectorMatches, validateLabelSelector } from './selectors.js';

const MAX_COMPLETIONS_INDEXED = 100_000;
const MAX_CRONJOB_NAME = 52;

function nonNegative(value: unknown, fld: FieldPath): FieldError[] {
  return typeof value === 'number' && value < 0 ? [invalid(fld, value, 'must be greater than or equal to 0')] : [];
}

function stable(v: unknown): string {
  return JSON.stringify(v ?? null, (_k, val) => (val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val).sort()) : val));
}

/** The parts of a Job spec checked for Jobs and for CronJob job templates alike. */
function validateJobSpecCommon(spec: Obj, fld: FieldPath, selectorRequired: boolean): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.parallelism, fld.child('parallelism')));
  errs.push(...nonNegative(spec.completions, fld.child('completions')));
  errs.push(...nonNegative(spec.activeDeadlineSeconds, fld.child('activeDeadlineSeconds')));
  errs.push(...nonNegative(spec.backoffLimit, fld.child('backoffLimit')));
  errs.push(...nonNegative(spec.ttlSecondsAfterFinished, fld.child('ttlSecondsAfterFinished')));
  const mode = spec.completionMode;
  if (mode !== undefined && mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupported(fld.child('completionMode'), mode, ['NonIndexed', 'Indexed']));
  if (mode === 'Indexed') {
    if (spec.completions == null) errs.push(required(fld.child('completions'), 'when completion mode is Indexed'));
    else if (spec.completions > MAX_COMPLETIONS_INDEXED) errs.push(invalid(fld.child('completions'), spec.completions, `must be less than or equal to ${MAX_COMPLETIONS_INDEXED} when completion mode is Indexed`));
    if (typeof spec.parallelism === 'number' && spec.parallelism > MAX_COMPLETIONS_INDEXED) {
      errs.push(invalid(fld.child('parallelism'), spec.parallelism, `must be less than or equal to ${MAX_COMPLETIONS_INDEXED} when completion mode is Indexed`));
    }
  }
  const replacement = spec.podReplacementPolicy;
  if (replacement !== undefined && replacement !== 'TerminatingOrFailed' && replacement !== 'Failed') {
    errs.push(notSupported(fld.child('podReplacementPolicy'), replacement, ['Failed', 'TerminatingOrFailed']));
  }
  const selector = spec.selector as LabelSelector | undefined;
  if (!selector) {
    if (selectorRequired) errs.push(required(fld.child('selector'), ''));
  } else errs.push(...validateLabelSelector(selector, fld.child('selector')));
  const template = spec.template as Obj | undefined;
  if (!template) return [...errs, required(fld.child('template'), '')];
  if (selector && !isEmptySelector(selector) && !selectorMatches(selector, template.metadata?.labels)) {
    errs.push(invalidRendered(fld.child('template', 'metadata', 'labels'), goStringMap(template.metadata?.labels), '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplate(template, fld.child('template')));
  const restartPolicy = template.spec?.restartPolicy;
  if (restartPolicy !== undefined && restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    errs.push(notSupported(fld.child('template', 'spec', 'restartPolicy'), restartPolicy, ['OnFailure', 'Never']));
  }
  return errs;
}

export function validateJob(job: KubeObject): FieldError[] {
  const spec = (job.spec ?? {}) as Obj;
  const fld = path('spec');
  const errs = validateJobSpecCommon(spec, fld, true);
  const selector = spec.selector as LabelSelector | undefined;
  if (spec.manualSelector !== true && selector && selector.matchLabels?.[CONTROLLER_UID_LABEL] !== job.metadata.uid) {
    errs.push(invalidRendered(fld.child('selector'), goLabelSelector(selector), '`selector` not auto-generated'));
  }
  return errs;
}

export function validateJobUpdate(job: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateJob(job);
  const spec = (job.spec ?? {}) as Obj;
  const oldSpec = (old.spec ?? {}) as Obj;
  const fld = path('spec');
  if (stable(spec.selector) !== stable(oldSpec.selector)) errs.push(invalidRendered(fld.child('selector'), goLabelSelector(spec.selector), FIELD_IMMUTABLE));
  if (spec.completionMode !== oldSpec.completionMode) errs.push(invalid(fld.child('completionMode'), spec.completionMode ?? '', FIELD_IMMUTABLE));
  const elastic = spec.completionMode === 'Indexed' && spec.completions === spec.parallelism && oldSpec.completions === oldSpec.parallelism;
  if ((spec.completions ?? null) !== (oldSpec.completions ?? null) && !elastic) errs.push(invalid(fld.child('completions'), spec.completions ?? null, FIELD_IMMUTABLE));
  if (stable(spec.template) !== stable(oldSpec.template)) errs.push(invalidRendered(fld.child('template'), 'core.PodTemplateSpec{...}', FIELD_IMMUTABLE));
  return errs;
}

function validateSchedule(schedule: unknown, timeZone: unknown, fld: FieldPath): FieldError[] {
  if (typeof schedule !== 'string' || schedule === '') return [required(fld, '')];
  const errs: FieldError[] = [];
  try {
    parseSchedule(schedule);
  } catch (err) {
    errs.push(invalid(fld, schedule, (err as Error).message));
  }
  if (schedule.includes('TZ')) errs.push(invalid(fld, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  return errs;
}

function validateTimeZone(timeZone: unknown, fld: FieldPath): FieldError[] {
  if (timeZone === undefined || timeZone === null) return [];
  if (typeof timeZone !== 'string' || timeZone === '') return [invalid(fld, timeZone, 'timeZone must be nil or non-empty string')];
  const badPart = timeZone.split('/').some((p) => p === '.' || p === '..' || p.startsWith('-') || !/^[A-Za-z._+\-0-9]+$/.test(p));
  if (badPart) return [invalid(fld, timeZone, `unknown time zone ${timeZone}`)];
  if (timeZone.toLowerCase() === 'local') return [invalid(fld, timeZone, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones')];
  return isTimeZone(timeZone) ? [] : [invalid(fld, timeZone, `unknown time zone ${timeZone}`)];
}

export function validateCronJob(cj: KubeObject): FieldError[] {
  const spec = (cj.spec ?? {}) as Obj;
  const fld = path('spec');
  const errs: FieldError[] = [];
  const name = cj.metadata.name ?? '';
  if (name.length > MAX_CRONJOB_NAME) errs.push(invalid(path('metadata', 'name'), name, `must be no more than ${MAX_CRONJOB_NAME} characters`));
  errs.push(...validateSchedule(spec.schedule, spec.timeZone, fld.child('schedule')));
  errs.push(...validateTimeZone(spec.timeZone, fld.child('timeZone')));
  const policy = spec.concurrencyPolicy;
  if (!policy) errs.push(required(fld.child('concurrencyPolicy'), ''));
  else if (!['Allow', 'Forbid', 'Replace'].includes(policy)) errs.push(notSupported(fld.child('concurrencyPolicy'), policy, ['Allow', 'Forbid', 'Replace']));
  errs.push(...nonNegative(spec.startingDeadlineSeconds, fld.child('startingDeadlineSeconds')));
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, fld.child('successfulJobsHistoryLimit')));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, fld.child('failedJobsHistoryLimit')));
  const jobSpec = spec.jobTemplate?.spec as Obj | undefined;
  if (!jobSpec) errs.push(required(fld.child('jobTemplate', 'spec'), ''));
  else errs.push(...validateJobSpecCommon(jobSpec, fld.child('jobTemplate', 'spec'), false));
  return errs;
}
