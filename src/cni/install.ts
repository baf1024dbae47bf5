// Writes the plugin executables a runtime finds by name in its plugin directory: small shell
// wrappers that exec node on flatnet's plugin entry point.
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLUGIN_NAMES } from './main.js';
import { cachedBundle, storeBundle } from './plugin-bundle-cache.js';

const here = dirname(fileURLToPath(import.meta.url));
const runningFromDist = here.endsWith('/dist/src/cni');

/** The repository root, from this module's place in src/cni or dist/src/cni. */
function repoRoot(): string {
  return runningFromDist ? resolve(here, '../../..') : resolve(here, '../..');
}

/**
 * The command a wrapper execs: the built plugin entry when this module runs from dist/, the
 * TypeScript source through tsx otherwise.
 */
export function pluginEntryCommand(): string[] {
  const root = repoRoot();
  const built = join(root, 'dist/src/cni/plugin-main.js');
  if (runningFromDist && existsSync(built)) return [process.execPath, built];
  return sourcePluginCommand();
}

/** The built plugin entry (dist/, made by `npm run build` or bin/flatnet). */
export function builtPluginCommand(): string[] {
  return [process.execPath, join(repoRoot(), 'dist/src/cni/plugin-main.js')];
}

/** The plugin entry run from the TypeScript sources through tsx (tests; no build needed). */
export function sourcePluginCommand(): string[] {
  const root = repoRoot();
  return [process.execPath, '--import', join(root, 'node_modules/tsx/dist/loader.mjs'), join(root, 'src/cni/plugin-main.ts')];
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A private copy of the built plugin (dist/src/cni and dist/src/linux, which import nothing
 * else) under `binDir`, so that rebuilding dist/ while pods start cannot hand a plugin a
 * half-written module. Answers the command that runs it.
 */
export function snapshotBuiltPlugin(binDir: string): string[] {
  const root = repoRoot();
  const target = join(binDir, '.flatnet-plugin');
  const staging = `${target}.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  for (const sub of ['cni', 'linux']) cpSync(join(root, 'dist/src', sub), join(staging, 'src', sub), { recursive: true });
  writeFileSync(join(staging, 'package.json'), '{"type":"module"}\n');
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  return [process.execPath, join(target, 'src/cni/plugin-main.js')];
}

interface PluginBundle {
  esbuild: typeof import('esbuild');
  options: import('esbuild').BuildOptions;
  staging: string;
  out: string;
  /** Where a bundle of the built entry is kept for the next agents (none for the TypeScript sources). */
  cacheDir?: string;
}

/** Where bundlePluginEntry reads and writes, and esbuild's options for it; undefined when esbuild (installed with tsx by npm ci) is not there. */
function pluginBundle(binDir: string): PluginBundle | undefined {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  } catch {
    return undefined;
  }
  const root = repoRoot();
  const built = join(root, 'dist/src/cni/plugin-main.js');
  const fromDist = runningFromDist && existsSync(built);
  const entry = fromDist ? built : join(root, 'src/cni/plugin-main.ts');
  const out = join(binDir, '.flatnet-plugin.cjs');
  const staging = `${out}.${process.pid}.tmp`;
  mkdirSync(binDir, { recursive: true });
  const options: import('esbuild').BuildOptions = { absWorkingDir: root, entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: staging, logLevel: 'silent', metafile: true };
  return { esbuild, options, staging, out, cacheDir: fromDist ? join(root, 'dist/cni-plugin') : undefined };
}

/** Puts the cached bundle in place when there is one for the inputs as they are now. */
function fromCache(b: PluginBundle): string[] | undefined {
  const cached = b.cacheDir && cachedBundle(b.cacheDir, repoRoot());
  if (!cached) return undefined;
  try {
    copyFileSync(cached, b.staging);
  } catch {
    return undefined; // replaced meanwhile: build instead
  }
  renameSync(b.staging, b.out);
  return [process.execPath, b.out];
}

function builtBundle(b: PluginBundle, result: import('esbuild').BuildResult, startedMs: number): string[] {
  if (b.cacheDir && result.metafile) storeBundle(b.cacheDir, repoRoot(), b.staging, Object.keys(result.metafile.inputs), startedMs);
  renameSync(b.staging, b.out);
  return [process.execPath, b.out];
}

/**
 * The plugin entry (built or source) bundled by esbuild into one CommonJS file under `binDir`:
 * an exec then loads one file instead of a tree of ES modules, which in bench/cni starts
 * close to a bare `node -e 0` (the module tree costs about half as much again). Written
 * atomically, so a rebuild of dist/ cannot hand a plugin a half-written file; a bundle of the
 * built entry is kept for the next call (plugin-bundle-cache.ts). Undefined when esbuild
 * (installed with tsx by npm ci) is not there.
 */
export function bundlePluginEntry(binDir: string): string[] | undefined {
  const b = pluginBundle(binDir);
  if (!b) return undefined;
  const cached = fromCache(b);
  if (cached) return cached;
  const startedMs = Date.now();
  return builtBundle(b, b.esbuild.buildSync(b.options), startedMs);
}

/**
 * bundlePluginEntry without blocking this process: esbuild builds in its own process meanwhile,
 * which is stopped afterwards (it would otherwise stay for the life of this process).
 */
export async function bundlePluginEntryAsync(binDir: string): Promise<string[] | undefined> {
  const b = pluginBundle(binDir);
  if (!b) return undefined;
  const cached = fromCache(b);
  if (cached) return cached;
  const startedMs = Date.now();
  let result: import('esbuild').BuildResult;
  try {
    result = await b.esbuild.build(b.options);
  } finally {
    await b.esbuild.stop();
  }
  return builtBundle(b, result, startedMs);
}

/** The command the wrappers exec when no bundle can be made: a private copy of the built plugin, or the entry itself. */
function unbundledPluginCommand(binDir: string): string[] {
  return runningFromDist && existsSync(join(repoRoot(), 'dist/src/cni/plugin-main.js')) ? snapshotBuiltPlugin(binDir) : pluginEntryCommand();
}

/** Writes one wrapper per plugin into `binDir`; answers their paths. */
export function installPluginWrappers(binDir: string, command?: string[]): string[] {
  mkdirSync(binDir, { recursive: true });
  return writeWrappers(binDir, command ?? bundlePluginEntry(binDir) ?? unbundledPluginCommand(binDir));
}

/**
 * installPluginWrappers with the bundle built by esbuild's own process: an agent starting up
 * keeps serving its start-up (it calls its plugins in-process; the wrappers are for other runtimes).
 */
export async function installPluginWrappersAsync(binDir: string): Promise<string[]> {
  mkdirSync(binDir, { recursive: true });
  return writeWrappers(binDir, (await bundlePluginEntryAsync(binDir)) ?? unbundledPluginCommand(binDir));
}

function writeWrappers(binDir: string, cmd: string[]): string[] {
  return PLUGIN_NAMES.map((name) => {
    const path = join(binDir, name);
    const body = `#!/bin/sh\n# flatnet CNI plugin ${name} (generated; see src/cni/install.ts)\nexec ${cmd.map(shellQuote).join(' ')} ${name} "$@"\n`;
    writeFileSync(`${path}.tmp`, body);
    chmodSync(`${path}.tmp`, 0o755);
    renameSync(`${path}.tmp`, path);
    return path;
  });
}
