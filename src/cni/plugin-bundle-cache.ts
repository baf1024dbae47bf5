// The bundled CNI plugin built from dist/ is kept in dist/cni-plugin/ for the next agent: it is
// rebuilt only when a file it was built from changed (a build of dist/ that changed the CNI or
// kernel modules). Each bundle is named after the paths and contents of its inputs, which
// inputs.json lists; an agent then hashes those files and copies the bundle (about a millisecond)
// instead of running esbuild (a few hundred milliseconds of CPU, which a starting lab on a small
// machine feels).
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What names a bundle: each input's path (relative to `root`) and content; undefined when one is gone. */
export function inputsKey(root: string, inputs: string[]): string | undefined {
  const h = createHash('sha256');
  for (const p of [...inputs].sort()) {
    let content: Buffer;
    try {
      content = readFileSync(join(root, p));
    } catch {
      return undefined;
    }
    h.update(`${p}\0${content.length}\0`).update(content);
  }
  return h.digest('hex').slice(0, 24);
}

/** The cached bundle for the inputs as they are now, or undefined. */
export function cachedBundle(cacheDir: string, root: string): string | undefined {
  let inputs: string[];
  try {
    inputs = JSON.parse(readFileSync(join(cacheDir, 'inputs.json'), 'utf8')) as string[];
  } catch {
    return undefined;
  }
  if (!Array.isArray(inputs) || inputs.length === 0) return undefined;
  const key = inputsKey(root, inputs);
  if (!key) return undefined;
  const path = join(cacheDir, `${key}.cjs`);
  try {
    statSync(path);
    return path;
  } catch {
    return undefined;
  }
}

/**
 * Keeps `built` (made from `inputs`, relative to `root`) for the next agents, unless an input
 * was written after `startedMs` (a build of dist/ ran meanwhile: what esbuild read may be mixed).
 * Bundles of other inputs are removed. Best effort: a cache that cannot be written stays as it was.
 */
export function storeBundle(cacheDir: string, root: string, built: string, inputs: string[], startedMs: number): void {
  try {
    if (inputs.some((p) => statSync(join(root, p)).mtimeMs >= startedMs)) return;
    const key = inputsKey(root, inputs);
    if (!key) return;
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `.${process.pid}.tmp`;
    copyFileSync(built, join(cacheDir, `${key}.cjs${tmp}`));
    renameSync(join(cacheDir, `${key}.cjs${tmp}`), join(cacheDir, `${key}.cjs`));
    writeFileSync(join(cacheDir, `inputs.json${tmp}`), JSON.stringify(inputs));
    renameSync(join(cacheDir, `inputs.json${tmp}`), join(cacheDir, 'inputs.json'));
    for (const f of readdirSync(cacheDir)) if (f.endsWith('.cjs') && f !== `${key}.cjs`) rmSync(join(cacheDir, f), { force: true });
  } catch {
    // not kept: the next agent builds again
  }
}
