// POST pods/<name>/eviction: an Eviction (policy/v1, or policy/v1beta1 from older clients) asks
// to delete a pod if its PodDisruptionBudget allows it (eviction-plan.ts decides). A refusal is
// 429 TooManyRequests with a DisruptionBudget cause, which `kubectl drain` retries; an accepted
// eviction takes one disruption from the budget's status, marks the pod DisruptionTarget and
// deletes it with the Eviction's deleteOptions. Read, decide and write happen in one synchronous
// step, so two evictions can never both take the budget's last disruption.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { Pod } from '../controllers/types.js';
import type { PodDisruptionBudget } from '../controllers/disruption-plan.js';
import { decodeObject, readBody } from './body.js';
import { ApiStatusError, errors, statusOf } from './errors.js';
import { DISRUPTION_BUDGET_CAUSE, type EvictionDecision, VIOLATES_BUDGET, decideEviction } from './eviction-plan.js';
import { clone } from './objects.js';
import { type DeleteOptions, type Registry, type WriteContext, storeKey } from './registry.js';

const EVICTION_VERSIONS = new Set(['policy/v1', 'policy/v1beta1']);

export interface EvictionRequest {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  namespace: string;
  name: string;
}

function evictionIsInvalid(name: string, message: string, field: string): ApiStatusError {
  return errors.invalid({ group: 'policy', plural: 'evictions', kind: 'Eviction' }, name, [{ type: 'FieldValueInvalid', field, message }]);
}

