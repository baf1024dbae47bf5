// The object machinery behind every write: type and namespace checks, names and generateName,
// uid/creationTimestamp/generation/resourceVersion, defaulting and validation, Service address
// allocation, finalizers and graceful deletion, dry runs. HTTP-free, so tests and the bench can
// drive it directly. Each write is decided synchronously from the store's current state (a
// WritePlan: one store write, or an answer without one) and then stored, either synchronously or
// awaited (the *Async methods, which the HTTP handlers use, so many writes are in flight at once on
// etcd). An awaited write that lost a race to another writer (the store's revision compare says
// Conflict) is decided again from the new state, as kube-apiserver's GuaranteedUpdate retries:
// preconditions the request carries then answer 409 themselves.
import { randomUUID } from 'node:crypto';
import { type ResourceInfo, R, apiVersionOf, storageApiVersionOf } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { FieldError } from '../api/validation/index.js';
import * as patches from '../api/patch/index.js';
import { type Store, type StoreEntry, StoreError } from '../store/types.js';
import { ApiStatusError, errors, statusOf } from './errors.js';
import { checkTyped } from '../api/schema/typed.js';
import type { ServiceAllocator } from './service-allocation.js';
import type { PodSecurityAdmission } from './admission/pod-security/admission.js';
import { convertToServed } from './crd/versions.js';
import { clone, equalExcept, generatedName, timestamp, uniqueErrors, validateName } from './objects.js';
import type { AdmissionRequest, ValidatingPolicies } from './admission/validating-policy.js';
import { type Allocator, type ResourceStrategy, type StrategyEnv, type UpdateSubresource, generationChanged, strategyFor } from './strategy/index.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteContext {
  dryRun: boolean;
  fieldManager?: string;
  fieldValidation: FieldValidation;
  /** Warnings for the Warning response header. */
  warnings: string[];
  /** The object was already checked against its schema (the inner write of an apply). */
  decoded?: boolean;
  /** Checks of the requesting user on the object about to be stored (RBAC escalation prevention); throws to refuse. */
  admit?: (r: ResourceInfo, obj: KubeObject, old?: KubeObject) => void;
  /** Who sent the write (ValidatingAdmissionPolicy's request.userInfo). */
  user?: AdmissionRequest['user'];
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type PatchKind = 'merge' | 'json' | 'strategic' | 'apply';

export interface WriteResult {
  entry: StoreEntry;
  /** 201 for creates, 200 otherwise. */
  code: number;
  /** A delete that removed the object at once (no finalizers or grace period left pending). */
  removed?: boolean;
}

/** Namespaces the server creates at first start (all but kube-node-lease are never deleted: strategy/namespaces.ts). */
export const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export function storeKey(r: Pick<ResourceInfo, 'group' | 'plural'>): string {
  return `${r.group}/${r.plural}`;
}

/** Custom resources take no strategic merge patches (they have no patch strategies), as upstream answers. */
const STRATEGIC_MERGE_UNSUPPORTED =
  'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml';

/** One store write an operation decided on. */
type StoreWrite =
  | { op: 'create'; key: string; obj: KubeObject }
  | { op: 'update'; key: string; obj: KubeObject; rev: number }
  | { op: 'delete'; key: string; ns: string; name: string; rev: number };

/**
 * A decided write operation: answered without a store write (dry runs, no-ops), or one store write
 * with what its success answers and what its failure throws (after undoing allocations).
 */
type WritePlan<T> = { answer: T } | { write: StoreWrite; stored: (entry: StoreEntry) => T; failed: (err: unknown) => unknown };

/**
 * How often an awaited write is decided again after losing a race before it answers 409. Each
 * round of a race has a winner, so N writers racing on one object need at most N attempts.
 */
const MAX_WRITE_ATTEMPTS = 64;

function storeSync(store: Store, w: StoreWrite): StoreEntry {
  if (w.op === 'create') return store.create(w.key, w.obj);
  if (w.op === 'update') return store.update(w.key, w.obj, w.rev);
  return store.delete(w.key, w.ns, w.name, w.rev);
}

