import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCniArgs, parseCniEnv, parsePluginConf, resultForVersion } from '../../../src/cni/protocol.js';
import { invoke } from '../../../src/cni/main.js';
import { CniError } from '../../../src/cni/types.js';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as CniError).code;
  }
  return 0;
};

test('CNI_* variables: required per command, code 4 when missing or malformed', () => {
  assert.equal(code(() => parseCniEnv({})), 4);
  assert.equal(code(() => parseCniEnv({ CNI_COMMAND: 'FOO' })), 4);
  assert.equal(code(() => parseCniEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'a', CNI_IFNAME: 'eth0' })), 4);
  assert.equal(code(() => parseCniEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'a', CNI_NETNS: '/x', CNI_IFNAME: 'a-very-long-interface' })), 4);
  assert.equal(code(() => parseCniEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'bad/id', CNI_NETNS: '/x', CNI_IFNAME: 'eth0' })), 4);
  // DEL does not need CNI_NETNS; GC and STATUS need no container at all.
  assert.equal(parseCniEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'a', CNI_IFNAME: 'eth0' }).netns, '');
  assert.equal(parseCniEnv({ CNI_COMMAND: 'GC', CNI_PATH: '/a:/b' }).path.length, 2);
  assert.deepEqual(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=web-0'), { IgnoreUnknown: '1', K8S_POD_NAME: 'web-0' });
  assert.equal(code(() => parseCniArgs('novalue')), 4);
});

test('network configuration: decode failure 6, missing fields 7, versions 1', () => {
  assert.equal(code(() => parsePluginConf('{', 'ADD')), 6);
  assert.equal(code(() => parsePluginConf('[]', 'ADD')), 6);
  assert.equal(code(() => parsePluginConf('{"name":"n","type":"t"}', 'ADD')), 7);
  assert.equal(code(() => parsePluginConf('{"cniVersion":"2.0.0","name":"n","type":"t"}', 'ADD')), 1);
  assert.equal(code(() => parsePluginConf('{"cniVersion":"1.0.0","name":"n","type":"t"}', 'GC')), 1);
  assert.equal(code(() => parsePluginConf('{"cniVersion":"1.1.0","name":"n","type":"t"}', 'CHECK')), 7);
  assert.equal(parsePluginConf('{"cniVersion":"1.1.0","name":"n","type":"t"}', 'STATUS').name, 'n');
});

test('results carry ips[].version only for pre-1.0 versions', () => {
  const r = { cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/24', interface: 0 }] };
  assert.equal((resultForVersion(r, '0.4.0').ips![0] as unknown as { version: string }).version, '4');
  assert.equal('version' in resultForVersion(r, '1.0.0').ips![0], false);
});

test('invoke: VERSION answers the supported versions; errors go to stdout as {cniVersion, code, msg}', async () => {
  const out: string[] = [];
  const rc = await invoke('flatnet-bridge', { env: { CNI_COMMAND: 'VERSION' }, stdin: '{"cniVersion":"1.0.0"}', write: (t) => out.push(t) });
  assert.equal(rc, 0);
  assert.deepEqual(JSON.parse(out[0]), { cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  out.length = 0;
  const bad = await invoke('flatnet-host-local', { env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_NETNS: '/x', CNI_IFNAME: 'eth0' }, stdin: '{"cniVersion":"1.1.0","name":"n","type":"flatnet-host-local","ipam":{"type":"flatnet-host-local"}}', write: (t) => out.push(t) });
  assert.equal(bad, 1);
  const err = JSON.parse(out[0]);
  assert.equal(err.cniVersion, '1.1.0');
  assert.equal(err.code, 7);
  assert.match(err.msg, /ranges/);
});
