// The CronJob controller: Jobs on schedule, concurrency policy, history limits and status, as
// cronjob-plan.ts decides; each CronJob is synced again at its next schedule time.
import { R } from '../api/resources.js';
import { isAlreadyExists, isNotFound } from '../client/client.js';
import { objectKey } from '../client/informer.js';
import type { Controller, ControllerContext } from './context.js';
import { splitKey } from './context.js';
import { planCronJob, type CronJob } from './cronjob-plan.js';
import type { Job } from './job-plan.js';
import { semanticJSON } from './names.js';
import { WorkQueue } from './queue.js';
import { controllerOf } from './types.js';

export class CronJobController implements Controller {
  readonly name = 'cronjob-controller';
  private readonly queue: WorkQueue;
  private readonly cronJobs;
  private readonly jobs;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }), { workers: 2 });
    this.cronJobs = ctx.informers.byNamespace<CronJob>(R.cronjobs);
    this.jobs = ctx.informers.byNamespace<Job>(R.jobs);
    const enqueue = (cj: CronJob) => this.queue.add(objectKey(cj));
    this.cronJobs.informer.addHandlers({ add: enqueue, update: enqueue, delete: enqueue });
    const jobChanged = (job: Job) => {
      const owner = controllerOf(job);
      if (owner?.kind === 'CronJob') this.queue.add(`${job.metadata.namespace}/${owner.name}`);
    };
    this.jobs.informer.addHandlers({ add: jobChanged, update: jobChanged, delete: jobChanged });
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cj = this.cronJobs.get(namespace, name);
    if (!cj) return;
    const plan = planCronJob(cj, this.jobs.list(namespace), Date.now());
    for (const job of plan.delete) {
      try {
        await this.ctx.client.delete(R.jobs, namespace, job.metadata.name!, { propagationPolicy: 'Background' });
        this.ctx.events.record(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    let status = plan.status;
    if (plan.create) {
      try {
        const made = await this.ctx.client.create(R.jobs, plan.create);
        this.ctx.events.record(cj, 'Normal', 'SuccessfulCreate', `Created job ${made.metadata.name}`);
        const ref = { kind: 'Job', namespace, name: made.metadata.name, uid: made.metadata.uid, apiVersion: 'batch/v1', resourceVersion: made.metadata.resourceVersion };
        status = { ...status, active: [...(status.active ?? []), ref] };
      } catch (err) {
        if (!isAlreadyExists(err)) {
          this.ctx.events.record(cj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
          throw err;
        }
      }
    }
    for (const [type, reason, message] of plan.events) this.ctx.events.record(cj, type, reason, message);
    if (semanticJSON(cj.status ?? {}) !== semanticJSON(status)) {
      try {
        await this.ctx.client.updateStatus(R.cronjobs, { ...cj, status });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (plan.recheckAfterMs !== undefined) this.queue.addAfter(key, Math.min(plan.recheckAfterMs + 100, 2 ** 31 - 1));
  }
}
