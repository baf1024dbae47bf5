// Bundles the `flatnet` CLI and the lab supervisor with esbuild into dist/bundle/, which bin/flatnet
// and the lab run: one parse of a few files instead of resolving and loading hundreds of modules
// (an API server starts listening sooner). Each module's `import.meta.url` is rewritten to the URL
// its tsc output has under dist/src/, so every path a module computes from its own place (the etcd
// store's worker, native addons, the CNI plugin entry, the web view's assets) is the one the
// unbundled build uses. npm packages are bundled too (measured: loading them module by module was
// most of the start-up), except those in EXTERNAL.
// Run: node scripts/bundle.mjs   (scripts/ensure-deps runs it after tsc; tests and tools that run dist/src still can)
import { build } from 'esbuild';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(repo, 'dist/bundle');
const EXTERNAL = ['better-sqlite3', 'esbuild', 'tsx', 'playwright-core', 'typescript', 'bufferutil', 'utf-8-validate'];
// Every output file sits one directory below dist/bundle (cli/, lab/), as tsc's sit below dist/src.
const outputDepthToRepo = '../../../';

/** `import.meta.url` of a source file as the URL of its tsc output, from any file of the bundle. */
const rewriteImportMetaUrl = {
  name: 'flatnet-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
      if (!args.path.startsWith(join(repo, 'src') + '/')) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
      const dist = `${outputDepthToRepo}dist/${relative(repo, args.path).replace(/\.ts$/, '.js')}`;
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(dist)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

// A failed bundle must not leave an older one for bin/flatnet to run: the entries go first (bin/flatnet
// then runs dist/src). Chunks of an older bundle stay a while: a running lab may still import them.
const ENTRIES = ['cli/main.js', 'lab/supervisor-main.js'];
await Promise.all(ENTRIES.map((e) => rm(join(outdir, e), { force: true })));

const result = await build({
  absWorkingDir: repo,
  entryPoints: { 'cli/main': 'src/cli/main.ts', 'lab/supervisor-main': 'src/lab/supervisor-main.ts' },
  outdir,
  chunkNames: 'cli/chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Native addons, packages that load files beside their own sources, and build/test tools stay external.
  external: EXTERNAL,
  // The CommonJS packages bundled into these ES modules call require() for Node's built-ins.
  banner: { js: "import { createRequire as __flatnetCreateRequire } from 'node:module'; const require = __flatnetCreateRequire(import.meta.url);" },
  define: { 'process.env.FLATNET_BUNDLE': '"1"' },
  plugins: [rewriteImportMetaUrl],
  logLevel: 'warning',
  metafile: true,
});

const STALE_CHUNK_MS = 24 * 3600_000;
const written = new Set(Object.keys(result.metafile.outputs).map((o) => join(repo, o)));
for (const name of await readdir(join(outdir, 'cli'))) {
  const file = join(outdir, 'cli', name);
  if (name.startsWith('chunk-') && !written.has(file) && Date.now() - (await stat(file)).mtimeMs > STALE_CHUNK_MS) await rm(file, { force: true });
}
