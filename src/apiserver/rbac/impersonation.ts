// User impersonation (Impersonate-User, -Group, -Uid, -Extra-* headers): the requester must be
// allowed the `impersonate` verb on users, groups, serviceaccounts, uids and userextras, as
// upstream checks; the request then runs as the impersonated user.
import type { IncomingMessage } from 'node:http';
import type { AuthorizerChain, RequestAttributes, RequestUser } from '../authorize.js';
import { errors } from '../errors.js';
import { GROUP_AUTHENTICATED, GROUP_SERVICEACCOUNTS, GROUP_UNAUTHENTICATED, USER_ANONYMOUS, parseServiceAccountUsername } from './types.js';

const EXTRA_PREFIX = 'impersonate-extra-';

/** Each line of `header` (lower case) on its own, from the raw headers: HTTP/2 requests have no headersDistinct. */
function values(req: IncomingMessage, header: string): string[] {
  const out: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i].toLowerCase() !== header) continue;
    const v = raw[i + 1].trim();
    if (v !== '') out.push(v);
  }
  return out;
}

/** Whether the request carries impersonation headers. */
export function wantsImpersonation(req: IncomingMessage): boolean {
  return Object.keys(req.headers).some((h) => h === 'impersonate-user' || h === 'impersonate-group' || h === 'impersonate-uid' || h.startsWith(EXTRA_PREFIX));
}

/** The user the request impersonates, after checking the requester may; throws 403 (or 400 for a malformed request). */
export function impersonate(req: IncomingMessage, requester: RequestUser, chain: AuthorizerChain): RequestUser {
  const users = values(req, 'impersonate-user');
  const groups = values(req, 'impersonate-group');
  const uids = values(req, 'impersonate-uid');
  const extra: Record<string, string[]> = {};
  for (const h of Object.keys(req.headers)) {
    if (!h.startsWith(EXTRA_PREFIX)) continue;
    let key: string;
    try {
      key = decodeURIComponent(h.slice(EXTRA_PREFIX.length));
    } catch {
      throw errors.badRequest(`impersonation header ${h} is not a valid percent-encoded key`);
    }
    extra[key] = values(req, h);
  }
  if (users.length !== 1) throw errors.badRequest('impersonation requires exactly one Impersonate-User header when Impersonate-Group, Impersonate-Uid or Impersonate-Extra-* is set');
  if (uids.length > 1) throw errors.badRequest('at most one Impersonate-Uid header may be set');
  const username = users[0];
  const check = (attrs: RequestAttributes) => chain.check(requester, attrs);
  const sa = parseServiceAccountUsername(username);
  if (sa) check({ resourceRequest: true, verb: 'impersonate', apiGroup: '', resource: 'serviceaccounts', subresource: '', namespace: sa.namespace, name: sa.name });
  else check({ resourceRequest: true, verb: 'impersonate', apiGroup: '', resource: 'users', subresource: '', namespace: '', name: username });
  for (const g of groups) check({ resourceRequest: true, verb: 'impersonate', apiGroup: '', resource: 'groups', subresource: '', namespace: '', name: g });
  for (const u of uids) check({ resourceRequest: true, verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'uids', subresource: '', namespace: '', name: u });
  for (const [key, vals] of Object.entries(extra)) {
    for (const v of vals) check({ resourceRequest: true, verb: 'impersonate', apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, namespace: '', name: v });
  }
  const resultGroups = [...groups];
  if (sa && groups.length === 0) resultGroups.push(GROUP_SERVICEACCOUNTS, `${GROUP_SERVICEACCOUNTS}:${sa.namespace}`);
  const marker = username === USER_ANONYMOUS ? GROUP_UNAUTHENTICATED : GROUP_AUTHENTICATED;
  if (!resultGroups.includes(marker)) resultGroups.push(marker);
  const user: RequestUser = { kind: 'impersonated', username, groups: resultGroups };
  if (uids[0]) user.uid = uids[0];
  if (Object.keys(extra).length > 0) user.extra = extra;
  return user;
}
