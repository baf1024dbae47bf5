// Who sent a request, remembered by the server once access control has admitted it, for the
// writes that pass it on (ValidatingAdmissionPolicy's request.userInfo).
import type { IncomingMessage } from 'node:http';
import type { RequestUser } from './authorize.js';

const users = new WeakMap<IncomingMessage, RequestUser>();

export function rememberRequestUser(req: IncomingMessage, user: RequestUser | undefined): void {
  if (user) users.set(req, user);
}

export function requestUserOf(req: IncomingMessage): RequestUser | undefined {
  return users.get(req);
}
