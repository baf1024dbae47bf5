// The nft session's line protocol: how batches are encoded, and how nft's stderr is split into
// per-batch outcomes (the texts below are what nft 1.0.6 writes; see the integration test for the
// real process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchOutputParser, NftStatementError, includeLine, markerLine, planBatch } from '../../../src/linux/nft-session-protocol.js';

test('a batch is one line of statements separated by ;', () => {
  assert.deepEqual(planBatch(['add table inet t', 'add chain inet t c { type filter hook forward priority filter; policy accept; }']), {
    kind: 'inline',
    line: 'add table inet t; add chain inet t c { type filter hook forward priority filter; policy accept; }',
  });
  // A # inside a quoted comment is text, not a comment.
  assert.equal(planBatch(['add rule inet t c counter drop comment "pod #3"']).kind, 'inline');
});

test('batches that are not line-safe or too large go through a file', () => {
  // A comment would swallow the statements after it on the line; a line break would split the batch.
  assert.deepEqual(planBatch(['add table inet t # note', 'add chain inet t c']), { kind: 'file', text: 'add table inet t # note\nadd chain inet t c\n' });
  assert.deepEqual(planBatch(['add table inet t', 'add chain inet t c\nadd chain inet t d']).kind, 'file');
  assert.deepEqual(planBatch(['add table inet t', 'add chain inet t c'], 20), { kind: 'file', text: 'add table inet t\nadd chain inet t c\n' });
  assert.equal(planBatch(['add table inet t'], 20).kind, 'inline');
});

test('bad statements are refused with their index', () => {
  assert.throws(() => planBatch([]), /at least one statement/);
  assert.throws(() => planBatch(['add table inet t', '  ']), (e: unknown) => e instanceof NftStatementError && e.index === 1 && /is empty/.test(e.message));
  assert.throws(() => planBatch(['add table inet t\0']), (e: unknown) => e instanceof NftStatementError && e.index === 0 && /NUL/.test(e.message));
  assert.equal(includeLine('/tmp/flatnet-nft-x/batch-1.nft'), 'include "/tmp/flatnet-nft-x/batch-1.nft"');
  assert.throws(() => includeLine('/tmp/a"b'), /quotes/);
});

const markerError = (nonce: string, seq: number) => {
  const m = markerLine(nonce, seq);
  return `Error: syntax error, unexpected newline, expecting string\n${m}\n${' '.repeat(m.length)}^\n`;
};

test('stderr splits into one outcome per batch, errors mapped to their batch', () => {
  const p = new BatchOutputParser('n1');
  const refused = 'Error: No such file or directory\nadd element inet t nosuch { 10.0.0.3 }\n                   ^^^^^^\n';
  const included = 'In file included from <cmdline>:1:1-30:\n/tmp/x/batch-3.nft:2:21-26: Error: Could not process rule: File exists\nadd chain inet t c\n^^^^^\n';
  const warning = 'Warning: deprecated syntax\n';
  const text = markerError('n1', 1) + refused + markerError('n1', 2) + included + markerError('n1', 3) + warning + markerError('n1', 4);
  assert.deepEqual(p.feed(text), [
    { seq: 1, output: '', failed: false },
    { seq: 2, output: refused, failed: true },
    { seq: 3, output: included, failed: true },
    { seq: 4, output: warning, failed: false },
  ]);
  assert.equal(p.pending, '');
});

test('outcomes wait for the whole marker, whatever the chunking', () => {
  const text = 'Error: Could not resolve hostname: bogus\nadd element inet t s { bogus }\n                       ^^^^^\n' + markerError('ab', 7) + markerError('ab', 8);
  for (let size = 1; size <= 17; size += 4) {
    const p = new BatchOutputParser('ab');
    const seen = [];
    for (let i = 0; i < text.length; i += size) seen.push(...p.feed(text.slice(i, i + size)));
    assert.deepEqual(
      seen.map((o) => [o.seq, o.failed]),
      [
        [7, true],
        [8, false],
      ],
      `chunks of ${size}`,
    );
  }
  // Half a marker is not an outcome yet.
  const p = new BatchOutputParser('ab');
  const m = markerError('ab', 9);
  assert.deepEqual(p.feed(m.slice(0, m.length - 3)), []);
  assert.deepEqual(p.feed(m.slice(m.length - 3)), [{ seq: 9, output: '', failed: false }]);
});

test('markers of another session, or marker text inside a line, are not markers', () => {
  const p = new BatchOutputParser('mine');
  const echo = `Error: syntax error\nadd table inet ${markerLine('mine', 1)}\n^\n`;
  assert.deepEqual(p.feed(echo + markerError('other', 1)), []);
  assert.deepEqual(p.feed(markerError('mine', 1)).map((o) => o.failed), [true]);
});

test('output that does not end in the marker error is a protocol error', () => {
  const p = new BatchOutputParser('x');
  assert.throws(() => p.feed(`something\n${markerLine('x', 1)}\n^\n`), /unexpected output before batch marker 1/);
});
