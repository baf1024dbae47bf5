// The Corefile: its syntax (server blocks, directives, nested blocks, quotes, comments), the
// typed configuration of every plugin flatnet serves, and errors that name the line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCorefile, tokenize, CorefileError } from '../../../src/dns/corefile/parse.js';
import { loadCorefile, parseDuration, resolvConfNameservers, serverKey } from '../../../src/dns/corefile/config.js';
import { defaultCorefile } from '../../../src/dns/manifest.js';
import { answerOwner, compileRewrites, rewriteName } from '../../../src/dns/plugins/rewrite.js';
import { HostsIndex } from '../../../src/dns/plugins/hosts.js';
import { rotateAnswers, rotationCount } from '../../../src/dns/plugins/loadbalance.js';
import { RRType, type ResourceRecord } from '../../../src/dns/wire.js';

const KUBEADM = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . 10.0.0.2 10.0.0.3:5353 {
       max_concurrent 1000
       policy round_robin
    }
    cache 30
    loop
    reload
    loadbalance
}
example.test:53 {
    errors
    cache 30
    forward . 10.9.8.7
}
`;

test('syntax: tokens keep their lines; quotes, escapes and comments', () => {
  const t = tokenize('a "b c\\"" d\\.e # comment\n  {\n}');
  assert.deepEqual(
    t.map((x) => [x.text, x.line, x.quoted, x.newline]),
    [
      ['a', 1, false, true],
      ['b c"', 1, true, false],
      ['d\\.e', 1, false, false],
      ['{', 2, false, true],
      ['}', 3, false, true],
    ],
  );
  const blocks = parseCorefile('a.org, b.org:53 {\n  hosts {\n    10.0.0.1 x.a.org\n    fallthrough\n  }\n  log\n}\n');
  assert.equal(blocks.length, 1);
  assert.deepEqual(blocks[0].keys.map((k) => k.text), ['a.org', 'b.org:53']);
  assert.deepEqual(blocks[0].directives.map((d) => [d.name, d.line, d.block?.map((b) => [b.name, b.args, b.line])]), [
    ['hosts', 2, [['10.0.0.1', ['x.a.org'], 3], ['fallthrough', [], 4]]],
    ['log', 6, undefined],
  ]);
  // a file without braces is one server block
  const bare = parseCorefile('.\nwhoami\nlog\n');
  assert.deepEqual(bare[0].directives.map((d) => d.name), ['whoami', 'log']);
});

test('kubeadm\'s default Corefile (and ours) loads into typed plugins', () => {
  const c = loadCorefile(KUBEADM);
  assert.equal(c.blocks.length, 2);
  const [main, stub] = c.blocks;
  assert.deepEqual(main.zones, [[]]);
  assert.equal(main.port, 53);
  assert.equal(main.errors, true);
  assert.deepEqual(main.health, { address: ':8080', lameduckMs: 5000 });
  assert.deepEqual(main.ready, { address: ':8181' });
  assert.deepEqual(main.prometheus, { address: ':9153' });
  assert.deepEqual(main.kubernetes, {
    zones: [['cluster', 'local'], ['in-addr', 'arpa'], ['ip6', 'arpa']],
    pods: 'insecure',
    ttl: 30,
    fallthrough: [['in-addr', 'arpa'], ['ip6', 'arpa']],
  });
  assert.deepEqual(main.forward, { from: [], to: [{ host: '10.0.0.2', port: 53 }, { host: '10.0.0.3', port: 5353 }], except: [], policy: 'round_robin', maxConcurrent: 1000, forceTcp: false, timeoutMs: 2000 });
  assert.equal(main.cache?.successTtl, 30);
  assert.equal(main.cache?.denialTtl, 30);
  assert.equal(main.loop, true);
  assert.deepEqual(main.reload, { intervalMs: 30000, jitterMs: 15000 });
  assert.equal(main.loadbalance, true);
  assert.deepEqual(stub.zones, [['example', 'test']]);
  assert.deepEqual(stub.forward?.to, [{ host: '10.9.8.7', port: 53 }]);
  // the Corefile flatnet writes into the coredns ConfigMap
  const ours = loadCorefile(defaultCorefile({ clusterDomain: 'corp.example', ttl: 10 }));
  assert.deepEqual(ours.blocks[0].kubernetes?.zones[0], ['corp', 'example']);
  assert.equal(ours.blocks[0].kubernetes?.ttl, 10);
  assert.equal(ours.blocks[0].forward, undefined, 'no upstreams: no forward line');
  assert.deepEqual(ours.blocks[0].cache?.disableSuccess, [['corp', 'example']], 'newer kubeadm: the cluster domain is not cached');
  assert.deepEqual(loadCorefile(defaultCorefile({ upstreams: ['10.0.0.2'] })).blocks[0].forward?.to, [{ host: '10.0.0.2', port: 53 }]);
});

test('each plugin\'s options', () => {
  const c = loadCorefile(`.:53 {
  log . {
    class denial error
  }
  errors {
    consolidate 5m ".* i/o timeout$"
  }
  any
  hosts {
    10.0.0.5 legacy.corp.example  alias.corp.example.
    fd00::5 legacy.corp.example
    ttl 60
    no_reverse
    fallthrough
  }
  rewrite name exact old.example.com. web.ns1.svc.cluster.local
  rewrite continue name suffix .corp.internal .svc.cluster.local
  rewrite name regex (.*)\\.legacy\\.example\\.$ {1}.ns1.svc.cluster.local answer name (.*)\\.ns1\\.svc\\.cluster\\.local\\.$ {1}.legacy.example
  kubernetes cluster.local {
    pods verified
    fallthrough
    ttl 0
  }
  forward . /etc/resolv.conf {
    except internal.example
    policy sequential
    force_tcp
    expire 10s
    health_check 5s
    max_fails 3
  }
  cache 300 {
    success 5000 600
    denial 100 5
    disable success cluster.local
    disable denial
  }
  reload 10s 3s
}
10.0.0.0/24 {
  kubernetes
}
`, { readFile: (p) => (p === '/etc/resolv.conf' ? '# generated\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\noptions ndots:1\n' : '') });
  const b = c.blocks[0];
  assert.deepEqual(b.log, { zones: [[]], classes: ['denial', 'error'] });
  assert.equal(b.any, true);
  assert.deepEqual(b.hosts?.entries, [
    { ip: '10.0.0.5', names: ['legacy.corp.example', 'alias.corp.example'] },
    { ip: 'fd00::5', names: ['legacy.corp.example'] },
  ]);
  assert.equal(b.hosts?.ttl, 60);
  assert.equal(b.hosts?.noReverse, true);
  assert.deepEqual(b.hosts?.fallthrough, [[]]);
  assert.deepEqual(b.rewrite.map((r) => [r.mode, r.match, r.from, r.to]), [
    ['stop', 'exact', 'old.example.com.', 'web.ns1.svc.cluster.local'],
    ['continue', 'suffix', '.corp.internal', '.svc.cluster.local'],
    ['stop', 'regex', '(.*)\\.legacy\\.example\\.$', '{1}.ns1.svc.cluster.local'],
  ]);
  assert.ok(b.rewrite[2].answer);
  assert.equal(b.kubernetes?.pods, 'verified');
  assert.equal(b.kubernetes?.ttl, 0);
  assert.deepEqual(b.kubernetes?.fallthrough, [[]]);
  assert.deepEqual(b.forward?.to, [{ host: '192.0.2.53', port: 53 }, { host: 'fe80::1', port: 53 }]);
  assert.deepEqual(b.forward?.except, [['internal', 'example']]);
  assert.equal(b.forward?.policy, 'sequential');
  assert.equal(b.forward?.forceTcp, true);
  assert.equal(b.forward?.maxConcurrent, 0);
  assert.deepEqual([b.cache?.successCapacity, b.cache?.successTtl, b.cache?.denialCapacity, b.cache?.denialTtl], [5000, 600, 100, 5]);
  assert.deepEqual([b.cache?.disableSuccess, b.cache?.disableDenial], [[['cluster', 'local']], [[]]]);
  assert.deepEqual(b.reload, { intervalMs: 10000, jitterMs: 3000 });
  assert.deepEqual(c.blocks[1].zones, [['0', '0', '10', 'in-addr', 'arpa']]);
  assert.deepEqual(c.blocks[1].kubernetes?.zones, [['0', '0', '10', 'in-addr', 'arpa']]);
});

test('errors name the line and what is wrong', () => {
  const cases: [string, number, RegExp][] = [
    ['.:53 {\n  errors\n  bogus\n}\n', 3, /unknown plugin "bogus" \(flatnet serves any, cache, errors/],
    ['.:53 {\n  errors\n', 1, /the "\{" opened here is never closed/],
    ['.:53 {\n}\n}\n', 3, /unexpected "\}" without an open block/],
    ['.:53 {\n  forward . 8.8.8.8 example.com\n}\n', 2, /forward: "example.com" is not an upstream address/],
    ['.:53 {\n  forward .\n}\n', 2, /forward needs FROM and at least one TO/],
    [`.:53 {\n  forward . ${Array.from({ length: 16 }, (_, i) => `10.0.0.${i + 1}`).join(' ')}\n}\n`, 2, /16 upstreams; at most 15/],
    ['.:53 {\n  forward . tls://1.1.1.1\n}\n', 2, /"tls:\/\/" upstreams are not supported/],
    ['.:53 {\n  forward . 1.1.1.1 {\n    policy fastest\n  }\n}\n', 3, /policy must be random, round_robin or sequential/],
    ['.:53 {\n  forward . 1.1.1.1 {\n    max_concurrent lots\n  }\n}\n', 3, /max_concurrent "lots" must be a whole number/],
    ['.:53 {\n  health {\n    lameduck soon\n  }\n}\n', 3, /health lameduck "soon" is not a duration/],
    ['.:53 {\n  cache 30 {\n    prefetch 10\n  }\n}\n', 3, /cache: option "prefetch" is not supported by flatnet/],
    ['.:53 {\n  rewrite name regex ([a-z+ x\n}\n', 2, /is not a regular expression/],
    ['.:53 {\n  rewrite type ANY HINFO\n}\n', 2, /rewrite: field "type" is not supported/],
    ['.:53 {\n  kubernetes cluster.local {\n    namespaces a b\n  }\n}\n', 3, /kubernetes: option "namespaces" is not supported/],
    ['.:53 {\n  kubernetes cluster.local {\n    pods sometimes\n  }\n}\n', 3, /pods must be disabled, insecure or verified/],
    ['.:53 {\n  hosts {\n    not-an-ip foo\n  }\n}\n', 3, /hosts: "not-an-ip" is neither an IP address/],
    ['.:53 {\n  log\n  log\n}\n', 3, /plugin "log" can be used only once per server block/],
    ['.:53 {\n}\n.:53 {\n}\n', 3, /zone "\." on port 53 is already served by the block on line 1/],
    ['.:5353 {\n}\n', 1, /listens on port 5353; this DNS server serves port 53 only/],
    ['tls://.:853 {\n}\n', 1, /"tls:\/\/" servers are not supported/],
    ['import common\n', 1, /import is not supported/],
    ['.:53 {\n  reload 1s\n}\n', 2, /reload interval 1s is below the minimum of 2s/],
    ['.:53 {\n  loadbalance weighted /x\n}\n', 2, /loadbalance policy "weighted" is not supported/],
    ['example.test {\n  kubernetes cluster.local\n}\n', 2, /kubernetes zone "cluster.local." is outside this server block's zones/],
    ['', 1, /no server block/],
  ];
  for (const [text, line, re] of cases) {
    assert.throws(
      () => loadCorefile(text, { readFile: () => '' }),
      (err: unknown) => err instanceof CorefileError && err.line === line && re.test(err.message) && err.message.startsWith(`Corefile line ${line}: `),
      `${JSON.stringify(text)} -> line ${line} ${re}`,
    );
  }
});

test('server keys, durations and resolv.conf', () => {
  assert.deepEqual(serverKey('.:53', 1), { zone: [], port: 53 });
  assert.deepEqual(serverKey('dns://Example.Test.:53', 1), { zone: ['example', 'test'], port: 53 });
  assert.deepEqual(serverKey('cluster.local', 1), { zone: ['cluster', 'local'], port: undefined });
  assert.deepEqual(serverKey('fd00::/120', 1).zone.slice(-2), ['ip6', 'arpa']);
  assert.equal(parseDuration('1m30s', 1, 'x'), 90_000);
  assert.equal(parseDuration('500ms', 1, 'x'), 500);
  assert.throws(() => parseDuration('5', 7, 'x'), /line 7: x "5" is not a duration/);
  assert.deepEqual(resolvConfNameservers('nameserver 1.1.1.1\n#nameserver 2.2.2.2\nsearch x\nnameserver bogus\n'), ['1.1.1.1']);
});

test('rewrite name: exact, prefix, suffix, substring, regex, continue/stop, answers written back', () => {
  const rules = (text: string) => compileRewrites(loadCorefile(`.:53 {\n${text}\n}\n`).blocks[0].rewrite);
  assert.equal(rewriteName(rules('rewrite name exact a.example. b.example'), 'a.example.').name, 'b.example.');
  assert.equal(rewriteName(rules('rewrite name exact a.example b.example'), 'x.a.example.').applied.length, 0);
  assert.equal(rewriteName(rules('rewrite name prefix old- new-'), 'old-web.example.').name, 'new-web.example.');
  assert.equal(rewriteName(rules('rewrite name suffix .corp.internal .svc.cluster.local'), 'web.ns1.corp.internal.').name, 'web.ns1.svc.cluster.local.');
  assert.equal(rewriteName(rules('rewrite name substring internal svc'), 'web.internal.example.').name, 'web.svc.example.');
  assert.equal(rewriteName(rules('rewrite name regex (.*)\\.legacy\\.$ {1}.ns1.svc.cluster.local'), 'web.legacy.').name, 'web.ns1.svc.cluster.local.');
  // stop (the default) ends the chain; continue goes on
  assert.equal(rewriteName(rules('rewrite name prefix a b\nrewrite name prefix b c'), 'a.x.').name, 'b.x.');
  assert.equal(rewriteName(rules('rewrite continue name prefix a b\nrewrite name prefix b c'), 'a.x.').name, 'c.x.');
  // answers: records at the rewritten name go back to the asked name; `answer name` regexes apply
  const r = rules('rewrite name regex (.*)\\.legacy\\.$ {1}.ns1.svc.cluster.local answer name (.*)\\.ns1\\.svc\\.cluster\\.local\\.$ {1}.legacy');
  const res = rewriteName(r, 'web.legacy.');
  assert.equal(answerOwner('web.ns1.svc.cluster.local', 'web.legacy.', res.name, res.applied), 'web.legacy.');
  assert.equal(answerOwner('db.ns1.svc.cluster.local', 'web.legacy.', res.name, res.applied), 'db.legacy.');
  const plain = rules('rewrite name exact a.example. b.example');
  const p = rewriteName(plain, 'a.example.');
  assert.equal(answerOwner('b.example', 'a.example.', p.name, p.applied), 'a.example.');
  assert.equal(answerOwner('other.example', 'a.example.', p.name, p.applied), 'other.example.');
});

test('hosts index: A, AAAA, PTR, NODATA for other types, misses', () => {
  const h = new HostsIndex({ zones: [[]], entries: [{ ip: '10.0.0.5', names: ['legacy.corp'] }, { ip: 'fd00::5', names: ['legacy.corp'] }, { ip: '10.0.0.6', names: ['v4only.corp'] }], ttl: 60, noReverse: false });
  const a = h.lookup('legacy.corp', ['legacy', 'corp'], RRType.A);
  assert.deepEqual(a, { kind: 'answer', records: [{ name: 'legacy.corp', type: RRType.A, ttl: 60, data: '10.0.0.5' }] });
  assert.equal(h.lookup('legacy.corp', ['legacy', 'corp'], RRType.AAAA).kind, 'answer');
  assert.deepEqual(h.lookup('v4only.corp', ['v4only', 'corp'], RRType.AAAA), { kind: 'nodata' });
  assert.deepEqual(h.lookup('nope.corp', ['nope', 'corp'], RRType.A), { kind: 'miss' });
  const ptr = h.lookup('6.0.0.10.in-addr.arpa', ['6', '0', '0', '10', 'in-addr', 'arpa'], RRType.PTR);
  assert.deepEqual(ptr.kind === 'answer' && ptr.records.map((r) => r.data), ['v4only.corp']);
  const noRev = new HostsIndex({ zones: [[]], entries: [{ ip: '10.0.0.6', names: ['v4only.corp'] }], ttl: 60, noReverse: true });
  assert.equal(noRev.lookup('6.0.0.10.in-addr.arpa', ['6', '0', '0', '10', 'in-addr', 'arpa'], RRType.PTR).kind, 'miss');
});

test('loadbalance: address records rotate, CNAMEs stay first', () => {
  const rr = (type: number, data: string): ResourceRecord => ({ name: 'x', type, ttl: 5, data }) as ResourceRecord;
  const answers = [rr(RRType.CNAME, 'y'), rr(RRType.A, '10.0.0.1'), rr(RRType.A, '10.0.0.2'), rr(RRType.A, '10.0.0.3')];
  assert.equal(rotationCount(answers), 3);
  assert.deepEqual(rotateAnswers(answers, 1).map((r) => r.data), ['y', '10.0.0.2', '10.0.0.3', '10.0.0.1']);
  assert.deepEqual(rotateAnswers(answers, 3).map((r) => r.data), ['y', '10.0.0.1', '10.0.0.2', '10.0.0.3']);
  assert.equal(rotationCount([rr(RRType.A, '10.0.0.1')]), 1);
});
