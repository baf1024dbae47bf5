// batch/v1 Job and CronJob defaults (upstream's SetDefaults_Job and SetDefaults_CronJob, 1.32), and
// the selector the Job registry strategy generates on create (labels `controller-uid`,
// `batch.kubernetes.io/controller-uid`, `job-name`, `batch.kubernetes.io/job-name` on the template,
// the selector matching `batch.kubernetes.io/controller-uid`), unless spec.manualSelector is true.
import { defaultPodTemplate } from './pod.js';
import { type Obj, ensureObj, isObj, setDefault } from './util.js';

export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_JOB_NAME_LABEL = 'job-name';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
const MAX_INT32 = 2147483647;

function generateJobSelector(job: Obj, spec: Obj): void {
  const uid = job.metadata?.uid;
  const name = job.metadata?.name;
  if (spec.manualSelector === true || typeof uid !== 'string' || typeof name !== 'string' || !isObj(spec.template)) return;
  const meta = ensureObj(spec.template, 'metadata');
  const labels = ensureObj(meta, 'labels');
  setDefault(labels, LEGACY_JOB_NAME_LABEL, name);
  setDefault(labels, JOB_NAME_LABEL, name);
  setDefault(labels, LEGACY_CONTROLLER_UID_LABEL, uid);
  setDefault(labels, CONTROLLER_UID_LABEL, uid);
  const selector = ensureObj(spec, 'selector');
  setDefault(ensureObj(selector, 'matchLabels'), CONTROLLER_UID_LABEL, uid);
}

/** Job spec defaults shared by Jobs (not by CronJob templates, which upstream leaves as written). */
function defaultJobSpec(spec: Obj): void {
  if (spec.completions == null && spec.parallelism == null) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'backoffLimit', spec.backoffLimitPerIndex != null ? MAX_INT32 : 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'podReplacementPolicy', isObj(spec.podFailurePolicy) ? 'Failed' : 'TerminatingOrFailed');
}

export function defaultJob(job: Obj): void {
  const spec = ensureObj(job, 'spec');
  defaultJobSpec(spec);
  defaultPodTemplate(spec.template);
  generateJobSelector(job, spec);
  const templateLabels = spec.template?.metadata?.labels;
  const meta = ensureObj(job, 'metadata');
  if (isObj(templateLabels) && (!isObj(meta.labels) || Object.keys(meta.labels).length === 0)) meta.labels = { ...templateLabels };
}

export function defaultCronJob(cj: Obj): void {
  const spec = ensureObj(cj, 'spec');
  setDefault(spec, 'concurrencyPolicy', 'Allow');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'successfulJobsHistoryLimit', 3);
  setDefault(spec, 'failedJobsHistoryLimit', 1);
  const jobSpec = spec.jobTemplate?.spec;
  if (isObj(jobSpec)) defaultPodTemplate(jobSpec.template);
}
