// Bindings indexed by the subjects they name, so a request looks only at the bindings that can
// apply to its user instead of walking every binding (upstream's RBAC authorizer walks them all;
// kube-apiserver makes that cheap with its informer indexes). An index belongs to one RbacWorld,
// which the policy replaces after any RBAC object changes, so the index is rebuilt only then.
import type { BindingObject, RbacWorld, UserInfo } from './types.js';

/** The bindings of one list (all ClusterRoleBindings, or one namespace's RoleBindings) by subject. */
export interface SubjectIndex {
  readonly bindings: readonly BindingObject[];
  /** username (ServiceAccounts as system:serviceaccount:<ns>:<name>) -> positions in `bindings`, ascending */
  readonly byUser: ReadonlyMap<string, readonly number[]>;
  /** group -> positions in `bindings`, ascending */
  readonly byGroup: ReadonlyMap<string, readonly number[]>;
}

export interface WorldIndex {
  cluster: SubjectIndex;
  /** namespace -> index of its RoleBindings */
  namespaced: ReadonlyMap<string, SubjectIndex>;
}

function push(map: Map<string, number[]>, key: string, at: number): void {
  const list = map.get(key);
  if (!list) map.set(key, [at]);
  else if (list[list.length - 1] !== at) list.push(at);
}

/** The index of `bindings`; `bindingNamespace` is theirs ('' for ClusterRoleBindings), the default of a ServiceAccount subject. */
export function indexBindings(bindings: readonly BindingObject[], bindingNamespace: string): SubjectIndex {
  const byUser = new Map<string, number[]>();
  const byGroup = new Map<string, number[]>();
  bindings.forEach((b, at) => {
    for (const s of b.subjects ?? []) {
      if (s.kind === 'User') push(byUser, s.name, at);
      else if (s.kind === 'Group') push(byGroup, s.name, at);
      else if (s.kind === 'ServiceAccount') {
        const ns = s.namespace || bindingNamespace;
        if (ns) push(byUser, `system:serviceaccount:${ns}:${s.name}`, at);
      }
    }
  });
  return { bindings, byUser, byGroup };
}

/** The bindings of `index` that name `user` (by name, ServiceAccount or one of its groups), in their list order. */
export function bindingsFor(index: SubjectIndex, user: UserInfo): BindingObject[] {
  return bindingPositions(index, user).map((at) => index.bindings[at]);
}

/** The positions in `index.bindings` of the bindings that name `user`, ascending (no copy when one key matches). */
export function bindingPositions(index: SubjectIndex, user: UserInfo): readonly number[] {
  const byName = index.byUser.get(user.username);
  let positions: readonly number[] = byName ?? [];
  let merged = false;
  for (const g of user.groups) {
    const more = index.byGroup.get(g);
    if (!more) continue;
    if (positions.length === 0) positions = more;
    else {
      positions = [...positions, ...more];
      merged = true;
    }
  }
  if (merged) positions = [...new Set(positions)].sort((a, b) => a - b);
  return positions;
}

const indexes = new WeakMap<RbacWorld, WorldIndex>();

/** The index of `world`, built on first use and kept as long as the world is. */
export function indexOf(world: RbacWorld): WorldIndex {
  let index = indexes.get(world);
  if (!index) {
    const namespaced = new Map<string, SubjectIndex>();
    for (const [ns, list] of world.roleBindings) namespaced.set(ns, indexBindings(list, ns));
    index = { cluster: indexBindings(world.clusterRoleBindings, ''), namespaced };
    indexes.set(world, index);
  }
  return index;
}
