// Small pure helpers the API machinery uses on JSON objects: deep equality, timestamps,
// generated names and the name formats upstream enforces.
import { randomInt } from 'node:crypto';
import type { FieldError } from '../api/validation/index.js';
import { nowSecondTimestamp, secondTimestamp } from '../api/meta-time.js';

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let count = 0;
  for (const k in ao) {
    if (ao[k] === undefined) continue;
    count++;
    if (!deepEqual(ao[k], bo[k])) return false;
  }
  for (const k in bo) if (bo[k] !== undefined) count--;
  return count === 0;
}

/** Equal apart from the named top-level fields. */
export function equalExcept(a: Record<string, unknown>, b: Record<string, unknown>, skip: readonly string[]): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (skip.includes(k)) continue;
    if (!deepEqual(a[k], b[k])) return false;
  }
  return true;
}

export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** RFC 3339 with seconds, as metav1.Time serializes (now when no date is given). */
export function timestamp(date?: Date): string {
  return date === undefined ? nowSecondTimestamp() : secondTimestamp(date);
}

const suffixAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** The 5 random characters upstream appends to generateName. */
export function generatedName(prefix: string): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += suffixAlphabet[randomInt(suffixAlphabet.length)];
  const maxPrefix = 63 - 5;
  return (prefix.length > maxPrefix ? prefix.slice(0, maxPrefix) : prefix) + s;
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** The format a resource's names must have (each resource's strategy names its own: strategy/). */
export type NameFormat = 'subdomain' | 'label' | 'dns1035' | 'path';

/** Upstream's messages for a name that does not fit its format. */
export function validateName(name: string, format: NameFormat, field = 'metadata.name'): FieldError[] {
  const errs: FieldError[] = [];
  const q = JSON.stringify(name);
  if (format === 'path') {
    if (name === '.' || name === '..') errs.push({ type: 'FieldValueInvalid', field, message: `Invalid value: ${q}: may not be '${name}'` });
    for (const c of ['/', '%']) if (name.includes(c)) errs.push({ type: 'FieldValueInvalid', field, message: `Invalid value: ${q}: may not contain '${c}'` });
  } else if (format === 'subdomain') {
    if (name.length > 253) errs.push({ type: 'FieldValueInvalid', field, message: `Invalid value: ${q}: must be no more than 253 characters` });
    if (!dns1123Subdomain.test(name)) {
      errs.push({
        type: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${q}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      });
    }
  } else if (format === 'label') {
    if (name.length > 63) errs.push({ type: 'FieldValueInvalid', field, message: `Invalid value: ${q}: must be no more than 63 characters` });
    if (!dns1123Label.test(name)) {
      errs.push({
        type: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${q}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      });
    }
  } else {
    if (name.length > 63) errs.push({ type: 'FieldValueInvalid', field, message: `Invalid value: ${q}: must be no more than 63 characters` });
    if (!dns1035Label.test(name)) {
      errs.push({
        type: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${q}: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      });
    }
  }
  return errs;
}

/** Field errors without duplicates (the same field and message from two validators). */
export function uniqueErrors(errs: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errs.filter((e) => {
    const k = `${e.field}\0${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
