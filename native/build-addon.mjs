// Builds one of flatnet's Node-API addons with node-gyp (run by `npm ci`/`npm install` as the
// package's install script, or `npm run build:native`). Each addon is optional for the features
// that do not need it, so a failed build warns and does not fail the install (the feature that
// needs it says what is missing); FLATNET_NATIVE_STRICT=1 makes a failure fatal.
/* global process */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * `dir`: the addon's folder (with binding.gyp); `target`: the .node file node-gyp makes;
 * `without`: what flatnet does without it; `linuxOnly`: why it needs Linux; `built`: what it is for.
 */
export function buildAddon({ dir, target, without, linuxOnly, built }) {
  const name = `native/${dir.split('/').pop()}`;
  const strict = process.env.FLATNET_NATIVE_STRICT === '1';
  const give = (reason) => {
    // The build directory marks the attempt, so scripts/ensure-deps does not retry on every run.
    mkdirSync(join(dir, 'build'), { recursive: true });
    process.stderr.write(`flatnet: ${name} not built (${reason}); ${without}\n`);
    process.exit(strict ? 1 : 0);
  };
  if (process.platform !== 'linux') give(`${linuxOnly}, platform ${process.platform}`);
  // npm hands its own node-gyp to scripts; outside npm, the one next to npm.
  const candidates = [process.env.npm_config_node_gyp, join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')].filter(Boolean);
  const nodeGyp = candidates.find((p) => existsSync(p));
  if (!nodeGyp) give('node-gyp not found (it comes with npm)');
  // Build against the headers of the Node.js that runs this when they are installed next to it
  // (no download); otherwise node-gyp fetches them.
  const prefix = join(dirname(process.execPath), '..');
  const args = [nodeGyp, 'rebuild', '--loglevel=warn'];
  if (existsSync(join(prefix, 'include/node/node_api.h'))) args.push(`--nodedir=${prefix}`);
  const r = spawnSync(process.execPath, args, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) give(`node-gyp exited with ${r.status ?? r.signal}`);
  if (!existsSync(join(dir, 'build/Release', target))) give(`node-gyp produced no ${target}`);
  process.stderr.write(`flatnet: built ${name} (${built})\n`);
}
