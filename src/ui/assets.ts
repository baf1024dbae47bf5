// The web view's files: the page, and the script and stylesheet esbuild bundles at build time
// from src/ui/client into dist/ui (`npm run build:ui`, run by scripts/ensure-deps). Nothing is
// fetched from anywhere else: the Content-Security-Policy allows this server only.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The repository (or installed package) root: the nearest directory above this file with a package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('flatnet: cannot find the package root above src/ui');
    dir = up;
  }
  return dir;
}

export const BUNDLE_DIR = join(packageRoot(), 'dist', 'ui');

const TYPES: Record<string, string> = { 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8' };

export function indexHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>flatnet</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/app.css">
</head>
<body>
<div id="app"><p class="loading">Loading&hellip;</p></div>
<script type="module" src="/ui/assets/app.js"></script>
</body>
</html>
`;
}

/** A bundled file by name, or undefined for any other name. Missing bundle: an error that says how to build it. */
export async function readAsset(name: string): Promise<{ body: Buffer; contentType: string } | undefined> {
  const contentType = TYPES[name];
  if (!contentType) return undefined;
  const path = join(BUNDLE_DIR, name);
  if (!existsSync(path)) throw new Error(`the web view is not built (${path} is missing): run \`npm run build:ui\``);
  return { body: await readFile(path), contentType };
}