/** The Eviction body, checked: its kind and version, and that it names the pod of the URL. */
export function readEviction(body: unknown, ns: string, name: string): { deleteOptions: DeleteOptions & { dryRun?: string[] } } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the request body must be an Eviction object (policy/v1)');
  const ev = body as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown }; deleteOptions?: unknown };
  if (ev.kind !== undefined && ev.kind !== 'Eviction') throw errors.badRequest(`the kind in the data (${String(ev.kind)}) does not match the expected kind (Eviction) of pods/eviction`);
  if (ev.apiVersion !== undefined && !EVICTION_VERSIONS.has(String(ev.apiVersion))) {
    throw errors.badRequest(`the API version in the data (${String(ev.apiVersion)}) is not one pods/eviction accepts: policy/v1, policy/v1beta1`);
  }
  const meta = ev.metadata ?? {};
  if (typeof meta !== 'object') throw errors.badRequest('Eviction metadata must be an object');
  if (meta.name !== undefined && meta.name !== name) throw errors.badRequest(`name in URL does not match name in Eviction object`);
  if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== ns) {
    throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const opts = ev.deleteOptions ?? {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw errors.badRequest('Eviction deleteOptions must be an object');
  const d = opts as DeleteOptions & { dryRun?: unknown; orphanDependents?: unknown };
  if (d.gracePeriodSeconds !== undefined && d.gracePeriodSeconds !== null && (typeof d.gracePeriodSeconds !== 'number' || !Number.isInteger(d.gracePeriodSeconds))) {
    throw evictionIsInvalid(name, `Invalid value: ${JSON.stringify(d.gracePeriodSeconds)}: must be an integer`, 'deleteOptions.gracePeriodSeconds');
  }
  if (d.propagationPolicy !== undefined && !['Background', 'Foreground', 'Orphan'].includes(d.propagationPolicy)) {
    throw errors.badRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(d.propagationPolicy)}: supported values: "Background", "Foreground", "Orphan"`);
  }
  const dryRun = d.dryRun === undefined || d.dryRun === null ? [] : Array.isArray(d.dryRun) ? d.dryRun : [d.dryRun];
  for (const v of dryRun) if (v !== 'All') throw errors.badRequest(`dryRun: Unsupported value: ${JSON.stringify(v)}: supported values: "All"`);
  const out: DeleteOptions & { dryRun?: string[] } = {};
  if (typeof d.gracePeriodSeconds === 'number') out.gracePeriodSeconds = d.gracePeriodSeconds;
  if (d.propagationPolicy) out.propagationPolicy = d.propagationPolicy;
  else if (typeof d.orphanDependents === 'boolean') out.propagationPolicy = d.orphanDependents ? 'Orphan' : 'Background';
  if (d.preconditions && typeof d.preconditions === 'object') out.preconditions = d.preconditions;
  if (dryRun.length > 0) out.dryRun = dryRun as string[];
  return { deleteOptions: out };
}

function tooManyRequests(cause: string, retryAfterSeconds: number): ApiStatusError {
  const details: NonNullable<ReturnType<typeof statusOf>['details']> = { causes: [{ reason: DISRUPTION_BUDGET_CAUSE, message: cause }] };
  if (retryAfterSeconds > 0) details.retryAfterSeconds = retryAfterSeconds;
  return new ApiStatusError(statusOf(429, 'TooManyRequests', VIOLATES_BUDGET, details));
}

function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The pod with a DisruptionTarget condition, as upstream marks a pod before the eviction deletes it. */
function withDisruptionTarget(pod: KubeObject, now: number): KubeObject {
  const next = clone(pod);
  const status = (next.status ??= {}) as { conditions?: { type: string }[] };
  const conditions = (status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
  conditions.push({ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastProbeTime: null, lastTransitionTime: timestamp(now) } as { type: string });
  status.conditions = conditions;
  return next;
}

/** The deleteOptions preconditions, checked before anything is written (as upstream checks them before marking the pod). */
function checkPreconditions(pod: Pod, pre: DeleteOptions['preconditions']): void {
  const m = pod.metadata;
  if (pre?.uid && pre.uid !== m.uid) throw errors.conflict(R.pods, m.name ?? '', `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${m.uid}`);
  if (pre?.resourceVersion && pre.resourceVersion !== m.resourceVersion) {
    throw errors.conflict(R.pods, m.name ?? '', `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${m.resourceVersion}`);
  }
}

/** Runs one eviction against the registry (no HTTP): throws the ApiStatusError upstream would answer. */
export async function evict(registry: Registry, ns: string, name: string, deleteOptions: DeleteOptions & { dryRun?: string[] }, ctx: WriteContext, now = Date.now()): Promise<EvictionDecision> {
  const dryRun = ctx.dryRun || (deleteOptions.dryRun ?? []).length > 0;
  const writeCtx: WriteContext = { ...ctx, dryRun };
  const pod = registry.get(R.pods, ns, name).obj as Pod;
  checkPreconditions(pod, deleteOptions.preconditions);
  const budgets = registry.store.list(storeKey(R.poddisruptionbudgets), { ns }).entries.map((e) => e.obj as PodDisruptionBudget);
  const decision = decideEviction(pod, budgets, { now, dryRun });
  const options: DeleteOptions = { ...deleteOptions };
  delete (options as { dryRun?: unknown }).dryRun;
  switch (decision.kind) {
    case 'multipleBudgets':
      throw new ApiStatusError(statusOf(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.'));
    case 'forbidden':
      throw errors.forbidden({ group: 'policy', plural: 'poddisruptionbudget' }, decision.budget, decision.why);
    case 'tooManyRequests':
      throw tooManyRequests(decision.cause, decision.retryAfterSeconds);
    case 'take': {
      const budget = clone(decision.budget) as PodDisruptionBudget;
      budget.status = decision.status;
      const statusCtx: WriteContext = { dryRun, fieldValidation: 'Ignore', warnings: [], decoded: true };
      await registry.updateAsync(R.poddisruptionbudgets, ns, budget.metadata.name!, budget, statusCtx, 'status');
      break;
    }
    case 'delete':
      if (decision.requireResourceVersion && !options.preconditions?.resourceVersion) {
        options.preconditions = { ...(options.preconditions ?? {}), resourceVersion: decision.requireResourceVersion };
      }
      break;
  }
  if (!dryRun && !pod.metadata.deletionTimestamp) {
    const marked = withDisruptionTarget(pod, now);
    const current = await registry.updateAsync(R.pods, ns, name, marked, { dryRun: false, fieldValidation: 'Ignore', warnings: [], decoded: true }, 'status');
    // The precondition names the version the decision was made on; the condition we just wrote is ours.
    if (options.preconditions?.resourceVersion === pod.metadata.resourceVersion) options.preconditions = { ...options.preconditions, resourceVersion: current.entry.obj.metadata.resourceVersion };
  }
  await registry.deleteAsync(R.pods, ns, name, options, writeCtx);
  return decision;
}

/** The HTTP side: decode, evict, answer 201 Success (or the refusal, with Retry-After when it has one). */
export async function serveEviction(registry: Registry, er: EvictionRequest, ctx: WriteContext): Promise<void> {
  if ((er.req.method ?? 'GET') !== 'POST') throw errors.methodNotAllowed();
  const body = decodeObject(await readBody(er.req), er.req.headers['content-type']);
  const { deleteOptions } = readEviction(body, er.namespace, er.name);
  try {
    await evict(registry, er.namespace, er.name, deleteOptions, ctx);
  } catch (err) {
    const retry = err instanceof ApiStatusError ? err.status.details?.retryAfterSeconds : undefined;
    if (err instanceof ApiStatusError && err.code === 429 && retry) {
      const json = Buffer.from(JSON.stringify(err.status));
      er.res.writeHead(429, { 'content-type': 'application/json', 'content-length': String(json.length), 'retry-after': String(retry) });
      er.res.end(json);
      return;
    }
    throw err;
  }
  await registry.store.sync();
  const json = Buffer.from(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }));
  er.res.writeHead(201, { 'content-type': 'application/json', 'content-length': String(json.length) });
  er.res.end(json);
}
