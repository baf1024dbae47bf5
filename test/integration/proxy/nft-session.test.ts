// The nftables proxy applies its syncs through one long-lived nft session in the node namespace
// (hpxs-*, a namespace of its own): every sync goes to the same nft process, a sync the kernel
// refuses is repaired by a full resync without restarting it, and stop() leaves no process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { addNetns, deleteNetns, netnsPids } from '../../../src/linux/netns.js';
import { listRuleset } from '../../../src/linux/nft.js';
import { ServiceProxy } from '../../../src/proxy/proxy.js';
import { CLUSTER_CIDR, NODE_IP, service, slice } from './netlab.js';
import { requireRoot, requireTool } from '../../support/prerequisites.js';

const NS = `hpxs-${process.pid}`;

test('nftables proxy: syncs through one nft session; a refused sync is repaired; stop leaves no process', async (t) => {
  requireRoot('network namespaces and nftables');
  requireTool('nft', 'apt-get install nftables');
  await deleteNetns(NS);
  await addNetns(NS);
  t.after(() => deleteNetns(NS));
  const proxy = new ServiceProxy({ nodeName: 'node-a', netns: NS, mode: 'nftables', nodeIPs: [NODE_IP], clusterCIDR: CLUSTER_CIDR, serviceCIDR: '10.96.0.0/16', healthChecks: false });
  t.after(() => proxy.stop());
  await proxy.start();
  assert.equal(proxy.lastError, undefined);
  const [pid] = await netnsPids(NS);
  assert.ok(pid, 'an nft process runs in the namespace after the first sync');

  const tr = proxy.tracker;
  tr.serviceUpdated(service({ name: 'web', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] }));
  tr.sliceUpdated(slice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.2' }, { ip: '10.244.1.3' }]));
  await proxy.syncNow();
  tr.sliceUpdated(slice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.4' }]));
  await proxy.syncNow();
  let ruleset = await listRuleset(NS);
  assert.match(ruleset, /10\.96\.0\.10/);
  assert.match(ruleset, /10\.244\.1\.4/);
  assert.doesNotMatch(ruleset, /10\.244\.1\.2\b/);
  assert.deepEqual(await netnsPids(NS), [pid], 'the same nft process applied every sync');

  // The table is removed behind the proxy's back: the next partial sync is refused, and the full
  // resync that follows rebuilds the table through the same process.
  execFileSync('ip', ['netns', 'exec', NS, 'nft', 'delete table ip flatnet-proxy']);
  tr.serviceUpdated(service({ name: 'api', clusterIP: '10.96.0.11', ports: [{ name: 'http', port: 80 }] }));
  tr.sliceUpdated(slice('api', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.5' }]));
  await assert.rejects(proxy.syncNow(), /nft refused the batch/);
  await proxy.syncNow(true);
  assert.equal(proxy.lastError, undefined);
  ruleset = await listRuleset(NS);
  assert.match(ruleset, /10\.96\.0\.10/);
  assert.match(ruleset, /10\.96\.0\.11/);
  assert.match(ruleset, /10\.244\.1\.5/);
  assert.deepEqual(await netnsPids(NS), [pid], 'a refused batch does not restart nft');

  await proxy.stop();
  assert.deepEqual(await netnsPids(NS), [], 'stop() ends the nft process');
  assert.match(await listRuleset(NS), /table ip flatnet-proxy/, 'stop() without cleanup leaves the rules');
});
