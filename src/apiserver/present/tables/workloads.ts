// Rows for apps/v1 statefulsets and daemonsets and batch/v1 jobs and cronjobs, with upstream's
// columns (kubectl get) and wide columns (-o wide).
import { age, containerCells, formatLabels, humanDuration } from './format.js';
import { labelSelectorString } from '../../../api/label-selector.js';
import { ageColumn, column, nameColumn, type Json, type Printer } from './types.js';

const containersColumn = column('Containers', 'Names of each container in the template.', { wide: true });
const imagesColumn = column('Images', 'Images referenced by each container in the template.', { wide: true });
const selectorColumn = column('Selector', 'Label selector for pods.', { wide: true });

function selectorCell(selector: unknown): string {
  const s = labelSelectorString(selector as never);
  return s === '' ? '<none>' : s;
}

export const statefulSetPrinter: Printer = {
  columns: [nameColumn, column('Ready', 'Number of the pod with ready state.'), ageColumn, containersColumn, imagesColumn],
  row: (s, now) => {
    const [containers, images] = containerCells(s.spec?.template?.spec?.containers);
    return { cells: [s.metadata?.name ?? '', `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 1}`, age(s.metadata?.creationTimestamp, now), containers, images] };
  },
};

export const daemonSetPrinter: Printer = {
  columns: [
    nameColumn,
    column('Desired', 'The desired number of nodes that should be running the daemon pod.', { type: 'integer' }),
    column('Current', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.', { type: 'integer' }),
    column('Ready', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.', { type: 'integer' }),
    column('Up-to-date', 'The total number of nodes that are running updated daemon pod', { type: 'integer' }),
    column('Available', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)', { type: 'integer' }),
    column('Node Selector', 'NodeSelector is a selector which must be true for the pod to fit on a node.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  row: (d, now) => {
    const st = d.status ?? {};
    const nodeSelector = d.spec?.template?.spec?.nodeSelector;
    const [containers, images] = containerCells(d.spec?.template?.spec?.containers);
    return {
      cells: [
        d.metadata?.name ?? '',
        st.desiredNumberScheduled ?? 0,
        st.currentNumberScheduled ?? 0,
        st.numberReady ?? 0,
        st.updatedNumberScheduled ?? 0,
        st.numberAvailable ?? 0,
        nodeSelector && Object.keys(nodeSelector).length > 0 ? formatLabels(nodeSelector) : '<none>',
        age(d.metadata?.creationTimestamp, now),
        containers,
        images,
        selectorCell(d.spec?.selector),
      ],
    };
  },
};

function hasCondition(obj: Json, type: string): boolean {
  return (obj.status?.conditions ?? []).some((c: Json) => c.type === type && c.status === 'True');
}

/** The STATUS column of `kubectl get jobs` (upstream's order of precedence). */
export function jobStatusWord(job: Json): string {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  if (hasCondition(job, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(job, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function jobCompletions(job: Json): string {
  const succeeded = job.status?.succeeded ?? 0;
  const completions = job.spec?.completions;
  const parallelism = job.spec?.parallelism;
  if (completions !== undefined && completions !== null) return `${succeeded}/${completions}`;
  if (typeof parallelism === 'number' && parallelism > 1) return `${succeeded}/1 of ${parallelism}`;
  return `${succeeded}/1`;
}

function jobDuration(job: Json, now: number): string {
  const start = Date.parse(job.status?.startTime ?? '');
  if (Number.isNaN(start)) return '';
  const end = Date.parse(job.status?.completionTime ?? '');
  return humanDuration((Number.isNaN(end) ? now : end) - start);
}

export const jobPrinter: Printer = {
  columns: [
    nameColumn,
    column('Status', 'Status of the job.'),
    column('Completions', 'The completion status of the job.'),
    column('Duration', 'Time required to complete the job.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  row: (j, now) => {
    const [containers, images] = containerCells(j.spec?.template?.spec?.containers);
    return {
      cells: [j.metadata?.name ?? '', jobStatusWord(j), jobCompletions(j), jobDuration(j, now), age(j.metadata?.creationTimestamp, now), containers, images, selectorCell(j.spec?.selector)],
    };
  },
};

export const cronJobPrinter: Printer = {
  columns: [
    nameColumn,
    column('Schedule', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    column('Timezone', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.'),
    column('Suspend', 'This flag tells the controller to suspend subsequent executions.', { type: 'boolean' }),
    column('Active', 'A list of pointers to currently running jobs.', { type: 'integer' }),
    column('Last Schedule', 'Information when was the last time the job was successfully scheduled.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  row: (c, now) => {
    const [containers, images] = containerCells(c.spec?.jobTemplate?.spec?.template?.spec?.containers);
    const last = c.status?.lastScheduleTime;
    return {
      cells: [
        c.metadata?.name ?? '',
        c.spec?.schedule ?? '',
        c.spec?.timeZone ?? '<none>',
        c.spec?.suspend === undefined || c.spec?.suspend === null ? '<unset>' : c.spec.suspend ? 'True' : 'False',
        (c.status?.active ?? []).length,
        last ? age(last, now) : '<none>',
        age(c.metadata?.creationTimestamp, now),
        containers,
        images,
        selectorCell(c.spec?.jobTemplate?.spec?.selector),
      ],
    };
  },
};

export const controllerRevisionPrinter: Printer = {
  columns: [
    nameColumn,
    column('Controller', 'Controller of the object.'),
    column('Revision', 'Revision of the ControllerRevision.', { type: 'integer' }),
    ageColumn,
  ],
  row: (cr, now) => {
    const owner = (cr.metadata?.ownerReferences ?? []).find((r: Json) => r.controller);
    const controller = owner ? `${String(owner.kind).toLowerCase()}.${String(owner.apiVersion).split('/')[0]}/${owner.name}` : '<none>';
    return { cells: [cr.metadata?.name ?? '', controller, cr.revision ?? 0, age(cr.metadata?.creationTimestamp, now)] };
  },
};
