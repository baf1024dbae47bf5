// Named network namespaces (`ip netns`): the files under /run/netns that pods, nodes and the lab
// live in.
import { existsSync, readdirSync } from 'node:fs';
import { runCommand, CommandError } from './exec.js';

export const NETNS_DIR = '/run/netns';

export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`;
}

export function netnsExists(name: string): boolean {
  return existsSync(netnsPath(name));
}

/** Names of all named network namespaces. */
export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_DIR).sort();
  } catch {
    return [];
  }
}

/** Creates a namespace with its loopback up; an existing one is an error unless `ifMissing`. */
export async function addNetns(name: string, opts: { ifMissing?: boolean } = {}): Promise<void> {
  if (opts.ifMissing && netnsExists(name)) return;
  await runCommand(['ip', 'netns', 'add', name]);
  await runCommand(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
}

/** Deletes a namespace; a missing one is fine. */
export async function deleteNetns(name: string): Promise<void> {
  if (!netnsExists(name)) return;
  try {
    await runCommand(['ip', 'netns', 'del', name]);
  } catch (err) {
    if (err instanceof CommandError && /No such file/.test(err.stderr)) return;
    throw err;
  }
}

/** PIDs of the processes whose network namespace is `name`. */
export async function netnsPids(name: string): Promise<number[]> {
  if (!netnsExists(name)) return [];
  const { stdout } = await runCommand(['ip', 'netns', 'pids', name]);
  return stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}
