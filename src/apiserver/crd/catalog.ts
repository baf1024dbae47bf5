// The custom resources this server serves, kept in step with the stored CustomResourceDefinitions:
// it watches them, writes their status (names accepted, established, terminating), serves each
// served version of an established CRD (unless a built-in resource already serves that group and
// plural, as flatnet's Gateway API kinds do), and on a CRD's deletion deletes its objects before
// letting the CRD go; custom resources in a namespace being deleted are deleted with it (the
// namespace controller only knows the built-in kinds). Everything else (routes, discovery, OpenAPI) asks it what is served.
import { R, RESOURCES, mustFindResource, type ResourceInfo } from '../../api/resources.js';
import { CRD_CLEANUP_FINALIZER, CRD_GROUP, type CustomResourceDefinition } from '../../api/crd/types.js';
import { createLogger } from '../../util/log.js';
import type { Registry, WriteContext } from '../registry.js';
import { storeKey } from '../registry.js';
import { ApiStatusError } from '../errors.js';
import { clone, timestamp } from '../objects.js';
import { builtinServing, desiredStatus, isEstablished } from './naming.js';
import { customResourceInfo, type CustomResourceInfo } from './resource.js';

const log = createLogger('crd');

export const CRD_RESOURCE: ResourceInfo = mustFindResource(CRD_GROUP, 'customresourcedefinitions');
/** How long to wait before looking again at a deleted CRD whose objects are still finalizing. */
const CLEANUP_RETRY_MS = 1000;

