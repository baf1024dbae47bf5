// The node certificate ledger's rules: which certificates authenticate and how the csr-cleaner
// keeps the ledger current (bind to the Node, drop deleted Nodes' and expired entries).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeEntry, ledgerAllows, ledgerConfigMap, ledgerEntries, ledgerPatch } from '../../../src/apiserver/node-identity/certificate-ledger.js';

const now = new Date('2026-12-07T00:00:00Z');
const later = '2027-01-01T00:00:00.000Z';
const cm = ledgerConfigMap(
  new Map([
    ['AA', { node: 'n1', notAfter: later, csr: 'node-csr-1' }],
    ['BB', { node: 'n1', notAfter: later, nodeUID: 'uid-1' }],
    ['CC', { node: 'n2', notAfter: '2026-12-06T00:00:00.000Z', nodeUID: 'uid-2' }],
  ]),
);

test('entries parse; malformed ones and lower-case serials are handled', () => {
  const withJunk = { ...cm, data: { ...(cm.data as Record<string, string>), DD: 'not json', ee: encodeEntry({ node: 'n3', notAfter: later }), FF: JSON.stringify({ node: 'n4', notAfter: 'never' }) } };
  const entries = ledgerEntries(withJunk);
  assert.deepEqual([...entries.keys()].sort(), ['AA', 'BB', 'CC', 'EE']);
  assert.deepEqual(entries.get('AA'), { node: 'n1', notAfter: later, csr: 'node-csr-1' });
  assert.equal(ledgerEntries(undefined).size, 0);
});

test('a certificate authenticates while its entry exists and, once bound, while that very Node exists', () => {
  const entries = ledgerEntries(cm);
  const nodes = new Map([['n1', 'uid-1']]);
  assert.equal(ledgerAllows(entries, nodes, 'AA'), true, 'unbound: allowed');
  assert.equal(ledgerAllows(entries, nodes, 'aa'), true, 'serial case does not matter');
  assert.equal(ledgerAllows(entries, nodes, 'BB'), true, 'bound to the existing Node');
  assert.equal(ledgerAllows(entries, new Map(), 'BB'), false, 'its Node deleted');
  assert.equal(ledgerAllows(entries, new Map([['n1', 'uid-9']]), 'BB'), false, 'its Node deleted and made again');
  assert.equal(ledgerAllows(entries, nodes, '99'), false, 'not in the ledger');
});

test('the patch binds new entries, drops deleted Nodes\' and expired ones, and is null when nothing changes', () => {
  const entries = ledgerEntries(cm);
  assert.deepEqual(ledgerPatch(entries, new Map([['n1', 'uid-1'], ['n2', 'uid-2']]), now), {
    data: { AA: encodeEntry({ node: 'n1', notAfter: later, csr: 'node-csr-1', nodeUID: 'uid-1' }), CC: null },
  });
  assert.deepEqual(ledgerPatch(entries, new Map(), now), { data: { BB: null, CC: null } }, 'Node n1 gone: its bound entry goes, the unbound one stays');
  const settled = ledgerEntries(ledgerConfigMap(new Map([['BB', { node: 'n1', notAfter: later, nodeUID: 'uid-1' }]])));
  assert.equal(ledgerPatch(settled, new Map([['n1', 'uid-1']]), now), null);
});
