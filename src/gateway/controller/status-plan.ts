// What the gateway controller writes into status subresources, as pure functions: each takes an
// object's current status and what the model wants, and answers the new status, or undefined when
// nothing would change (so an unchanged object is never written).
import { canonicalJSON } from '../../controllers/names.js';
import type { Condition, GatewayStatus, ParentRef, RouteParentStatus } from '../model/types.js';
import { mergeConditions, type WrittenCondition } from './conditions.js';

type Status = Record<string, unknown>;

function conditionsOf(v: unknown): WrittenCondition[] | undefined {
  return Array.isArray(v) ? (v as WrittenCondition[]) : undefined;
}

function same(a: unknown, b: unknown): boolean {
  return canonicalJSON(a ?? null) === canonicalJSON(b ?? null);
}

/** A GatewayClass's status with the model's conditions. */
export function gatewayClassStatus(current: Status | undefined, wanted: readonly Condition[], now: string): Status | undefined {
  const conditions = mergeConditions(conditionsOf(current?.conditions), wanted, now);
  if (same(current?.conditions, conditions)) return undefined;
  return { ...(current ?? {}), conditions };
}

/** A Gateway's status: addresses, conditions and listeners (each listener's conditions kept by name). */
export function gatewayStatus(current: Status | undefined, wanted: GatewayStatus, now: string): Status | undefined {
  const oldListeners = Array.isArray(current?.listeners) ? (current.listeners as { name?: string; conditions?: WrittenCondition[] }[]) : [];
  const next: Status = {
    ...(current ?? {}),
    addresses: wanted.addresses.map((a) => ({ type: a.type, value: a.value })),
    conditions: mergeConditions(conditionsOf(current?.conditions), wanted.conditions, now),
    listeners: wanted.listeners.map((l) => ({
      name: l.name,
      supportedKinds: l.supportedKinds.map((k) => ({ group: k.group, kind: k.kind })),
      attachedRoutes: l.attachedRoutes,
      conditions: mergeConditions(oldListeners.find((o) => o.name === l.name)?.conditions, l.conditions, now),
    })),
  };
  if (same(current?.addresses, next.addresses) && same(current?.conditions, next.conditions) && same(current?.listeners, next.listeners)) return undefined;
  return next;
}

interface ParentEntry {
  parentRef?: ParentRef;
  controllerName?: string;
  conditions?: WrittenCondition[];
}

/** A parentRef with the API's defaults filled in, for comparing two spellings of the same parent. */
function parentKey(ref: ParentRef | undefined): string {
  return canonicalJSON({
    group: ref?.group ?? 'gateway.networking.k8s.io',
    kind: ref?.kind ?? 'Gateway',
    namespace: ref?.namespace,
    name: ref?.name,
    sectionName: ref?.sectionName,
    port: ref?.port,
  });
}

/**
 * A route's status.parents: entries of other controllers kept as they are, ours replaced by the
 * model's (none when the model has none for this route, so parents that stopped pointing at our
 * Gateways lose our entry).
 */
export function routeStatus(current: Status | undefined, controllerName: string, wanted: readonly RouteParentStatus[], now: string): Status | undefined {
  const parents = Array.isArray(current?.parents) ? (current.parents as ParentEntry[]) : [];
  const foreign = parents.filter((p) => p.controllerName !== controllerName);
  const oldOurs = parents.filter((p) => p.controllerName === controllerName);
  const ours = wanted.map((w) => {
    const old = oldOurs.find((o) => parentKey(o.parentRef) === parentKey(w.parentRef));
    return { parentRef: { ...w.parentRef }, controllerName: w.controllerName, conditions: mergeConditions(old?.conditions, w.conditions, now) };
  });
  const next = [...foreign, ...ours];
  if (same(parents, next)) return undefined;
  return { ...(current ?? {}), parents: next };
}

/** An Ingress's status.loadBalancer.ingress. */
export function ingressStatus(current: Status | undefined, wanted: readonly { ip: string }[]): Status | undefined {
  const lb = (current?.loadBalancer ?? {}) as { ingress?: unknown[] };
  const ingress = wanted.map((w) => ({ ip: w.ip }));
  if (same(lb.ingress ?? [], ingress)) return undefined;
  return { ...(current ?? {}), loadBalancer: ingress.length > 0 ? { ...lb, ingress } : {} };
}
