// Which updates of an object can change what the route model computes from it. Gateways, routes
// and GatewayClasses are read through their spec, identity and generation only (never their
// status, labels or annotations), so an update that leaves those alone (a status write: the
// controller writes every new route's status and the Gateway's attachedRoutes) changes no
// routing table, and a proxy need not recompute for it.
import type { KubeObject } from '../../api/types.js';
import { sameValue } from './objects.js';

/** True when `next` may make the route model answer differently than `prev` did. */
export function modelInputsChanged(prev: KubeObject, next: KubeObject): boolean {
  const a = prev.metadata ?? {};
  const b = next.metadata ?? {};
  if (a.uid !== b.uid || a.name !== b.name || a.namespace !== b.namespace) return true;
  if (a.generation !== b.generation || a.creationTimestamp !== b.creationTimestamp || a.deletionTimestamp !== b.deletionTimestamp) return true;
  return !sameValue(prev.spec, next.spec);
}

/** The world fields whose objects the model reads as above (spec, identity, generation). */
export const SPEC_ONLY_FIELDS: ReadonlySet<string> = new Set(['gatewayClasses', 'gateways', 'httpRoutes', 'grpcRoutes', 'tlsRoutes', 'tcpRoutes', 'udpRoutes']);
