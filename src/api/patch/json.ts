// application/json-patch+json (RFC 6902) with RFC 6901 pointers. Errors name the operation and path
// the way upstream's json-patch library does, so `kubectl patch --type=json` prints familiar text.
import { PatchError } from './errors.js';
import { clone, deepEqual, isObject } from './json-value.js';

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`JSON pointer must be empty or start with a "/": ${JSON.stringify(pointer)}`, 422);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

/** The container holding the pointer's last token, or undefined when a step is missing. */
function resolveParent(doc: unknown, tokens: string[]): Container | undefined {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) {
      const i = arrayIndex(t, cur.length - 1);
      if (i === undefined) return undefined;
      cur = cur[i];
    } else if (isObject(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, t)) return undefined;
      cur = cur[t];
    } else return undefined;
  }
  return Array.isArray(cur) || isObject(cur) ? cur : undefined;
}

function arrayIndex(token: string, max: number): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const i = Number(token);
  return i <= max ? i : undefined;
}

function getValue(doc: unknown, tokens: string[]): { found: boolean; value?: unknown } {
  if (tokens.length === 0) return { found: true, value: doc };
  const parent = resolveParent(doc, tokens);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length - 1);
    return i === undefined ? { found: false } : { found: true, value: parent[i] };
  }
  if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, last)) return { found: true, value: parent[last] };
  return { found: false };
}

function add(doc: unknown, tokens: string[], value: unknown, op: string, pointer: string): unknown {
  if (tokens.length === 0) return clone(value);
  const parent = resolveParent(doc, tokens);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : arrayIndex(last, parent.length);
    if (i === undefined) throw new PatchError(`${op} operation does not apply: doc is missing path: ${JSON.stringify(pointer)}: missing value`);
    parent.splice(i, 0, clone(value));
  } else if (isObject(parent)) {
    parent[last] = clone(value);
  } else {
    throw new PatchError(`${op} operation does not apply: doc is missing path: ${JSON.stringify(pointer)}: missing value`);
  }
  return doc;
}

function remove(doc: unknown, tokens: string[], op: string, pointer: string): unknown {
  if (tokens.length === 0) return null;
  const parent = resolveParent(doc, tokens);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length - 1);
    if (i === undefined) throw new PatchError(`${op} operation does not apply: doc is missing path: ${JSON.stringify(pointer)}: missing value`);
    parent.splice(i, 1);
  } else if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, last)) {
    delete parent[last];
  } else {
    throw new PatchError(`${op} operation does not apply: doc is missing path: ${JSON.stringify(pointer)}: missing value`);
  }
  return doc;
}

function validateOperation(raw: unknown, index: number): Operation {
  if (!isObject(raw)) throw new PatchError(`invalid JSON patch: operation ${index} is not an object`, 400);
  if (typeof raw.op !== 'string') throw new PatchError(`invalid JSON patch: operation ${index} has no "op"`, 400);
  if (typeof raw.path !== 'string') throw new PatchError(`invalid JSON patch: operation ${index} (${raw.op}) has no "path"`, 400);
  const needsValue = raw.op === 'add' || raw.op === 'replace' || raw.op === 'test';
  if (needsValue && !Object.prototype.hasOwnProperty.call(raw, 'value')) throw new PatchError(`invalid JSON patch: ${raw.op} operation at ${raw.path} has no "value"`, 400);
  if ((raw.op === 'move' || raw.op === 'copy') && typeof raw.from !== 'string') throw new PatchError(`invalid JSON patch: ${raw.op} operation at ${raw.path} has no "from"`, 400);
  return raw as unknown as Operation;
}

/** kube-apiserver's limits: at most 10000 operations, and `copy` may grow the document by 3 MiB in all. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;
export const MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024;

export function jsonPatch(original: unknown, operations: unknown, maxCopyBytes = MAX_JSON_PATCH_COPY_BYTES): unknown {
  if (!Array.isArray(operations)) throw new PatchError('invalid JSON patch: the body must be a JSON array of operations', 400);
  if (operations.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new PatchError(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${operations.length}`, 413);
  }
  const ops = operations.map(validateOperation);
  let copied = 0;
  let doc = clone(original);
  for (const o of ops) {
    const tokens = parsePointer(o.path);
    switch (o.op) {
      case 'add':
        doc = add(doc, tokens, o.value, 'add', o.path);
        break;
      case 'remove':
        doc = remove(doc, tokens, 'remove', o.path);
        break;
      case 'replace': {
        if (!getValue(doc, tokens).found) throw new PatchError(`replace operation does not apply: doc is missing key: ${o.path}: missing value`);
        if (tokens.length === 0) doc = clone(o.value);
        else {
          const parent = resolveParent(doc, tokens) as Container;
          const last = tokens[tokens.length - 1];
          if (Array.isArray(parent)) parent[Number(last)] = clone(o.value);
          else parent[last] = clone(o.value);
        }
        break;
      }
      case 'move': {
        const from = parsePointer(o.from as string);
        if (tokens.length > from.length && from.every((t, i) => tokens[i] === t)) {
          throw new PatchError(`move operation does not apply: from path ${o.from} is a parent of path ${o.path}`);
        }
        const got = getValue(doc, from);
        if (!got.found) throw new PatchError(`move operation does not apply: doc is missing from path: ${o.from}: missing value`);
        doc = remove(doc, from, 'move', o.from as string);
        doc = add(doc, tokens, got.value, 'move', o.path);
        break;
      }
      case 'copy': {
        const got = getValue(doc, parsePointer(o.from as string));
        if (!got.found) throw new PatchError(`copy operation does not apply: doc is missing from path: ${JSON.stringify(o.from)}: missing value`);
        copied += JSON.stringify(got.value ?? null).length;
        if (copied > maxCopyBytes) {
          throw new PatchError(`Unable to complete the copy, the accumulated size increase of copy is ${copied}, exceeding the limit ${maxCopyBytes}`);
        }
        doc = add(doc, tokens, got.value, 'copy', o.path);
        break;
      }
      case 'test': {
        const got = getValue(doc, tokens);
        if (!got.found || !deepEqual(got.value, o.value)) throw new PatchError(`testing value ${o.path} failed: test failed`);
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${o.op}`, 400);
    }
  }
  return doc;
}
