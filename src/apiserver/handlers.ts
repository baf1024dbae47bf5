// The resource endpoints: list/get/watch/create/update/patch/delete/deletecollection on
// collections and objects, and the status, scale, binding and finalize subresources. Bodies are
// built from the store's cached JSON strings; Tables come from the present/ module.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ResourceInfo, apiVersionOf } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { type LabelSelector, labelSelectorString } from '../api/label-selector.js';
import * as patches from '../api/patch/index.js';
import { type StoreEntry, StoreError } from '../store/types.js';
import { decodeObject, decodePatch, readBody } from './body.js';
import { ApiStatusError, errors, statusOf } from './errors.js';
import { encodeResponse, type IncludeObject, toTable } from './present/index.js';
import { type DeleteOptions, type FieldValidation, type Registry, type WriteContext, storeKey } from './registry.js';
import { SelectorError, selectorPredicate } from './selectors.js';
import { WatchStream } from './watch.js';
import { endPaced } from './paced-write.js';
import { clone } from './objects.js';
import { queryBool, queryInt } from './query.js';
import { writeAdmissionFor } from './rbac/access.js';
import { requestUserOf } from './request-user.js';
import { checkTyped } from '../api/schema/typed.js';
import { customScaleOf, setCustomScaleReplicas } from './crd/scale.js';
import { convertToServed, servedJson, servedWatchView } from './crd/versions.js';
import { serveEviction } from './eviction.js';
import { strategyFor } from './strategy/index.js';

