// events.k8s.io/v1 Events, served over the stored core/v1 Events (events-v1-convert.ts converts
// each way): get, list (selectors, limit/continue), watch, create, update, patch (merge, JSON,
// strategic as merge, server-side apply), delete and deletecollection. Writes go through the
// registry as core Events after the events.k8s.io/v1 checks, so both versions see the same data.
import { R, type ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import * as patches from '../api/patch/index.js';
import { checkTyped } from '../api/schema/typed.js';
import { decodeObject, decodePatch, readBody } from './body.js';
import { ApiStatusError, errors, statusOf } from './errors.js';
import { coreFieldSelector, EVENTS_V1, fromEventsV1, toEventsV1, validateEventsV1Create, validateEventsV1Update } from './events-v1-convert.js';
import { send, tableRequest, type HandlerEnv, type ResourceRequest } from './handlers.js';
import { clone } from './objects.js';
import { toTable } from './present/index.js';
import { queryBool, queryInt } from './query.js';
import { storeKey, type WriteContext } from './registry.js';
import { SelectorError, selectorPredicate } from './selectors.js';
import { WatchStream } from './watch.js';
import { writeAdmissionFor } from './rbac/access.js';

const CORE_EVENTS = storeKey(R.events);
/** The schema the typed decoding checks events.k8s.io/v1 bodies against (schema/builtin.ts). */
const V1_SCHEMA = { kind: 'events.k8s.io/Event' };

export function isEventsV1(r: Pick<ResourceInfo, 'group' | 'plural'>): boolean {
  return r.group === 'events.k8s.io' && r.plural === 'events';
}

export type EventsV1Request = ResourceRequest;

function v1Json(core: KubeObject): string {
  return JSON.stringify(toEventsV1(core));
}

function writeContextOf(er: EventsV1Request): WriteContext {
  const dryRun = er.query.getAll('dryRun');
  for (const d of dryRun) if (d !== 'All') throw errors.badRequest(`dryRun: Unsupported value: "${d}": supported values: "All"`);
  const fv = er.query.get('fieldValidation') ?? 'Warn';
  if (fv !== 'Strict' && fv !== 'Warn' && fv !== 'Ignore') throw errors.badRequest(`fieldValidation: Unsupported value: "${fv}": supported values: "Ignore", "Strict", "Warn"`);
  const fieldManager = er.query.get('fieldManager') ?? er.req.headers['user-agent']?.split('/')[0].slice(0, 128);
  return { dryRun: dryRun.length > 0, fieldValidation: fv, fieldManager, warnings: [], admit: writeAdmissionFor(er.req) };
}

function warningHeaders(ctx: WriteContext): Record<string, string[]> {
  return ctx.warnings.length ? { warning: ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`) } : {};
}

function predicateOf(er: EventsV1Request) {
  try {
    return selectorPredicate(CORE_EVENTS, er.query.get('labelSelector'), coreFieldSelector(er.query.get('fieldSelector')));
  } catch (err) {
    if (err instanceof SelectorError) throw errors.badRequest(err.message);
    throw err;
  }
}

/** Decodes and type-checks an events.k8s.io/v1 Event body (unknown fields reported as `ctx` asks). */
function decodeV1(body: unknown, ns: string, ctx: WriteContext): KubeObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the request body must be an Event object (events.k8s.io/v1)');
  const obj = body as KubeObject;
  if (obj.apiVersion !== undefined && obj.apiVersion !== EVENTS_V1) {
    throw errors.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${EVENTS_V1})`);
  }
  if (obj.kind !== undefined && obj.kind !== 'Event') throw errors.badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (Event) of events`);
  const typed = checkTyped(V1_SCHEMA, obj);
  if (typed.error) throw errors.badRequest(`Event in version "v1" cannot be handled as a Event: ${typed.error}`);
  if (typed.unknown.length > 0 && ctx.fieldValidation !== 'Ignore') {
    const unknown = typed.unknown.map((f) => `unknown field "${f.replace(/^\./, '')}"`);
    if (ctx.fieldValidation === 'Strict') throw errors.badRequest(`strict decoding error: ${unknown.join(', ')}`);
    ctx.warnings.push(...unknown);
  }
  obj.metadata ??= {};
  if (obj.metadata.namespace && obj.metadata.namespace !== ns) throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
  obj.metadata.namespace = ns;
  obj.apiVersion = EVENTS_V1;
  obj.kind = 'Event';
  return obj;
}

function invalidEvent(name: string, errs: ReturnType<typeof validateEventsV1Create>): ApiStatusError {
  return errors.invalid({ group: 'events.k8s.io', plural: 'events', kind: 'Event' }, name, errs);
}

export async function serveEventsV1(env: HandlerEnv, er: EventsV1Request): Promise<void> {
  if (er.subresource !== undefined) throw errors.pathNotFound();
  const method = er.req.method ?? 'GET';
  const ns = er.namespace ?? '';
  if (er.name === undefined) {
    if (method === 'GET') return queryBool(er.query, 'watch') ? watch(env, er) : list(env, er);
    if (er.namespace === undefined) throw errors.methodNotAllowed();
    if (method === 'POST') return create(env, er, ns);
    if (method === 'DELETE') return deleteCollection(env, er, ns);
    throw errors.methodNotAllowed();
  }
  if (er.namespace === undefined) throw errors.pathNotFound();
  switch (method) {
    case 'GET': {
      const e = env.registry.get(R.events, ns, er.name);
      return sendObject(er, 200, e.obj, String(e.rev));
    }
    case 'PUT':
      return update(env, er, ns, er.name);
    case 'PATCH':
      return patch(env, er, ns, er.name);
    case 'DELETE':
      return remove(env, er, ns, er.name);
    default:
      throw errors.methodNotAllowed();
  }
}

function sendObject(er: EventsV1Request, code: number, core: KubeObject, rv: string, headers: Record<string, string | string[]> = {}): void {
  const table = tableRequest(er.req, er.query);
  if (table) return send(er.res, code, JSON.stringify(toTable(R.events, [core], { includeObject: table, listMeta: { resourceVersion: rv } })), headers);
  send(er.res, code, v1Json(core), headers);
}

interface ContinueToken {
  rv: number;
  start: string;
  ns: string;
}

function decodeContinue(s: string, ns: string): ContinueToken {
  let t: Partial<ContinueToken> & { v?: string } = {};
  try {
    t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as typeof t;
  } catch {
    // not ours
  }
  if (t.v !== 'flatnet.events-v1.continue/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string' || t.ns !== ns) {
    throw errors.badRequest(`continue key is not valid: ${JSON.stringify(s)} is not a continue token of this list`);
  }
  return { rv: t.rv, start: t.start, ns: t.ns };
}

function list(env: HandlerEnv, er: EventsV1Request): void {
  const predicate = predicateOf(er);
  const limit = queryInt(er.query, 'limit');
  if (limit !== undefined && limit < 0) throw errors.badRequest(`limit: Invalid value: ${limit}: must be a non-negative integer`);
  const ns = er.namespace;
  const cont = er.query.get('continue');
  const token = cont ? decodeContinue(cont, ns ?? '') : undefined;
  let result;
  try {
    result = env.registry.store.list(CORE_EVENTS, {
      ns,
      atRevision: token?.rv,
      after: token?.start,
      limit: limit || undefined,
      filter: predicate ? (e) => predicate(e.obj) : undefined,
    });
  } catch (err) {
    if (err instanceof Error && (err as { reason?: string }).reason === 'Expired') throw errors.expired(`too old resource version: ${token?.rv} (${err.message})`);
    throw err;
  }
  const meta: { resourceVersion: string; continue?: string } = { resourceVersion: String(result.revision) };
  if (result.remaining > 0 && result.entries.length > 0) {
    const last = result.entries[result.entries.length - 1];
    meta.continue = Buffer.from(JSON.stringify({ v: 'flatnet.events-v1.continue/v1', rv: result.revision, start: `${last.ns}/${last.name}`, ns: ns ?? '' })).toString('base64url');
  }
  const table = tableRequest(er.req, er.query);
  if (table) return send(er.res, 200, JSON.stringify(toTable(R.events, result.entries.map((e) => e.obj), { includeObject: table, listMeta: meta })));
  const items = result.entries.map((e) => v1Json(e.obj));
  send(er.res, 200, `{"kind":"EventList","apiVersion":"${EVENTS_V1}","metadata":${JSON.stringify(meta)},"items":[${items.join(',')}]}`);
}

function watch(env: HandlerEnv, er: EventsV1Request): void {
  const stream = new WatchStream(
    env.registry.store,
    {
      r: er.r,
      namespace: er.namespace,
      predicate: predicateOf(er),
      resourceVersion: er.query.get('resourceVersion') ?? undefined,
      allowBookmarks: queryBool(er.query, 'allowWatchBookmarks'),
      timeoutSeconds: queryInt(er.query, 'timeoutSeconds'),
      table: tableRequest(er.req, er.query),
      bookmarkIntervalMs: env.bookmarkIntervalMs,
      view: { storeKey: CORE_EVENTS, tableResource: R.events, convert: toEventsV1 },
    },
    er.res,
    () => env.watchClosed(),
  );
  env.watchOpened();
  stream.start(er.req);
}

async function create(env: HandlerEnv, er: EventsV1Request, ns: string): Promise<void> {
  const ctx = writeContextOf(er);
  const v1 = decodeV1(decodeObject(await readBody(er.req), er.req.headers['content-type']), ns, ctx);
  const errs = validateEventsV1Create(v1);
  if (errs.length > 0) throw invalidEvent(v1.metadata.name ?? '', errs);
  const { entry, code } = await env.registry.createAsync(R.events, ns, fromEventsV1(v1), { ...ctx, fieldValidation: 'Ignore', decoded: true });
  await env.registry.store.sync();
  sendObject(er, code, entry.obj, String(entry.rev), warningHeaders(ctx));
}

/** Stores `v1` (a full events.k8s.io/v1 Event) over the current Event after the v1 update checks. */
async function store(env: HandlerEnv, er: EventsV1Request, ns: string, name: string, v1: KubeObject, ctx: WriteContext): Promise<void> {
  if (v1.metadata.name !== undefined && v1.metadata.name !== name) throw errors.badRequest(`the name of the object (${v1.metadata.name}) does not match the name on the URL (${name})`);
  const current = env.registry.store.get(CORE_EVENTS, ns, name);
  let result;
  if (!current) {
    // PUT creates a missing Event, as upstream's strategy allows.
    const errs = validateEventsV1Create(v1);
    if (errs.length > 0) throw invalidEvent(name, errs);
    v1.metadata.name = name;
    delete v1.metadata.resourceVersion;
    result = await env.registry.createAsync(R.events, ns, fromEventsV1(v1), { ...ctx, fieldValidation: 'Ignore', decoded: true });
  } else {
    const errs = validateEventsV1Update(v1, toEventsV1(current.obj));
    if (errs.length > 0) throw invalidEvent(name, errs);
    result = await env.registry.updateAsync(R.events, ns, name, fromEventsV1(v1), { ...ctx, fieldValidation: 'Ignore', decoded: true });
  }
  await env.registry.store.sync();
  sendObject(er, result.code, result.entry.obj, String(result.entry.rev), warningHeaders(ctx));
}

async function update(env: HandlerEnv, er: EventsV1Request, ns: string, name: string): Promise<void> {
  const ctx = writeContextOf(er);
  const v1 = decodeV1(decodeObject(await readBody(er.req), er.req.headers['content-type']), ns, ctx);
  return store(env, er, ns, name, v1, ctx);
}

async function patch(env: HandlerEnv, er: EventsV1Request, ns: string, name: string): Promise<void> {
  const ctx = writeContextOf(er);
  const { kind, patch: p } = decodePatch(await readBody(er.req), er.req.headers['content-type']);
  const current = env.registry.store.get(CORE_EVENTS, ns, name);
  if (kind === 'apply') {
    if (!er.query.get('fieldManager')) throw errors.badRequest('PATCH with application/apply-patch+yaml requires the fieldManager query parameter');
    const applied = decodeV1(p, ns, ctx);
    const result = patches.serverSideApply(er.r, current ? toEventsV1(current.obj) : undefined, applied, ctx.fieldManager!, queryBool(er.query, 'force'));
    if (result.conflicts) throw new ApiStatusError(statusOf(409, 'Conflict', patches.applyConflictMessage(result.conflicts), { name, group: 'events.k8s.io', kind: 'events' }));
    if (current) result.object.metadata.resourceVersion = current.obj.metadata.resourceVersion;
    return store(env, er, ns, name, result.object, { ...ctx, fieldManager: undefined });
  }
  if (!current) throw errors.notFound({ group: 'events.k8s.io', plural: 'events' }, name);
  let patched: unknown;
  try {
    const base = clone(toEventsV1(current.obj));
    // events.k8s.io/v1 Events have no lists merged by key: a strategic merge patch merges as a JSON merge patch.
    patched = kind === 'json' ? patches.applyJsonPatch(base, p) : patches.applyMergePatch(base, p);
  } catch (err) {
    if (err instanceof patches.PatchError) throw new ApiStatusError(statusOf(err.code, err.code === 422 ? 'Invalid' : 'BadRequest', err.message));
    throw err;
  }
  const v1 = decodeV1(patched, ns, { ...ctx, fieldValidation: 'Ignore' });
  return store(env, er, ns, name, v1, ctx);
}

function deletedStatus(core: KubeObject): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: core.metadata.name, group: 'events.k8s.io', kind: 'events', uid: core.metadata.uid } });
}

async function remove(env: HandlerEnv, er: EventsV1Request, ns: string, name: string): Promise<void> {
  const ctx = writeContextOf(er);
  const body = await readBody(er.req);
  const opts = body.length > 0 ? ((decodeObject(body, er.req.headers['content-type'] ?? 'application/json') as { preconditions?: { uid?: string; resourceVersion?: string } }) ?? {}) : {};
  const { entry } = await env.registry.deleteAsync(R.events, ns, name, { preconditions: opts.preconditions }, ctx);
  await env.registry.store.sync();
  send(er.res, 200, deletedStatus(entry.obj));
}

async function deleteCollection(env: HandlerEnv, er: EventsV1Request, ns: string): Promise<void> {
  const ctx = writeContextOf(er);
  const predicate = predicateOf(er);
  const matched = env.registry.store.list(CORE_EVENTS, { ns, filter: predicate ? (e) => predicate(e.obj) : undefined }).entries;
  const deleted: string[] = [];
  for (const e of matched) {
    try {
      deleted.push(v1Json((await env.registry.deleteAsync(R.events, e.ns, e.name, {}, ctx)).entry.obj));
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) continue;
      throw err;
    }
  }
  await env.registry.store.sync();
  send(er.res, 200, `{"kind":"EventList","apiVersion":"${EVENTS_V1}","metadata":{"resourceVersion":"${env.registry.store.revision}"},"items":[${deleted.join(',')}]}`);
}
