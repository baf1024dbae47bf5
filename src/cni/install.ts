// Writes the plugin executables a runtime finds by name in its plugin directory: small shell
// wrappers that exec node on flatnet's plugin entry point.
import { chmodSync, cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLUGIN_NAMES } from './main.js';

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

/**
 * The plugin entry (built or source) bundled by esbuild into one CommonJS file under `binDir`:
 * an exec then loads one file instead of a tree of ES modules, which in bench/cni starts
 * close to a bare `node -e 0` (the module tree costs about half as much again). Written
 * atomically, so a rebuild of dist/ cannot hand a plugin a half-written file. Undefined when
 * esbuild (installed with tsx by npm ci) is not there.
 */
export function bundlePluginEntry(binDir: string): string[] | undefined {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  } catch {
    return undefined;
  }
  const root = repoRoot();
  const built = join(root, 'dist/src/cni/plugin-main.js');
  const entry = runningFromDist && existsSync(built) ? built : join(root, 'src/cni/plugin-main.ts');
  const out = join(binDir, '.flatnet-plugin.cjs');
  const staging = `${out}.${process.pid}.tmp`;
  mkdirSync(binDir, { recursive: true });
  esbuild.buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: staging, logLevel: 'silent' });
  renameSync(staging, out);
  return [process.execPath, out];
}

/** Writes one wrapper per plugin into `binDir`; answers their paths. */
export function installPluginWrappers(binDir: string, command?: string[]): string[] {
  mkdirSync(binDir, { recursive: true });
  const cmd = command ?? bundlePluginEntry(binDir) ?? (runningFromDist && existsSync(join(repoRoot(), 'dist/src/cni/plugin-main.js')) ? snapshotBuiltPlugin(binDir) : pluginEntryCommand());
  return PLUGIN_NAMES.map((name) => {
    const path = join(binDir, name);
    const body = `#!/bin/sh\n# flatnet CNI plugin ${name} (generated; see src/cni/install.ts)\nexec ${cmd.map(shellQuote).join(' ')} ${name} "$@"\n`;
    writeFileSync(`${path}.tmp`, body);
    chmodSync(`${path}.tmp`, 0o755);
    renameSync(`${path}.tmp`, path);
    return path;
  });
}
