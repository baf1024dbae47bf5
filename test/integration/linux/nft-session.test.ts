// The long-lived nft session against a real network namespace (hnft-*): batches are atomic and
// ordered, a refused batch changes nothing and fails alone, large batches go through a file, the
// session restarts after its nft process is killed, and no process outlives close() or the
// namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addNetns, deleteNetns, netnsPids } from '../../../src/linux/netns.js';
import { listRuleset } from '../../../src/linux/nft.js';
import { NftBatchError, NftSession } from '../../../src/linux/nft-session.js';
import { requireRoot, requireTool } from '../../support/prerequisites.js';

const NS = `hnft-${process.pid}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits for `cond` (a deadline, not a timing assertion). */
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function withNetns(t: { after: (fn: () => Promise<void>) => void }, suffix: string): Promise<string> {
  requireRoot('network namespaces and nftables');
  requireTool('nft', 'apt-get install nftables');
  const ns = `${NS}-${suffix}`;
  await deleteNetns(ns);
  await addNetns(ns);
  t.after(() => deleteNetns(ns));
  return ns;
}

const setElements = async (ns: string) => {
  const text = await listRuleset(ns);
  const m = /elements = \{([^}]*)\}/.exec(text);
  return m ? m[1].split(',').map((s) => s.trim()).sort() : [];
};

test('batches apply atomically, in order; a refused batch changes nothing and fails alone', async (t) => {
  const ns = await withNetns(t, 'a');
  const session = new NftSession({ netns: ns });
  t.after(() => session.close());
  await session.apply(['add table inet hn', 'add set inet hn s { type ipv4_addr; }', 'add element inet hn s { 10.0.0.1 }']);
  const pid = session.pid!;
  const before = await listRuleset(ns);
  // The second statement names a set that does not exist: the first must not be committed.
  const refused = session.apply(['add element inet hn s { 10.0.0.2 }', 'add element inet hn nosuch { 10.0.0.3 }']);
  // Queued behind it: runs after, and succeeds on its own.
  const next = session.apply(['add element inet hn s { 10.0.0.4 }']);
  await assert.rejects(refused, (e: unknown) => {
    assert.ok(e instanceof NftBatchError);
    assert.equal(e.committed, 'no');
    assert.match(e.output, /Error: No such file or directory/);
    assert.match(e.output, /nosuch/);
    assert.deepEqual(e.statements, ['add element inet hn s { 10.0.0.2 }', 'add element inet hn nosuch { 10.0.0.3 }']);
    return true;
  });
  await next;
  assert.notEqual(await listRuleset(ns), before);
  assert.deepEqual(await setElements(ns), ['10.0.0.1', '10.0.0.4']);
  // A kernel-side refusal (deleting an element that is not there) maps to its batch too.
  await assert.rejects(session.apply(['add element inet hn s { 10.0.0.5 }', 'delete element inet hn s { 10.9.9.9 }']), NftBatchError);
  assert.deepEqual(await setElements(ns), ['10.0.0.1', '10.0.0.4']);
  // Many batches at once keep their order and their own outcomes.
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => session.apply(i % 5 === 4 ? [`add element inet hn s { 10.1.0.${i} }`, 'add element inet hn s { bogus-name.invalid }'] : [`add element inet hn s { 10.1.0.${i} }`])));
  assert.deepEqual(
    results.map((r) => r.status),
    Array.from({ length: 20 }, (_, i) => (i % 5 === 4 ? 'rejected' : 'fulfilled')),
  );
  const elements = await setElements(ns);
  for (let i = 0; i < 20; i++) assert.equal(elements.includes(`10.1.0.${i}`), i % 5 !== 4, `10.1.0.${i}`);
  assert.equal(session.pid, pid, 'refused batches do not restart the process');
  assert.equal(session.starts, 1);
});

test('large or multi-line batches go through an included file, still atomic, and the file is removed', async (t) => {
  const ns = await withNetns(t, 'b');
  const parent = mkdtempSync(join(tmpdir(), 'hnft-files-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const session = new NftSession({ netns: ns, inlineLimit: 1024, batchFileParent: parent });
  t.after(() => session.close());
  // Seen while a batch is in flight: its file sits in a private directory.
  const seen: { mode: number; files: string[] }[] = [];
  const look = () => {
    for (const d of readdirSync(parent)) seen.push({ mode: statSync(join(parent, d)).mode & 0o777, files: readdirSync(join(parent, d)) });
  };
  const many = Array.from({ length: 2000 }, (_, i) => `10.2.${i >> 8}.${i & 255}`);
  const first = session.apply(['add table inet hn', 'add set inet hn s { type ipv4_addr; }', `add element inet hn s { ${many.join(', ')} }`]);
  look();
  await first;
  assert.deepEqual(seen, [{ mode: 0o700, files: ['batch-1.nft'] }]);
  assert.equal((await setElements(ns)).length, 2000);
  await assert.rejects(session.apply([`add element inet hn s { 10.3.0.1 }`, `add element inet hn s { ${many.slice(0, 300).join(', ')} }`, 'add chain inet hn c # a comment', 'add rule inet hn nosuch counter']), (e: unknown) => {
    assert.ok(e instanceof NftBatchError && e.committed === 'no');
    assert.match(e.output, /batch-\d+\.nft:\d+:\d+-\d+: Error: /);
    return true;
  });
  assert.equal((await setElements(ns)).length, 2000);
  assert.doesNotMatch(await listRuleset(ns), /chain c/);
  await session.apply(['add chain inet hn c # kept: the comment ends at the line break', 'add rule inet hn c counter']);
  assert.match(await listRuleset(ns), /chain c \{/);
  assert.deepEqual(readdirSync(parent), [], 'each batch file and its directory are removed once nft has answered');
});

test('the session survives its nft process being killed, idle or mid-batch', async (t) => {
  const ns = await withNetns(t, 'c');
  const session = new NftSession({ netns: ns });
  t.after(() => session.close());
  await session.apply(['add table inet hn', 'add set inet hn s { type ipv4_addr; }']);
  const first = session.pid!;
  process.kill(first, 'SIGKILL');
  await until(() => !alive(first) && session.pid === undefined, 'the killed nft to be noticed');
  await session.apply(['add element inet hn s { 10.0.0.1 }']);
  assert.notEqual(session.pid, first);
  assert.equal(session.starts, 2);
  // Killed while a (large) batch is in flight: that batch fails with an unknown outcome.
  const many = Array.from({ length: 60000 }, (_, i) => `10.${4 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`);
  const big = session.apply([`add element inet hn s { ${many.join(', ')} }`]);
  const second = session.pid!;
  process.kill(second, 'SIGKILL');
  await assert.rejects(big, (e: unknown) => e instanceof NftBatchError && e.committed === 'unknown' && /SIGKILL/.test(e.message));
  await session.apply(['add element inet hn s { 10.0.0.2 }']);
  assert.equal(session.starts, 3);
  const elements = await setElements(ns);
  assert.ok(elements.includes('10.0.0.1') && elements.includes('10.0.0.2'));
  const third = session.pid!;
  await session.close();
  assert.equal(alive(third), false);
  assert.deepEqual(await netnsPids(ns), []);
  await assert.rejects(session.apply(['add element inet hn s { 10.0.0.3 }']), /closed/);
});

test('close() leaves no process; deleting the namespace stops the session', async (t) => {
  const ns = await withNetns(t, 'd');
  const session = new NftSession({ netns: ns });
  t.after(() => session.close());
  await session.apply(['add table inet hn']);
  const pid = session.pid!;
  assert.deepEqual(await netnsPids(ns), [pid]);
  await session.close();
  assert.equal(alive(pid), false);
  assert.deepEqual(await netnsPids(ns), []);

  const watched = new NftSession({ netns: ns });
  t.after(() => watched.close());
  await watched.apply(['add table inet hn2']);
  const pid2 = watched.pid!;
  await deleteNetns(ns);
  // The process would keep the deleted namespace alive: the session stops it.
  await until(() => !alive(pid2), 'nft to stop after its namespace was deleted');
  await assert.rejects(watched.apply(['add table inet hn3']), /network namespace .* does not exist/);
});

test('an idle session does not keep a process alive, but close() waits for nft, killing it if it lingers', async (t) => {
  const ns = await withNetns(t, 'e');
  // A process of its own: nothing else keeps its event loop alive while close() waits.
  const script = `
    import { NftSession } from ${JSON.stringify(new URL('../../../src/linux/nft-session.ts', import.meta.url).pathname)};
    const s = new NftSession({ netns: ${JSON.stringify(ns)} });
    await s.apply(['add table inet hn', 'add set inet hn s { type ipv4_addr; }', 'add element inet hn s { 10.5.0.1 }']);
    const pid = s.pid;
    // A stopped nft ignores the end of its input: close() must wait, kill it and see it gone.
    process.kill(pid, 'SIGSTOP');
    await s.close();
    let alive = true;
    try { process.kill(pid, 0); } catch { alive = false; }
    console.log('closed', alive ? 'nft still running' : 'nft gone');
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.match(out, /closed nft gone/);
  assert.deepEqual(await netnsPids(ns), []);
});
