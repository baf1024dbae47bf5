// The Job controller: pods until the completions succeed, failure on backoffLimit or
// activeDeadlineSeconds, ttlSecondsAfterFinished clean-up and status, as job-plan.ts decides.
import { R } from '../api/resources.js';
import { isNotFound } from '../client/client.js';
import type { ControllerContext } from './context.js';
import { planJob, type Job } from './job-plan.js';
import { PodOwnerController } from './pod-owner.js';
import { writeOwnedPods } from './pod-writes.js';

export class JobController extends PodOwnerController<Job> {
  constructor(ctx: ControllerContext) {
    super(ctx, { name: 'job-controller', resource: R.jobs, workers: 4 });
  }

  protected async reconcile(key: string, job: Job): Promise<void> {
    if (job.metadata.deletionTimestamp) return;
    const { namespace, name } = job.metadata;
    const plan = planJob(job, this.pods.list(namespace), Date.now());
    if (plan.deleteJob) {
      try {
        await this.ctx.client.delete(R.jobs, namespace, name!, { propagationPolicy: 'Foreground', preconditions: { uid: job.metadata.uid } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    await writeOwnedPods(this.ctx, this.expectations, key, job, plan.create, plan.delete);
    if (await this.writeStatus(job, plan.status)) {
      for (const [type, reason, message] of plan.events) this.ctx.events.record(job, type as 'Normal' | 'Warning', reason, message);
    }
    this.recheckAfter(key, plan.recheckAfterMs);
  }
}
