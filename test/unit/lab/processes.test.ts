import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labDataDirOf } from '../../../src/lab/processes.js';

test('the data directory of a lab process, from its command line', () => {
  assert.equal(labDataDirOf(['node', '/r/dist/src/cli/main.js', 'server', '--data-dir', '/d', '--listen', '127.0.0.1:6443']), '/d');
  assert.equal(labDataDirOf(['node', '/r/dist/src/cli/main.js', 'agent', '--node', 'node-1', '--kubeconfig', '/d/admin.kubeconfig', '--data-dir', '/d/nodes/node-1']), '/d');
  assert.equal(labDataDirOf(['node', '/r/dist/src/cli/main.js', 'agent', '--node', 'node-1', '--kubeconfig', '/d/nodes/node-1/kubelet.kubeconfig', '--data-dir', '/d/nodes/node-1']), '/d');
  assert.equal(labDataDirOf(['node', '/r/dist/src/cli/main.js', 'join', '--node', 'node-1', '--server', 'https://172.18.0.1:6443', '--netns', 'flatnet-node-node-1', '--data-dir', '/d/nodes/node-1']), '/d');
  assert.equal(labDataDirOf(['node', '/r/dist/src/lab/supervisor-main.js', '/d/lab.json']), '/d');
  assert.equal(labDataDirOf(['node', '/r/dist/src/cli/main.js', 'status']), undefined);
});
