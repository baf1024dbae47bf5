import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composePodResolvConf, parseResolvConf, renderResolvConf, type NodeDnsSettings } from '../../../src/agent/resolv-conf.js';

const node: NodeDnsSettings = {
  clusterDomain: 'cluster.local',
  clusterDNS: ['10.96.0.10'],
  host: parseResolvConf('nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch corp.example. lab.example\noptions rotate timeout:2\n'),
};

test('the host file: nameservers accumulate, last search wins, trailing dots stripped', () => {
  const conf = parseResolvConf('search a.example\nnameserver 1.1.1.1\n# comment\nsearch b.example. c.example\nnameserver 8.8.8.8\noptions ndots:2 edns0\n');
  assert.deepEqual(conf.nameservers, ['1.1.1.1', '8.8.8.8']);
  assert.deepEqual(conf.searches, ['b.example', 'c.example']);
  assert.deepEqual(conf.options, [{ name: 'ndots', value: '2' }, { name: 'edns0' }]);
});

test('ClusterFirst: kube-dns, the namespace search list then the host searches, exactly ndots:5', () => {
  const { conf } = composePodResolvConf({ namespace: 'test' }, node);
  assert.equal(
    renderResolvConf(conf),
    'search test.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\nnameserver 10.96.0.10\noptions ndots:5\n',
  );
});

test('ClusterFirst on hostNetwork falls back to Default; ClusterFirstWithHostNet does not', () => {
  assert.deepEqual(composePodResolvConf({ namespace: 'x', hostNetwork: true }, node).conf.nameservers, ['192.0.2.53', '192.0.2.54']);
  assert.deepEqual(composePodResolvConf({ namespace: 'x', hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }, node).conf.nameservers, ['10.96.0.10']);
});

test('Default copies the host file', () => {
  const { conf } = composePodResolvConf({ namespace: 'x', dnsPolicy: 'Default' }, node);
  assert.equal(renderResolvConf(conf), 'search corp.example lab.example\nnameserver 192.0.2.53\nnameserver 192.0.2.54\noptions rotate timeout:2\n');
});

test('None with dnsConfig gives exactly the pod configuration (the documented example)', () => {
  const { conf } = composePodResolvConf(
    {
      namespace: 'x',
      dnsPolicy: 'None',
      dnsConfig: { nameservers: ['192.0.2.1'], searches: ['ns1.svc.cluster-domain.example', 'my.dns.search.suffix'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] },
    },
    node,
  );
  assert.equal(renderResolvConf(conf), 'search ns1.svc.cluster-domain.example my.dns.search.suffix\nnameserver 192.0.2.1\noptions ndots:2 edns0\n');
});

test('dnsConfig merges: duplicates removed, options overridden by name, limits trimmed with a warning', () => {
  const { conf, warnings } = composePodResolvConf(
    { namespace: 'ns', dnsConfig: { nameservers: ['10.96.0.10', '1.1.1.1', '8.8.8.8', '9.9.9.9'], searches: ['svc.cluster.local', 'extra.example'], options: [{ name: 'ndots', value: '1' }, { name: 'single-request' }] } },
    node,
  );
  assert.deepEqual(conf.nameservers, ['10.96.0.10', '1.1.1.1', '8.8.8.8']);
  assert.deepEqual(conf.searches, ['ns.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example', 'extra.example']);
  assert.deepEqual(conf.options, [{ name: 'ndots', value: '1' }, { name: 'single-request' }]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^DNSConfigForming: nameserver limits/);
});

test('more than 32 search domains are trimmed to 32', () => {
  const searches = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
  const { conf, warnings } = composePodResolvConf({ namespace: 'ns', dnsPolicy: 'None', dnsConfig: { nameservers: ['192.0.2.1'], searches } }, node);
  assert.equal(conf.searches.length, 32);
  assert.match(warnings.join('\n'), /search line limits/);
});
