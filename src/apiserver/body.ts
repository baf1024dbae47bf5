// Reading and decoding request bodies: a 3 MiB limit (413 beyond), JSON, YAML and Kubernetes
// protobuf (kubectl 1.32 sends protobuf for `create <generator>`), each with the decoder's own
// message in the 400 answer.
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { errors } from './errors.js';
import { decodeProtobufObject, UnsupportedProtobufKind } from './present/index.js';

export const BODY_LIMIT = 3 * 1024 * 1024;
/**
 * The deepest nesting of arrays and objects a body may have. Go's decoder stops at 10000; flatnet's
 * object machinery recurses, so it stops earlier, far above anything a Kubernetes object needs.
 */
export const MAX_NESTING_DEPTH = 1000;

function tooDeep(): never {
  throw errors.badRequest(`the request body is nested too deeply: exceeded max depth of ${MAX_NESTING_DEPTH}`);
}

/** True when the JSON text nests arrays/objects deeper than `limit` (scanned before parsing). */
export function jsonNestsDeeperThan(body: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** True when a decoded value nests deeper than `limit` (iterative: deep input cannot overflow it). */
export function valueNestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
  }
  return false;
}

export function readBody(req: IncomingMessage, limit = BODY_LIMIT): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume();
    return Promise.reject(errors.tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(errors.tooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

function decodeJson(body: Buffer): unknown {
  // Nesting deeper than the limit takes more opening brackets than a shorter body has bytes.
  if (body.length > MAX_NESTING_DEPTH && jsonNestsDeeperThan(body, MAX_NESTING_DEPTH)) tooDeep();
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw errors.badRequest(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}

function decodeYaml(body: Buffer): unknown {
  let value: unknown;
  try {
    value = parseYaml(body.toString('utf8'));
  } catch (err) {
    throw errors.badRequest(`the request body is not valid YAML: ${(err as Error).message}`);
  }
  if (valueNestsDeeperThan(value, MAX_NESTING_DEPTH)) tooDeep();
  return value;
}

const ACCEPTED = 'application/json, application/yaml, application/vnd.kubernetes.protobuf';

/** An object body of a create or update. */
export function decodeObject(body: Buffer, contentType: string | undefined): unknown {
  const type = mediaType(contentType);
  if (body.length === 0) throw errors.badRequest('the request has no body; send the object as JSON or YAML');
  switch (type) {
    case '':
    case 'application/json':
      return decodeJson(body);
    case 'application/yaml':
    case 'application/x-yaml':
    case 'text/yaml':
      return decodeYaml(body);
    case 'application/vnd.kubernetes.protobuf':
      try {
        return decodeProtobufObject(body);
      } catch (err) {
        if (err instanceof UnsupportedProtobufKind) throw errors.unsupportedMediaType(err.message);
        throw errors.badRequest(`the protobuf request body could not be decoded: ${(err as Error).message}`);
      }
    default:
      throw errors.unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: ${ACCEPTED}`);
  }
}

export type PatchContent = 'merge' | 'json' | 'strategic' | 'apply';

const patchTypes: Record<string, PatchContent> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export function decodePatch(body: Buffer, contentType: string | undefined): { kind: PatchContent; patch: unknown } {
  const kind = patchTypes[mediaType(contentType)];
  if (!kind) {
    throw errors.unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: ${Object.keys(patchTypes).join(', ')}`);
  }
  if (body.length === 0) throw errors.badRequest('the patch is empty');
  return { kind, patch: kind === 'apply' ? decodeYaml(body) : decodeJson(body) };
}
