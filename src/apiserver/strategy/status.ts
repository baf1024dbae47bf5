// Writes to the status subresource, as each upstream 1.32 status strategy's PrepareForUpdate and
// the generic BeforeUpdate make them: the request's object is stored, except that what the kind's
// strategy resets comes from the stored object (spec for every built-in kind; labels for
// Deployments; ownerReferences for Pods; labels, annotations, ownerReferences and generation for
// CRDs), and what no update may change (uid, creationTimestamp, deletionTimestamp, generation)
// stays. Custom resources (and the Gateway API kinds, CRDs upstream) keep the whole stored object
// but status and managedFields.
import type { KubeObject } from '../../api/types.js';
import { clone } from '../objects.js';

/** A part of the stored object a status write may not change, beyond what no update may. */
export type StatusReset = 'spec' | 'labels' | 'annotations' | 'ownerReferences' | 'generation';

/** PrepareForUpdate of a status write: the object to store from the request `body` and the stored `old`. */
export type StatusUpdate = (body: KubeObject, old: KubeObject) => KubeObject;

/** What BeforeUpdate keeps from the stored object on every update. */
function keepImmutableMetadata(next: KubeObject, old: KubeObject): void {
  const m = next.metadata;
  const o = old.metadata;
  m.uid = o.uid;
  m.creationTimestamp = o.creationTimestamp;
  for (const field of ['deletionTimestamp', 'generation'] as const) {
    if (o[field] === undefined) delete m[field];
    else (m as Record<string, unknown>)[field] = o[field];
  }
  if (o.deletionGracePeriodSeconds !== undefined && m.deletionGracePeriodSeconds === undefined) m.deletionGracePeriodSeconds = o.deletionGracePeriodSeconds;
  // A body without managedFields keeps the stored ones (the field manager then records the write).
  if (m.managedFields === undefined && o.managedFields !== undefined) m.managedFields = o.managedFields;
}

function restore(target: Record<string, unknown>, source: Record<string, unknown>, key: string): void {
  if (source[key] === undefined) delete target[key];
  else target[key] = clone(source[key]);
}

/** The request's object with `resets` taken from the stored one. */
export function statusUpdateResetting(resets: readonly StatusReset[], after?: (next: KubeObject, old: KubeObject) => void): StatusUpdate {
  return (body, old) => {
    const next = body;
    next.metadata ??= {};
    keepImmutableMetadata(next, old);
    for (const key of resets) {
      if (key === 'spec') restore(next as unknown as Record<string, unknown>, old as unknown as Record<string, unknown>, 'spec');
      else restore(next.metadata as Record<string, unknown>, old.metadata as Record<string, unknown>, key);
    }
    after?.(next, old);
    return next;
  };
}

/** The most common rule: a status write never changes spec. */
export const specResetStatusUpdate = statusUpdateResetting(['spec']);

/** Custom resources: the stored object with the request's status (absent: none) and managedFields. */
export const statusOnlyUpdate: StatusUpdate = (body, old) => {
  const next = clone(old);
  if (body.status === undefined) delete next.status;
  else next.status = body.status;
  if (body.metadata?.managedFields !== undefined) next.metadata.managedFields = body.metadata.managedFields;
  return next;
};

/** Pods: the QoS class is the server's and is backfilled when a status write drops it. */
export function podQosClass(next: KubeObject, old: KubeObject): void {
  const status = (next.status ??= {}) as { qosClass?: string };
  const before = (old.status as { qosClass?: string } | undefined)?.qosClass;
  if (!status.qosClass && before) status.qosClass = before;
}
