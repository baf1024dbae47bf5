// The agent's in-process path to flatnet's plugins: which types it takes, the CNI_* variables it
// hands the plugin, and the spec's checks and errors, the same as an exec'd plugin's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { invocationVars, invokeInProcess, ownPlugin } from '../../../src/cni/in-process.js';
import { invoke } from '../../../src/cni/main.js';
import { CniError } from '../../../src/cni/types.js';

test('only flatnet plugin types by their exact names run in-process; the reference names are exec\'d', () => {
  assert.equal(ownPlugin('flatnet-bridge'), 'flatnet-bridge');
  assert.equal(ownPlugin('flatnet-portmap'), 'flatnet-portmap');
  assert.equal(ownPlugin('bridge'), undefined);
  assert.equal(ownPlugin('portmap'), undefined);
  assert.equal(ownPlugin('flatnet-macvlan'), undefined);
});

test('invocationVars: the CNI_* variables an exec would carry, absent ones left out', () => {
  assert.deepEqual(invocationVars({ command: 'ADD', containerId: 'c1', netns: '/run/netns/x', ifName: 'eth0', args: 'K8S_POD_NAME=p', path: ['/a', '/b'] }), {
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: 'c1',
    CNI_NETNS: '/run/netns/x',
    CNI_IFNAME: 'eth0',
    CNI_ARGS: 'K8S_POD_NAME=p',
    CNI_PATH: '/a:/b',
  });
  assert.deepEqual(invocationVars({ command: 'STATUS', path: [] }), { CNI_COMMAND: 'STATUS', CNI_PATH: '' });
});

/** The error an exec'd plugin prints for the same invocation. */
async function execShapedError(vars: NodeJS.ProcessEnv, stdin: string): Promise<{ code: number; msg: string }> {
  let out = '';
  const rc = await invoke('flatnet-bridge', { env: vars, stdin, write: (t) => (out += t) });
  assert.equal(rc, 1);
  return JSON.parse(out) as { code: number; msg: string };
}

test('in-process errors carry the code and message an exec\'d plugin prints, prefixed with plugin and verb', async () => {
  const conf = { cniVersion: '1.1.0', name: 'n', type: 'flatnet-bridge', ipam: { type: 'flatnet-host-local', subnet: '10.9.0.0/24' } };
  const cases = [
    { inv: { command: 'ADD', containerId: 'c1', netns: '/run/netns/x', ifName: 'an-interface-name-too-long', path: [] }, conf, code: 4 },
    { inv: { command: 'ADD', containerId: 'c1', netns: '/run/netns/x', ifName: 'eth0', path: [] }, conf: { ...conf, cniVersion: '9.9.9' }, code: 1 },
    { inv: { command: 'ADD', containerId: 'c1', netns: '/run/netns/x', ifName: 'eth0', path: [] }, conf: { ...conf, ipMasq: true }, code: 2 },
    { inv: { command: 'CHECK', containerId: 'c1', netns: '/run/netns/x', ifName: 'eth0', path: [] }, conf, code: 7 },
  ];
  for (const c of cases) {
    const expected = await execShapedError(invocationVars(c.inv), JSON.stringify(c.conf));
    await assert.rejects(invokeInProcess('flatnet-bridge', c.inv, c.conf, {}), (e: CniError) => {
      assert.ok(e instanceof CniError);
      assert.equal(e.code, c.code);
      assert.equal(e.code, expected.code);
      assert.equal(e.message, `flatnet-bridge ${c.inv.command}: ${expected.msg}`);
      return true;
    });
  }
});

test('in-process VERSION answers the supported versions like the exec\'d plugin', async () => {
  const r = (await invokeInProcess('flatnet-loopback', { command: 'VERSION', path: [] }, { cniVersion: '1.0.0', name: '', type: '' }, {})) as unknown as { cniVersion: string; supportedVersions: string[] };
  assert.equal(r.cniVersion, '1.0.0');
  assert.ok(r.supportedVersions.includes('1.1.0'));
});
