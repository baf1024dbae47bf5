// The program of the flatnet/gateway image: this Node.js running the built CLI's
// `gateway proxy` (dist/src/cli/main.js, which bin/flatnet builds), found from this module's own
// location so it works wherever the repository is checked out, from sources or from dist.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest directory at or above `start` that holds package.json. */
export function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json in ${start} or any directory above it: cannot find the flatnet checkout`);
    dir = parent;
  }
}

let root: string | undefined;

/** `<node> <repo>/dist/src/cli/main.js gateway proxy`: the container's args come after it. */
export function gatewayProxyEntrypoint(): string[] {
  root ??= findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  return [process.execPath, join(root, 'dist', 'src', 'cli', 'main.js'), 'gateway', 'proxy'];
}