export interface ResourceRequest {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  r: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface HandlerEnv {
  registry: Registry;
  bookmarkIntervalMs: number;
  watchOpened(): void;
  watchClosed(): void;
}

/** The verb a request is counted as in metrics. */
export function verbOf(method: string, route: { name?: string; subresource?: string }, query: URLSearchParams): string {
  switch (method) {
    case 'GET':
      if (route.name === undefined) return queryBool(query, 'watch') ? 'watch' : 'list';
      return 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return route.name === undefined ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

export function send(res: ServerResponse, code: number, json: string, headers: Record<string, string | string[]> = {}): void {
  const { contentType, body } = headers['content-type'] ? { contentType: headers['content-type'], body: Buffer.from(json) } : encodeResponse(res.req?.headers.accept, json);
  res.writeHead(code, { 'content-type': contentType, 'content-length': String(body.length), ...headers });
  endPaced(res, body);
}

export function sendStatus(res: ServerResponse, err: ApiStatusError): void {
  send(res, err.code, JSON.stringify(err.status));
}

/** The includeObject a Table answer uses, or undefined when the client did not ask for a Table. */
export function tableRequest(req: IncomingMessage, query: URLSearchParams): IncludeObject | undefined {
  const accept = req.headers.accept ?? '';
  if (!/as=Table/.test(accept)) return undefined;
  const inc = query.get('includeObject');
  return inc === 'None' || inc === 'Object' ? inc : 'Metadata';
}

function writeContext(query: URLSearchParams, req: IncomingMessage): WriteContext {
  const dryRun = query.getAll('dryRun');
  for (const d of dryRun) if (d !== 'All') throw errors.badRequest(`dryRun: Unsupported value: "${d}": supported values: "All"`);
  const fv = query.get('fieldValidation') ?? 'Warn';
  if (fv !== 'Strict' && fv !== 'Warn' && fv !== 'Ignore') {
    throw errors.badRequest(`fieldValidation: Unsupported value: "${fv}": supported values: "Ignore", "Strict", "Warn"`);
  }
  let fieldManager = query.get('fieldManager') ?? undefined;
  if (fieldManager === undefined) {
    const agent = req.headers['user-agent'];
    if (agent) fieldManager = agent.split('/')[0].slice(0, 128);
  }
  return { dryRun: dryRun.length > 0, fieldValidation: fv as FieldValidation, fieldManager, warnings: [], admit: writeAdmissionFor(req), user: requestUserOf(req) };
}

function warningHeaders(ctx: WriteContext): Record<string, string[]> {
  if (ctx.warnings.length === 0) return {};
  return { warning: ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`) };
}

function sendEntry(rr: ResourceRequest, code: number, entry: StoreEntry, headers: Record<string, string | string[]> = {}): void {
  const table = tableRequest(rr.req, rr.query);
  if (table) {
    send(rr.res, code, JSON.stringify(toTable(rr.r, [entry.obj], { includeObject: table, listMeta: { resourceVersion: String(entry.rev) } })), headers);
    return;
  }
  send(rr.res, code, servedJson(rr.r, entry), headers);
}

function namespaceOf(rr: ResourceRequest): string {
  if (!rr.r.namespaced) return '';
  if (rr.namespace === undefined) throw errors.pathNotFound();
  return rr.namespace;
}

// ---- continue tokens ----

/**
 * Where a paged list goes on: the snapshot revision (0 = the latest, for the token a 410 hands
 * out), the last key returned, and the resource and namespace the list was of: a token is only
 * good for the list it came from.
 */
interface ContinueToken {
  rv: number;
  start: string;
  resource: string;
  ns: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'flatnet.continue/v2', rv: t.rv, start: t.start, r: t.resource, ns: t.ns })).toString('base64url');
}

function decodeContinue(s: string, resource: string, ns: string): ContinueToken {
  let t: { v?: string; rv?: unknown; start?: unknown; r?: unknown; ns?: unknown } | undefined;
  try {
    t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as typeof t;
  } catch {
    // not ours
  }
  if (!t || t.v !== 'flatnet.continue/v2' || typeof t.rv !== 'number' || typeof t.start !== 'string' || typeof t.r !== 'string' || typeof t.ns !== 'string') {
    throw errors.badRequest(`continue key is not valid: ${JSON.stringify(s)} is not a continue token this server returned`);
  }
  if (t.r !== resource || t.ns !== ns) {
    throw errors.badRequest(`continue key is not valid: the token continues a list of ${t.r}${t.ns ? ` in namespace ${t.ns}` : ''}, not of ${resource}${ns ? ` in namespace ${ns}` : ''}`);
  }
  return { rv: t.rv, start: t.start, resource: t.r, ns: t.ns };
}

/** A resourceVersion parameter of a get, list or watch: 400 when not ours, 504 when in the future. */
function checkReadRevision(rr: ResourceRequest, current: number): number | undefined {
  const rv = rr.query.get('resourceVersion') ?? '';
  if (rv === '' || rv === '0') return undefined;
  if (!/^\d+$/.test(rv)) throw errors.badRequest(`invalid resourceVersion ${JSON.stringify(rv)}: it must be a resourceVersion this server returned`);
  const n = Number(rv);
  if (n > current) throw errors.tooLargeResourceVersion(n, current);
  return n;
}

// ---- handlers ----

export async function handleResource(env: HandlerEnv, rr: ResourceRequest): Promise<void> {
  const method = rr.req.method ?? 'GET';
  const { name, subresource } = rr;
  if (subresource !== undefined) return handleSubresource(env, rr, method);
  if (name === undefined) {
    if (method === 'GET') return queryBool(rr.query, 'watch') ? watch(env, rr) : list(env, rr);
    if (method === 'POST') return create(env, rr);
    if (method === 'DELETE') return deleteCollection(env, rr);
    throw errors.methodNotAllowed();
  }
  switch (method) {
    case 'GET':
      checkReadRevision(rr, env.registry.store.revision);
      return sendEntry(rr, 200, env.registry.get(rr.r, namespaceOf(rr), name));
    case 'PUT':
      return update(env, rr);
    case 'PATCH':
      return patch(env, rr);
    case 'DELETE':
      return remove(env, rr);
    default:
      throw errors.methodNotAllowed();
  }
}

function predicateOf(rr: ResourceRequest) {
  try {
    return selectorPredicate(storeKey(rr.r), rr.query.get('labelSelector'), rr.query.get('fieldSelector'), strategyFor(rr.r).selectableFields);
  } catch (err) {
    if (err instanceof SelectorError) throw errors.badRequest(err.message);
    throw err;
  }
}

function list(env: HandlerEnv, rr: ResourceRequest): void {
  const store = env.registry.store;
  const q = rr.query;
  const predicate = predicateOf(rr);
  const limitParam = q.get('limit');
  const limit = queryInt(q, 'limit');
  if (limit !== undefined && limit < 0) throw errors.badRequest(`limit: Invalid value: ${JSON.stringify(limitParam)}: must be a non-negative integer`);
  const cont = q.get('continue');
  const rvParam = q.get('resourceVersion') ?? '';
  const ns = rr.r.namespaced ? rr.namespace : undefined;
  const resource = storeKey(rr.r);
  let atRevision: number | undefined;
  let after: string | undefined;
  if (cont) {
    if (rvParam !== '' && rvParam !== '0') throw errors.badRequest('specifying resource version is not allowed when using continue');
    const t = decodeContinue(cont, resource, ns ?? '');
    atRevision = t.rv === 0 ? undefined : t.rv;
    after = t.start;
  } else {
    const rv = checkReadRevision(rr, store.revision);
    if (rv !== undefined && q.get('resourceVersionMatch') === 'Exact') atRevision = rv;
  }
  let result;
  try {
    result = store.list(storeKey(rr.r), { ns, atRevision, after, limit: limit || undefined, filter: predicate ? (e) => predicate(e.obj) : undefined });
  } catch (err) {
    if (err instanceof StoreError && err.reason === 'Expired') {
      if (cont) {
        // As upstream: the 410 carries a token that continues from the same key at the latest revision.
        const gone = errors.expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue value from the response to get a list that is not necessarily consistent.',
        );
        gone.status.metadata = { continue: encodeContinue({ rv: 0, start: after ?? '', resource, ns: ns ?? '' }) };
        throw gone;
      }
      throw errors.expired(`too old resource version: ${atRevision} (${err.message})`);
    }
    throw err;
  }
  const meta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: String(result.revision) };
  if (result.remaining > 0 && result.entries.length > 0) {
    const last = result.entries[result.entries.length - 1];
    meta.continue = encodeContinue({ rv: result.revision, start: `${last.ns}/${last.name}`, resource, ns: ns ?? '' });
    if (!predicate) meta.remainingItemCount = result.remaining;
  }
  const table = tableRequest(rr.req, q);
  if (table) {
    send(rr.res, 200, JSON.stringify(toTable(rr.r, result.entries.map((e) => e.obj), { includeObject: table, listMeta: meta })));
    return;
  }
  const head = `{"kind":"${rr.r.listKind}","apiVersion":"${apiVersionOf(rr.r)}","metadata":${JSON.stringify(meta)},"items":[`;
  const parts: string[] = new Array(result.entries.length);
  for (let i = 0; i < result.entries.length; i++) parts[i] = servedJson(rr.r, result.entries[i]);
  send(rr.res, 200, head + parts.join(',') + ']}');
}

function watch(env: HandlerEnv, rr: ResourceRequest): void {
  const q = rr.query;
  const predicate = predicateOf(rr);
  const timeoutSeconds = queryInt(q, 'timeoutSeconds');
  const allowBookmarks = queryBool(q, 'allowWatchBookmarks');
  const stream = new WatchStream(
    env.registry.store,
    {
      r: rr.r,
      namespace: rr.r.namespaced ? rr.namespace : undefined,
      predicate,
      resourceVersion: q.get('resourceVersion') ?? undefined,
      allowBookmarks,
      timeoutSeconds,
      table: tableRequest(rr.req, q),
      bookmarkIntervalMs: env.bookmarkIntervalMs,
      view: servedWatchView(rr.r),
    },
    rr.res,
    () => env.watchClosed(),
  );
  env.watchOpened();
  stream.start(rr.req);
}

async function readObject(rr: ResourceRequest): Promise<KubeObject> {
  const body = await readBody(rr.req);
  const obj = decodeObject(body, rr.req.headers['content-type']);
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw errors.badRequest(`the request body must be a JSON or YAML object (a ${rr.r.kind})`);
  return obj as KubeObject;
}

async function create(env: HandlerEnv, rr: ResourceRequest): Promise<void> {
  const ns = namespaceOf(rr);
  const ctx = writeContext(rr.query, rr.req);
  const obj = await readObject(rr);
  const { entry, code } = await env.registry.createAsync(rr.r, ns, obj, ctx);
  await env.registry.store.sync();
  sendEntry(rr, code, entry, warningHeaders(ctx));
}

async function update(env: HandlerEnv, rr: ResourceRequest, subresource?: 'status' | 'approval' | 'finalize'): Promise<void> {
  const ctx = writeContext(rr.query, rr.req);
  const obj = await readObject(rr);
  const { entry, code } = await env.registry.updateAsync(rr.r, namespaceOf(rr), rr.name!, obj, ctx, subresource);
  await env.registry.store.sync();
  sendEntry(rr, code, entry, warningHeaders(ctx));
}

async function patch(env: HandlerEnv, rr: ResourceRequest, subresource?: 'status' | 'approval'): Promise<void> {
  const ctx = writeContext(rr.query, rr.req);
  const body = await readBody(rr.req);
  const { kind, patch: p } = decodePatch(body, rr.req.headers['content-type']);
  if (kind === 'apply' && !rr.query.get('fieldManager')) {
    throw errors.badRequest('PATCH with application/apply-patch+yaml requires the fieldManager query parameter');
  }
  const force = queryBool(rr.query, 'force');
  if (force && kind !== 'apply') throw errors.badRequest('force: Forbidden: may not be specified for non-apply patch');
  const { entry, code } = await env.registry.patchAsync(rr.r, namespaceOf(rr), rr.name!, kind, p, ctx, { subresource, force });
  await env.registry.store.sync();
  sendEntry(rr, code, entry, warningHeaders(ctx));
}

async function deleteOptions(rr: ResourceRequest): Promise<DeleteOptions> {
  const body = await readBody(rr.req);
  let opts: DeleteOptions = {};
  if (body.length > 0) {
    const parsed = decodeObject(body, rr.req.headers['content-type'] ?? 'application/json');
    if (parsed && typeof parsed === 'object') opts = parsed as DeleteOptions;
  }
  const q = rr.query;
  const grace = queryInt(q, 'gracePeriodSeconds');
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  const policy = q.get('propagationPolicy');
  if (policy) opts.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
  const orphan = (opts as { orphanDependents?: boolean }).orphanDependents;
  if (orphan !== undefined && !opts.propagationPolicy) opts.propagationPolicy = orphan ? 'Orphan' : 'Background';
  if (opts.propagationPolicy && !['Background', 'Foreground', 'Orphan'].includes(opts.propagationPolicy)) {
    throw errors.badRequest(`propagationPolicy: Unsupported value: "${opts.propagationPolicy}": supported values: "Background", "Foreground", "Orphan"`);
  }
  if (opts.gracePeriodSeconds !== undefined && !Number.isFinite(opts.gracePeriodSeconds)) throw errors.badRequest('gracePeriodSeconds must be a number');
  return opts;
}

/** DeleteOptions may carry dryRun in the body (kubectl delete --dry-run=server does). */
function dryRunFromBody(opts: DeleteOptions, ctx: WriteContext): void {
  const d = (opts as { dryRun?: unknown }).dryRun;
  if (d === undefined) return;
  const values = Array.isArray(d) ? d : [d];
  for (const v of values) if (v !== 'All') throw errors.badRequest(`dryRun: Unsupported value: ${JSON.stringify(v)}: supported values: "All"`);
  if (values.length > 0) ctx.dryRun = true;
}

async function remove(env: HandlerEnv, rr: ResourceRequest): Promise<void> {
  const ctx = writeContext(rr.query, rr.req);
  const opts = await deleteOptions(rr);
  dryRunFromBody(opts, ctx);
  const { entry, code, removed } = await env.registry.deleteAsync(rr.r, namespaceOf(rr), rr.name!, opts, ctx);
  await env.registry.store.sync();
  // A deletion left pending (finalizers, grace period) answers with the object; an immediate one
  // with a Success Status naming it (the generic store's finalizeDelete), unless the kind's
  // strategy returns the deleted object.
  if (removed && !strategyFor(rr.r).returnsDeletedObject) return send(rr.res, code, JSON.stringify(deletedStatus(rr.r, entry.obj)));
  sendEntry(rr, code, entry);
}

function deletedStatus(r: ResourceRequest['r'], obj: KubeObject): object {
  const details: Record<string, string> = { name: obj.metadata.name ?? '' };
  if (r.group) details.group = r.group;
  details.kind = r.plural;
  if (obj.metadata.uid) details.uid = obj.metadata.uid;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

async function deleteCollection(env: HandlerEnv, rr: ResourceRequest): Promise<void> {
  const ctx = writeContext(rr.query, rr.req);
  const opts = await deleteOptions(rr);
  dryRunFromBody(opts, ctx);
  const predicate = predicateOf(rr);
  const ns = rr.r.namespaced ? rr.namespace : undefined;
  const matched = env.registry.store.list(storeKey(rr.r), { ns, filter: predicate ? (e) => predicate(e.obj) : undefined }).entries;
  const deleted: string[] = [];
  for (const e of matched) {
    try {
      deleted.push(servedJson(rr.r, (await env.registry.deleteAsync(rr.r, e.ns, e.name, opts, ctx)).entry));
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) continue;
      throw err;
    }
  }
  const meta = { resourceVersion: String(env.registry.store.revision) };
  await env.registry.store.sync();
  send(rr.res, 200, `{"kind":"${rr.r.listKind}","apiVersion":"${apiVersionOf(rr.r)}","metadata":${JSON.stringify(meta)},"items":[${deleted.join(',')}]}`);
}

// ---- subresources ----

async function handleSubresource(env: HandlerEnv, rr: ResourceRequest, method: string): Promise<void> {
  const sub = rr.subresource!;
  const info = rr.r.subresources.find((s) => s.name === sub);
  if (!info) throw errors.pathNotFound();
  const ns = namespaceOf(rr);
  const name = rr.name!;
  switch (sub) {
    case 'status':
      if (method === 'GET') return sendEntry(rr, 200, env.registry.get(rr.r, ns, name));
      if (method === 'PUT') return update(env, rr, 'status');
      if (method === 'PATCH') return patch(env, rr, 'status');
      throw errors.methodNotAllowed();
    case 'approval':
      if (method === 'GET') return sendEntry(rr, 200, env.registry.get(rr.r, ns, name));
      if (method === 'PUT') return update(env, rr, 'approval');
      if (method === 'PATCH') return patch(env, rr, 'approval');
      throw errors.methodNotAllowed();
    case 'finalize':
      if (method === 'PUT') return update(env, rr, 'finalize');
      throw errors.methodNotAllowed();
    case 'scale':
      return scale(env, rr, method);
    case 'eviction':
      return serveEviction(env.registry, { req: rr.req, res: rr.res, query: rr.query, namespace: ns, name }, writeContext(rr.query, rr.req));
    case 'binding': {
      if (method !== 'POST') throw errors.methodNotAllowed();
      const ctx = writeContext(rr.query, rr.req);
      const binding = await readObject(rr);
      await env.registry.bindAsync(ns, name, binding, ctx);
      await env.registry.store.sync();
      send(rr.res, 201, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }));
      return;
    }
    default:
      throw errors.pathNotFound();
  }
}

function scaleOf(obj: KubeObject, r?: ResourceInfo): KubeObject {
  const custom = r && customScaleOf(r, obj);
  if (custom) return custom;
  const spec = (obj.spec ?? {}) as { replicas?: number; selector?: LabelSelector };
  const status = (obj.status ?? {}) as { replicas?: number };
  const m = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0, selector: labelSelectorString(spec.selector) },
  };
}

async function scale(env: HandlerEnv, rr: ResourceRequest, method: string): Promise<void> {
  const ns = namespaceOf(rr);
  const name = rr.name!;
  const current = env.registry.get(rr.r, ns, name);
  if (method === 'GET') return send(rr.res, 200, JSON.stringify(scaleOf(current.obj, rr.r)));
  let wanted: KubeObject;
  const ctx = writeContext(rr.query, rr.req);
  if (method === 'PUT') {
    wanted = await readObject(rr);
  } else if (method === 'PATCH') {
    const body = await readBody(rr.req);
    const { kind, patch: p } = decodePatch(body, rr.req.headers['content-type']);
    const base = scaleOf(current.obj, rr.r);
    try {
      if (kind === 'json') wanted = patches.applyJsonPatch(base, p) as KubeObject;
      else if (kind === 'merge' || kind === 'strategic') wanted = patches.applyMergePatch(base, p) as KubeObject;
      else throw errors.unsupportedMediaType('apply patches are not supported on the scale subresource; use a merge patch');
    } catch (err) {
      if (err instanceof patches.PatchError) throw new ApiStatusError(statusOf(err.code, err.code === 422 ? 'Invalid' : err.code === 413 ? 'RequestEntityTooLarge' : 'BadRequest', err.message));
      throw err;
    }
  } else {
    throw errors.methodNotAllowed();
  }
  const typed = checkTyped({ kind: 'Scale' }, wanted);
  if (typed.error) throw errors.badRequest(`Scale in version "v1" cannot be handled as a Scale: ${typed.error}`);
  const replicas = (wanted.spec as { replicas?: unknown } | undefined)?.replicas;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw errors.invalid({ group: 'autoscaling', plural: 'scales', kind: 'Scale' }, name, [
      { type: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0` },
    ]);
  }
  const next = clone(convertToServed(rr.r, current.obj));
  if (!setCustomScaleReplicas(rr.r, next, replicas)) (next.spec as { replicas?: number }).replicas = replicas;
  const rv = wanted.metadata?.resourceVersion;
  next.metadata.resourceVersion = rv ?? current.obj.metadata.resourceVersion;
  const { entry } = await env.registry.updateAsync(rr.r, ns, name, next, ctx);
  await env.registry.store.sync();
  send(rr.res, 200, JSON.stringify(scaleOf(entry.obj, rr.r)));
}
