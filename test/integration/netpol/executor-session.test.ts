// The policy executor over its nft session, in a namespace of its own (hnpx-*): diffs go to one
// long-lived nft process; a diff the kernel refuses (the table was changed behind the executor's
// back) is repaired by a full rebuild; close() leaves no process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { addNetns, deleteNetns, netnsPids } from '../../../src/linux/netns.js';
import { listRuleset } from '../../../src/linux/nft.js';
import { PolicyTableExecutor } from '../../../src/netpol/executor.js';
import { POLICY_TABLE, emptyState, type AllowClass, type PolicyState } from '../../../src/netpol/render.js';
import { requireRoot, requireTool } from '../../support/prerequisites.js';

const NS = `hnpx-${process.pid}`;

function state(cls: AllowClass, pods: string[]): PolicyState {
  const s = emptyState();
  s.classes.set(cls.name, cls);
  for (const ip of pods) {
    s.ingressPods.set(ip, cls.name);
    s.admitted.add(ip);
  }
  return s;
}

const web: AllowClass = { name: 'in-00000000000000aa', direction: 'in', ports: ['10.244.1.0-10.244.1.255 . tcp . 80'], any: [] };
const dns: AllowClass = { name: 'in-00000000000000bb', direction: 'in', ports: ['10.244.1.0-10.244.1.255 . udp . 53'], any: ['192.0.2.0-192.0.2.255 . 0-255'] };

test('diffs through one nft session; a refused diff is repaired by a rebuild; close leaves no process', async (t) => {
  requireRoot('network namespaces and nftables');
  requireTool('nft', 'apt-get install nftables');
  await deleteNetns(NS);
  await addNetns(NS);
  t.after(() => deleteNetns(NS));
  const executor = new PolicyTableExecutor({ podCIDR: '10.244.1.0/24', gateway: '10.244.1.1' }, NS);
  t.after(() => executor.close());

  await executor.apply(state(web, ['10.244.1.11', '10.244.1.12']));
  const [pid] = await netnsPids(NS);
  assert.ok(pid, 'an nft process runs in the namespace');
  const r = await executor.apply(state(dns, ['10.244.1.11', '10.244.1.12']));
  assert.equal(r.unchanged, false);
  let ruleset = await listRuleset(NS);
  assert.match(ruleset, /10\.244\.1\.11 : jump in-00000000000000bb/);
  assert.doesNotMatch(ruleset, /in-00000000000000aa/);
  assert.deepEqual(await netnsPids(NS), [pid], 'the same nft process applied both');
  assert.equal(executor.fallbacks, 0);
  // Every interval set is a concatenation: nft reads the elements of plain interval sets into
  // its cache before every batch that adds or deletes elements (one listing per set per change).
  const intervalSets = [...ruleset.matchAll(/set (\S+) \{\n\s*type ([^\n]+)\n\s*flags[^\n]*interval/g)];
  assert.ok(intervalSets.length >= 2, ruleset);
  for (const [, name, type] of intervalSets) assert.match(type, / \. /, `set ${name} is a plain interval set (type ${type})`);

  // Someone removes a map element behind the executor's back: the next diff deletes it again,
  // the kernel refuses the whole diff, and the executor rebuilds the table.
  execFileSync('ip', ['netns', 'exec', NS, 'nft', 'delete element inet', POLICY_TABLE, 'ingress-pods { 10.244.1.12 }']);
  await executor.apply(state(web, ['10.244.1.11', '10.244.1.12']));
  assert.equal(executor.fallbacks, 1);
  ruleset = await listRuleset(NS);
  assert.match(ruleset, /10\.244\.1\.11 : jump in-00000000000000aa/);
  assert.match(ruleset, /10\.244\.1\.12 : jump in-00000000000000aa/);
  assert.doesNotMatch(ruleset, /in-00000000000000bb/);
  assert.deepEqual(await netnsPids(NS), [pid], 'a refused diff does not restart nft');

  await executor.close();
  assert.deepEqual(await netnsPids(NS), []);
  assert.match(await listRuleset(NS), /table inet flatnet-policy/, 'close() leaves the table in place');
});
