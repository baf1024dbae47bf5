// What a test needs from the machine. A test whose prerequisite is missing (root, a tool, a free
// lab) fails with the reason and how to get it; it never skips, since a skipped test reads green.
// Call these at the start of a test body (or in before()), never in the test's options.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { otherLabDataDirs } from '../../src/lab/processes.js';

/** The error a test fails with when the machine lacks something it needs. */
export class MissingPrerequisite extends Error {
  override name = 'MissingPrerequisite';
}

/** Fails unless the test runs as root; `reason` says what root is needed for. */
export function requireRoot(reason: string): void {
  const uid = process.getuid?.();
  if (uid === 0) return;
  throw new MissingPrerequisite(`this test needs root (${reason}) but runs as uid ${uid ?? 'unknown'}: run it as root, e.g. sudo node --import tsx --test <file>`);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where `tool` (an absolute path, or a command name looked up on PATH) is, if it is executable. */
export function findTool(tool: string): string | undefined {
  if (tool.includes('/')) return isExecutable(tool) ? tool : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, tool);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Fails unless `tool` is there; `source` says how to get it (a package, a download). */
export function requireTool(tool: string, source: string): void {
  if (findTool(tool)) return;
  const where = tool.includes('/') ? `${tool} is missing or not executable` : `"${tool}" is not on PATH (${process.env.PATH ?? 'PATH is unset'})`;
  throw new MissingPrerequisite(`this test needs ${tool}: ${where}; install ${source}`);
}

/** Fails while another flatnet lab runs on this machine (one lab per machine: it owns flatnet-* namespaces and fixed addresses). */
export function requireFreeLab(): void {
  const others = otherLabDataDirs('/nonexistent');
  if (others.length === 0) return;
  throw new MissingPrerequisite(`this test starts its own flatnet lab, but another lab is running on this machine (data directory ${others.join(', ')}): wait for it, or stop it with \`flatnet down --data-dir ${others[0]}\``);
}
