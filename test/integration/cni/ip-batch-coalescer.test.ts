// Batches of concurrent callers sharing `ip -batch` processes, against the kernel: every caller
// gets its own answers, a failing caller gets its own failure, nobody else is affected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { coalescedIpBatch } from '../../../src/cni/ip-batch-coalescer.js';
import { CommandError } from '../../../src/linux/exec.js';

const NS = `dcb${process.pid % 100000}`;

test('concurrent batches share processes and keep their own results and failures', async (t) => {
  assert.equal(process.getuid?.(), 0, 'this test needs root (it creates a network namespace)');
  execFileSync('ip', ['netns', 'add', NS]);
  t.after(() => execFileSync('ip', ['netns', 'del', NS]));
  const names = Array.from({ length: 12 }, (_, i) => `dcbv${i}`);
  const batchOf = (n: string) => [`link add ${n} type veth peer name ${n}p`, `link set dev ${n} up`, `link show dev ${n}`];
  // Caller 5 asks for a veth that caller 4 creates: whichever runs second fails at its first line.
  const requests = names.map((n, i) => coalescedIpBatch(NS, batchOf(i === 5 ? names[4] : n), { json: true }));
  const results = await Promise.allSettled(requests);
  const failed = results.filter((r) => r.status === 'rejected');
  assert.equal(failed.length, 1, 'exactly the duplicate fails');
  const err = (failed[0] as PromiseRejectedResult).reason as CommandError;
  assert.ok(err instanceof CommandError);
  assert.match(err.stderr, /File exists/);
  assert.match(err.stderr, /Command failed -:1\b/, 'the line number is counted in the caller own batch');
  results.forEach((r, i) => {
    if (r.status !== 'fulfilled') return;
    const shown = r.value as { ifname?: string }[][];
    assert.equal(shown.length, 1);
    assert.equal(shown[0][0]?.ifname, i === 5 ? names[4] : names[i], `caller ${i} gets its own link`);
  });
  const links = execFileSync('ip', ['-n', NS, '-o', 'link', 'show'], { encoding: 'utf8' });
  for (const [i, n] of names.entries()) if (i !== 5) assert.match(links, new RegExp(`\\b${n}@`), `${n} exists`);
  // Deletions share processes too; deleting what is gone fails only that caller.
  const dels = await Promise.allSettled([...names.filter((_, i) => i !== 5), 'dcbmissing'].map((n) => coalescedIpBatch(NS, [`link del ${n}`])));
  assert.deepEqual(
    dels.map((d) => d.status),
    [...names.filter((_, i) => i !== 5).map(() => 'fulfilled'), 'rejected'],
  );
  assert.doesNotMatch(execFileSync('ip', ['-n', NS, '-o', 'link', 'show'], { encoding: 'utf8' }), /dcbv/);
});