function systemContext(): WriteContext {
  return { dryRun: false, fieldValidation: 'Ignore', fieldManager: 'flatnet-apiextensions', warnings: [] };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class CustomResourceCatalog {
  private served = new Map<string, CustomResourceInfo>();
  private signature = '';
  private readonly listeners: (() => void)[] = [];
  private stopWatch: (() => void) | undefined;
  private stopNamespaceWatch: (() => void) | undefined;
  /** Namespaces being deleted (or gone) whose custom resources are still to be deleted. */
  private readonly terminatingNamespaces = new Set<string>();
  private scheduled = false;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly registry: Registry,
    private readonly builtins: readonly ResourceInfo[] = RESOURCES,
  ) {}

  /** Serves what is stored now, then follows every change of a CRD. */
  start(): void {
    this.reconcile();
    const store = this.registry.store;
    this.stopWatch = store.watch(storeKey(CRD_RESOURCE), store.revision, () => this.schedule());
    this.stopNamespaceWatch = store.watch(storeKey(R.namespaces), store.revision, (ev) => {
      if (ev.type !== 'DELETED' && !ev.entry.obj.metadata.deletionTimestamp) return;
      this.terminatingNamespaces.add(ev.entry.name);
      this.schedule();
    });
    for (const e of store.list(storeKey(R.namespaces)).entries) if (e.obj.metadata.deletionTimestamp) this.terminatingNamespaces.add(e.name);
  }

  close(): void {
    this.closed = true;
    this.stopWatch?.();
    this.stopNamespaceWatch?.();
    if (this.retry) clearTimeout(this.retry);
  }

  /** Called whenever the set of served custom resources (or their definitions) changes. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  find(group: string, version: string, plural: string): CustomResourceInfo | undefined {
    return this.served.get(`${group}/${version}/${plural}`);
  }

  /** Every served version of every custom resource, in CRD order. */
  resources(): CustomResourceInfo[] {
    return [...this.served.values()];
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.closed) return;
      try {
        this.reconcile();
      } catch (err) {
        log.error('reconciling CustomResourceDefinitions failed', { err: (err as Error).message });
      }
    });
  }

  private listDefinitions(): CustomResourceDefinition[] {
    return this.registry.store
      .list(storeKey(CRD_RESOURCE))
      .entries.map((e) => e.obj as CustomResourceDefinition)
      .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  }

  reconcile(): void {
    const crds = this.listDefinitions();
    const now = timestamp();
    const decided: CustomResourceDefinition[] = [];
    for (const crd of crds) {
      const status = desiredStatus(crd, decided.concat(crds.filter((c) => !decided.includes(c) && c !== crd)), this.builtins, now);
      const next = sameJson(status, crd.status) ? crd : this.writeStatus(crd, status);
      decided.push(next);
    }
    for (const crd of decided) if (crd.metadata.deletionTimestamp) this.cleanUp(crd);
    this.rebuild(decided);
    this.cleanUpNamespaces();
  }

  /** Deletes the custom resources of namespaces being deleted; retries while some are finalizing. */
  private cleanUpNamespaces(): void {
    if (this.terminatingNamespaces.size === 0) return;
    const kinds = new Map<string, CustomResourceInfo>();
    for (const r of this.served.values()) if (r.namespaced) kinds.set(storeKey(r), r);
    for (const ns of [...this.terminatingNamespaces]) {
      let remaining = 0;
      for (const [key, r] of kinds) {
        for (const e of this.registry.store.list(key, { ns }).entries) this.deleteQuietly(r, e.ns, e.name);
        remaining += this.registry.store.list(key, { ns }).entries.length;
      }
      if (remaining === 0) this.terminatingNamespaces.delete(ns);
    }
    if (this.terminatingNamespaces.size > 0) this.retryLater();
  }

  private deleteQuietly(r: ResourceInfo, ns: string, name: string): void {
    try {
      this.registry.delete(r, ns, name, {}, systemContext());
    } catch (err) {
      if (!(err instanceof ApiStatusError && (err.code === 404 || err.code === 409))) throw err;
    }
  }

  private retryLater(): void {
    this.retry ??= setTimeout(() => {
      this.retry = undefined;
      this.schedule();
    }, CLEANUP_RETRY_MS);
  }

  private writeStatus(crd: CustomResourceDefinition, status: CustomResourceDefinition['status']): CustomResourceDefinition {
    const next = clone(crd);
    next.status = status;
    try {
      return this.registry.update(CRD_RESOURCE, '', crd.metadata.name ?? '', next, systemContext(), 'status').entry.obj as CustomResourceDefinition;
    } catch (err) {
      // A concurrent write (or another server) changed it; the watch brings us back.
      if (err instanceof ApiStatusError && (err.code === 409 || err.code === 404)) return { ...crd, status };
      throw err;
    }
  }

  /** A deleted CRD: delete its objects (never a built-in's), then drop the cleanup finalizer. */
  private cleanUp(crd: CustomResourceDefinition): void {
    if (!(crd.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) return;
    if (!builtinServing(crd, this.builtins)) {
      const remaining = this.deleteObjects(crd);
      if (remaining > 0) {
        this.retryLater();
        return;
      }
    }
    const next = clone(crd);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    try {
      this.registry.update(CRD_RESOURCE, '', crd.metadata.name ?? '', next, systemContext());
      log.info('CustomResourceDefinition deleted', { name: crd.metadata.name });
    } catch (err) {
      if (!(err instanceof ApiStatusError && (err.code === 409 || err.code === 404))) throw err;
    }
  }

  /** Deletes every object of the CRD; answers how many are still there (finalizers pending). */
  private deleteObjects(crd: CustomResourceDefinition): number {
    const version = crd.spec.versions.find((v) => v.storage) ?? crd.spec.versions[0];
    const r = customResourceInfo(crd, version, crd.status?.acceptedNames?.plural ? crd.status.acceptedNames : crd.spec.names);
    for (const e of this.registry.store.list(storeKey(r)).entries) this.deleteQuietly(r, e.ns, e.name);
    return this.registry.store.count(storeKey(r));
  }

  private rebuild(crds: CustomResourceDefinition[]): void {
    const served = new Map<string, CustomResourceInfo>();
    const parts: string[] = [];
    for (const crd of crds) {
      if (!isEstablished(crd) || builtinServing(crd, this.builtins)) continue;
      const names = crd.status?.acceptedNames;
      if (!names?.plural) continue;
      for (const v of crd.spec.versions) {
        if (!v.served) continue;
        const info = customResourceInfo(crd, v, names);
        served.set(`${info.group}/${info.version}/${info.plural}`, info);
      }
      parts.push(JSON.stringify([crd.metadata.uid, crd.metadata.generation, names]));
    }
    this.served = served;
    const signature = parts.join('\n');
    if (signature === this.signature) return;
    this.signature = signature;
    for (const l of this.listeners) l();
  }
}
