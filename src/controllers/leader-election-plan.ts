// Leader election for the controllers, the decisions only (pure, no I/O): several `flatnet server`
// processes on one etcd run their controllers on exactly one of them, the holder of a
// coordination.k8s.io/v1 Lease, with the semantics of client-go's leader election:
//
// - a candidate may take the lease when it has no holder, or when the record it last saw has not
//   changed for a whole lease duration measured on the candidate's own clock (no clock is compared
//   across machines, so skew does not matter);
// - taking it (from someone else, or after a release) sets acquireTime and counts one more
//   leaseTransition; creating it counts none;
// - the holder renews every retry period, and stops acting when it could not renew for
//   renewDeadline (shorter than the lease duration, so it has stopped before anyone may take over);
// - a holder that stops cleanly releases the lease, so the next one need not wait.
import type { KubeObject } from '../api/types.js';

export const CONTROLLER_LEASE = { namespace: 'kube-system', name: 'kube-controller-manager' } as const;

export interface LeaderElectionTiming {
  /** How long others wait, after the record last changed, before taking the lease (upstream 15 s). */
  leaseDurationMs: number;
  /** How long the holder keeps acting without a successful renew (upstream 10 s). */
  renewDeadlineMs: number;
  /** How often the holder renews and the others retry (upstream 2 s). */
  retryPeriodMs: number;
}

/** kube-controller-manager's defaults (--leader-elect-lease-duration, -renew-deadline, -retry-period). */
export const DEFAULT_TIMING: LeaderElectionTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** Checks the three durations the way upstream's config validation does. */
export function checkTiming(t: LeaderElectionTiming): void {
  for (const [field, v] of Object.entries(t)) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`leader election: ${field} must be a positive number of milliseconds, not ${v}`);
  }
  if (t.leaseDurationMs <= t.renewDeadlineMs) throw new Error('leader election: leaseDuration must be greater than renewDeadline');
  if (t.renewDeadlineMs <= t.retryPeriodMs * 1.2) throw new Error('leader election: renewDeadline must be greater than retryPeriod*1.2');
}

/** The fields of a Lease's spec that election reads and writes. */
export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** What a candidate remembers between attempts: the record it last saw and when (its own clock). */
export interface Observation {
  record: LeaseRecord;
  /** The lease object's resourceVersion when seen (an update must carry it). */
  resourceVersion?: string;
  /** Local time (ms) at which the record was first seen with these contents. */
  observedAt: number;
}

export type Attempt =
  /** No lease yet: create it holding it. */
  | { action: 'create'; record: LeaseRecord }
  /** Write this record over the observed one (renew, or take over). */
  | { action: 'update'; record: LeaseRecord; takeover: boolean }
  /** Someone else holds a lease that is still valid. */
  | { action: 'wait'; holder: string; validForMs: number };

/** MicroTime as the Lease API writes it: RFC 3339 with microseconds, UTC. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The spec fields of a Lease object (or an empty record). */
export function leaseRecordOf(lease: KubeObject | undefined): LeaseRecord {
  const spec = (lease?.spec ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  return {
    holderIdentity: str(spec.holderIdentity),
    leaseDurationSeconds: num(spec.leaseDurationSeconds),
    acquireTime: str(spec.acquireTime),
    renewTime: str(spec.renewTime),
    leaseTransitions: num(spec.leaseTransitions),
  };
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/**
 * The observation after reading the lease: kept (with its old time) when the record did not
 * change, so a holder that stopped renewing expires a lease duration after its last change.
 */
export function observe(previous: Observation | undefined, record: LeaseRecord, resourceVersion: string | undefined, now: number): Observation {
  if (previous && sameRecord(previous.record, record)) return { record, resourceVersion, observedAt: previous.observedAt };
  return { record, resourceVersion, observedAt: now };
}

/** What `identity` should do, having read the lease (`seen` undefined: the lease does not exist). */
export function decideAttempt(identity: string, seen: Observation | undefined, now: number, timing: LeaderElectionTiming): Attempt {
  const durationSeconds = Math.ceil(timing.leaseDurationMs / 1000);
  const stamp = microTime(now);
  if (!seen) return { action: 'create', record: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: stamp, renewTime: stamp, leaseTransitions: 0 } };
  const old = seen.record;
  const holder = old.holderIdentity;
  if (holder === identity) {
    // A renew: the holder keeps its acquireTime and the transition count.
    return { action: 'update', takeover: false, record: { ...old, leaseDurationSeconds: durationSeconds, acquireTime: old.acquireTime ?? stamp, renewTime: stamp, leaseTransitions: old.leaseTransitions ?? 0 } };
  }
  if (holder) {
    // The record's own duration (what its holder promised), counted from when we saw it change.
    const validForMs = seen.observedAt + (old.leaseDurationSeconds ?? durationSeconds) * 1000 - now;
    if (validForMs > 0) return { action: 'wait', holder, validForMs };
  }
  return {
    action: 'update',
    takeover: true,
    record: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: stamp, renewTime: stamp, leaseTransitions: (old.leaseTransitions ?? 0) + 1 },
  };
}

/** True when the holder must stop acting: its last successful renew is renewDeadline old. */
export function mustStepDown(lastRenewAt: number, now: number, timing: LeaderElectionTiming): boolean {
  return now - lastRenewAt >= timing.renewDeadlineMs;
}

/** The record a holder writes when it stops cleanly: no holder, so the next candidate takes it at once. */
export function releasedRecord(old: LeaseRecord, now: number): LeaseRecord {
  const stamp = microTime(now);
  return { leaseDurationSeconds: 1, acquireTime: stamp, renewTime: stamp, leaseTransitions: old.leaseTransitions ?? 0 };
}

/** A Lease object carrying `record`, built on the stored object when there is one. */
export function leaseObject(lease: KubeObject | undefined, record: LeaseRecord): KubeObject {
  const spec: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) if (v !== undefined) spec[k] = v;
  if (lease) return { ...lease, spec };
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { namespace: CONTROLLER_LEASE.namespace, name: CONTROLLER_LEASE.name }, spec };
}
