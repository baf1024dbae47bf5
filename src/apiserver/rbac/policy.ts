// The RBAC policy the server enforces: the Roles, ClusterRoles and bindings in the store, read
// into an RbacWorld that is rebuilt after any of them changes; the bootstrap ClusterRoles and
// ClusterRoleBindings created at start when missing; and aggregated ClusterRoles kept filled
// with the rules of the roles their selectors match.
import { R } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { createLogger } from '../../util/log.js';
import { type Registry, type WriteContext, storeKey } from '../registry.js';
import { clone } from '../objects.js';
import { aggregatedRules, sameRules } from './aggregation.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.js';
import { createUnlessExists, retryOnConflict } from '../bootstrap-writes.js';
import type { BindingObject, RbacWorld, RoleObject } from './types.js';

const log = createLogger('rbac');
const RBAC_RESOURCES = [R.clusterroles, R.clusterrolebindings, R.roles, R.rolebindings];

function systemContext(): WriteContext {
  return { dryRun: false, fieldValidation: 'Ignore', fieldManager: 'flatnet-apiserver', warnings: [] };
}

export class RbacPolicy {
  private cached: RbacWorld | undefined;
  private readonly stops: (() => void)[] = [];
  private aggregationPending = false;

  constructor(private readonly registry: Registry) {
    const store = registry.store;
    for (const r of RBAC_RESOURCES) {
      this.stops.push(
        store.watch(storeKey(r), store.revision, () => {
          this.cached = undefined;
          if (r === R.clusterroles) this.scheduleAggregation();
        }),
      );
    }
  }

  close(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  /** What RBAC decides from, as stored now. */
  world(): RbacWorld {
    if (this.cached) return this.cached;
    const store = this.registry.store;
    const objects = (r: typeof R.roles) => store.list(storeKey(r)).entries.map((e) => e.obj);
    const clusterRoles = new Map<string, RoleObject>();
    for (const o of objects(R.clusterroles)) clusterRoles.set(o.metadata.name!, o as unknown as RoleObject);
    const roles = new Map<string, RoleObject>();
    for (const o of objects(R.roles)) roles.set(`${o.metadata.namespace}/${o.metadata.name}`, o as unknown as RoleObject);
    const roleBindings = new Map<string, BindingObject[]>();
    for (const o of objects(R.rolebindings)) {
      const ns = o.metadata.namespace ?? '';
      let list = roleBindings.get(ns);
      if (!list) roleBindings.set(ns, (list = []));
      list.push(o as unknown as BindingObject);
    }
    const clusterRoleBindings = objects(R.clusterrolebindings) as unknown as BindingObject[];
    this.cached = { clusterRoles, roles, roleBindings, clusterRoleBindings };
    return this.cached;
  }

  /** Creates the default ClusterRoles and ClusterRoleBindings that are missing, then fills aggregated roles. */
  ensureBootstrapPolicy(): void {
    const store = this.registry.store;
    for (const [r, objects] of [
      [R.clusterroles, bootstrapClusterRoles()],
      [R.clusterrolebindings, bootstrapClusterRoleBindings()],
    ] as const) {
      for (const obj of objects) {
        if (store.get(storeKey(r), '', obj.metadata.name!)) continue;
        // Another API server on the same etcd may create it first: that is success.
        createUnlessExists(this.registry, r, '', obj, systemContext());
      }
    }
    retryOnConflict(() => this.aggregate());
  }

  private scheduleAggregation(): void {
    if (this.aggregationPending) return;
    this.aggregationPending = true;
    setImmediate(() => {
      this.aggregationPending = false;
      try {
        retryOnConflict(() => this.aggregate());
      } catch (err) {
        log.warn('could not aggregate ClusterRoles', { err: (err as Error).message });
      }
    });
  }

  /** Writes the aggregated rules into every ClusterRole with an aggregationRule whose rules differ. */
  aggregate(): void {
    const store = this.registry.store;
    const entries = store.list(storeKey(R.clusterroles)).entries;
    const roles = entries.map((e) => e.obj as unknown as RoleObject);
    for (const e of entries) {
      const role = e.obj as unknown as RoleObject;
      const want = aggregatedRules(role, roles);
      if (!want || sameRules(role.rules, want)) continue;
      const next = clone(e.obj) as KubeObject & { rules?: unknown };
      next.rules = want;
      this.registry.update(R.clusterroles, '', e.obj.metadata.name!, next, systemContext());
    }
  }
}
