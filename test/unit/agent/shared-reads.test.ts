import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedInFlight } from '../../../src/agent/shared-reads.js';

test('concurrent reads of one key share a call; later reads and other keys call again', async () => {
  const calls: string[] = [];
  const pending: (() => void)[] = [];
  const read = sharedInFlight(
    (ns: string, name: string) =>
      new Promise<string>((resolve) => {
        calls.push(`${ns}/${name}`);
        pending.push(() => resolve(`${ns}/${name}#${calls.length}`));
      }),
    (ns, name) => `${ns}/${name}`,
  );
  const a = read('default', 'kube-root-ca.crt');
  const b = read('default', 'kube-root-ca.crt');
  const c = read('other', 'kube-root-ca.crt');
  assert.deepEqual(calls, ['default/kube-root-ca.crt', 'other/kube-root-ca.crt']);
  for (const done of pending.splice(0)) done();
  assert.equal(await a, await b);
  assert.equal(await c, 'other/kube-root-ca.crt#2');
  const d = read('default', 'kube-root-ca.crt');
  assert.equal(calls.length, 3, 'a read after the shared one returned asks again');
  pending.splice(0).forEach((done) => done());
  assert.equal(await d, 'default/kube-root-ca.crt#3');
});

test('a failed shared read fails every caller that shared it, and the next read asks again', async () => {
  let n = 0;
  let fail!: (err: Error) => void;
  const read = sharedInFlight(
    () =>
      new Promise<number>((resolve, reject) => {
        n++;
        if (n === 1) fail = reject;
        else resolve(n);
      }),
    () => 'k',
  );
  const a = read();
  const b = read();
  fail(new Error('boom'));
  await assert.rejects(a, /boom/);
  await assert.rejects(b, /boom/);
  assert.equal(await read(), 2);
});
