// Writes of the built-in objects every API server makes at start (namespaces, the bootstrap RBAC
// policy, aggregated ClusterRoles, the `kubernetes` Service). Several servers on one etcd start
// together and race on them: a create that another server won (409 AlreadyExists) has what it
// wanted, and an update that lost (409 Conflict) is decided again from the state that won, as
// kube-apiserver's bootstrap hooks do. Never a failed start-up.
import type { ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { ApiStatusError } from './errors.js';
import type { Registry, WriteContext } from './registry.js';

/** How often a bootstrap update is redone after losing a race: each round of a race has a winner. */
const ATTEMPTS = 16;

function isReason(err: unknown, reason: string): boolean {
  return err instanceof ApiStatusError && err.status.reason === reason;
}

/** Creates `obj` unless another writer already has; true when this call created it. */
export function createUnlessExists(registry: Registry, r: ResourceInfo, ns: string, obj: KubeObject, ctx: WriteContext): boolean {
  try {
    registry.create(r, ns, obj, ctx);
    return true;
  } catch (err) {
    if (isReason(err, 'AlreadyExists')) return false;
    throw err;
  }
}

/**
 * Runs `step` (which must read the current state itself) again while it loses a race to another
 * writer (409 Conflict); a step that keeps losing after every attempt throws the last Conflict.
 */
export function retryOnConflict<T>(step: () => T): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return step();
    } catch (err) {
      if (!isReason(err, 'Conflict') || attempt >= ATTEMPTS) throw err;
    }
  }
}
