// Small readers over API objects as JSON: the model never trusts a field's shape, so every
// accessor tolerates absent or mistyped values (a bad object gets a condition, never a throw).
import type { KubeObject } from '../../api/types.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export type Json = Record<string, unknown>;

export function asRecord(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function asNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function specOf(o: KubeObject): Json {
  return asRecord(o.spec);
}

export function nameOf(o: KubeObject): string {
  return o.metadata?.name ?? '';
}

export function namespaceOf(o: KubeObject): string {
  return o.metadata?.namespace ?? 'default';
}

/** `namespace/name`. */
export function keyOf(o: KubeObject): string {
  return `${namespaceOf(o)}/${nameOf(o)}`;
}

export function generationOf(o: KubeObject): number {
  return o.metadata?.generation ?? 0;
}

/** The creation timestamp as an ISO string ('' when absent: sorts as oldest). */
export function createdOf(o: KubeObject): string {
  return o.metadata?.creationTimestamp ?? '';
}

/** Group the objects by a key. */
export function indexBy<T>(items: T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Deep equality of two JSON-like values (plain objects, arrays, primitives; a key holding
 * undefined counts as absent), true at once for the same object: values built from mostly
 * unchanged objects share most of their parts, so this is much cheaper than comparing JSON texts.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!sameValue(ra[k], rb[k])) return false;
  return true;
}
