import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerLog, criTimestamp, parseLogLine, readLogFile, renderLogEntries, type LogEntry } from '../../../src/agent/container-log.js';

test('CRI timestamps have nanoseconds', () => {
  assert.equal(criTimestamp(new Date('2026-01-02T03:04:05.678Z')), '2026-01-02T03:04:05.678000000Z');
  assert.deepEqual(parseLogLine('2026-01-02T03:04:05.678000000Z stderr P a b '), { time: '2026-01-02T03:04:05.678000000Z', stream: 'stderr', partial: true, text: 'a b ' });
});

const e = (time: string, text: string, partial = false): LogEntry => ({ time, stream: 'stdout', partial, text });
const entries = [e('2026-01-01T00:00:01.000000000Z', 'one'), e('2026-01-01T00:00:02.000000000Z', 'tw', true), e('2026-01-01T00:00:02.000000000Z', 'o'), e('2026-01-01T00:00:03.000000000Z', 'three')];

test('rendering: tailLines counts whole lines, sinceTime, timestamps, limitBytes', () => {
  assert.equal(renderLogEntries(entries, {}), 'one\ntwo\nthree\n');
  assert.equal(renderLogEntries(entries, { tailLines: 2 }), 'two\nthree\n');
  assert.equal(renderLogEntries(entries, { tailLines: 0 }), '');
  assert.equal(renderLogEntries(entries, { sinceTime: '2026-01-01T00:00:02Z' }), 'two\nthree\n');
  assert.equal(renderLogEntries(entries, { tailLines: 1, timestamps: true }), '2026-01-01T00:00:03.000000000Z three\n');
  assert.equal(renderLogEntries(entries, { limitBytes: 6 }), 'one\ntw');
});

test('a container log writes lines and partial lines, notifies followers, rotates and reads back', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, '0.log');
  const log = new ContainerLog(path, 200);
  const seen: string[] = [];
  log.on('entry', (x: LogEntry) => seen.push(x.text));
  log.write('stdout', 'hello\nwor');
  log.write('stderr', 'oops\n');
  log.write('stdout', 'ld\n');
  assert.deepEqual(seen, ['hello', 'wor', 'oops', 'ld']);
  assert.equal(renderLogEntries(readLogFile(path), {}), 'hello\nworoops\nld\n');
  for (let i = 0; i < 10; i++) log.write('stdout', `line ${i}\n`);
  const all = readLogFile(path);
  assert.ok(all.length < 14, 'the oldest rotated entries are gone');
  assert.equal(all[all.length - 1].text, 'line 9');
  log.close();
  assert.equal(log.closed, true);
});
