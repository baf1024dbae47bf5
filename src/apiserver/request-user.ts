// Who sent a request, remembered by the server once access control has admitted it, for the
// writes that pass it on (ValidatingAdmissionPolicy's request.userInfo). Kept on the request
// under a private symbol (a WeakMap entry per request costs the garbage collector ephemeron work).
import type { IncomingMessage } from 'node:http';
import type { RequestUser } from './authorize.js';

const USER = Symbol('flatnet.requestUser');

type WithUser = IncomingMessage & { [USER]?: RequestUser };

export function rememberRequestUser(req: IncomingMessage, user: RequestUser | undefined): void {
  if (user) (req as WithUser)[USER] = user;
}

export function requestUserOf(req: IncomingMessage): RequestUser | undefined {
  return (req as WithUser)[USER];
}
