import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DAEMON_NODE_FLAGS, labNodeFlags, withNodeFlags } from '../../../src/lab/node-flags.js';
import { labDataDirOf } from '../../../src/lab/processes.js';

test("the server, agents and supervisor run with the small-daemon V8 flags, the node runtimes with V8's defaults, unless FLATNET_LAB_NODE_FLAGS says otherwise", () => {
  for (const name of ['server', 'agent-node-1', 'supervisor']) assert.deepEqual(labNodeFlags(name, {}), [...DAEMON_NODE_FLAGS], name);
  assert.deepEqual(labNodeFlags('runtime-node-1', {}), []);
  assert.deepEqual(labNodeFlags('server', { FLATNET_LAB_NODE_FLAGS: '' }), []);
  assert.deepEqual(labNodeFlags('runtime-node-2', { FLATNET_LAB_NODE_FLAGS: ' --max-semi-space-size=2  --max-old-space-size=64 ' }), ['--max-semi-space-size=2', '--max-old-space-size=64']);
});

test('flags go right after the node binary, so the command line still names the script and the data directory', () => {
  const argv = [...withNodeFlags(['/usr/bin/node', '--enable-source-maps', '/r/dist/src/cli/main.js'], ['--max-semi-space-size=1']), 'server', '--data-dir', '/d'];
  assert.deepEqual(argv, ['/usr/bin/node', '--max-semi-space-size=1', '--enable-source-maps', '/r/dist/src/cli/main.js', 'server', '--data-dir', '/d']);
  assert.equal(labDataDirOf(argv), '/d');
  assert.deepEqual(withNodeFlags([process.execPath, '/r/dist/src/lab/supervisor-main.js'], ['--max-semi-space-size=1']), [process.execPath, '--max-semi-space-size=1', '/r/dist/src/lab/supervisor-main.js']);
  assert.deepEqual(withNodeFlags(['/bin/sh', '-c'], ['--max-semi-space-size=1']), ['/bin/sh', '-c'], 'not a node command');
});
