import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginCodes, MAX_CODES_PER_USER, MAX_SESSIONS_PER_USER, Sessions, sessionCookie, sessionIdFromCookie, type Holder } from '../../../src/ui/sessions.js';
import { loginCodeTtlMs } from '../../../src/ui/routes.js';
import type { RequestUser } from '../../../src/apiserver/authorize.js';

const aliceUser: RequestUser = { kind: 'serviceaccount', username: 'system:serviceaccount:a:alice', groups: ['system:authenticated'] } as RequestUser;
const alice: Holder = { user: aliceUser, credential: { kind: 'token', token: 'alice-token' } };

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('a login code redeems once, for the identity it was issued to', () => {
  const c = clock();
  const codes = new LoginCodes(c.now, 60_000);
  const { code, expires } = codes.issue(alice);
  assert.match(code, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(expires, 1_060_000);
  assert.deepEqual(codes.redeem(code), { ok: true, ...alice });
  const again = codes.redeem(code);
  assert.equal(again.ok, false);
  assert.match((again as { reason: string }).reason, /unknown or was already used/);
  assert.equal(codes.redeem('made-up').ok, false);
});

test('a login code expires at its TTL, and trying it spends it', () => {
  const c = clock();
  const codes = new LoginCodes(c.now, 60_000);
  const early = codes.issue(alice).code;
  const late = codes.issue(alice).code;
  c.advance(59_999);
  assert.equal(codes.redeem(early).ok, true, 'valid up to the last millisecond');
  c.advance(1);
  const r = codes.redeem(late);
  assert.equal(r.ok, false);
  assert.match((r as { reason: string }).reason, /expired \(a link is valid for 60 s\)/);
  assert.equal(codes.redeem(late).ok, false);
  assert.match((codes.redeem(late) as { reason: string }).reason, /unknown or was already used/);
});

test('codes are distinct and expired ones are swept when new ones are issued', () => {
  const c = clock();
  const codes = new LoginCodes(c.now, 1_000);
  const seen = new Set(Array.from({ length: 50 }, () => codes.issue(alice).code));
  assert.equal(seen.size, 50);
  c.advance(1_000);
  codes.issue(alice);
  assert.equal(codes.size, 1);
});

test('a session acts as its user until it expires or is closed', () => {
  const c = clock();
  const sessions = new Sessions(c.now, 10_000);
  const { id } = sessions.open(alice);
  assert.deepEqual(sessions.get(id), alice);
  assert.equal(sessions.get(undefined), undefined);
  assert.equal(sessions.get('forged'), undefined);
  c.advance(10_000);
  assert.equal(sessions.get(id), undefined);
  const other = sessions.open(alice).id;
  sessions.close(other);
  assert.equal(sessions.get(other), undefined);
});

test('the cookie is HttpOnly, SameSite=Strict, scoped to /ui, Secure over TLS; and is found among others', () => {
  assert.equal(sessionCookie('abc', 60, true), 'flatnet_ui_session=abc; Path=/ui; Max-Age=60; HttpOnly; SameSite=Strict; Secure');
  assert.equal(sessionCookie('abc', 60, false), 'flatnet_ui_session=abc; Path=/ui; Max-Age=60; HttpOnly; SameSite=Strict');
  assert.equal(sessionIdFromCookie('a=1; flatnet_ui_session=xyz; b=2'), 'xyz');
  assert.equal(sessionIdFromCookie('flatnet_ui_session='), undefined);
  assert.equal(sessionIdFromCookie('other=1'), undefined);
  assert.equal(sessionIdFromCookie(undefined), undefined);
});

test('FLATNET_UI_LOGIN_TTL_SECONDS sets the link lifetime; a bad value is named', () => {
  assert.equal(loginCodeTtlMs({}), 60_000);
  assert.equal(loginCodeTtlMs({ FLATNET_UI_LOGIN_TTL_SECONDS: '5' }), 5_000);
  assert.throws(() => loginCodeTtlMs({ FLATNET_UI_LOGIN_TTL_SECONDS: 'soon' }), /FLATNET_UI_LOGIN_TTL_SECONDS: "soon"/);
  assert.throws(() => loginCodeTtlMs({ FLATNET_UI_LOGIN_TTL_SECONDS: '3600' }), /from 0 to 600/);
});

test('one identity holds a bounded number of codes and sessions; its oldest give way, others keep theirs', () => {
  const c = clock();
  const bob: Holder = { user: { ...aliceUser, username: 'bob' }, credential: { kind: 'token', token: 'bob-token' } };
  const codes = new LoginCodes(c.now, 60_000);
  const bobs = codes.issue(bob).code;
  const alices = Array.from({ length: MAX_CODES_PER_USER + 5 }, () => codes.issue(alice).code);
  assert.equal(codes.size, MAX_CODES_PER_USER + 1);
  assert.match((codes.redeem(alices[0]) as { reason: string }).reason, /unknown or was already used/);
  assert.equal(codes.redeem(alices.at(-1)!).ok, true);
  assert.equal(codes.redeem(bobs).ok, true, "another identity's code is untouched");

  const sessions = new Sessions(c.now, 10_000);
  const first = sessions.open(alice).id;
  for (let i = 0; i < MAX_SESSIONS_PER_USER; i++) sessions.open(alice);
  assert.equal(sessions.size, MAX_SESSIONS_PER_USER);
  assert.equal(sessions.get(first), undefined, 'the oldest session was logged out');
});
