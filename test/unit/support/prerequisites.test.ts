// The shared prerequisite checks: a missing tool is an error naming it and how to get it, and the
// seed fixtures read back exactly what they hold, or an error naming the bad document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool, MissingPrerequisite, requireTool } from '../../support/prerequisites.js';
import { renderSeedFixture, seedFixtures, type SeedFixture } from '../../fixtures/seeds/fixtures.js';

test('requireTool: a tool on PATH or an executable path passes; a missing one fails naming it and its source', () => {
  assert.equal(findTool(process.execPath), process.execPath);
  assert.ok(findTool('sh')?.endsWith('/sh'));
  requireTool('sh', 'a shell');
  const dir = mkdtempSync(join(tmpdir(), 'prereq-'));
  try {
    const notExecutable = join(dir, 'plugin');
    writeFileSync(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
    assert.equal(findTool(notExecutable), undefined);
    assert.throws(() => requireTool(notExecutable, 'the plugin package'), (e: Error) => {
      assert.ok(e instanceof MissingPrerequisite);
      assert.equal(e.message, `this test needs ${notExecutable}: ${notExecutable} is missing or not executable; install the plugin package`);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => requireTool('no-such-tool-xyz', 'xyz (apt-get install xyz)'), /this test needs no-such-tool-xyz: "no-such-tool-xyz" is not on PATH .*; install xyz \(apt-get install xyz\)$/);
});

test('seed fixtures: the project holds the seeds manifests; a rendered file reads back the same; a bad document is named', () => {
  const all = seedFixtures();
  assert.equal(all.length, 30);
  assert.deepEqual(all[0], { source: '000_f2d9857c896974a2.txt:226', kind: 'Service', name: 'my-app', yaml: all[0].yaml });
  assert.match(all[0].yaml, /^apiVersion: v1\nkind: Service\nmetadata:\n {2}name: my-app\n/);

  const dir = mkdtempSync(join(tmpdir(), 'seed-fixtures-'));
  try {
    const manifests: SeedFixture[] = [
      { source: 'x.txt:3', kind: 'Service', name: 'a', yaml: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n' },
      { source: 'x.txt:9', kind: 'Pod', name: 'b', yaml: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n' },
    ];
    const text = renderSeedFixture('x.txt', 'A page', manifests);
    assert.match(text, /^# Kubernetes manifests from the seed document x\.txt \("A page"\),/);
    writeFileSync(join(dir, 'x.yaml'), text);
    assert.deepEqual(seedFixtures(dir), manifests);
    writeFileSync(join(dir, 'x.yaml'), text.replace('  name: b\n', ''));
    assert.throws(() => seedFixtures(dir), /^Error: x\.yaml, document 2: metadata\.name is missing$/);
    writeFileSync(join(dir, 'x.yaml'), text.replace('# x.txt:9\n', ''));
    assert.throws(() => seedFixtures(dir), /x\.yaml, document 2: the first line must be the source comment/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