function storeAsync(store: Store, w: StoreWrite): Promise<StoreEntry> {
  if (w.op === 'create') return store.createAsync(w.key, w.obj);
  if (w.op === 'update') return store.updateAsync(w.key, w.obj, w.rev);
  return store.deleteAsync(w.key, w.ns, w.name, w.rev);
}

/** The API error for a store write refused because the object changed or went away meanwhile. */
function storeFailure(r: Pick<ResourceInfo, 'group' | 'plural'>, name: string, err: unknown): unknown {
  if (err instanceof StoreError && err.reason === 'Conflict') return errors.conflict(r, name);
  if (err instanceof StoreError && err.reason === 'NotFound') return errors.notFound(r, name);
  return err;
}

/** An entry for a dry-run answer: what would have been stored, never stored. */
function dryEntry(obj: KubeObject): StoreEntry {
  return { ns: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '', rev: Number(obj.metadata.resourceVersion ?? 0), obj, json: JSON.stringify(obj) };
}

function parseRev(r: ResourceInfo, name: string, rv: string | undefined): number | undefined {
  if (rv === undefined || rv === '') return undefined;
  if (!/^\d+$/.test(rv)) throw errors.badRequest(`invalid resourceVersion ${JSON.stringify(rv)} for ${r.plural} "${name}": it must be a resourceVersion this server returned`);
  return Number(rv);
}

/**
 * A create's decided write. A class rather than an object of closures: the hot create path makes
 * no functions per request.
 */
class CreateWrite {
  readonly write: StoreWrite;

  constructor(
    private readonly r: ResourceInfo,
    private readonly name: string,
    key: string,
    private readonly obj: KubeObject,
    private readonly allocator: Allocator | undefined,
  ) {
    this.write = { op: 'create', key, obj };
  }

  stored(entry: StoreEntry): WriteResult {
    return { entry, code: 201 };
  }

  failed(err: unknown): unknown {
    if (this.allocator) this.allocator.release(this.obj);
    if (err instanceof StoreError && err.reason === 'AlreadyExists') return errors.alreadyExists(this.r, this.name);
    return err;
  }
}

/**
 * Writes (create, update, patch, apply) take ownership of the object passed in: callers hand over
 * a fresh object (a decoded request body or their own copy) and do not use it afterwards.
 */
export class Registry {
  /** The PodSecurity admission step (the server sets it; writes without it skip the check). */
  podSecurity?: PodSecurityAdmission;
  /** The ValidatingAdmissionPolicy step (the server sets it). */
  validatingPolicies?: ValidatingPolicies;

  /** What strategies that read or write other objects use. */
  private readonly env: StrategyEnv;

  constructor(
    readonly store: Store,
    services?: ServiceAllocator,
  ) {
    if (services) {
      services.load(store.list(storeKey(R.services)).entries.map((e) => clone(e.obj)));
    }
    this.env = { store, registry: this, services };
  }

  get(r: ResourceInfo, ns: string, name: string): StoreEntry {
    const e = this.store.get(storeKey(r), r.namespaced ? ns : '', name);
    if (!e) throw errors.notFound(r, name);
    return e;
  }

  // ---- running plans ----

  /** Stores a plan's write synchronously (system writes; the HTTP handlers use the *Async forms). */
  private run<T>(plan: WritePlan<T>): T {
    if ('answer' in plan) return plan.answer;
    let entry: StoreEntry;
    try {
      entry = storeSync(this.store, plan.write);
    } catch (err) {
      throw plan.failed(err);
    }
    return plan.stored(entry);
  }

  /**
   * Decides and awaits a write; when another writer got there first (Conflict from the store's
   * revision compare), decides again from the new state. `decide` must start from pristine input.
   */
  private async runAsync<T>(ctx: WriteContext, decide: () => WritePlan<T>, mayRetry = true): Promise<T> {
    const warned = ctx.warnings.length;
    for (let attempt = 1; ; attempt++) {
      ctx.warnings.length = warned;
      const plan = decide();
      if ('answer' in plan) return plan.answer;
      let entry: StoreEntry;
      try {
        entry = await storeAsync(this.store, plan.write);
      } catch (err) {
        const failure = plan.failed(err);
        if (mayRetry && err instanceof StoreError && err.reason === 'Conflict' && attempt < MAX_WRITE_ATTEMPTS) continue;
        throw failure;
      }
      return plan.stored(entry);
    }
  }

