// Writes the plugin executables a runtime finds by name in its plugin directory: small shell
// wrappers that exec node on flatnet's plugin entry point.
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
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

/** Writes one wrapper per plugin into `binDir`; answers their paths. */
export function installPluginWrappers(binDir: string, command: string[] = pluginEntryCommand()): string[] {
  mkdirSync(binDir, { recursive: true });
  return PLUGIN_NAMES.map((name) => {
    const path = join(binDir, name);
    const body = `#!/bin/sh\n# flatnet CNI plugin ${name} (generated; see src/cni/install.ts)\nexec ${command.map(shellQuote).join(' ')} ${name} "$@"\n`;
    writeFileSync(`${path}.tmp`, body);
    chmodSync(`${path}.tmp`, 0o755);
    renameSync(`${path}.tmp`, path);
    return path;
  });
}
