// metav1.Status errors as kube-apiserver words them: the HTTP code, reason, message and details
// (kind = the resource's plural, group) every client keys its behaviour on.
import type { ResourceInfo } from '../api/resources.js';
import type { Status, StatusCause } from '../api/types.js';
import type { FieldError } from '../api/validation/index.js';

export class ApiStatusError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
    this.name = 'ApiStatusError';
  }
  get code(): number {
    return this.status.code ?? 500;
  }
}

export function statusOf(code: number, reason: string, message: string, details?: Status['details']): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) s.details = details;
  return s;
}

function fail(code: number, reason: string, message: string, details?: Status['details']): ApiStatusError {
  return new ApiStatusError(statusOf(code, reason, message, details));
}

/** `pods`, `deployments.apps`: how upstream names a resource in messages. */
export function qualifiedResource(r: Pick<ResourceInfo, 'group' | 'plural'>): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

function details(r: Pick<ResourceInfo, 'group' | 'plural'>, name?: string): Status['details'] {
  const d: NonNullable<Status['details']> = { kind: r.plural };
  if (name !== undefined) d.name = name;
  if (r.group) d.group = r.group;
  return d;
}

export const errors = {
  notFound: (r: Pick<ResourceInfo, 'group' | 'plural'>, name: string) => fail(404, 'NotFound', `${qualifiedResource(r)} "${name}" not found`, details(r, name)),
  alreadyExists: (r: Pick<ResourceInfo, 'group' | 'plural'>, name: string) => fail(409, 'AlreadyExists', `${qualifiedResource(r)} "${name}" already exists`, details(r, name)),
  conflict: (r: Pick<ResourceInfo, 'group' | 'plural'>, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
    fail(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(r)} "${name}": ${why}`, details(r, name)),
  forbidden: (r: Pick<ResourceInfo, 'group' | 'plural'>, name: string, why: string) => fail(403, 'Forbidden', `${qualifiedResource(r)} "${name}" is forbidden: ${why}`, details(r, name)),
  invalid: (r: Pick<ResourceInfo, 'group' | 'plural' | 'kind'>, name: string, causes: FieldError[]) => {
    const parts = causes.map((c) => `${c.field}: ${c.message}`);
    const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
    const d = details(r, name)!;
    d.kind = r.kind;
    d.causes = causes.map((c): StatusCause => ({ reason: c.type, message: c.message, field: c.field }));
    return fail(422, 'Invalid', `${r.kind} "${name}" is invalid: ${summary}`, d);
  },
  badRequest: (message: string) => fail(400, 'BadRequest', message),
  methodNotAllowed: (message = 'the server does not allow this method on the requested resource') => fail(405, 'MethodNotAllowed', message),
  unsupportedMediaType: (message: string) => fail(415, 'UnsupportedMediaType', message),
  tooLarge: (limit: number) => fail(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`),
  objectTooLarge: (why: string) => fail(413, 'RequestEntityTooLarge', `Request entity too large: ${why}`),
  unauthorized: () => fail(401, 'Unauthorized', 'Unauthorized'),
  expired: (message: string) => fail(410, 'Expired', message),
  gone: (message: string) => fail(410, 'Gone', message),
  // details {} as upstream's NotFound handler sends (kubectl debug reads details.name to tell an absent subresource).
  pathNotFound: () => fail(404, 'NotFound', 'the server could not find the requested resource', {}),
  serviceUnavailable: (message: string) => fail(503, 'ServiceUnavailable', message),
  tooLargeResourceVersion: (requested: number, current: number) =>
    new ApiStatusError({
      ...statusOf(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 }),
    }),
  internal: (message: string) => fail(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
};