  create(r: ResourceInfo, ns: string, body: KubeObject, ctx: WriteContext): WriteResult {
    return this.run(this.planCreate(r, ns, body, ctx));
  }

  /** create, with the store write awaited (a create never loses a race: it answers 409 AlreadyExists). */
  createAsync(r: ResourceInfo, ns: string, body: KubeObject, ctx: WriteContext): Promise<WriteResult> {
    return this.runAsync(ctx, () => this.planCreate(r, ns, body, ctx), false);
  }

  update(r: ResourceInfo, ns: string, name: string, body: KubeObject, ctx: WriteContext, subresource?: UpdateSubresource): WriteResult {
    return this.run(this.planUpdate(r, ns, name, body, ctx, subresource));
  }

  updateAsync(r: ResourceInfo, ns: string, name: string, body: KubeObject, ctx: WriteContext, subresource?: UpdateSubresource): Promise<WriteResult> {
    const pristine = clone(body);
    let first = true;
    return this.runAsync(ctx, () => {
      const input = first ? body : clone(pristine);
      first = false;
      return this.planUpdate(r, ns, name, input, ctx, subresource);
    });
  }

  patch(r: ResourceInfo, ns: string, name: string, kind: PatchKind, patch: unknown, ctx: WriteContext, opts: { subresource?: 'status' | 'approval'; force?: boolean } = {}): WriteResult {
    return this.run(this.planPatch(r, ns, name, kind, patch, ctx, opts));
  }

  patchAsync(r: ResourceInfo, ns: string, name: string, kind: PatchKind, patch: unknown, ctx: WriteContext, opts: { subresource?: 'status' | 'approval'; force?: boolean } = {}): Promise<WriteResult> {
    const pristine = patch === undefined ? undefined : clone(patch);
    let first = true;
    return this.runAsync(ctx, () => {
      const input = first ? patch : clone(pristine);
      first = false;
      return this.planPatch(r, ns, name, kind, input, ctx, opts);
    });
  }

  delete(r: ResourceInfo, ns: string, name: string, options: DeleteOptions, ctx: WriteContext): WriteResult {
    return this.run(this.planDelete(r, ns, name, options, ctx));
  }

  deleteAsync(r: ResourceInfo, ns: string, name: string, options: DeleteOptions, ctx: WriteContext): Promise<WriteResult> {
    return this.runAsync(ctx, () => this.planDelete(r, ns, name, options, ctx));
  }

  /** POST pods/<name>/binding: assigns the pod to a node once. */
  bind(ns: string, name: string, binding: KubeObject, ctx: WriteContext): void {
    this.run(this.planBind(ns, name, binding, ctx));
  }

  bindAsync(ns: string, name: string, binding: KubeObject, ctx: WriteContext): Promise<void> {
    return this.runAsync(ctx, () => this.planBind(ns, name, binding, ctx));
  }

  // ---- create ----

