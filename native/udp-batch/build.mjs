// Builds the batched-UDP addon with node-gyp (run by `npm ci`/`npm install` as the package's
// install script, or `npm run build:native`). The addon is an accelerator: when it cannot be
// built the DNS server serves UDP through Node's dgram and says so in its log, so a failed build
// warns and does not fail the install. FLATNET_NATIVE_STRICT=1 makes a failure fatal.
/* global process */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const strict = process.env.FLATNET_NATIVE_STRICT === '1';

function give(reason) {
  // The build directory marks the attempt, so scripts/ensure-deps does not retry on every run.
  mkdirSync(join(here, 'build'), { recursive: true });
  process.stderr.write(`flatnet: native/udp-batch not built (${reason}); DNS serves UDP through dgram\n`);
  process.exit(strict ? 1 : 0);
}

if (process.platform !== 'linux') give(`recvmmsg/sendmmsg are Linux only, platform ${process.platform}`);

// npm hands its own node-gyp to scripts; outside npm, the one next to npm.
const candidates = [
  process.env.npm_config_node_gyp,
  join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
].filter(Boolean);
const nodeGyp = candidates.find((p) => existsSync(p));
if (!nodeGyp) give('node-gyp not found (it comes with npm)');

// Build against the headers of the Node.js that runs this when they are installed next to it
// (no download); otherwise node-gyp fetches them.
const prefix = join(dirname(process.execPath), '..');
const args = [nodeGyp, 'rebuild', '--loglevel=warn'];
if (existsSync(join(prefix, 'include/node/node_api.h'))) args.push(`--nodedir=${prefix}`);
const r = spawnSync(process.execPath, args, { cwd: here, stdio: ['ignore', 'ignore', 'inherit'] });
if (r.status !== 0) give(`node-gyp exited with ${r.status ?? r.signal}`);
if (!existsSync(join(here, 'build/Release/udp_batch.node'))) give('node-gyp produced no udp_batch.node');
process.stderr.write('flatnet: built native/udp-batch (batched UDP for DNS)\n');
