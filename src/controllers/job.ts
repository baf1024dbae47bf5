// The Job controller: pods until the completions succeed, failure on backoffLimit or
// activeDeadlineSeconds, ttlSecondsAfterFinished clean-up and status, as job-plan.ts decides.
import { R } from '../api/resources.js';
import { isNotFound } from '../client/client.js';
import { objectKey } from '../client/informer.js';
import type { Controller, ControllerContext } from './context.js';
import { splitKey } from './context.js';
import { Expectations } from './expectations.js';
import { writeOwnedPods } from './pod-writes.js';
import { planJob, type Job } from './job-plan.js';
import { semanticJSON } from './names.js';
import { WorkQueue } from './queue.js';
import { controllerOf, type Pod } from './types.js';

export class JobController implements Controller {
  readonly name = 'job-controller';
  private readonly queue: WorkQueue;
  private readonly expectations = new Expectations();
  private readonly jobs;
  private readonly pods;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }), { workers: 4 });
    this.jobs = ctx.informers.byNamespace<Job>(R.jobs);
    this.pods = ctx.informers.byNamespace<Pod>(R.pods);
    const enqueue = (j: Job) => this.queue.add(objectKey(j));
    this.jobs.informer.addHandlers({ add: enqueue, update: enqueue, delete: enqueue });
    const podChanged = (pod: Pod) => {
      const owner = controllerOf(pod);
      if (owner?.kind === 'Job') this.queue.add(`${pod.metadata.namespace}/${owner.name}`);
    };
    this.pods.informer.addHandlers({ add: podChanged, update: (p, old) => (podChanged(p), podChanged(old)), delete: podChanged });
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const job = this.jobs.get(namespace, name);
    if (!job) {
      this.expectations.forget(key);
      return;
    }
    if (!this.expectations.satisfied(key, (k) => this.pods.getByKey(k))) {
      this.queue.addAfter(key, 50);
      return;
    }
    if (job.metadata.deletionTimestamp) return;
    const plan = planJob(job, this.pods.list(namespace), Date.now());
    if (plan.deleteJob) {
      try {
        await this.ctx.client.delete(R.jobs, namespace, name, { propagationPolicy: 'Foreground', preconditions: { uid: job.metadata.uid } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    await writeOwnedPods(this.ctx, this.expectations, key, job, plan.create, plan.delete);
    if (semanticJSON(job.status ?? {}) !== semanticJSON(plan.status)) {
      try {
        await this.ctx.client.updateStatus(R.jobs, { ...job, status: plan.status });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      for (const [type, reason, message] of plan.events) this.ctx.events.record(job, type as 'Normal' | 'Warning', reason, message);
    }
    if (plan.recheckAfterMs !== undefined) this.queue.addAfter(key, plan.recheckAfterMs + 10);
  }
}