  private planCreate(r: ResourceInfo, ns: string, body: KubeObject, ctx: WriteContext): WritePlan<WriteResult> {
    const strategy = strategyFor(r);
    const obj = this.checkBody(r, strategy, ns, body, ctx);
    const nameErrors: FieldError[] = [];
    if (!obj.metadata.name) {
      if (obj.metadata.generateName) obj.metadata.name = generatedName(obj.metadata.generateName);
      else nameErrors.push({ type: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
    }
    const name = obj.metadata.name ?? '';
    if (name) nameErrors.push(...validateName(name, strategy.nameFormat));
    if (nameErrors.length > 0) throw errors.invalid(r, name, nameErrors);
    if (r.namespaced) this.checkNamespaceOpen(r, ns, name);

    const m = obj.metadata;
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    m.uid = randomUUID();
    m.creationTimestamp = timestamp();
    if (strategy.generation) m.generation = 1;
    else delete m.generation;
    strategy.prepareForCreate(r, obj);
    strategy.applyDefaults(r, obj, true);
    if (r.storageVersion) obj.apiVersion = storageApiVersionOf(r);
    // The field manager records the request as decoded and defaulted, before mutating admission
    // and allocation (what they add is nobody's), as kube-apiserver's create handler does.
    this.recordManager(r, undefined, obj, ctx);
    strategy.admitCreate?.(this.env, ns, obj, ctx);
    strategy.canonicalize(obj);

    const allocator = strategy.allocator?.(this.env);
    // A dry-run allocation fills clusterIP and node ports for validation; the real one comes last.
    const allocationErrors = allocator ? allocator.allocate(obj, undefined, { dryRun: true }) : [];
    const errs = uniqueErrors([...allocationErrors, ...strategy.validateCreate(r, obj)]);
    if (errs.length > 0) throw errors.invalid(r, name, errs);
    this.podSecurity?.admit(r, ns, obj, undefined, ctx.warnings);
    this.validatingPolicies?.admit({ operation: 'CREATE', r, namespace: ns, name, object: obj, user: ctx.user, dryRun: ctx.dryRun }, ctx.warnings);
    ctx.admit?.(r, obj);
    const stored = obj;
    if (ctx.dryRun) return { answer: { entry: dryEntry(stored), code: 201 } };
    const key = storeKey(r);
    if (this.store.get(key, r.namespaced ? ns : '', name)) throw errors.alreadyExists(r, name);
    if (allocator) {
      const late = allocator.allocate(stored);
      if (late.length > 0) throw errors.invalid(r, name, late);
    }
    return new CreateWrite(r, name, key, stored, allocator);
  }

  /** Namespaced creates need their namespace to exist and not be terminating. */
  private checkNamespaceOpen(r: ResourceInfo, ns: string, name: string): void {
    const nsEntry = this.store.get(storeKey(R.namespaces), '', ns);
    if (!nsEntry) throw errors.notFound(R.namespaces, ns);
    if (nsEntry.obj.metadata.deletionTimestamp || (nsEntry.obj.status as { phase?: string } | undefined)?.phase === 'Terminating') {
      throw errors.forbidden(r, name, `unable to create new content in namespace ${ns} because it is being terminated`);
    }
  }

  /**
   * The body's apiVersion/kind/namespace agree with the URL, every value has its schema's type
   * (400 as upstream's decoder words it) and unknown fields are reported as `ctx` asks. Writes
   * take ownership of the body they are given (a freshly decoded request), so it is completed in
   * place, not copied.
   */
  private checkBody(r: ResourceInfo, strategy: ResourceStrategy, ns: string, body: KubeObject, ctx: WriteContext): KubeObject {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest(`the request body must be a ${r.kind} object`);
    const obj = body;
    const want = apiVersionOf(r);
    if (obj.apiVersion !== undefined && obj.apiVersion !== want) {
      throw errors.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${want})`);
    }
    if (obj.kind !== undefined && obj.kind !== r.kind) {
      throw errors.badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${r.kind}) of ${r.plural}`);
    }
    if (!ctx.decoded) {
      const typed = strategy.decode ? strategy.decode(obj) : checkTyped(r, obj);
      if (typed.error) throw errors.badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: ${typed.error}`);
      this.reportUnknownFields(typed.unknown, ctx);
    }
    obj.apiVersion = want;
    obj.kind = r.kind;
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    if (typeof obj.metadata !== 'object') throw errors.badRequest('metadata must be an object');
    if (r.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== ns) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = ns;
    } else {
      delete obj.metadata.namespace;
    }
    return obj;
  }

  private reportUnknownFields(fields: string[], ctx: WriteContext): void {
    if (ctx.fieldValidation === 'Ignore' || fields.length === 0) return;
    const unknown = fields.map((f) => `unknown field "${f.replace(/^\./, '')}"`);
    if (ctx.fieldValidation === 'Strict') throw errors.badRequest(`strict decoding error: ${unknown.join(', ')}`);
    ctx.warnings.push(...unknown);
  }

  /**
   * The field manager's Update entry for this write, set on `obj` in place. Status is not the
   * main resource's to own when the kind has a status subresource (upstream resets it there).
   */
  private recordManager(r: ResourceInfo, old: KubeObject | undefined, obj: KubeObject, ctx: WriteContext, subresource?: UpdateSubresource): void {
    if (!ctx.fieldManager) return;
    const withoutStatus = subresource === undefined && r.subresources.some((s) => s.name === 'status');
    const recorded = patches.managedFieldsAfterUpdate(r, old, obj, ctx.fieldManager, subresource, withoutStatus);
    if (recorded === undefined) delete obj.metadata.managedFields;
    else obj.metadata.managedFields = recorded;
  }

  // ---- update ----

  /** PUT on the object (subresource undefined), its status, a CSR's approval, or a namespace's finalize. */
  private planUpdate(r: ResourceInfo, ns: string, name: string, body: KubeObject, ctx: WriteContext, subresource?: UpdateSubresource): WritePlan<WriteResult> {
    const strategy = strategyFor(r);
    const obj = this.checkBody(r, strategy, ns, body, ctx);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    obj.metadata.name = name;
    const found = this.store.get(storeKey(r), r.namespaced ? ns : '', name);
    if (!found && subresource === undefined && strategy.allowCreateOnUpdate) {
      delete obj.metadata.resourceVersion;
      return this.planCreate(r, ns, obj, { ...ctx, fieldValidation: 'Ignore', decoded: true });
    }
    const current = found ?? this.get(r, ns, name);
    const expected = parseRev(r, name, obj.metadata.resourceVersion);
    if (expected !== undefined && expected !== current.rev) throw errors.conflict(r, name);
    if (obj.metadata.uid && obj.metadata.uid !== current.obj.metadata.uid) {
      throw errors.conflict(r, name, `Precondition failed: UID in precondition: ${obj.metadata.uid}, UID in object meta: ${current.obj.metadata.uid}`);
    }
    const old = current.obj;
    let next: KubeObject;
    if (subresource === 'status') {
      next = strategy.prepareForStatusUpdate(obj, old);
    } else if (subresource === 'approval') {
      if (!strategy.prepareForApprovalUpdate) throw errors.pathNotFound();
      next = strategy.prepareForApprovalUpdate(obj, old);
    } else if (subresource === 'finalize') {
      next = clone(old);
      const spec = (next.spec ??= {}) as { finalizers?: string[] };
      spec.finalizers = ((obj.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).slice();
    } else {
      next = obj;
      const m = next.metadata;
      m.uid = old.metadata.uid;
      m.creationTimestamp = old.metadata.creationTimestamp;
      if (strategy.generation && old.metadata.generation !== undefined) m.generation = old.metadata.generation;
      else delete m.generation;
      if (old.metadata.deletionTimestamp) m.deletionTimestamp = old.metadata.deletionTimestamp;
      else delete m.deletionTimestamp;
      if (old.metadata.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
      else delete m.deletionGracePeriodSeconds;
      if (m.managedFields === undefined && old.metadata.managedFields) m.managedFields = old.metadata.managedFields;
      strategy.prepareForUpdate(r, next, old);
      strategy.applyDefaults(r, next, false);
      if (r.storageVersion) next.apiVersion = storageApiVersionOf(r);
      strategy.canonicalize(next);
    }
    return this.planCommitUpdate(r, strategy, current, next, ctx, subresource);
  }

  /** The common end of every update: allocation, validation, generation, no-op and finalizer handling, store. */
  private planCommitUpdate(r: ResourceInfo, strategy: ResourceStrategy, current: StoreEntry, next: KubeObject, ctx: WriteContext, subresource: UpdateSubresource | undefined): WritePlan<WriteResult> {
    const specMayChange = subresource === undefined;
    const old = current.obj;
    const name = old.metadata.name ?? '';
    // As on create: the manager owns what the request changed, not what allocation adds.
    this.recordManager(r, old, next, ctx, subresource);
    const allocator = specMayChange ? strategy.allocator?.(this.env) : undefined;
    const allocationErrors = allocator ? allocator.allocate(next, old, { dryRun: true }) : [];
    const errs = uniqueErrors([...allocationErrors, ...strategy.validateUpdate(r, next, old, subresource, ctx.warnings)]);
    if (errs.length > 0) throw errors.invalid(r, name, errs);
    if (specMayChange) this.podSecurity?.admit(r, current.ns, next, old, ctx.warnings);
    this.validatingPolicies?.admit({ operation: 'UPDATE', r, subresource, namespace: current.ns, name, object: next, oldObject: old, user: ctx.user, dryRun: ctx.dryRun }, ctx.warnings);
    ctx.admit?.(r, next, old);
    if (specMayChange && strategy.generation && generationChanged(strategy.generation, next, old)) {
      next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    }
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    if (this.isNoop(next, old)) return { answer: { entry: current, code: 200 } };
    const stored = next;
    if (ctx.dryRun) return { answer: { entry: dryEntry(stored), code: 200 } };
    const key = storeKey(r);
    if (allocator) {
      const late = allocator.allocate(stored, old);
      if (late.length > 0) throw errors.invalid(r, name, late);
    }
    const failed = (err: unknown): unknown => {
      if (allocator) allocator.allocate(clone(old), stored);
      return storeFailure(r, name, err);
    };
    if (this.finalizersDone(strategy, stored)) {
      return {
        write: { op: 'delete', key, ns: current.ns, name, rev: current.rev },
        stored: (entry) => {
          strategy.allocator?.(this.env)?.release(entry.obj);
          return { entry, code: 200 };
        },
        failed,
      };
    }
    return { write: { op: 'update', key, obj: stored, rev: current.rev }, stored: (entry) => ({ entry, code: 200 }), failed };
  }

  /**
   * A write that changes nothing is not stored. Field ownership counts as a change (an apply
   * that only takes over fields must be recorded), but the time of an entry does not.
   */
  private isNoop(next: KubeObject, old: KubeObject): boolean {
    if (!equalExcept(next, old, ['metadata'])) return false;
    if (!equalExcept(next.metadata as Record<string, unknown>, old.metadata as Record<string, unknown>, ['managedFields'])) return false;
    return JSON.stringify(managersWithoutTime(next)) === JSON.stringify(managersWithoutTime(old));
  }

  /** A deleted object whose last finalizer is gone (and whose grace period is over) is removed. */
  private finalizersDone(strategy: ResourceStrategy, obj: KubeObject): boolean {
    const m = obj.metadata;
    if (!m.deletionTimestamp) return false;
    if (m.finalizers && m.finalizers.length > 0) return false;
    return strategy.deletionComplete(obj);
  }

  // ---- patch ----

  private planPatch(r: ResourceInfo, ns: string, name: string, kind: PatchKind, patch: unknown, ctx: WriteContext, opts: { subresource?: 'status' | 'approval'; force?: boolean }): WritePlan<WriteResult> {
    if (kind === 'apply') return this.planApply(r, ns, name, patch, ctx, opts);
    const current = this.get(r, ns, name);
    const patched = this.applyPatch(r, convertToServed(r, current.obj), kind, patch);
    if (patched === null || typeof patched !== 'object' || Array.isArray(patched)) throw errors.badRequest('the patch turned the object into something that is not an object');
    // The patched copy keeps the version just read unless the patch set one: a patch without a
    // resourceVersion that loses a race is applied again to the new state (runAsync).
    return this.planUpdate(r, ns, name, patched as KubeObject, ctx, opts.subresource);
  }

  private applyPatch(r: ResourceInfo, original: KubeObject, kind: PatchKind, patch: unknown): unknown {
    try {
      switch (kind) {
        case 'merge':
          return patches.applyMergePatch(clone(original), patch);
        case 'json':
          return patches.applyJsonPatch(clone(original), patch);
        case 'strategic':
          switch (strategyFor(r).strategicMerge) {
            case 'unsupported':
              throw errors.unsupportedMediaType(STRATEGIC_MERGE_UNSUPPORTED);
            case 'merge':
              return patches.applyMergePatch(clone(original), patch);
            default:
              return patches.applyStrategicMergePatch(r, clone(original), patch);
          }
        default:
          throw errors.unsupportedMediaType(`the server does not support patch type ${kind}`);
      }
    } catch (err) {
      if (err instanceof patches.PatchError) throw patchFailure(err);
      throw err;
    }
  }

  private planApply(r: ResourceInfo, ns: string, name: string, applied: unknown, ctx: WriteContext, opts: { subresource?: 'status' | 'approval'; force?: boolean }): WritePlan<WriteResult> {
    if (!ctx.fieldManager) throw errors.badRequest('PATCH with application/apply-patch+yaml requires the fieldManager query parameter');
    const subresource = opts.subresource;
    if (applied === null || typeof applied !== 'object' || Array.isArray(applied)) throw errors.badRequest('the apply patch must be an object');
    const body = applied as KubeObject;
    if (!body.apiVersion || !body.kind) throw errors.badRequest('invalid object type: apply patches must set apiVersion and kind');
    if (body.metadata?.name !== undefined && body.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    const key = storeKey(r);
    const current = this.store.get(key, r.namespaced ? ns : '', name);
    if (!current && subresource) throw errors.notFound(r, name);
    const typed = this.checkBody(r, strategyFor(r), ns, body, ctx);
    typed.metadata.name = name;
    // metadata.resourceVersion in an applied configuration is a precondition, as upstream checks it.
    const expected = parseRev(r, name, typed.metadata.resourceVersion);
    if (expected !== undefined && (!current || expected !== current.rev)) throw errors.conflict(r, name);
    let result: patches.ApplyResult;
    try {
      result = patches.serverSideApply(r, current ? clone(convertToServed(r, current.obj)) : undefined, typed, ctx.fieldManager, opts.force ?? false, subresource);
    } catch (err) {
      if (err instanceof patches.PatchError) throw patchFailure(err);
      throw err;
    }
    if (result.conflicts) throw applyConflict(r, name, result.conflicts);
    const obj = result.object;
    // The apply already recorded the manager (and reported unknown fields); do not do either again.
    const inner: WriteContext = { ...ctx, fieldManager: undefined, fieldValidation: 'Ignore', decoded: true };
    if (!current) return this.planCreate(r, ns, obj, inner);
    obj.metadata.resourceVersion = current.obj.metadata.resourceVersion;
    return this.planUpdate(r, ns, name, obj, inner, subresource);
  }

  // ---- delete ----

  private planDelete(r: ResourceInfo, ns: string, name: string, options: DeleteOptions, ctx: WriteContext): WritePlan<WriteResult> {
    const current = this.get(r, ns, name);
    const old = current.obj;
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw errors.conflict(r, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw errors.conflict(r, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    const strategy = strategyFor(r);
    strategy.checkDelete?.(r, old);
    this.validatingPolicies?.admit({ operation: 'DELETE', r, namespace: current.ns, name, oldObject: old, user: ctx.user, dryRun: ctx.dryRun }, ctx.warnings);

    const next = clone(old);
    const m = next.metadata;
    const finalizers = (m.finalizers ??= []);
    if (strategy.propagationFinalizers) {
      if (options.propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
      if (options.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    }
    for (const f of strategy.deletionFinalizers) if (!finalizers.includes(f)) finalizers.push(f);
    if (finalizers.length === 0) delete m.finalizers;

    const grace = strategy.gracePeriod(old, options);
    const pending = (m.finalizers?.length ?? 0) > 0 || grace > 0 || !strategy.deletionComplete(next);
    const remove = (): WritePlan<WriteResult> => ({
      write: { op: 'delete', key: storeKey(r), ns: current.ns, name: current.name, rev: current.rev },
      stored: (entry) => {
        strategy.allocator?.(this.env)?.release(entry.obj);
        return { entry, code: 200, removed: true };
      },
      failed: (err) => storeFailure(r, name, err),
    });
    if (!pending) {
      if (ctx.dryRun) return { answer: { entry: current, code: 200, removed: true } };
      return remove();
    }
    // Graceful: mark for deletion; the finalizers' owners (or the agent, for pods) finish it.
    const now = Date.now();
    if (old.metadata.deletionTimestamp) {
      const oldGrace = old.metadata.deletionGracePeriodSeconds ?? 0;
      if (grace < oldGrace) {
        m.deletionGracePeriodSeconds = grace;
        m.deletionTimestamp = timestamp(new Date(now + grace * 1000));
      }
    } else {
      m.deletionTimestamp = timestamp(new Date(now + grace * 1000));
      m.deletionGracePeriodSeconds = grace;
    }
    strategy.prepareForDelete?.(next);
    if (ctx.dryRun) return { answer: { entry: dryEntry(next), code: 200 } };
    if (this.finalizersDone(strategy, next)) return remove();
    if (this.isNoop(next, current.obj)) return { answer: { entry: current, code: 200 } };
    return { write: { op: 'update', key: storeKey(r), obj: next, rev: current.rev }, stored: (entry) => ({ entry, code: 200 }), failed: (err) => storeFailure(r, name, err) };
  }

  private planBind(ns: string, name: string, binding: KubeObject, ctx: WriteContext): WritePlan<void> {
    const r = R.pods;
    const target = (binding as { target?: { kind?: string; name?: string } }).target;
    if (!target?.name) throw errors.invalid({ group: '', plural: 'bindings', kind: 'Binding' }, name, [{ type: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
    if (binding.metadata?.name && binding.metadata.name !== name) {
      throw errors.badRequest(`the name of the binding (${binding.metadata.name}) does not match the pod name on the URL (${name})`);
    }
    const current = this.get(r, ns, name);
    const spec = (current.obj.spec ?? {}) as { nodeName?: string };
    if (current.obj.metadata.deletionTimestamp) throw errors.conflict({ group: '', plural: 'pods/binding' }, name, `pod ${name} is being deleted, cannot be assigned to a host`);
    if (spec.nodeName) throw errors.conflict({ group: '', plural: 'pods/binding' }, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
    const next = clone(current.obj);
    (next.spec as { nodeName?: string }).nodeName = target.name;
    const status = (next.status ??= {}) as { conditions?: { type: string; status: string; lastTransitionTime?: string | null; lastProbeTime?: string | null }[] };
    const conditions = (status.conditions ??= []);
    const scheduled = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp() };
    const i = conditions.findIndex((c) => c.type === 'PodScheduled');
    if (i >= 0) conditions[i] = scheduled;
    else conditions.push(scheduled);
    if (ctx.dryRun) return { answer: undefined };
    return { write: { op: 'update', key: storeKey(r), obj: next, rev: current.rev }, stored: () => undefined, failed: (err) => storeFailure(r, name, err) };
  }
}

function patchFailure(err: patches.PatchError): ApiStatusError {
  const reasons: Record<number, string> = { 400: 'BadRequest', 409: 'Conflict', 413: 'RequestEntityTooLarge', 415: 'UnsupportedMediaType', 422: 'Invalid' };
  return new ApiStatusError(statusOf(err.code, reasons[err.code] ?? 'BadRequest', err.message));
}

function applyConflict(r: ResourceInfo, name: string, conflicts: patches.ApplyConflict[]): ApiStatusError {
  return new ApiStatusError(
    statusOf(409, 'Conflict', patches.applyConflictMessage(conflicts), {
      name,
      kind: r.plural,
      ...(r.group ? { group: r.group } : {}),
      causes: conflicts.map((c) => ({
        reason: 'FieldManagerConflict',
        message: `conflict with "${c.manager}"${c.operation === 'Update' && c.apiVersion ? ` using ${c.apiVersion}` : ''}`,
        field: c.field,
      })),
    }),
  );
}

function managersWithoutTime(obj: KubeObject): unknown[] {
  return (obj.metadata.managedFields ?? []).map((entry) => {
    const { time: _time, ...rest } = entry as Record<string, unknown>;
    return rest;
  });
}
