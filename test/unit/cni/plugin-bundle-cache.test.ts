// The bundled CNI plugin kept in dist/cni-plugin/: found again while its inputs hold what they held
// when it was built (a rewrite with the same content keeps it); missed once one changes or goes; not kept when an input changed during the
// build (what esbuild read may be mixed); older bundles are removed when a new one is kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedBundle, inputsKey, storeBundle } from '../../../src/cni/plugin-bundle-cache.js';

function fixture(): { root: string; cache: string; built: string; done: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'flatnet-bundle-cache-'));
  writeFileSync(join(root, 'a.js'), 'export const a = 1;\n');
  writeFileSync(join(root, 'b.js'), 'export const b = 2;\n');
  const past = new Date(Date.now() - 60_000);
  for (const f of ['a.js', 'b.js']) utimesSync(join(root, f), past, past);
  const built = join(root, 'out.cjs');
  writeFileSync(built, '// bundle 1\n');
  return { root, cache: join(root, 'cache'), built, done: () => rmSync(root, { recursive: true, force: true }) };
}

test('a kept bundle is found while its inputs are unchanged, and missed once one changes or goes', () => {
  const f = fixture();
  try {
    assert.equal(cachedBundle(f.cache, f.root), undefined, 'nothing kept yet');
    storeBundle(f.cache, f.root, f.built, ['a.js', 'b.js'], Date.now());
    const kept = cachedBundle(f.cache, f.root);
    assert.ok(kept);
    assert.equal(readFileSync(kept, 'utf8'), '// bundle 1\n');
    assert.equal(inputsKey(f.root, ['b.js', 'a.js']), inputsKey(f.root, ['a.js', 'b.js']), 'the order of the inputs does not matter');
    writeFileSync(join(f.root, 'a.js'), 'export const a = 1;\n');
    assert.equal(cachedBundle(f.cache, f.root), kept, 'rewritten with the same content (a new build of dist/): still found');

    writeFileSync(join(f.root, 'b.js'), 'export const b = 3;\n');
    assert.equal(cachedBundle(f.cache, f.root), undefined, 'an input changed');
    writeFileSync(f.built, '// bundle 2\n');
    storeBundle(f.cache, f.root, f.built, ['a.js', 'b.js'], Date.now() + 1000);
    assert.equal(readFileSync(cachedBundle(f.cache, f.root)!, 'utf8'), '// bundle 2\n');
    assert.deepEqual(readdirSync(f.cache).filter((n) => n.endsWith('.cjs')).length, 1, 'the older bundle is removed');

    rmSync(join(f.root, 'a.js'));
    assert.equal(cachedBundle(f.cache, f.root), undefined, 'an input is gone');
  } finally {
    f.done();
  }
});

test('a bundle whose input changed during its build is not kept', () => {
  const f = fixture();
  try {
    const startedMs = Date.now() - 1000;
    writeFileSync(join(f.root, 'a.js'), 'export const a = 5;\n'); // written after the build started
    storeBundle(f.cache, f.root, f.built, ['a.js', 'b.js'], startedMs);
    assert.equal(cachedBundle(f.cache, f.root), undefined);
  } finally {
    f.done();
  }
});
