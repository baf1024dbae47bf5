// Health check aggregation as kube-apiserver prints it: verbose lines, failures always verbose
// with the reason withheld, exclusions, unknown exclusions, one check by name, and which
// endpoint runs which checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthChecks, ShutdownState, evaluateHealth, evaluateOneCheck, logCheck, pingCheck, type HealthCheck } from '../../../src/apiserver/health.js';
import { storeCheck } from '../../../src/apiserver/health-checks.js';

const ok = (name: string): HealthCheck => ({ name, check: () => undefined });
const bad = (name: string, why: string): HealthCheck => ({
  name,
  check: () => {
    throw new Error(why);
  },
});
const q = (s = '') => new URLSearchParams(s);

test('all passing: "ok", or with ?verbose one line per check and "<endpoint> check passed"', async () => {
  const checks = [pingCheck, ok('log'), ok('etcd')];
  assert.deepEqual(await evaluateHealth('livez', checks, q()), { status: 200, body: 'ok', failures: [] });
  const v = await evaluateHealth('readyz', checks, q('verbose'));
  assert.equal(v.status, 200);
  assert.equal(v.body, '[+]ping ok\n[+]log ok\n[+]etcd ok\nreadyz check passed\n');
  assert.equal((await evaluateHealth('healthz', checks, q('verbose=true'))).body.split('\n').at(-2), 'healthz check passed');
});

test('a failure: 500, always verbose, the reason withheld from the body and kept for the log', async () => {
  const checks = [pingCheck, bad('etcd', 'database is closed'), ok('shutdown')];
  const r = await evaluateHealth('readyz', checks, q());
  assert.equal(r.status, 500);
  assert.equal(r.body, '[+]ping ok\n[-]etcd failed: reason withheld\n[+]shutdown ok\nreadyz check failed\n');
  assert.deepEqual(r.failures, [{ name: 'etcd', reason: 'database is closed' }]);
  assert.ok(!r.body.includes('database is closed'));
});

test('an async check that rejects fails like one that throws', async () => {
  const r = await evaluateHealth('livez', [{ name: 'slow', check: () => Promise.reject(new Error('no')) }], q());
  assert.equal(r.status, 500);
  assert.equal(r.body, '[-]slow failed: reason withheld\nlivez check failed\n');
});

test('?exclude skips a check (even a failing one); an unknown name is warned about, quoted and sorted', async () => {
  const checks = [pingCheck, bad('etcd', 'down')];
  const r = await evaluateHealth('readyz', checks, q('verbose&exclude=etcd'));
  assert.equal(r.status, 200);
  assert.equal(r.body, '[+]ping ok\n[+]etcd excluded: ok\nreadyz check passed\n');
  const w = await evaluateHealth('readyz', checks, q('verbose&exclude=etcd&exclude=zeta&exclude=alpha'));
  assert.equal(w.body, '[+]ping ok\n[+]etcd excluded: ok\nwarn: some health checks cannot be excluded: no matches for "alpha","zeta"\nreadyz check passed\n');
  assert.equal((await evaluateHealth('readyz', checks, q('exclude=etcd'))).body, 'ok');
});

test('one check by name: "ok", or 500 with the reason; an unknown name is 404', async () => {
  const checks = [pingCheck, bad('etcd', 'database is closed')];
  assert.deepEqual(await evaluateOneCheck(checks, 'ping'), { status: 200, body: 'ok', failures: [] });
  const r = await evaluateOneCheck(checks, 'etcd');
  assert.equal(r.status, 500);
  assert.equal(r.body, 'internal server error: database is closed\n');
  assert.equal((await evaluateOneCheck(checks, 'nope')).status, 404);
});

test('livez and healthz run the liveness checks; readyz adds the readiness ones (shutdown)', async () => {
  const shutdown = new ShutdownState();
  const h = new HealthChecks().addLivenessCheck(pingCheck).addLivenessCheck(ok('etcd')).addReadinessCheck(ok('informer-sync')).addReadinessCheck(shutdown.check);
  assert.deepEqual(h.checksOf('livez').map((c) => c.name), ['ping', 'etcd']);
  assert.deepEqual(h.checksOf('healthz').map((c) => c.name), ['ping', 'etcd']);
  assert.deepEqual(h.checksOf('readyz').map((c) => c.name), ['ping', 'etcd', 'informer-sync', 'shutdown']);
  assert.equal((await h.answer('readyz', undefined, q())).status, 200);
  shutdown.begin();
  const r = await h.answer('readyz', undefined, q());
  assert.equal(r.status, 500);
  assert.match(r.body, /\[-\]shutdown failed: reason withheld\nreadyz check failed\n$/);
  assert.deepEqual(r.failures, [{ name: 'shutdown', reason: 'process is shutting down' }]);
  assert.equal((await h.answer('livez', undefined, q())).status, 200, 'a draining server is still live');
  assert.equal((await h.answer('readyz', '/shutdown', q())).body, 'internal server error: process is shutting down\n');
  assert.equal((await h.answer('livez', '/shutdown', q())).status, 404, 'shutdown is not a livez check');
});

test('the log check fails when stderr holds a backlog; the store check reads the store', () => {
  assert.doesNotThrow(() => logCheck({ writableLength: 10 }, 100).check());
  assert.throws(() => logCheck({ writableLength: 101 }, 100).check(), /logging is blocked: 101 bytes/);
  assert.doesNotThrow(() => storeCheck({ check: () => undefined }).check());
  assert.throws(() => storeCheck({ check: () => { throw new Error('The database connection is not open'); } }).check(), /not open/);
  assert.doesNotThrow(() => storeCheck({}).check(), 'a store without a backing storage (memory) is always readable');
});
