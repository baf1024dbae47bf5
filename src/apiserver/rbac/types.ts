// The rbac.authorization.k8s.io/v1 objects as the authorizer reads them, and who a request is.
import type { LabelSelector } from '../../api/label-selector.js';

/** An authenticated (or anonymous) identity, as upstream's user.Info. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string; // User, Group, ServiceAccount
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: string; // Role, ClusterRole
  name: string;
}

export interface RoleObject {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  rules?: PolicyRule[] | null;
  aggregationRule?: { clusterRoleSelectors?: LabelSelector[] | null } | null;
}

export interface BindingObject {
  metadata: { name?: string; namespace?: string };
  subjects?: Subject[] | null;
  roleRef: RoleRef;
}

/** Everything the RBAC authorizer decides from. */
export interface RbacWorld {
  clusterRoles: ReadonlyMap<string, RoleObject>;
  /** key: `<namespace>/<name>` */
  roles: ReadonlyMap<string, RoleObject>;
  clusterRoleBindings: readonly BindingObject[];
  /** namespace -> its RoleBindings */
  roleBindings: ReadonlyMap<string, readonly BindingObject[]>;
}

export const GROUP_AUTHENTICATED = 'system:authenticated';
export const GROUP_UNAUTHENTICATED = 'system:unauthenticated';
export const GROUP_MASTERS = 'system:masters';
export const GROUP_SERVICEACCOUNTS = 'system:serviceaccounts';
export const USER_ANONYMOUS = 'system:anonymous';
export const SERVICEACCOUNT_PREFIX = 'system:serviceaccount:';

export function serviceAccountUser(namespace: string, name: string, uid?: string, extra?: Record<string, string[]>): UserInfo {
  const user: UserInfo = {
    username: `${SERVICEACCOUNT_PREFIX}${namespace}:${name}`,
    groups: [GROUP_SERVICEACCOUNTS, `${GROUP_SERVICEACCOUNTS}:${namespace}`, GROUP_AUTHENTICATED],
  };
  if (uid) user.uid = uid;
  if (extra && Object.keys(extra).length > 0) user.extra = extra;
  return user;
}

/** `system:serviceaccount:<ns>:<name>` -> { namespace, name }, else undefined. */
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICEACCOUNT_PREFIX)) return undefined;
  const parts = username.slice(SERVICEACCOUNT_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}
